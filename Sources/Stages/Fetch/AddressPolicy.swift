import Dispatch
import RunnelProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Refuses hosts that resolve to private, loopback, link-local or unspecified addresses, so a
/// URL from a page cannot make the fetcher reach into the network it runs in (SSRF).
///
/// Every address a host resolves to is checked; one private address refuses the host. Verdicts
/// are cached per host for a minute. The check resolves the name itself, before the HTTP client
/// resolves it again, so a DNS server that answers differently the second time (DNS rebinding)
/// can still slip through: this is a guard for honest mistakes and hostile links, not a sandbox.
///
/// ```swift
/// let policy = AddressPolicy()
/// try await policy.check(host: "127.0.0.1", url: "http://127.0.0.1/", allowPrivate: false)  // PERMISSION_DENIED
/// ```
actor AddressPolicy {
    private var verdicts: [String: (blocked: IPAddress?, until: ContinuousClock.Instant)] = [:]
    private let cacheFor: Duration

    init(cacheFor: Duration = .seconds(60)) {
        self.cacheFor = cacheFor
    }

    /// Resolves `host` and checks each of its addresses. The name is resolved even when private
    /// addresses are allowed, so a name that does not exist fails at once with `NOT_FOUND`.
    /// - Throws: ``RunnelError`` `PERMISSION_DENIED` for a private address (unless
    ///   `allowPrivate`), `NOT_FOUND` for a name that does not exist, `UNAVAILABLE` when DNS
    ///   fails for a while.
    func check(host: String, url: String, allowPrivate: Bool) async throws(RunnelError) {
        let key = host.lowercased()
        let blocked: IPAddress?
        if let verdict = verdicts[key], verdict.until > .now {
            blocked = verdict.blocked
        } else {
            let addresses = try await Self.resolve(host, url: url)
            blocked = addresses.first(where: Self.isPrivate)
            verdicts[key] = (blocked, .now + cacheFor)
            if verdicts.count > 10_000 { verdicts = verdicts.filter { $0.value.until > .now } }
        }
        if let blocked, !allowPrivate { throw Self.refusal(host: host, address: blocked, url: url) }
    }

    private static func refusal(host: String, address: IPAddress, url: String) -> RunnelError {
        let resolved = host == address.description ? "" : " (it resolves to \(address))"
        return RunnelError(
            .permissionDenied,
            "\(url): \(host) is a private, loopback or link-local address\(resolved); pass --allow-private to fetch it")
    }

    // MARK: Addresses

    /// An IPv4 or IPv6 address as its bytes.
    struct IPAddress: Sendable, Hashable, CustomStringConvertible {
        var bytes: [UInt8]  // 4 or 16

        var description: String {
            if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: bytes) }
            _ = inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
            return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// Whether an address is one the fetcher refuses by default: 0.0.0.0/8, 10/8, 127/8,
    /// 169.254/16, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), multicast and broadcast; ::,
    /// ::1, fc00::/7, fe80::/10, multicast, and IPv4 addresses mapped into IPv6.
    static func isPrivate(_ address: IPAddress) -> Bool {
        let b = address.bytes
        if b.count == 4 {
            switch (b[0], b[1]) {
            case (0, _), (10, _), (127, _), (169, 254), (192, 168): return true
            case (172, 16...31), (100, 64...127): return true
            case (224...255, _): return true
            default: return false
            }
        }
        guard b.count == 16 else { return true }
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xFF && b[11] == 0xFF {
            return isPrivate(IPAddress(bytes: Array(b[12..<16])))  // ::ffff:a.b.c.d
        }
        if b[0..<15].allSatisfy({ $0 == 0 }) && (b[15] == 0 || b[15] == 1) { return true }  // :: and ::1
        if b[0] & 0xFE == 0xFC { return true }  // fc00::/7 unique local
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return true }  // fe80::/10 link-local
        if b[0] == 0xFF { return true }  // multicast
        return false
    }

    /// Resolves a name (or parses a literal) with getaddrinfo, off the cooperative pool.
    static func resolve(_ host: String, url: String) async throws(RunnelError) -> [IPAddress] {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        let lookup = name
        let result: Result<[IPAddress], RunnelError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: resolveBlocking(lookup, url: url))
            }
        }
        return try result.get()
    }

    private static func resolveBlocking(_ host: String, url: String) -> Result<[IPAddress], RunnelError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        guard status == 0 else {
            let reason = String(cString: gai_strerror(status))
            switch status {
            case EAI_NONAME, -5, -9:  // -5 EAI_NODATA, -9 EAI_ADDRFAMILY (glibc values; not imported)
                return .failure(RunnelError(.notFound, "\(url): host \(host) not found (DNS: \(reason)); check the URL"))
            default:
                return .failure(
                    RunnelError(.unavailable, "\(url): could not resolve \(host) (DNS: \(reason))"))
            }
        }
        var addresses: [IPAddress] = []
        var cursor = list
        while let entry = cursor {
            if let sockaddr = entry.pointee.ai_addr {
                switch entry.pointee.ai_family {
                case AF_INET:
                    sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        withUnsafeBytes(of: v4.pointee.sin_addr) { addresses.append(IPAddress(bytes: Array($0))) }
                    }
                case AF_INET6:
                    sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        withUnsafeBytes(of: v6.pointee.sin6_addr) { addresses.append(IPAddress(bytes: Array($0))) }
                    }
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        if addresses.isEmpty {
            return .failure(RunnelError(.notFound, "\(url): host \(host) has no IPv4 or IPv6 address"))
        }
        return .success(addresses)
    }
}
