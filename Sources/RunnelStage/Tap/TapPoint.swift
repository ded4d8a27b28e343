import Foundation
import RunnelProtocol
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where `runnel tap` watches a running stage: a Unix socket on which any number of tappers get
/// copies of the stage's inputs and outputs as plain JSON lines (PROTOCOL.md §9.3).
///
/// A tap never disturbs the stage's flow: each tapper has its own bounded buffer, written to
/// its socket by its own thread; when a tapper reads slower than the stage works, the lines
/// that do not fit are dropped for that tapper alone, and it is told how many with a
/// `{"ctl":"tap-dropped","dropped":N}` line (N counts from the start of its tap). When nobody
/// taps, ``publish(_:_:)`` costs one atomic load.
///
/// ```swift
/// let tap = try TapPoint(path: "/run/runnel/news/parse.tap.4242.sock")
/// tap.publish(.inputs, batch)        // in the stage's loop
/// tap.close()                        // at exit
/// ```
public final class TapPoint: Sendable {
    /// Which of the stage's messages a tapper wants.
    public enum Side: String, Sendable {
        case inputs, outputs
    }

    /// Lines kept for one tapper that has not read them yet.
    public static let bufferLimit = 1024

    public let path: String
    private let listener: ListeningSocket
    private let tappers = Mutex<[Tapper]>([])
    private let count = Atomic<Int>(0)

    /// Binds the socket (private to the user: mode 0600) and starts accepting tappers.
    /// - Throws: ``RunnelError`` when the socket cannot be made.
    public init(path: String) throws(RunnelError) {
        self.path = path
        listener = try ListeningSocket(path: path, backlog: 8)
        listener.acceptOnThread { [weak self] client in
            guard let self else {
                Glibc.close(client)
                return
            }
            self.welcome(client)
        }
    }

    /// Whether anyone is tapping.
    public var isTapped: Bool { count.load(ordering: .relaxed) > 0 }

    /// Offers copies of messages to every tapper that wants them.
    public func publish(_ side: Side, _ messages: [Envelope]) {
        guard count.load(ordering: .relaxed) > 0, !messages.isEmpty else { return }
        let current = tappers.withLock { $0 }
        var lines: [[UInt8]]?
        for tapper in current where tapper.wants(side) {
            if lines == nil {
                lines = messages.map { message in
                    var line: [UInt8] = []
                    message.appendLine(to: &line)
                    return line
                }
            }
            tapper.offer(zip(messages, lines!).filter { tapper.wants($0.0.type) }.map { $0.1 })
        }
    }

    /// Stops accepting, lets each tapper's thread write what it holds and the final count of
    /// drops (waiting at most half a second), closes the connections and removes the socket.
    public func close() {
        listener.close()
        let current = tappers.withLock { t -> [Tapper] in
            defer { t = [] }
            return t
        }
        count.store(0, ordering: .relaxed)
        for tapper in current { tapper.finish() }
        let deadline = Date().addingTimeInterval(0.5)
        for tapper in current { tapper.waitUntilDone(before: deadline) }
    }

    /// Reads the tapper's request line, then starts its writer.
    private func welcome(_ fd: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var byte: UInt8 = 0
        while request.count < 65536, recv(fd, &byte, 1, 0) == 1, byte != 0x0A { request.append(byte) }
        let object = (try? JSONSerialization.jsonObject(with: Data(request))) as? [String: Any]
        guard let object, let sides = object["sides"] as? [String] else {
            let reply = #"{"ctl":"bye","code":3,"message":"a tap starts with a request line such as {\"sides\":[\"inputs\",\"outputs\"],\"types\":[]}"}"# + "\n"
            _ = reply.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            Glibc.close(fd)
            return
        }
        let tapper = Tapper(
            fd: fd, sides: Set(sides.compactMap(Side.init(rawValue:))), types: Set(object["types"] as? [String] ?? []),
            onEnd: { [weak self] tapper in self?.remove(tapper) })
        tappers.withLock { $0.append(tapper) }
        count.add(1, ordering: .relaxed)
        tapper.start()
    }

    private func remove(_ tapper: Tapper) {
        let removed = tappers.withLock { t -> Bool in
            guard let index = t.firstIndex(where: { $0 === tapper }) else { return false }
            t.remove(at: index)
            return true
        }
        if removed { count.subtract(1, ordering: .relaxed) }
    }
}

/// One tapper: its wishes, its bounded buffer, and the thread that writes to its socket.
private final class Tapper: @unchecked Sendable {
    // `condition` guards `pending`, `dropped`, `finished` and `done`.
    private let fd: Int32
    private let sides: Set<TapPoint.Side>
    private let types: Set<String>
    private let onEnd: @Sendable (Tapper) -> Void
    private let condition = NSCondition()
    private var pending: [[UInt8]] = []
    private var dropped = 0
    private var finished = false
    private var done = false

    init(fd: Int32, sides: Set<TapPoint.Side>, types: Set<String>, onEnd: @escaping @Sendable (Tapper) -> Void) {
        self.fd = fd
        self.sides = sides
        self.types = types
        self.onEnd = onEnd
    }

    func wants(_ side: TapPoint.Side) -> Bool { sides.contains(side) }
    func wants(_ type: String) -> Bool { types.isEmpty || types.contains(type) }

    /// Keeps what fits in the buffer and counts the rest as dropped; never waits for the socket.
    func offer(_ lines: [[UInt8]]) {
        guard !lines.isEmpty else { return }
        condition.lock()
        let room = max(TapPoint.bufferLimit - pending.count, 0)
        pending.append(contentsOf: lines.prefix(room))
        dropped += max(lines.count - room, 0)
        condition.signal()
        condition.unlock()
    }

    func start() {
        Thread { self.write() }.start()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    func waitUntilDone(before deadline: Date) {
        condition.lock()
        while !done && condition.wait(until: deadline) {}
        condition.unlock()
        if !done { shutdown(fd, Int32(SHUT_RDWR)) }  // a tapper that does not read: stop waiting for it
    }

    /// The writer thread: sends what is buffered, and a `tap-dropped` line before it whenever
    /// more were dropped; every second it also checks that the tapper is still there.
    private func write() {
        var reported = 0
        var alive = true
        while alive {
            condition.lock()
            while pending.isEmpty && !finished && dropped == reported {
                if !condition.wait(until: Date().addingTimeInterval(1)) { break }
            }
            let lines = pending
            pending = []
            let drops = dropped
            let last = finished && lines.isEmpty
            condition.unlock()

            var out: [UInt8] = []
            if drops > reported {
                out.append(contentsOf: #"{"ctl":"tap-dropped","dropped":\#(drops)}"#.utf8)
                out.append(0x0A)
                reported = drops
            }
            for line in lines { out.append(contentsOf: line) }
            if out.isEmpty {
                alive = !last && peerIsThere()
            } else {
                alive = sendAll(out) && !last
            }
        }
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
        onEnd(self)
        close(fd)
    }

    private func sendAll(_ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Whether the tapper still has its end open (it sends nothing after its request).
    private func peerIsThere() -> Bool {
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, 0) > 0 else { return true }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) > 0
    }
}
