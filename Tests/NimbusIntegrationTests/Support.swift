import Foundation
import Testing

/// Integration tests drive the built `nimbus` binary on this machine, as a user would.
/// They need root and run only with NIMBUS_INTEGRATION=1 (`make test` sets it).
let integrationEnabled = ProcessInfo.processInfo.environment["NIMBUS_INTEGRATION"] == "1"

/// CI (`CI=true`) installs every tool the tests use, so there a missing one fails its tests
/// instead of skipping them (and `Tests/counts.sh` counts any skipped test as failed).
let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// The executable an environment variable names (`OPENSTACK`, `SWIFT_CLIENT`, `TEMPEST`), if any.
func tool(_ variable: String) -> String? {
    ProcessInfo.processInfo.environment[variable].flatMap {
        FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil
    }
}

/// Runs a test only where its tools are installed, except in CI: there it always runs and
/// `requireTool` fails it.
func whenInstalled(_ variables: String...) -> ConditionTrait {
    .enabled(
        if: inCI || variables.allSatisfy { tool($0) != nil },
        "set \(variables.joined(separator: ", ")) to the installed clients (make clients)")
}

/// The tool a variable names, or a failed test saying which is missing.
func requireTool(_ variable: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let comment: Comment =
        inCI
        ? "CI=true and \(variable) not found (make clients installs it)"
        : "set \(variable) to the installed client (make clients)"
    return try #require(tool(variable), comment, sourceLocation: sourceLocation)
}

/// Every integration suite shares one sandbox, so they run one test at a time.
@Suite("Integration", .serialized, .enabled(if: integrationEnabled, "set NIMBUS_INTEGRATION=1 (as root)"))
struct IntegrationTests {}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

struct Output {
    var status: Int32
    var stdout: String
    var stderr: String
    var text: String { stdout + stderr }
}

/// Runs a program and returns its exit status and output.
@discardableResult
func run(_ arguments: [String], timeout: Double = 600) throws -> Output {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Output(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// The `nimbus` binary of this build (`swift build` puts it beside the test bundle).
func nimbusBinary() -> String {
    let candidates = [
        repositoryRoot.appendingPathComponent(".build/debug/nimbus").path,
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("nimbus").path,
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "nimbus"
}

@discardableResult
func nimbus(_ arguments: String..., timeout: Double = 1800) throws -> Output {
    try run([nimbusBinary()] + arguments, timeout: timeout)
}
