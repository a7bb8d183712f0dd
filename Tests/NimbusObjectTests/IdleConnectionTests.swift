import Foundation
import Glibc
import Hummingbird
import NimbusObject
import NimbusServiceKit
import NimbusTestSupport
import Testing

/// A raw TCP connection to a loopback server, for clients that send nothing or half a request.
final class RawConnection {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                connect(descriptor, address, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0, "connect: \(String(cString: strerror(errno)))")
    }

    deinit { close(descriptor) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        try #require(sent == bytes.count)
    }

    /// Reads until the server closes the connection or `limit` passes: whether it closed, and
    /// what it sent before.
    func waitForClose(within limit: Duration) async throws -> (closed: Bool, received: String) {
        try await waitForClose(until: .now + limit)
    }

    func waitForClose(until deadline: ContinuousClock.Instant) async throws -> (closed: Bool, received: String) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                received += buffer[0..<count]
            } else if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return (true, String(decoding: received, as: UTF8.self))
            } else {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        return (false, String(decoding: received, as: UTF8.self))
    }
}

@Suite("Idle connections")
struct IdleConnectionTests {
    static let idle = Duration.milliseconds(300)

    /// The object service's router on loopback, served as the services are but with a short
    /// idle timeout.
    func withServer(_ body: (_ port: Int) async throws -> Void) async throws {
        let cloud = try ObjectCloud()
        try await withLoopbackServer(
            buildObjectRouter(api: cloud.api).buildResponder(), idleTimeout: Self.idle,
            body)
    }

    @Test(
        "A connection that sends nothing, or stops halfway through a request, is closed once idle; a request is answered"
    )
    func idleConnectionsAreClosed() async throws {
        try await withServer { port in
            let start = ContinuousClock.now
            let silent = try RawConnection(port: port)
            let halfway = try RawConnection(port: port)
            try halfway.send("GET /healthcheck HTTP/1.1\r\nHost: nimbus\r\n")
            let kept = try RawConnection(port: port)
            try kept.send("GET /healthcheck HTTP/1.1\r\nHost: nimbus\r\n\r\n")

            let (silentClosed, silentReceived) = try await silent.waitForClose(within: .seconds(10))
            #expect(silentClosed && silentReceived.isEmpty)
            #expect(ContinuousClock.now - start >= Self.idle - .milliseconds(50))
            #expect(try await halfway.waitForClose(within: .seconds(10)).closed)
            // Kept alive after its answer, then closed once idle.
            let (keptClosed, keptReceived) = try await kept.waitForClose(within: .seconds(10))
            #expect(keptClosed)
            #expect(keptReceived.hasPrefix("HTTP/1.1 200 OK") && keptReceived.hasSuffix("OK"))
        }
    }

    @Test("Many connections that send nothing keep no request from being answered, and are let go once idle")
    func manyIdleConnections() async throws {
        try await withServer { port in
            let silent = try (0..<200).map { _ in try RawConnection(port: port) }
            let client = try RawConnection(port: port)
            try client.send("GET /healthcheck HTTP/1.1\r\nHost: nimbus\r\nConnection: close\r\n\r\n")
            let (closed, received) = try await client.waitForClose(within: .seconds(10))
            #expect(closed && received.hasPrefix("HTTP/1.1 200 OK"))
            let deadline = ContinuousClock.now + .seconds(10)
            var open = 0
            for connection in silent where try await !connection.waitForClose(until: deadline).closed {
                open += 1
            }
            #expect(open == 0)
        }
    }
}
