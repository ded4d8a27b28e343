import Foundation
import RunnelProtocol
import Testing

@testable import ParseStage

@Suite("Service definition")
struct ServiceDefinitionTests {
    @Test("Protocol/services/parse.json is what the stage describes")
    func protocolServiceFileMatchesTheStage() throws {
        var root = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let data = try Data(contentsOf: root.appendingPathComponent("Protocol/services/parse.json"))
        let file = try JSONDecoder().decode(ServiceDefinition.self, from: data)
        #expect(file == ParseStage().service)
    }
}
