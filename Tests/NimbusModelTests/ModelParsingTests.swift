import NimbusModel
import NimbusSystem
import Testing

@Suite("Strong types parse strictly")
struct ModelParsingTests {
    @Test(
        "IPv4 addresses parse only in strict dotted-quad form",
        arguments: [
            ("10.0.0.1", true), ("255.255.255.255", true), ("0.0.0.0", true), ("10.0.0.256", false),
            ("10.0.0", false), ("10.0.0.1.5", false), ("010.0.0.1", false), (" 10.0.0.1", false),
            ("10..0.1", false), ("a.b.c.d", false), ("", false), ("１.2.3.4", false),
        ])
    func ipv4(text: String, valid: Bool) {
        #expect((IPv4Address(text) != nil) == valid)
    }

    @Test("An IPv4 address prints as it was written")
    func ipv4RoundTrip() {
        #expect(IPv4Address("192.168.122.10")?.description == "192.168.122.10")
    }

    @Test(
        "CIDRs refuse set host bits and say what the network is",
        arguments: [
            ("172.24.4.0/24", nil), ("0.0.0.0/0", nil), ("10.0.0.5/32", nil),
            ("172.24.4.1/24", CIDR.ParseError.hostBitsSet(suggested: "172.24.4.0/24")),
            ("172.24.4.0", .missingPrefix), ("172.24.4.0/33", .badPrefix("33")),
            ("172.24.4/24", .badAddress("172.24.4")), ("1.2.3.0/x", .badPrefix("x")),
        ])
    func cidr(text: String, error: CIDR.ParseError?) {
        do {
            _ = try CIDR.parse(text)
            #expect(error == nil)
        } catch let thrown {
            #expect(thrown == error)
        }
    }

    @Test("A CIDR knows its members")
    func cidrContains() throws {
        let network = try #require(CIDR("10.251.0.0/24"))
        #expect(network.contains(try #require(IPv4Address("10.251.0.200"))))
        #expect(!network.contains(try #require(IPv4Address("10.252.0.1"))))
        #expect(network.size == 256)
    }

    @Test(
        "Hostnames follow RFC 1123",
        arguments: [
            ("controller", true), ("node-1.example.com", true), ("-bad", false), ("bad-", false),
            ("under_score", false), ("1.2.3", false), (String(repeating: "a", count: 64), false), ("a..b", false),
        ])
    func hostname(text: String, valid: Bool) {
        #expect((Hostname(text) != nil) == valid)
    }

    @Test(
        "Interface names follow the kernel's rules",
        arguments: [
            ("eth1", nil), ("br-ex", nil), ("enp0s31f6", nil),
            ("a-very-long-interface", InterfaceName.ParseError.tooLong(21)), ("", .empty),
            ("eth/1", .badCharacter("/")), ("eth 1", .badCharacter(" ")), ("..", .reserved("..")),
            ("eth0:1", .badCharacter(":")),
        ])
    func interfaceName(text: String, error: InterfaceName.ParseError?) {
        do {
            _ = try InterfaceName.parse(text)
            #expect(error == nil)
        } catch let thrown {
            #expect(thrown == error)
        }
    }

    @Test("Bridge mappings and bridge interfaces parse both halves")
    func mappings() throws {
        let mapping = try BridgeMapping.parse("extnet:br-ex")
        #expect(mapping.physicalNetwork == "extnet" && mapping.bridge.value == "br-ex")
        let pair = try BridgeInterface.parse("br-ex:eth1")
        #expect(pair.bridge.value == "br-ex" && pair.interface.value == "eth1")
        #expect(throws: MappingError.self) { try BridgeMapping.parse("extnet") }
        #expect(throws: MappingError.self) { try BridgeInterface.parse("br-ex:br-ex") }
        #expect(throws: MappingError.self) { try BridgeMapping.parse("ext net:br-ex") }
    }

    @Test(
        "Sizes take K, M, G and T suffixes",
        arguments: [("20G", UInt64(20) << 30), ("2g", 2 << 30), ("512M", 512 << 20), ("100", 100), ("1T", 1 << 40)])
    func sizes(text: String, bytes: UInt64) {
        #expect(ByteSize(text)?.bytes == bytes)
    }

    @Test("Bad sizes are refused", arguments: ["G", "20GB", "-1G", "1.5G", "99999999999999T"])
    func badSizes(text: String) {
        #expect(ByteSize(text) == nil)
    }

    @Test(
        "VNI ranges stay within 24 bits",
        arguments: [
            ("10:100", true), ("1:16777215", true), ("0:10", false), ("100:10", false), ("1:16777216", false),
            ("10", false),
        ])
    func vniRanges(text: String, valid: Bool) {
        #expect((VNIRange(text) != nil) == valid)
    }
}

@Suite("System files")
struct SystemFileTests {
    @Test("procfs files are read whole, past the first page Foundation stops at")
    func procfsWhole() throws {
        let maps = try #require(SystemFile.text("/proc/self/maps"))
        #expect(maps.utf8.count > 4096)
        #expect(maps.hasSuffix("\n"))
        #expect(SystemFile.read("/nonexistent/file") == nil)
    }
}
