import Foundation
import RunnelProtocol
import RunnelTransport

/// `follow = true` in `[source]`: the run goes on past the last URL. The source (`runnel send
/// --follow`) reads the lines added to its file; for a page directory the supervisor adds each
/// page that arrives whole (written and closed, or moved in) to the list the source reads.
extension Supervisor {
    /// Starts adding the pages that arrive in the source directory to its list; nil when the
    /// pipeline does not follow a directory. Cancel the watch to stop.
    func followPageDirectory() -> FileWatch? {
        guard definition.follow, placement.runsSource, case let .directory(path) = definition.source else { return nil }
        let directory = definition.resolve(path)
        let list = stateDirectory + "/pages.txt"
        let watch: FileWatch
        do {
            watch = try FileWatch(path: directory, for: .arrivals)
        } catch {
            log(.warning, "cannot follow \(directory): \(error.message); the pages in it now are sent, new ones are not")
            return nil
        }
        // Listed when the run started; a page that arrived since, before the watch, is added now.
        var listed = Set(((try? String(contentsOfFile: list, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init))
        let present = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        addPages(present.filter(Self.isPage).sorted(), in: directory, to: list, listed: &listed)
        Task {
            while let names = await watch.changed() {
                await self.addPages(names.filter(Self.isPage).sorted(), in: directory, to: list, listed: &listed)
            }
        }
        return watch
    }

    /// Appends the pages of `names` not listed yet to `list`, as `file://` URLs.
    private func addPages(_ names: [String], in directory: String, to list: String, listed: inout Set<String>) {
        let urls = names.map { "file://" + directory + "/" + $0 }.filter { !listed.contains($0) }
        guard !urls.isEmpty else { return }
        do throws(RunnelError) {
            let output = try FileOutput(path: list, append: true)
            try output.write(Array((urls.joined(separator: "\n") + "\n").utf8))
            try output.flush()
            listed.formUnion(urls)
            log(.info, "source: \(urls.count) new page\(urls.count == 1 ? "" : "s") in \(directory)")
        } catch {
            log(.warning, "cannot add new pages to \(list): \(error.message)")
        }
    }
}
