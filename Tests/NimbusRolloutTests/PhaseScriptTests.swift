import Foundation
import Testing

@testable import NimbusRollout

/// The compiled scripts run for real with /bin/sh on files in a temporary directory.
@Suite("Phase scripts")
struct PhaseScriptTests {
    let directory = NSTemporaryDirectory() + "phase-\(UUID().uuidString)"
    let user = ProcessInfo.processInfo.environment["USER"] ?? "root"

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func run(_ steps: [ResourceStep], check: Bool = false, environment: [String: String] = [:]) throws -> (
        Int32, [ResourceResult]
    ) {
        let script = PhaseScript(steps: steps, packageManager: .apt, checkOnly: check).render()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, PhaseScript.results(from: String(decoding: data, as: UTF8.self)))
    }

    func outcomes(_ results: [ResourceResult]) -> [ResourceOutcome] { results.map(\.outcome) }

    @Test("A file is written once, then reported unchanged")
    func fileIdempotent() throws {
        let path = "\(directory)/etc/chrony.conf"
        let step = ResourceStep(
            "chrony.conf",
            .file(
                path: path, content: "server a iburst\n", mode: "0640", owner: user,
                group: user == "root" ? "root" : user))
        #expect(outcomes(try run([step]).1) == [.changed])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "server a iburst\n")
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o640)
        #expect(outcomes(try run([step]).1) == [.unchanged])
        let changed = ResourceStep(
            "chrony.conf",
            .file(
                path: path, content: "server b iburst\n", mode: "0640", owner: user,
                group: user == "root" ? "root" : user))
        #expect(outcomes(try run([changed]).1) == [.changed])
    }

    @Test("A dry run reports what would change and changes nothing")
    func checkOnly() throws {
        let path = "\(directory)/new.conf"
        let (status, results) = try run([ResourceStep("new", .file(path: path, content: "x\n"))], check: true)
        #expect(status == 0)
        #expect(results == [ResourceResult(id: "new", outcome: .changed, detail: "would write \(path)")])
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("A managed block replaces only itself and is idempotent")
    func block() throws {
        let path = "\(directory)/hosts"
        try "127.0.0.1 localhost\n# BEGIN NIMBUS hosts\n10.0.0.9 old\n# END NIMBUS hosts\n::1 localhost\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let step = ResourceStep(
            "hosts", .block(path: path, marker: "hosts", content: "10.0.0.1 controller\n10.0.0.2 compute1"))
        #expect(outcomes(try run([step]).1) == [.changed])
        #expect(
            try String(contentsOfFile: path, encoding: .utf8)
                == "127.0.0.1 localhost\n# BEGIN NIMBUS hosts\n10.0.0.1 controller\n10.0.0.2 compute1\n# END NIMBUS hosts\n::1 localhost\n"
        )
        #expect(outcomes(try run([step]).1) == [.unchanged])
    }

    @Test("A block is appended to a file that lacks it, and a missing file is created")
    func blockAppend() throws {
        let path = "\(directory)/fresh"
        try "keep me\n".write(toFile: path, atomically: true, encoding: .utf8)
        _ = try run([ResourceStep("b", .block(path: path, marker: "m", content: "x"))])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me\n# BEGIN NIMBUS m\nx\n# END NIMBUS m\n")
        let missing = "\(directory)/missing"
        _ = try run([ResourceStep("c", .block(path: missing, marker: "m", content: "y"))])
        #expect(try String(contentsOfFile: missing, encoding: .utf8) == "# BEGIN NIMBUS m\ny\n# END NIMBUS m\n")
    }

    @Test("A guarded command runs once")
    func guardedCommand() throws {
        let marker = "\(directory)/ran"
        let step = ResourceStep("touch", .command(run: "touch \(marker)", unless: "test -e \(marker)"))
        #expect(outcomes(try run([step]).1) == [.changed])
        #expect(outcomes(try run([step]).1) == [.unchanged])
    }

    @Test("The first failure stops the phase with the command's own message")
    func failureStops() throws {
        let (status, results) = try run([
            ResourceStep("bad", .command(run: "echo 'no such thing' >&2; false", unless: "false")),
            ResourceStep("after", .command(run: "true", unless: "false")),
        ])
        #expect(status != 0)
        #expect(results == [ResourceResult(id: "bad", outcome: .failed, detail: "no such thing")])
    }

    @Test("Contents with quotes, dollars and heredoc markers survive intact")
    func awkwardContent() throws {
        let path = "\(directory)/awkward"
        let content = "a 'quoted' \"line\" $HOME `cmd`\nNIMBUS_DATA\n\\backslash\n"
        _ = try run([
            ResourceStep(
                "awkward", .file(path: path, content: content, owner: user, group: user == "root" ? "root" : user))
        ])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == content)
    }

    @Test("Result lines parse; other output is ignored")
    func parsing() {
        let output =
            "noise\nNIMBUS-RESULT a unchanged /etc/x\nNIMBUS-RESULT b changed wrote /etc/y z\nNIMBUS-RESULT c bogus\n"
        #expect(
            PhaseScript.results(from: output) == [
                ResourceResult(id: "a", outcome: .unchanged, detail: "/etc/x"),
                ResourceResult(id: "b", outcome: .changed, detail: "wrote /etc/y z"),
            ])
    }
}
