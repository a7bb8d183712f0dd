import Foundation
import NimbusModel
import Testing

@testable import NimbusNetwork

/// Test shorthand: the address a known-good text names.
func ip(_ text: String) -> IPAddress { IPAddress(text)! }

/// Test shorthand: the network a known-good strict CIDR text names.
func net(_ text: String) -> IPNetwork { IPNetwork(text)! }

@Suite("IP addresses parse strictly and print canonically")
struct IPAMAddressTests {
    @Test(
        "IPv4 and IPv6 texts parse only in inet_pton's forms",
        arguments: [
            ("10.0.0.1", true), ("0.0.0.0", true), ("255.255.255.255", true), ("256.0.0.1", false),
            ("10.0.0", false), ("010.0.0.1", false), (" 10.0.0.1", false), ("10.0.0.1/32", false),
            ("::", true), ("::1", true), ("2001:db8::1", true), ("2001:DB8:0:0:0:0:0:1", true),
            ("1:2:3:4:5:6:7:8", true), ("1:2:3:4:5:6:7:8:9", false), ("1:2:3:4:5:6:7::8", false),
            ("::ffff:10.0.0.1", true), ("::ffff:010.0.0.1", false), ("10.0.0.1::", false), ("1::2::3", false),
            (":1::2", false), ("1:::2", false), ("12345::", false), ("g::1", false), ("+1::", false),
            ("fe80::1%eth0", false), ("", false), (":", false),
        ])
    func parsing(text: String, valid: Bool) {
        #expect((IPAddress(text) != nil) == valid)
    }

    @Test(
        "IPv6 prints per RFC 5952: lowercase, no leading zeros, longest zero run compressed",
        arguments: [
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("0:0:0:0:0:0:0:0", "::"), ("0:0:0:0:0:0:0:1", "::1"), ("1:0:0:0:0:0:0:0", "1::"),
            ("fe80:0:0:0:0:0:0:0", "fe80::"), ("0:0:0:0:0:ffff:a00:1", "::ffff:10.0.0.1"),
            ("F111::FFFF:FFFF:FFFF:FFFF", "f111::ffff:ffff:ffff:ffff"),
        ])
    func ipv6Canonical(text: String, canonical: String) {
        #expect(IPAddress(text)?.description == canonical)
    }

    @Test("Addresses order IPv4 before IPv6, then by value")
    func ordering() {
        let sorted = [ip("::1"), ip("10.0.0.2"), ip("2001:db8::"), ip("10.0.0.1")].sorted()
        #expect(sorted.map(\.description) == ["10.0.0.1", "10.0.0.2", "::1", "2001:db8::"])
    }

    @Test(
        "Offsets move within the version's space and stop at its ends",
        arguments: [
            ("10.0.0.255", 1, "10.0.1.0"), ("10.0.1.0", -1, "10.0.0.255"), ("255.255.255.255", 1, nil),
            ("0.0.0.0", -1, nil), ("::ffff:ffff", 1, "::1:0:0"), ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, nil),
        ] as [(String, Int, String?)])
    func offsets(start: String, offset: Int, expected: String?) {
        #expect(ip(start).advanced(by: offset)?.description == expected)
        #expect((ip(start) + offset)?.description == expected)
    }

    @Test("Subtracting an offset is adding its negation")
    func subtraction() {
        #expect((ip("10.0.0.10") - 10)?.description == "10.0.0.0")
        #expect(ip("10.0.0.1").distance(to: ip("10.0.0.11")) == 10)
        #expect(ip("10.0.0.11").distance(to: ip("10.0.0.1")) == nil)
    }

    @Test("An IPv4 address converts to and from the model's IPv4Address")
    func bridging() {
        let model = IPv4Address("192.168.1.7")!
        #expect(IPAddress(model).description == "192.168.1.7")
        #expect(ip("192.168.1.7").ipv4 == model)
        #expect(ip("::1").ipv4 == nil)
    }

    @Test(
        "EUI-64 addresses are recognised by ff:fe in the middle of the interface ID",
        arguments: [("2001:db8::216:3eff:fe33:4455", true), ("2001:db8::1", false), ("10.255.254.0", false)])
    func eui64Recognition(text: String, isEUI64: Bool) {
        #expect(ip(text).isEUI64 == isEUI64)
    }

    @Test("Addresses encode to and decode from their canonical text")
    func codable() throws {
        let data = try JSONEncoder().encode([ip("2001:DB8::1")])
        #expect(String(decoding: data, as: UTF8.self) == #"["2001:db8::1"]"#)
        #expect(try JSONDecoder().decode([IPAddress].self, from: data) == [ip("2001:db8::1")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([IPAddress].self, from: Data(#"["x"]"#.utf8)) }
    }
}
