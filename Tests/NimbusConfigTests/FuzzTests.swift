import NimbusConfig
import Testing

/// A small deterministic generator (SplitMix64), so a failing input can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Fuzzing the reader and validator")
struct FuzzTests {
    static let seedFile = Array(
        AnswerFileGenerator.render(deterministicGenerator().initialValues()).utf8)

    static let tokens: [[UInt8]] = [
        "=", "[general]", "\n", "\r\n", ",", ":", "#", "\u{FEFF}", "\0", "CONFIG_COMPUTE_HOSTS", "10.0.0.1",
        "br-ex:eth1", "extnet:br-ex", "255.255.255.256", "y", "True", "/", "é", "\u{1F600}", "[", "]",
        String(repeating: "A", count: 300), "EXCLUDE_SERVERS=", "CONFIG_CONTROLLER_HOST=",
    ].map { Array($0.utf8) }

    /// Mutates the generated file: flips, inserts and deletes bytes and splices tokens.
    static func mutate(_ input: [UInt8], using random: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...12, using: &random) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0...255, using: &random)
            case 1: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            case 2 where !bytes.isEmpty:
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...64, using: &random)))
            case 3: bytes.insert(contentsOf: tokens.randomElement(using: &random) ?? [], at: position)
            default:
                let count = Int.random(in: 0...200, using: &random)
                bytes.insert(
                    contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }, at: position)
            }
        }
        return bytes
    }

    @Test("Thousands of mutated answer files never crash or hang the validator", .timeLimit(.minutes(2)))
    func mutatedFiles() {
        var random = SplitMix(state: 20_261_123)
        for _ in 0..<3000 {
            let result = AnswerFileLoader.load(bytes: Self.mutate(Self.seedFile, using: &random))
            #expect(result.file != nil || result.diagnostics.hasErrors)
        }
    }

    @Test("Random bytes and token soups never crash the validator", .timeLimit(.minutes(2)))
    func randomFiles() {
        var random = SplitMix(state: 42)
        for round in 0..<2000 {
            var bytes: [UInt8] = []
            if round.isMultiple(of: 2) {
                bytes = (0..<Int.random(in: 0...2048, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            } else {
                for _ in 0..<Int.random(in: 0...200, using: &random) {
                    bytes += Self.tokens.randomElement(using: &random) ?? []
                }
            }
            let result = AnswerFileLoader.load(bytes: bytes)
            #expect(result.file != nil || result.diagnostics.hasErrors)
        }
    }

    @Test("A very long line and many unknown keys stay fast and bounded", .timeLimit(.minutes(1)))
    func pathologicalInputs() {
        let longLine = "[general]\nCONFIG_CONTROLLER_HOST=" + String(repeating: "9", count: 1_000_000) + "\n"
        #expect(AnswerFileLoader.load(bytes: Array(longLine.utf8)).diagnostics.hasErrors)
        var unknown = "[general]\nCONFIG_CONTROLLER_HOST=10.0.0.1\n"
        for index in 0..<20_000 { unknown += "CONFIG_NOVA_THING_\(index)=x\n" }
        let diagnostics = AnswerFileLoader.load(bytes: Array(unknown.utf8)).diagnostics
        #expect(diagnostics.count <= 25)
    }
}
