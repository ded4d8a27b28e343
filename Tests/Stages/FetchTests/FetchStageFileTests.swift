import Foundation
import RunnelProtocol
import Testing

@testable import FetchStage

/// `file://` pages: read from disk, typed by extension, charset found as for HTTP.
@Suite struct FetchStageFileTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-fetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.absoluteString
    }

    func withStage(_ body: (FetchStage) async throws -> Void) async throws {
        var configuration = FetchConfiguration()
        configuration.maxBodyBytes = 1 << 16
        configuration.fileRoot = directory.path  // file:// needs --allow-files, not --allow-private
        let stage = FetchStage(configuration: configuration)
        do { try await body(stage) } catch {
            await stage.shutdown()
            throw error
        }
        await stage.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func htmlFile() async throws {
        let url = try write("page.windows-1258.no-charset.html", Fixtures.page(Fixtures.vietnameseWindows1258))
        try await withStage { stage in
            let page = try await stage.fetch(url)
            #expect(page.status == 200)
            #expect(page.contentType == "text/html")
            #expect(page.charset == "windows-1258")
            #expect(page.html.contains(Fixtures.vietnameseText))
            #expect(page.finalURL == url)
        }
    }

    @Test func textFile() async throws {
        let url = try write("notes.txt", Array("Đọc nhiều".utf8))
        try await withStage { stage in
            let page = try await stage.fetch(url)
            #expect(page.contentType == "text/plain")
            #expect(page.html == "Đọc nhiều")
        }
    }

    @Test func utf8BOMWinsAndIsDropped() async throws {
        let url = try write("bom.htm", [0xEF, 0xBB, 0xBF] + Array("<p>Multimedia</p>".utf8))
        try await withStage { stage in
            let page = try await stage.fetch(url)
            #expect(page.charset == "utf-8")
            #expect(page.html == "<p>Multimedia</p>")
        }
    }

    @Test func missingFileIsNotFound() async throws {
        let url = directory.appendingPathComponent("missing.html").absoluteString
        try await withStage { stage in
            let error = await failure(of: stage, url)
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("missing.html") == true)
        }
    }

    @Test func otherExtensionsAreRefused() async throws {
        let url = try write("image.png", [0x89, 0x50, 0x4E, 0x47])
        try await withStage { stage in
            let error = await failure(of: stage, url)
            #expect(error?.code == .failedPrecondition)
        }
    }

    @Test func fileOverTheCapIsOutOfRange() async throws {
        let url = try write("big.html", [UInt8](repeating: 0x61, count: (1 << 16) + 1))
        try await withStage { stage in
            let error = await failure(of: stage, url)
            #expect(error?.code == .outOfRange)
        }
    }

    @Test func unsupportedSchemeIsInvalidArgument() async throws {
        try await withStage { stage in
            let error = await failure(of: stage, "ftp://example.org/a.html")
            #expect(error?.code == .invalidArgument)
            let notURL = await failure(of: stage, "just words")
            #expect(notURL?.code == .invalidArgument)
        }
    }
}
