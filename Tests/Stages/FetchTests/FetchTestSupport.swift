import FetchStage
import RunnelProtocol
import Testing

/// The configuration the HTTP tests use: loopback allowed, no politeness delay, short timeouts.
func testConfiguration() -> FetchConfiguration {
    FetchConfiguration(
        concurrency: 8, perHostConcurrency: 4, perHostDelayMs: 0, allowPrivateAddresses: true, maxRedirects: 5,
        maxBodyBytes: 1 << 20, connectTimeoutMs: 5_000, readTimeoutMs: 1_500, totalTimeoutMs: 30_000, retries: 1,
        retryBackoffMs: 20, maxRetryAfterMs: 2_000)
}

/// Starts a server with `routes` and a stage, runs `body`, and stops both.
func withServer(
    _ routes: [String: TestHTTPServer.Route], configure: (inout FetchConfiguration) -> Void = { _ in },
    _ body: (TestHTTPServer, FetchStage) async throws -> Void
) async throws {
    let server = try await TestHTTPServer.start(routes: routes)
    var configuration = testConfiguration()
    configure(&configuration)
    let stage = FetchStage(configuration: configuration)
    do {
        try await body(server, stage)
    } catch {
        await stage.shutdown()
        try await server.stop()
        throw error
    }
    await stage.shutdown()
    try await server.stop()
}

/// Fetches `url` and returns the error it fails with, recording an issue when it succeeds.
func failure(
    of stage: FetchStage, _ url: String, deadlineMs: Int64? = nil, sourceLocation: SourceLocation = #_sourceLocation
) async -> RunnelError? {
    do {
        let page = try await stage.fetch(url, deadlineMs: deadlineMs)
        Issue.record("expected \(url) to fail, got status \(page.status)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// A 200 HTML response.
func html(_ body: [UInt8], contentType: String = "text/html; charset=utf-8", extra: [(String, String)] = [])
    -> TestHTTPServer.Route
{
    .respond(status: .ok, headers: [("Content-Type", contentType)] + extra, body: body)
}
