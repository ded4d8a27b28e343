import Foundation
import RunnelProtocol
import RunnelTransport
import Testing

@Suite("TLS endpoints and settings")
struct TLSSettingsTests {
    @Test("tls:// parses like tcp:// and prints back")
    func parse() throws {
        #expect(try Endpoint(parsing: "tls://parse-host:7401") == .tls(host: "parse-host", port: 7401))
        #expect(try Endpoint(parsing: "tls://[::1]:7401") == .tls(host: "::1", port: 7401))
        #expect(try Endpoint(parsing: "tls://:7401") == .tls(host: "0.0.0.0", port: 7401))
        #expect(try Endpoint(parsing: "tls://10.0.0.2:7401").description == "tls://10.0.0.2:7401")
        #expect(try Endpoint(parsing: "tls://[::1]:7401").description == "tls://[::1]:7401")
        #expect(Endpoint.tls(host: "h", port: 1).isSocket)
        #expect(throws: RunnelError.self) { try Endpoint(parsing: "tls://host") }
    }

    @Test("a listener without a certificate, or with files it cannot use, is told which flag to fix")
    func badFiles() throws {
        var settings = TLSSettings()
        #expect(throws: RunnelError.self) { try settings.makeServerContext() }
        do {
            _ = try settings.makeServerContext()
        } catch {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("--tls-cert and --tls-key"))
        }

        settings.certificate = "/nonexistent/server.pem"
        settings.privateKey = "/nonexistent/server.key"
        do {
            _ = try settings.makeServerContext()
            Issue.record("a missing certificate file was accepted")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.contains("--tls-cert /nonexistent/server.pem"), "\(error.message)")
        }

        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-not-a-cert-\(getpid()).pem")
        try Data("not a certificate\n".utf8).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        var client = TLSSettings()
        client.trustRoots = garbage.path
        do {
            _ = try client.makeClientContext()
            Issue.record("a file without a certificate was accepted as --tls-ca")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("--tls-ca"), "\(error.message)")
        }

        client = TLSSettings()
        client.clientCertificate = garbage.path
        do {
            _ = try client.makeClientContext()
            Issue.record("a client certificate without its key was accepted")
        } catch {
            #expect(error.message.contains("--tls-client-cert and --tls-client-key"), "\(error.message)")
        }
    }
}
