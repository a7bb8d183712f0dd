import Foundation
import NimbusConfig
import Testing

/// Loads answer-file text as the CLI does and renders its diagnostics as `a.txt:LINE: …`.
func diagnose(_ text: String) -> [String] {
    AnswerFileLoader.load(bytes: Array(text.utf8)).diagnostics.map { $0.rendered(file: "a.txt") }
}

func diagnose(bytes: [UInt8]) -> [String] {
    AnswerFileLoader.load(bytes: bytes).diagnostics.map { $0.rendered(file: "a.txt") }
}

/// A small valid two-host file, the base the rule tests add one line to (line 4).
func twoHost(_ extra: String) -> String {
    "[general]\nCONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=10.0.0.2\n\(extra)\n"
}

/// The repository's root, from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func fixture(_ name: String) throws -> [UInt8] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
    return [UInt8](try Data(contentsOf: url))
}

func deterministicGenerator() -> AnswerFileGenerator {
    let counter = Counter()
    return AnswerFileGenerator(localAddress: "192.168.122.10", sshPublicKey: "~/.ssh/id_ed25519.pub") {
        "password\(counter.next())xxxxxxxxxxxx"
    }
}

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
