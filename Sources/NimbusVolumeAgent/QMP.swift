import Foundation
import NimbusServiceKit

#if canImport(Glibc)
    import Glibc
#endif

/// One command to a QEMU process's QMP socket (the export daemon's monitor): connect, read
/// the greeting, leave capabilities negotiation, send the command and read its answer
/// (events in between are skipped). Each call is a connection of its own, bounded by
/// `timeout` for every read.
enum QMP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The `return` of `command` with `arguments`, or the QMP error as a `Failure`.
    @discardableResult
    static func execute(
        _ command: String, _ arguments: JSON? = nil, socket path: String, timeout: Int = 10
    ) throws(Failure) -> JSON {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "QMP socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { throw Failure(description: "cannot connect to \(path): errno \(errno)") }
        var reader = LineReader(fd: fd)
        _ = try reader.next()  // the greeting
        try send(fd, ["execute": "qmp_capabilities"])
        _ = try answer(&reader)
        var message: [(String, JSON)] = [("execute", .string(command))]
        if let arguments { message.append(("arguments", arguments)) }
        try send(fd, .object(message))
        return try answer(&reader)
    }

    static func send(_ fd: Int32, _ message: JSON) throws(Failure) {
        let bytes = message.bytes + [UInt8(ascii: "\n")]
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure(description: "QMP write failed: errno \(errno)") }
            sent += count
        }
    }

    /// The next `return` (or `error`) line, events skipped.
    static func answer(_ reader: inout LineReader) throws(Failure) -> JSON {
        while true {
            let line = try reader.next()
            guard let json = try? JSON.parse(line) else { continue }
            if let value = json["return"] { return value }
            if let error = json["error"] {
                throw Failure(description: error["desc"]?.string ?? error.text)
            }
        }
    }

    /// Lines off a socket.
    struct LineReader {
        let fd: Int32
        var buffer: [UInt8] = []

        init(fd: Int32) { self.fd = fd }

        mutating func next() throws(Failure) -> [UInt8] {
            while true {
                if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = Array(buffer[..<newline])
                    buffer.removeFirst(newline + 1)
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard count > 0 else {
                    throw Failure(
                        description: count == 0 ? "QMP closed the connection" : "QMP read failed: errno \(errno)")
                }
                buffer += chunk[..<count]
            }
        }
    }
}
