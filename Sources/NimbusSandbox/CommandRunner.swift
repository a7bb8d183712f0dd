import Foundation
import Synchronization

/// Runs programs on this machine. The seam between the sandbox and the processes it
/// starts: `ProcessRunner` runs them for real, tests substitute a recording fake.
public protocol CommandRunner: Sendable {
    /// Runs `arguments[0]` (looked up in PATH) with the rest as its arguments, waits for it
    /// (at most `timeout` seconds, then kills it) and returns its exit status and output.
    func run(_ arguments: [String], input: String?, timeout: Double) throws(CommandError) -> CommandResult

    /// Starts a program in a session of its own with standard input and output on
    /// /dev/null, and returns without waiting: it outlives this process.
    func spawnDetached(_ arguments: [String]) throws(CommandError)
}

extension CommandRunner {
    public func run(_ arguments: String..., timeout: Double = 60) throws(CommandError) -> CommandResult {
        try run(arguments, input: nil, timeout: timeout)
    }

    /// Runs and requires exit status 0.
    @discardableResult
    public func check(_ arguments: [String], input: String? = nil, timeout: Double = 60) throws(CommandError)
        -> CommandResult
    {
        let result = try run(arguments, input: input, timeout: timeout)
        guard result.status == 0 else { throw .failed(arguments, result) }
        return result
    }

    @discardableResult
    public func check(_ arguments: String..., timeout: Double = 60) throws(CommandError) -> CommandResult {
        try check(arguments, input: nil, timeout: timeout)
    }
}

public struct CommandResult: Sendable, Equatable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String = "", stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

public enum CommandError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case failed([String], CommandResult)
    case timedOut([String], Double)

    public var description: String {
        switch self {
        case .notFound(let program): "\(program): not found in PATH"
        case .failed(let arguments, let result):
            "\(arguments.joined(separator: " ")) exited with \(result.status)"
                + (result.stderr.isEmpty ? "" : ": " + result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        case .timedOut(let arguments, let seconds):
            "\(arguments.joined(separator: " ")) took over \(Int(seconds)) s; stopped"
        }
    }
}

/// Runs commands with Foundation's `Process`.
public struct ProcessRunner: CommandRunner {
    public init() {}

    public func run(_ arguments: [String], input: String?, timeout: Double) throws(CommandError) -> CommandResult {
        guard let program = arguments.first, let path = Self.resolve(program) else {
            throw .notFound(arguments.first ?? "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = Array(arguments.dropFirst())
        let stdout = Pipe()
        let stderr = Pipe()
        let stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do { try process.run() } catch { throw .notFound(program) }
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try? stdin.fileHandleForWriting.close()
        }
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let outBox = DataBox()
        let errBox = DataBox()
        let group = DispatchGroup()
        for (pipe, box) in [(stdout, outBox), (stderr, errBox)] {
            group.enter()
            DispatchQueue.global().async {
                box.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        let deadline = DispatchTime.now() + timeout
        if group.wait(timeout: deadline) == .timedOut {
            process.terminate()
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw .timedOut(arguments, timeout)
        }
        process.waitUntilExit()
        return CommandResult(
            status: process.terminationStatus, stdout: String(decoding: outBox.get(), as: UTF8.self),
            stderr: String(decoding: errBox.get(), as: UTF8.self))
    }

    public func spawnDetached(_ arguments: [String]) throws(CommandError) {
        // posix_spawn(3) in a new session, standard streams on /dev/null and every other
        // descriptor closed: Foundation's Process watches a pipe its child inherits, so a
        // daemon started through it keeps the parent waiting forever.
        guard let program = arguments.first, let path = Self.resolve(program) else {
            throw .notFound(arguments.first ?? "")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        Self.closeOnExec()
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Self.spawnSetSID)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw .failed(arguments, CommandResult(status: result, stderr: String(cString: strerror(result))))
        }
    }

    /// glibc's POSIX_SPAWN_SETSID (spawn.h; a GNU extension Swift's Glibc module leaves out).
    static let spawnSetSID: Int16 = 0x80

    /// Marks every descriptor above 2 close-on-exec, so no child started after this
    /// inherits one (glibc's posix_spawn_file_actions_addclosefrom_np is not imported).
    static func closeOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let descriptor = Int32(entry), descriptor > 2 else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// `program` itself when it contains a slash, else the first match in PATH.
    static func resolve(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        let directories: [String] = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for directory in directories {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Output collected on another queue; set once, read after the group finished.
private final class DataBox: Sendable {
    private let data = Mutex(Data())
    func set(_ value: Data) { data.withLock { $0 = value } }
    func get() -> Data { data.withLock { $0 } }
}
