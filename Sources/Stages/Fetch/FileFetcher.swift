import Dispatch
import Foundation
import RunnelProtocol

/// Reads `file://` URLs: the user's own files, so no address or robots check applies. The
/// status is 200 and the content type comes from the extension (`.html`/`.htm` text/html,
/// `.xhtml` application/xhtml+xml, `.txt` text/plain; none: HTML when it starts with `<`).
///
/// ```swift
/// let document = try await FileFetcher.fetch(URL(string: "file:///tmp/a.html")!, original: "file:///tmp/a.html", maxBytes: 1 << 20)
/// ```
enum FileFetcher {
    /// Reads the file a URL names.
    /// - Throws: ``RunnelError`` `NOT_FOUND` (no such file), `PERMISSION_DENIED`,
    ///   `FAILED_PRECONDITION` (a directory or not a page), `OUT_OF_RANGE` (over `maxBytes`).
    static func fetch(_ url: URL, original: String, maxBytes: Int) async throws(RunnelError) -> FetchedDocument {
        let result: Result<FetchedDocument, RunnelError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: read(url, original: original, maxBytes: maxBytes))
            }
        }
        return try result.get()
    }

    private static func read(_ url: URL, original: String, maxBytes: Int) -> Result<FetchedDocument, RunnelError> {
        let path = url.path
        guard !path.isEmpty else {
            return .failure(RunnelError(.invalidArgument, "\(original): a file URL needs a path (file:///dir/page.html)"))
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(RunnelError(.notFound, "\(original): no such file \(path)"))
        }
        if isDirectory.boolValue {
            return .failure(RunnelError(.failedPrecondition, "\(original): \(path) is a directory, not a page"))
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > maxBytes {
            return .failure(HTTPFetcher.tooLarge(original, limit: maxBytes, size: size))
        }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path)
        else {
            return .failure(RunnelError(.permissionDenied, "\(original): \(path) cannot be read (permissions?)"))
        }
        let body = [UInt8](data)
        guard let type = contentType(path: path, body: body) else {
            return .failure(
                RunnelError(
                    .failedPrecondition,
                    "\(original): \(path) is not an HTML or text page (by its extension); fetch reads .html, .htm, .xhtml and .txt files"
                ))
        }
        return .success(
            FetchedDocument(
                url: original, finalURL: url.absoluteString, status: 200, contentType: type,
                headers: ["content-type": type, "content-length": String(body.count)], body: body, redirects: []))
    }

    /// The media type of a file, from its extension; `nil` for a type fetch does not take.
    static func contentType(path: String, body: [UInt8]) -> String? {
        switch (path as NSString).pathExtension.lowercased() {
        case "html", "htm": return "text/html"
        case "xhtml", "xht": return "application/xhtml+xml"
        case "txt", "text": return "text/plain"
        case "":
            let first = body.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF }).first
            return first == UInt8(ascii: "<") ? "text/html" : "text/plain"
        default: return nil
        }
    }
}
