// libFuzzer entry for the pipeline-file parser (compiled into the RunnelSupervisor module by
// Scripts/fuzz): PipelineDefinition.read(text:file:), as `runnel check` and `runnel run` call it,
// TOMLKit underneath. Every problem is an answer; a crash, a trap, a hang (-timeout) or unbounded
// memory (-rss_limit_mb) is a finding.

import RunnelProtocol

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPipelineFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (definition, problems) = PipelineDefinition.read(text: text, file: "/fuzz/pipeline.toml")
    for problem in problems { _ = "\(problem)" }
    if let definition, problems.isEmpty {
        // A definition read without problems is placed as `runnel run` places it.
        _ = try? definition.placement(on: nil)
        for host in definition.hosts { _ = try? definition.placement(on: host.name) }
    }
    return 0
}
