import Foundation
import Testing

/// `Scripts/install.sh` into a temporary prefix, with the already built debug binary (`--bin`), so
/// the test builds nothing of the package; the first run builds swift-argument-parser's
/// generate-manual tool (about a minute), later runs reuse it.
@Suite("Scripts/install.sh", .serialized)
struct InstallScriptTests {
    static let script = RunnelProcess.packageRoot.appendingPathComponent("Scripts/install.sh").path

    static func install(_ arguments: [String]) async throws -> RunnelProcess.Result {
        try await RunnelProcess.exec("/bin/bash", [script] + arguments, in: RunnelProcess.packageRoot)
    }

    @Test("installs the binary, bash/zsh/fish completions and man pages under --prefix", .timeLimit(.minutes(5)))
    func installsIntoPrefix() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: RunnelProcess.runnel),
            "no runnel binary at \(RunnelProcess.runnel): run `swift build` first")
        let prefix = try RunnelProcess.temporaryDirectory().appendingPathComponent("usr")
        let result = try await Self.install(["--prefix", prefix.path, "--bin", RunnelProcess.runnel])
        try #require(result.status == 0, "install.sh: \(result.stdoutText)\(result.stderr)")

        let binary = prefix.appendingPathComponent("bin/runnel").path
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        let version = try await RunnelProcess.exec(binary, ["--version"])
        #expect(version.status == 0 && version.stdoutText.hasPrefix("runnel "), "\(version.stdoutText)\(version.stderr)")

        // Each completion script knows the subcommands (a few, and a nested one).
        let completions = [
            "share/bash-completion/completions/runnel", "share/zsh/site-functions/_runnel",
            "share/fish/vendor_completions.d/runnel.fish",
        ]
        for path in completions {
            let text = try String(contentsOf: prefix.appendingPathComponent(path), encoding: .utf8)
            for subcommand in ["validate", "replay", "describe", "export", "check"] {
                #expect(text.contains(subcommand), "\(path) does not mention \(subcommand)")
            }
        }
        let zsh = try String(contentsOf: prefix.appendingPathComponent(completions[1]), encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef runnel"), "\(zsh.prefix(80))")

        // One page for runnel and one per subcommand, in mdoc; `man -l` renders them.
        let man1 = prefix.appendingPathComponent("share/man/man1")
        let pages = try FileManager.default.contentsOfDirectory(atPath: man1.path)
        for page in ["runnel.1", "runnel.cat.1", "runnel.log.check.1", "runnel.validate.1"] {
            #expect(pages.contains(page), "no \(page) in \(pages.sorted())")
        }
        let source = try String(contentsOf: man1.appendingPathComponent("runnel.1"), encoding: .utf8)
        #expect(source.contains(".Dt RUNNEL 1"), "\(source.prefix(300))")
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/man") {
            let rendered = try await RunnelProcess.exec(
                "/usr/bin/man", ["-l", man1.appendingPathComponent("runnel.cat.1").path], environment: ["MANPAGER": "cat", "MANWIDTH": "100"])
            #expect(rendered.status == 0, "\(rendered.stderr)")
            #expect(rendered.stdoutText.contains("--zstd"), "\(rendered.stdoutText.prefix(500))")
        }
    }

    @Test("--help lists the options and the installed files; an unknown option is a usage error (64)")
    func help() async throws {
        let help = try await Self.install(["--help"])
        #expect(help.status == 0)
        for text in ["--prefix DIR", "--debug", "--bin PATH", "share/zsh/site-functions/_runnel", "share/man/man1"] {
            #expect(help.stdoutText.contains(text), "\(help.stdoutText)")
        }
        let wrong = try await Self.install(["--prefx", "/tmp/x"])
        #expect(wrong.status == 64)
        #expect(wrong.stderr.contains("unknown argument: --prefx"), "\(wrong.stderr)")
    }
}
