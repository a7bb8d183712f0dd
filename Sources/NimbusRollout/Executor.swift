import Foundation
import Glibc
import NimbusSystem

/// What a command printed and how it ended.
public struct ExecutionOutput: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Why a host could not be reached or a command not run (the command's own failure is an
/// `ExecutionOutput` with a non-zero status instead).
public struct ExecutorError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs commands on one host: over SSH, on this machine, or (in tests) a fake. Calls on
/// one executor are serialised by the rollout; executors for different hosts run in
/// parallel on their own threads, so implementations may block.
public protocol RemoteExecutor: AnyObject, Sendable {
    /// The host, as the answer file names it.
    var host: String { get }
    /// Runs a POSIX shell command (`sh -c`), `input` on its stdin.
    func run(_ command: String, input: String?, timeout: Double) throws(ExecutorError) -> ExecutionOutput
    /// Writes `data` to `path` atomically (a temporary file beside it, then a rename).
    func upload(_ data: Data, to path: String, mode: Int32, timeout: Double) throws(ExecutorError)
    /// Drops the connection and opens a new one (after the host's network was reconfigured).
    func reconnect(timeout: Double) throws(ExecutorError)
    func close()
}

/// Commands on the machine Nimbus runs on (an all-in-one deploy onto itself).
public final class LocalExecutor: RemoteExecutor {
    public let host: String

    public init(host: String) { self.host = host }

    public func run(_ command: String, input: String?, timeout: Double) throws(ExecutorError) -> ExecutionOutput {
        do {
            let output = try ProcessRunner().runBlocking(
                Command(["/bin/sh", "-c", command], input: input, timeout: timeout))
            return ExecutionOutput(status: output.status, stdout: output.stdout, stderr: output.stderr)
        } catch {
            switch error {
            case .timedOut: throw ExecutorError("timed out after \(Int(timeout)) s")
            default: throw ExecutorError("cannot run /bin/sh: \(error.description)")
            }
        }
    }

    public func upload(_ data: Data, to path: String, mode: Int32, timeout: Double) throws(ExecutorError) {
        let temporary = path + ".nimbus-new"
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw ExecutorError("cannot create the directory of \(path): \(error.localizedDescription)")
        }
        guard manager.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: Int(mode)]),
            rename(temporary, path) == 0
        else { throw ExecutorError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    public func reconnect(timeout: Double) throws(ExecutorError) {}
    public func close() {}

    /// Whether `host` is an address of this machine (or localhost).
    public static func isLocal(_ host: String) -> Bool {
        if host == "localhost" || host.hasPrefix("127.") { return true }
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return false }
        defer { freeifaddrs(list) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET) else {
                continue
            }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var raw = inet.pointee.sin_addr
                _ = inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN))
            }
            let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            if String(decoding: bytes, as: UTF8.self) == host { return true }
        }
        return false
    }
}
