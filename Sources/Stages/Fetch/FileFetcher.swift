import Dispatch
import Foundation
import RunnelProtocol

/// Reads `file://` URLs, only inside the directory the user named (`--allow-files DIR`): a
/// path that leaves it, by `..` or through a symbolic link, is refused before it is read. No
/// address or robots check applies. The status is 200 and the content type comes from the
/// extension (`.html`/`.htm` text/html, `.xhtml` application/xhtml+xml, `.txt` text/plain;
/// none: HTML when it starts with `<`).
///
/// ```swift
/// let page = URL(string: "file:///srv/pages/a.html")!
/// let document = try await FileFetcher.fetch(page, original: page.absoluteString, under: "/srv/pages", maxBytes: 1 << 20)
/// ```
enum FileFetcher {
    /// Reads the file a URL names, if it lies under `root`.
    /// - Throws: ``RunnelError`` `PERMISSION_DENIED` (outside `root`, or unreadable),
    ///   `NOT_FOUND` (no such file), `FAILED_PRECONDITION` (a directory or not a page),
    ///   `OUT_OF_RANGE` (over `maxBytes`).
    static func fetch(_ url: URL, original: String, under root: String, maxBytes: Int) async throws(RunnelError) -> FetchedDocument {
        let result: Result<FetchedDocument, RunnelError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: read(url, original: original, under: root, maxBytes: maxBytes))
            }
        }
        return try result.get()
    }

    /// The path a file URL names once `..` and symbolic links are resolved, if it lies under
    /// `root` (itself resolved). The check is made on the path as written first, so nothing
    /// outside `root` is even looked at.
    /// - Throws: ``RunnelError`` `PERMISSION_DENIED` outside `root`, `NOT_FOUND` when missing.
    static func confine(_ path: String, under root: String, original: String) throws(RunnelError) -> String {
        let outside = RunnelError(
            .permissionDenied, "\(original): outside the directory file URLs may be read from (--allow-files \(root))")
        let realRoot = resolved(root) ?? root
        let prefix = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
        let written = (path as NSString).standardizingPath
        guard written.hasPrefix(prefix) || written.hasPrefix(root.hasSuffix("/") ? root : root + "/") else { throw outside }
        guard let real = resolved(path) else { throw RunnelError(.notFound, "\(original): no such file \(path)") }
        guard real.hasPrefix(prefix) else { throw outside }
        return real
    }

    /// `realpath(3)`: the absolute path with every link and `..` resolved, or `nil`.
    private static func resolved(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    private static func read(_ url: URL, original: String, under root: String, maxBytes: Int) -> Result<FetchedDocument, RunnelError> {
        guard !url.path.isEmpty else {
            return .failure(RunnelError(.invalidArgument, "\(original): a file URL needs a path (file:///dir/page.html)"))
        }
        let path: String
        do throws(RunnelError) {
            path = try confine(url.path, under: root, original: original)
        } catch {
            return .failure(error)
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
