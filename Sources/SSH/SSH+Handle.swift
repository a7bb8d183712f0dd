import CLibSSH2
import Foundation
import Glibc

extension SSH {
    /// The raw libssh2 pointers and the socket of one session. Owned by exactly one
    /// `Session`, which keeps it in a `Mutex`; this is the one audited unchecked-Sendable
    /// box of the module: the pointers are only touched while that lock is held.
    final class Handle: @unchecked Sendable {
        var session: OpaquePointer?
        var socket: Int32 = -1

        init() {}

        /// The library's last error message for this session.
        func lastError() -> String {
            guard let session else { return "no session" }
            var message: UnsafeMutablePointer<CChar>?
            var length: Int32 = 0
            let code = libssh2_session_last_error(session, &message, &length, 0)
            let text = message.map { String(cString: $0) } ?? ""
            return text.isEmpty ? "libssh2 error \(code)" : text
        }

        /// Frees the session and closes the socket; idempotent.
        func close() {
            if let session {
                libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, "nimbus done", "")
                libssh2_session_free(session)
                self.session = nil
            }
            if socket >= 0 {
                Glibc.close(socket)
                socket = -1
            }
        }

        deinit { close() }

        /// Waits until the socket is ready in the directions libssh2 is blocked on.
        func waitForSocket(until deadline: Date) throws(SSH.Error) {
            guard let session else { throw .closed }
            let directions = libssh2_session_block_directions(session)
            var events: Int16 = 0
            if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
            if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
            if events == 0 { events = Int16(POLLIN) }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw .timeout("waiting for the remote command") }
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            _ = poll(&descriptor, 1, Int32(min(remaining, 1) * 1000))
        }
    }

    /// Opens a TCP connection with a deadline (non-blocking connect, then poll).
    static func connectSocket(host: String, port: Int, timeout: Double) throws(SSH.Error) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .connect(host: host, port: port, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var lastReason = "no address"
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            let descriptor = Glibc.socket(entry.pointee.ai_family, entry.pointee.ai_socktype, entry.pointee.ai_protocol)
            guard descriptor >= 0 else { continue }
            let flags = fcntl(descriptor, F_GETFL)
            _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
            var result = Glibc.connect(descriptor, entry.pointee.ai_addr, entry.pointee.ai_addrlen)
            if result != 0 && errno == EINPROGRESS {
                var waiting = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                if poll(&waiting, 1, Int32(timeout * 1000)) == 1 {
                    var error: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                    result = error == 0 ? 0 : -1
                    if error != 0 { lastReason = String(cString: strerror(error)) }
                } else {
                    lastReason = "no answer within \(Int(timeout)) s"
                }
            } else if result != 0 {
                lastReason = String(cString: strerror(errno))
            }
            if result == 0 {
                _ = fcntl(descriptor, F_SETFL, flags)
                var on: Int32 = 1
                setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                return descriptor
            }
            Glibc.close(descriptor)
        }
        throw .connect(host: host, port: port, reason: lastReason)
    }
}
