import Foundation
import Testing

@testable import NimbusRollout

/// Where a phase decodes file contents (a private directory, nowhere else) and what it does
/// when a step of writing a file fails (the resource fails, the file stays as it was).
extension PhaseScriptTests {
    enum Kind: String, CaseIterable, Sendable { case file, block }

    /// A failing program standing in for a real one, and what the failure must say.
    struct Failure: Sendable, CustomTestStringConvertible {
        var kind: Kind
        var program: String
        var detail: String
        var testDescription: String { "\(kind.rawValue) with a failing \(program)" }
    }

    var group: String { user == "root" ? "root" : user }

    func step(_ kind: Kind, _ path: String, _ content: String) -> ResourceStep {
        switch kind {
        case .file: ResourceStep("config", .file(path: path, content: content, mode: "0640", owner: user, group: group))
        case .block: ResourceStep("config", .block(path: path, marker: "m", content: content))
        }
    }

    /// A directory of programs shadowing the real ones; the `PATH` that puts it first.
    func shims(_ programs: [String: String]) throws -> String {
        let bin = "\(directory)/shims"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        for (name, body) in programs {
            try ("#!/bin/sh\n" + body + "\n").write(toFile: "\(bin)/\(name)", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(bin)/\(name)")
        }
        return bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
    }

    /// An empty directory for the script's `TMPDIR`.
    func temporaryDirectory() throws -> String {
        let path = "\(directory)/tmp"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    func program(_ name: String) throws -> String {
        let found = ["/usr/bin/\(name)", "/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
        return try #require(found, "no \(name) in /usr/bin or /bin")
    }

    @Test(
        "A secret is decoded only into a private directory (0700, the file 0600), gone once the phase ends",
        arguments: Kind.allCases)
    func secretStaysPrivate(kind: Kind) throws {
        let tmp = try temporaryDirectory()
        let record = "\(directory)/decoded"
        // The shim notes the modes of the directory and the file it decodes into, then decodes.
        let path = try shims([
            "base64": """
            out=$(readlink /proc/$$/fd/1)
            stat -c '%a %n' "$(dirname "$out")" "$out" >> '\(record)'
            exec \(try program("base64")) "$@"
            """
        ])
        let target = "\(directory)/etc/nimbus/service/\(kind).conf"
        if kind == .block {
            // A block goes into a file that exists (and keeps its mode); a file makes its directories.
            try FileManager.default.createDirectory(
                atPath: "\(directory)/etc/nimbus/service", withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
            try "keep\n".write(toFile: target, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: target)
        }
        let marker = "\(directory)/made-by-a-command"
        let (status, results) = try run(
            [
                step(kind, target, "password = s3cret-pw\n"),
                ResourceStep("command", .command(run: "touch \(marker)", unless: "false")),
            ], environment: ["TMPDIR": tmp, "PATH": path])
        #expect(status == 0)
        #expect(outcomes(results) == [.changed, .changed])
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasPrefix("700 \(tmp)/nimbus.") == true, "\(lines)")
        #expect(lines.last?.hasPrefix("600 \(tmp)/nimbus.") == true, "\(lines)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("password = s3cret-pw\n"))
        // The resources' own modes and the script's umask 022 still hold for everything else.
        #expect(try mode(target) == 0o640)
        #expect(try mode("\(directory)/etc/nimbus/service") == 0o755)
        #expect(try mode("\(directory)/etc/nimbus") == 0o755)
        #expect(try mode(marker) == 0o644)
    }

    @Test(
        "A failed decode or merge (a full disk) fails the resource, leaves the file as it was and stops the phase",
        arguments: [
            Failure(kind: .file, program: "base64", detail: "cannot decode the new contents of"),
            Failure(kind: .block, program: "base64", detail: "cannot decode the m block for"),
            Failure(kind: .block, program: "awk", detail: "cannot merge the m block into a copy of"),
        ])
    func failedStep(failure: Failure) throws {
        let tmp = try temporaryDirectory()
        let target = "\(directory)/\(failure.kind).conf"
        try "old\n".write(toFile: target, atomically: true, encoding: .utf8)
        // Part of the output, then the error a full disk gives.
        let path = try shims([
            failure.program:
                "printf 'trunc'; echo '\(failure.program): write error: No space left on device' >&2; exit 1"
        ])
        let after = "\(directory)/after"
        let (status, results) = try run(
            [
                step(failure.kind, target, "new contents\n"),
                ResourceStep("after", .command(run: "touch \(after)", unless: "false")),
            ], environment: ["TMPDIR": tmp, "PATH": path])
        #expect(status != 0)
        #expect(outcomes(results) == [.failed])
        #expect(results.first?.detail.contains(failure.detail) == true, "\(results)")
        #expect(results.first?.detail.hasSuffix("\(target) is untouched") == true, "\(results)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "old\n")
        #expect(!FileManager.default.fileExists(atPath: target + ".nimbus-new"))
        #expect(!FileManager.default.fileExists(atPath: after))
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp).isEmpty)
    }

    @Test("Without a private temporary directory the phase fails at its first resource and changes nothing")
    func noTemporaryDirectory() throws {
        let missing = "\(directory)/no-such-directory"
        let marker = "\(directory)/marker"
        let target = "\(directory)/never.conf"
        let (status, results) = try run(
            [
                ResourceStep("first", .command(run: "touch \(marker)", unless: "false")),
                step(.file, target, "x\n"),
            ], environment: ["TMPDIR": missing])
        #expect(status != 0)
        #expect(
            results == [
                ResourceResult(
                    id: "first", outcome: .failed,
                    detail:
                        "cannot make a private temporary directory in \(missing) (mktemp -d failed: is the disk full?)")
            ])
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(!FileManager.default.fileExists(atPath: target))
    }

    @Test("A phase without files makes no temporary directory")
    func noFilesNoDirectory() {
        let script = PhaseScript(
            steps: [ResourceStep("c", .command(run: "true", unless: "false"))], packageManager: .apt)
        #expect(!script.render().contains("mktemp"))
    }
}
