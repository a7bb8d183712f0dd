import Foundation
import NimbusSystem

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

/// Runs commands through NimbusSystem's `ProcessRunner` (swift-subprocess), and starts
/// daemons with `Daemon.spawn`.
public struct HostCommandRunner: CommandRunner {
    let runner = ProcessRunner()

    public init() {}

    public func run(_ arguments: [String], input: String?, timeout: Double) throws(CommandError) -> CommandResult {
        let command = Command(arguments, input: input, timeout: timeout)
        do {
            let output = try runner.runBlocking(command)
            return CommandResult(status: output.status, stdout: output.stdout, stderr: output.stderr)
        } catch {
            switch error {
            case .notFound(let program): throw .notFound(program)
            case .timedOut: throw .timedOut(arguments, timeout)
            case .cannotStart(let program, _): throw .notFound(program)
            case .failed(_, let output):
                throw .failed(
                    arguments, CommandResult(status: output.status, stdout: output.stdout, stderr: output.stderr))
            }
        }
    }

    public func spawnDetached(_ arguments: [String]) throws(CommandError) {
        do {
            try Daemon.spawn(arguments)
        } catch {
            switch error {
            case .notFound(let program): throw .notFound(program)
            default: throw .failed(arguments, CommandResult(status: 1, stderr: error.description))
            }
        }
    }
}
