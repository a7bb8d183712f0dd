import Foundation
import Glibc
import NimbusNetworkAgent
import Synchronization

/// The tests' TCP tools, with sockets made inside the simulated hosts' namespaces: a
/// listener that greets each client with the address it sees (`hi 10.98.0.1`), which is
/// how SNAT and DNAT are checked, and a probe that tells open from refused from dropped.
enum TCP {
    enum Outcome: Equatable, CustomStringConvertible {
        /// Connected; the greeting.
        case open(String)
        case refused
        /// No answer in time: dropped on the way.
        case timeout
        case failed(String)

        var description: String {
            switch self {
            case .open(let greeting): "open (\(greeting))"
            case .refused: "refused"
            case .timeout: "timeout"
            case .failed(let reason): "failed: \(reason)"
            }
        }
    }

    static func address(_ ip: IPv4, _ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: ip.value.bigEndian)
        return address
    }

    /// Connects from namespace `namespace` to `host:port`, waiting up to `timeout` seconds.
    static func probe(from namespace: String, to host: IPv4, port: UInt16, timeout: Double = 1) async -> Outcome {
        do {
            return try await NamespaceThread.run(in: namespace) { connect(host, port, timeout: timeout) }
        } catch {
            return .failed("\(error)")
        }
    }

    /// Runs on a namespace thread: non-blocking connect, poll, then read the greeting.
    static func connect(_ host: IPv4, _ port: UInt16, timeout: Double) -> Outcome {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return .failed("socket") }
        defer { close(socket) }
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
        var target = address(host, port)
        let started = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if started != 0 && errno != EINPROGRESS { return errno == ECONNREFUSED ? .refused : .failed("connect") }
        var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) == 1 else { return .timeout }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length)
        if error == ECONNREFUSED { return .refused }
        if error != 0 { return error == ETIMEDOUT || error == EHOSTUNREACH ? .timeout : .failed("connect: \(error)") }
        var reading = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&reading, 1, Int32(timeout * 1000)) == 1 else { return .timeout }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = read(socket, &buffer, buffer.count)
        guard count > 0 else { return .failed("no greeting") }
        return .open(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A listener in a namespace; `stop()` ends it.
    final class Listener: Sendable {
        let socket: Int32
        private let stopped = Mutex(false)

        init(socket: Int32) { self.socket = socket }

        func stop() {
            let first = stopped.withLock { stopped in
                defer { stopped = true }
                return !stopped
            }
            if first { shutdown(socket, Int32(SHUT_RDWR)) }
        }
    }

    /// Listens on `port` in `namespace`, greeting each client with its address.
    static func listen(in namespace: String, port: UInt16) async throws -> Listener {
        let socket = try await NamespaceThread.run(in: namespace) { () throws(DataplaneError) -> Int32 in
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var yes: Int32 = 1
            setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            var local = address(.any, port)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard socket >= 0, bound == 0, Glibc.listen(socket, 16) == 0 else {
                throw .hostUnprepared("cannot listen on port \(port) in \(namespace)")
            }
            return socket
        }
        let listener = Listener(socket: socket)
        // The socket is in the namespace already; accepting needs no setns.
        let thread = Thread {
            while true {
                var peer = sockaddr_in()
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                let client = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(socket, $0, &length) }
                }
                if client < 0 { break }
                let greeting = "hi \(IPv4(value: UInt32(bigEndian: peer.sin_addr.s_addr)))\n"
                _ = greeting.withCString { write(client, $0, strlen($0)) }
                close(client)
            }
            close(socket)
        }
        thread.start()
        return listener
    }
}
