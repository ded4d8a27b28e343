import Testing

@testable import FetchStage

/// Which addresses are private, and the refusal of loopback names.
@Suite struct AddressPolicyTests {
    typealias IP = AddressPolicy.IPAddress

    @Test(arguments: [
        [127, 0, 0, 1], [10, 1, 2, 3], [172, 16, 0, 1], [172, 31, 255, 255], [192, 168, 1, 1], [169, 254, 169, 254],
        [0, 0, 0, 0], [100, 64, 0, 1],
    ] as [[UInt8]])
    func privateIPv4(_ bytes: [UInt8]) {
        #expect(AddressPolicy.isPrivate(IP(bytes: bytes)))
    }

    @Test(arguments: [[8, 8, 8, 8], [172, 32, 0, 1], [203, 113, 7, 9], [1, 1, 1, 1]] as [[UInt8]])
    func publicIPv4(_ bytes: [UInt8]) {
        #expect(!AddressPolicy.isPrivate(IP(bytes: bytes)))
    }

    @Test func ipv6() {
        func v6(_ prefix: [UInt8], last: UInt8 = 1) -> IP {
            IP(bytes: prefix + [UInt8](repeating: 0, count: 15 - prefix.count) + [last])
        }
        #expect(AddressPolicy.isPrivate(v6([], last: 1)))  // ::1
        #expect(AddressPolicy.isPrivate(v6([], last: 0)))  // ::
        #expect(AddressPolicy.isPrivate(v6([0xFC, 0x00])))
        #expect(AddressPolicy.isPrivate(v6([0xFD, 0x12])))
        #expect(AddressPolicy.isPrivate(v6([0xFE, 0x80])))
        #expect(!AddressPolicy.isPrivate(v6([0x20, 0x01, 0x0D, 0xB8])))
        let mapped = IP(bytes: [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 127, 0, 0, 1])
        #expect(AddressPolicy.isPrivate(mapped))
        #expect(mapped.description == "::ffff:127.0.0.1")
    }

    @Test func loopbackNamesAreRefusedAndAllowed() async throws {
        let policy = AddressPolicy()
        do {
            try await policy.check(host: "localhost", url: "http://localhost/", allowPrivate: false)
            Issue.record("localhost was allowed")
        } catch {
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("--allow-private"))
        }
        // Other spellings of 127.0.0.1 that resolvers accept are refused too.
        for host in ["2130706433", "0x7f.1", "127.1", "[::ffff:127.0.0.1]"] {
            do {
                try await policy.check(host: host, url: "http://\(host)/", allowPrivate: false)
                Issue.record("\(host) was allowed")
            } catch {
                #expect(error.code == .permissionDenied, "\(host)")
            }
        }
        try await policy.check(host: "127.0.0.1", url: "http://127.0.0.1/", allowPrivate: true)
    }
}
