import Foundation
import Testing

@testable import NimbusNetwork

/// A generator that hands out the given 64-bit words in turn (then zeros), so a test
/// knows every random byte drawn.
struct ScriptedGenerator: RandomNumberGenerator {
    var words: [UInt64]

    mutating func next() -> UInt64 { words.isEmpty ? 0 : words.removeFirst() }
}

/// SplitMix64: a small seeded generator for repeatable "random" tests.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("MAC addresses")
struct IPAMMACAddressTests {
    @Test(
        "Every format netaddr's valid_mac accepts parses, printed lowercase with colons",
        arguments: [
            ("FA:16:3E:4F:00:0A", "fa:16:3e:4f:00:0a"), ("fa-16-3e-4f-0-a", "fa:16:3e:4f:00:0a"),
            ("fa16.3e4f.000a", "fa:16:3e:4f:00:0a"), ("fa16:3e4f:a", "fa:16:3e:4f:00:0a"),
            ("fa163e-4f000a", "fa:16:3e:4f:00:0a"), ("fa163e4f000a", "fa:16:3e:4f:00:0a"),
            ("a163e4f000a", "0a:16:3e:4f:00:0a"),
        ])
    func parsing(text: String, canonical: String) {
        #expect(MACAddress(text)?.description == canonical)
    }

    @Test(
        "Texts that are not MAC addresses are refused",
        arguments: [
            "fa:16:3e:4f:00", "fa:16:3e:4f:00:0a:01", "fa:16:3e:4f:00:0g", "fa.16.3e.4f.00.0a", "fa:16:3e-4f:00:0a",
            "fa163e4f000a0", "", "fa:16:3e:4f:00:+a", "１a:16:3e:4f:00:0a",
        ])
    func refusal(text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test("All zeros and broadcast are not valid port MACs, as Neutron's INVALID_MAC_ADDRESSES")
    func invalidForPorts() {
        #expect(MACAddress("00:00:00:00:00:00")?.isValidForPort == false)
        #expect(MACAddress("ff:ff:ff:ff:ff:ff")?.isValidForPort == false)
        #expect(MACAddress("fa:16:3e:00:00:01")?.isValidForPort == true)
    }

    @Test("A random MAC keeps the base's first three octets and draws the last three")
    func randomOnDefaultBase() {
        var generator = ScriptedGenerator(words: [0x12, 0x34, 0x56])
        #expect(MACAddress.random(using: &generator).description == "fa:16:3e:12:34:56")
    }

    @Test("A random MAC keeps the base's fourth octet too when it is not zero")
    func randomOnFourOctetBase() {
        var generator = ScriptedGenerator(words: [0x12, 0x34, 0x56])
        let base = MACAddress("fa:16:3e:a0:00:00")!
        #expect(MACAddress.random(base: base, using: &generator).description == "fa:16:3e:a0:34:56")
    }

    @Test("Random MACs from the system generator stay on Neutron's base")
    func randomSystem() {
        for _ in 0..<20 {
            #expect(MACAddress.random().description.hasPrefix("fa:16:3e:"))
        }
    }

    @Test("The EUI-64 identifier puts ff:fe between the MAC's halves")
    func eui64Identifier() {
        #expect(MACAddress("00:16:3e:33:44:55")?.eui64 == 0x0016_3EFF_FE33_4455)
    }

    @Test("MACs encode as their canonical text")
    func codable() throws {
        let data = try JSONEncoder().encode(MACAddress("FA-16-3E-00-00-01")!)
        #expect(String(decoding: data, as: UTF8.self) == #""fa:16:3e:00:00:01""#)
    }
}
