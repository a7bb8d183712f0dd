import Foundation
import Testing

/// Integration tests drive the built `nimbus` binary on this machine, as a user would.
/// They need root and run only with NIMBUS_INTEGRATION=1 (`make test` sets it).
let integrationEnabled = ProcessInfo.processInfo.environment["NIMBUS_INTEGRATION"] == "1"

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
