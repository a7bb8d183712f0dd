import Foundation
import Testing

@testable import NimbusCLI

@Suite("Writing answer files")
struct SecretFileTests {
    func temporaryPath() -> String { NSTemporaryDirectory() + "answers-\(UUID().uuidString).txt" }

    @Test("A new answer file is readable by its owner only")
    func modeIsPrivate() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SecretFile.write("[general]\n", to: path, overwrite: false)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test("An existing file is not overwritten without --force, and is left as it was")
    func refusesOverwrite() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "mine\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: SecretFile.WriteError.self) { try SecretFile.write("new\n", to: path, overwrite: false) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "mine\n")
        try SecretFile.write("new\n", to: path, overwrite: true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())
            .filter { $0.hasPrefix((path as NSString).lastPathComponent + ".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("A directory that cannot be written says why")
    func unwritable() {
        #expect(throws: SecretFile.WriteError.self) {
            try SecretFile.write("x", to: "/nonexistent-dir/answers.txt", overwrite: false)
        }
    }
}
