import Crypto
import Glibc
import Hummingbird
import NIOCore
import NIOPosix

/// Bulk data on disk, as the image and object services keep it: a request body streamed into
/// a new file (hashed on the way, never held in memory) and made durable before it is
/// renamed into place, the rename made durable by an fsync of its directory, and files
/// streamed back out in pieces.
public enum DataFile {
    public enum Failure: Error, CustomStringConvertible {
        /// The body went past `limit` bytes.
        case tooLarge(limit: Int64)
        /// The file system refused (the text says what and why).
        case io(String)

        public var description: String {
            switch self {
            case .tooLarge(let limit): "the body is larger than \(limit) bytes"
            case .io(let text): text
            }
        }
    }

    static func errorText(_ what: String) -> String { "\(what): \(String(cString: strerror(errno)))" }

    /// Writes `body` to a new file at `path` (which must not exist), passing each piece to
    /// `update` (the hashes), then fsyncs and closes it. Returns the size. On failure the
    /// caller removes `path`. The file system calls run on NIO's thread pool, 1 MiB at a
    /// time: a write the kernel throttles (many dirty pages) or a slow fsync never holds up
    /// the threads that serve other requests.
    public static func receive(
        _ body: RequestBody, into path: String, limit: Int64, update: (UnsafeRawBufferPointer) -> Void
    ) async throws -> Int64 {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw Failure.io(errorText("cannot create \(path)")) }
        var closed = false
        defer { if !closed { close(descriptor) } }
        var size: Int64 = 0
        var pending = ByteBufferAllocator().buffer(capacity: 1 << 20)
        for try await buffer in body {
            size += Int64(buffer.readableBytes)
            guard size <= limit else { throw Failure.tooLarge(limit: limit) }
            buffer.withUnsafeReadableBytes { update($0) }
            pending.writeImmutableBuffer(buffer)
            if pending.readableBytes >= 1 << 20 {
                try await flush(pending, to: descriptor)
                pending.clear()
            }
        }
        if pending.readableBytes > 0 { try await flush(pending, to: descriptor) }
        try await finish(descriptor)
        closed = true
        return size
    }

    static func flush(_ buffer: ByteBuffer, to descriptor: Int32) async throws {
        try await NIOThreadPool.singleton.runIfActive {
            try buffer.withUnsafeReadableBytes { try writeAll(descriptor, $0) }
        }
    }

    /// Writes every byte, retrying short writes and interruptions.
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(Failure) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let count = write(descriptor, base + offset, bytes.count - offset)
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure.io(errorText("writing data failed"))
            }
            offset += count
        }
    }

    /// fsync (on the thread pool: a large file can take a while) and close.
    public static func finish(_ descriptor: Int32) async throws {
        let synced = try await NIOThreadPool.singleton.runIfActive { fsync(descriptor) == 0 }
        let closed = close(descriptor) == 0
        guard synced, closed else { throw Failure.io(errorText("storing data failed")) }
    }

    /// Renames the finished (fsynced) file `temporary` to `path`, then fsyncs `path`'s
    /// directory: until the directory is synced, a power loss can undo the rename however
    /// durable the file's own bytes are, so a database row committed after this call never
    /// names a file that is not there. When the directory cannot be synced the file is
    /// removed from `path` again. On the thread pool, as the other file system calls.
    public static func rename(_ temporary: String, to path: String) async throws {
        try await place(path, "cannot rename to \(path)") { Glibc.rename(temporary, path) }
    }

    /// Hard-links `existing` as `path` (`link(2)`), then fsyncs `path`'s directory, as
    /// `rename(_:to:)` does.
    public static func link(_ existing: String, to path: String) async throws {
        try await place(path, "cannot link \(path)") { Glibc.link(existing, path) }
    }

    /// Makes `path` with `call` (0 on success), then fsyncs its directory; removes `path`
    /// again when the directory cannot be synced.
    static func place(_ path: String, _ failure: String, _ call: @escaping @Sendable () -> Int32) async throws {
        try await NIOThreadPool.singleton.runIfActive { () throws in
            guard call() == 0 else { throw Failure.io(errorText(failure)) }
            do {
                try syncDirectory(of: path)
            } catch {
                unlink(path)
                throw error
            }
        }
    }

    /// fsyncs the directory holding `path`, making the entries made in it (a rename, a link,
    /// a new subdirectory) survive a power loss.
    public static func syncDirectory(of path: String) throws(Failure) {
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let directory = slash.map { $0 == path.utf8.startIndex ? "/" : String(path[..<$0]) } ?? "."
        try syncDirectory(directory)
    }

    /// fsyncs the directory `path` (`open(O_DIRECTORY)`, `fsync(2)`).
    public static func syncDirectory(_ path: String) throws(Failure) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure.io(errorText("cannot open the directory \(path)")) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure.io(errorText("cannot sync the directory \(path)")) }
    }

    /// A part of a file to send: `length` bytes from `offset`. `descriptor`, when given, is an
    /// already open file (so that a file replaced after the answer began is still read whole).
    public struct Piece: Sendable {
        public var path: String
        public var offset: Int64
        public var length: Int64
        public var descriptor: Int32?

        public init(path: String, offset: Int64, length: Int64, descriptor: Int32? = nil) {
            self.path = path
            self.offset = offset
            self.length = length
            self.descriptor = descriptor
        }
    }

    /// A response body sending the pieces one after another, 256 KiB at a time.
    public static func body(_ pieces: [Piece]) -> ResponseBody {
        let total = pieces.reduce(Int64(0)) { $0 + $1.length }
        return ResponseBody(contentLength: Int(total)) { writer in
            var open = pieces.compactMap(\.descriptor)
            defer { for descriptor in open { close(descriptor) } }
            for piece in pieces where piece.length > 0 {
                let descriptor: Int32
                if let given = piece.descriptor {
                    descriptor = given
                } else {
                    descriptor = Glibc.open(piece.path, O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else { throw Failure.io(errorText("cannot open \(piece.path)")) }
                    open.append(descriptor)
                }
                var offset = piece.offset
                let stop = piece.offset + piece.length
                while offset < stop {
                    let wanted = Int(min(Int64(1 << 18), stop - offset))
                    let position = offset
                    // Read on the thread pool: a page-cache miss waits for the disk there.
                    let chunk = try await NIOThreadPool.singleton.runIfActive { () -> ByteBuffer in
                        var chunk = ByteBufferAllocator().buffer(capacity: wanted)
                        let count = chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { bytes in
                            max(0, pread(descriptor, bytes.baseAddress, wanted, off_t(position)))
                        }
                        guard count > 0 else { throw Failure.io("\(piece.path) ended early") }
                        return chunk
                    }
                    offset += Int64(chunk.readableBytes)
                    try await writer.write(chunk)
                }
            }
            try await writer.finish(nil)
        }
    }

    /// `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range; nil when it cannot be satisfied).
    public static func byteRange(_ header: String, size: Int64) -> (first: Int64, last: Int64)? {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return nil }
        let parts = header.dropFirst(6).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let first = parts[0].trimmingSpaces
        let last = parts[1].trimmingSpaces
        if first.isEmpty {
            guard let suffix = Int64(last), suffix > 0, size > 0 else { return nil }
            return (max(0, size - suffix), size - 1)
        }
        guard let start = Int64(first), start < size else { return nil }
        let end = last.isEmpty ? size - 1 : min(Int64(last) ?? -1, size - 1)
        return end >= start ? (start, end) : nil
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}

extension Digest {
    /// Lower-case hexadecimal, as ETags and checksums are written.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
