import Foundation
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// A program to run: found in PATH unless it contains a slash.
public struct Command: Sendable, Equatable, CustomStringConvertible {
    public var arguments: [String]
    /// Written to its standard input, then closed; nil: /dev/null.
    public var input: String?
    /// After this long it is sent SIGTERM, and SIGKILL `graceSeconds` later.
    public var timeout: Double
    public var graceSeconds: Double
    /// Extra environment variables (the rest is inherited).
    public var environment: [String: String]

    public init(
        _ arguments: [String], input: String? = nil, timeout: Double = 60, graceSeconds: Double = 5,
        environment: [String: String] = [:]
    ) {
        self.arguments = arguments
        self.input = input
        self.timeout = timeout
        self.graceSeconds = graceSeconds
        self.environment = environment
    }

    public var description: String { arguments.joined(separator: " ") }
}

/// How a program ended and what it printed.
public struct ProcessOutput: Sendable, Equatable {
    /// The exit status, or 128 + the signal that ended it (as a shell reports it).
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String = "", stderr: String = "") {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { status == 0 }
}

/// Why a program could not be run to its end (its own failure is a non-zero status).
public enum ProcessError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case cannotStart(String, reason: String)
    case timedOut(Command)
    case failed(Command, ProcessOutput)

    public var description: String {
        switch self {
        case .notFound(let program): "\(program): not found in PATH"
        case .cannotStart(let program, let reason): "\(program): cannot start: \(reason)"
        case .timedOut(let command): "\(command) took over \(Int(command.timeout)) s; stopped (SIGTERM, then SIGKILL)"
        case .failed(let command, let output):
            "\(command) exited with \(output.status)"
                + (output.stderr.isEmpty ? "" : ": " + output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}

/// Runs programs on this machine: the one seam between Nimbus code and the processes it
/// starts. `ProcessRunner` runs them for real (swift-subprocess); tests use
/// `FakeProcessRunner`.
public protocol ProcessRunning: Sendable {
    func run(_ command: Command) async throws(ProcessError) -> ProcessOutput
}

extension ProcessRunning {
    /// Runs and requires exit status 0.
    @discardableResult
    public func check(_ command: Command) async throws(ProcessError) -> ProcessOutput {
        let output = try await run(command)
        guard output.succeeded else { throw .failed(command, output) }
        return output
    }

    /// For synchronous callers on threads of their own (the rollout's host workers, the
    /// CLI's main thread): runs on the concurrency pool and waits. Never call it from a task
    /// of the pool: swift-subprocess needs pool threads to finish a run, and waiting
    /// callers on every thread of the pool (two, on a two-core host) would leave it none.
    /// Async code calls `run`.
    public func runBlocking(_ command: Command) throws(ProcessError) -> ProcessOutput {
        let result = Mutex<Result<ProcessOutput, ProcessError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let outcome: Result<ProcessOutput, ProcessError>
            do throws(ProcessError) {
                outcome = .success(try await self.run(command))
            } catch {
                outcome = .failure(error)
            }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        guard let outcome = result.withLock({ $0 }) else { throw .cannotStart(command.description, reason: "lost") }
        return try outcome.get()
    }
}

/// Runs programs with swift-subprocess: output collected (up to `outputLimit` bytes each),
/// the timeout enforced by cancelling the run, which sends SIGTERM to its process group and,
/// after the grace period, SIGKILL.
public struct ProcessRunner: ProcessRunning {
    /// The most bytes kept of each of stdout and stderr.
    public var outputLimit: Int

    public init(outputLimit: Int = 64 << 20) {
        self.outputLimit = outputLimit
    }

    public func run(_ command: Command) async throws(ProcessError) -> ProcessOutput {
        guard let program = command.arguments.first, let path = Self.resolve(program) else {
            throw .notFound(command.arguments.first ?? "")
        }
        var options = PlatformOptions()
        // A process group of its own, so a timeout ends what it started too (a shell's
        // children would otherwise keep its output open).
        options.processGroupID = 0
        options.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: .seconds(command.graceSeconds))
        ]
        var environment = Environment.inherit
        if !command.environment.isEmpty {
            var updates: [Environment.Key: String?] = [:]
            for (name, value) in command.environment {
                if let key = Environment.Key(rawValue: name) { updates[key] = value }
            }
            environment = environment.updating(updates)
        }
        let limit = outputLimit
        let platformOptions = options
        let finalEnvironment = environment
        let input = command.input ?? ""
        let arguments = Arguments(Array(command.arguments.dropFirst()))
        do {
            return try await withThrowingTaskGroup(of: ProcessOutput?.self) { group in
                group.addTask {
                    let result = try await Subprocess.run(
                        .path(FilePath(path)), arguments: arguments, environment: finalEnvironment,
                        platformOptions: platformOptions, input: .string(input),
                        output: .string(limit: limit), error: .string(limit: limit))
                    let status: Int32 =
                        switch result.terminationStatus {
                        case .exited(let code): code
                        case .signaled(let signal): 128 + signal
                        }
                    return ProcessOutput(
                        status: status, stdout: result.standardOutput, stderr: result.standardError)
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(command.timeout))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let first else { throw ProcessError.timedOut(command) }
                return first
            }
        } catch let error as ProcessError {
            throw error
        } catch {
            throw .cannotStart(program, reason: "\(error)")
        }
    }

    /// `program` itself when it contains a slash, else the first match in PATH (and the
    /// sbin directories, which a non-login PATH may lack).
    public static func resolve(_ program: String) -> String? {
        if program.contains("/") { return FileManager.default.isExecutableFile(atPath: program) ? program : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return directories.map { "\($0)/\(program)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Records every command and answers from a table (first matching prefix of arguments),
/// for tests of code that runs programs.
public final class FakeProcessRunner: ProcessRunning {
    private let state = Mutex<(commands: [Command], answers: [([String], ProcessOutput)])>(([], []))

    public init() {}

    /// Commands whose arguments start with `prefix` answer `output`.
    public func answer(_ prefix: [String], with output: ProcessOutput) {
        state.withLock { $0.answers.append((prefix, output)) }
    }

    public var commands: [Command] { state.withLock { $0.commands } }

    public func run(_ command: Command) async throws(ProcessError) -> ProcessOutput {
        state.withLock { state in
            state.commands.append(command)
            return state.answers.last { command.arguments.starts(with: $0.0) }?.1 ?? ProcessOutput(status: 0)
        }
    }
}
