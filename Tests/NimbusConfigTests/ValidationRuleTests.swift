import NimbusConfig
import Testing

@Suite("Validation: one case per rule, exact message and line")
struct ValidationRuleTests {
    @Test(
        "Each rule reports its problem at its line",
        arguments: [
            (
                "unknown key with the nearest known name",
                twoHost("CONFIG_KEYSTONE_REGOIN=RegionOne"),
                "a.txt:4: CONFIG_KEYSTONE_REGOIN: warning: unknown key, ignored; did you mean CONFIG_KEYSTONE_REGION?"
            ),
            (
                "duplicate key naming both lines",
                twoHost("CONFIG_CONTROLLER_HOST=10.0.0.3"),
                "a.txt:4: CONFIG_CONTROLLER_HOST: set twice, on line 2 and line 4; keep one of them"
            ),
            (
                "empty required value",
                twoHost("CONFIG_KEYSTONE_REGION="),
                "a.txt:4: CONFIG_KEYSTONE_REGION: must not be empty; expected text"
            ),
            (
                "bad IPv4 address",
                twoHost("CONFIG_STORAGE_HOST=10.0.0.256"),
                "a.txt:4: CONFIG_STORAGE_HOST: '10.0.0.256' is not a valid IPv4 address (four numbers 0–255, no leading zeros); expected IPv4 address or hostname"
            ),
            (
                "bad CIDR",
                twoHost("CONFIG_PROVISION_DEMO_FLOATRANGE=172.24.4.1/24"),
                "a.txt:4: CONFIG_PROVISION_DEMO_FLOATRANGE: '172.24.4.1/24': host bits are set; the network is 172.24.4.0/24; expected IPv4 network in CIDR notation"
            ),
            (
                "bad bridge mapping",
                twoHost("CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS=extnet"),
                "a.txt:4: CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS: 'extnet' is not PHYSNET:BRIDGE, e.g. extnet:br-ex; expected comma-separated PHYSNET:BRIDGE"
            ),
            (
                "bad bridge interface",
                twoHost("CONFIG_NEUTRON_OVS_BRIDGE_IFACES=br-ex:"),
                "a.txt:4: CONFIG_NEUTRON_OVS_BRIDGE_IFACES: 'br-ex:' is not BRIDGE:INTERFACE, e.g. br-ex:eth1; expected comma-separated BRIDGE:INTERFACE"
            ),
            (
                "IPv4 addresses mixed with hostnames",
                twoHost("CONFIG_NETWORK_HOSTS=network1"),
                "a.txt:4: CONFIG_NETWORK_HOSTS: network1 is a hostname, but the controller is given as an IPv4 address; use IPv4 addresses for every host"
            ),
            (
                "EXCLUDE_SERVERS removing the controller",
                twoHost("EXCLUDE_SERVERS=10.0.0.1"),
                "a.txt:4: EXCLUDE_SERVERS: 10.0.0.1 is the controller, which cannot be excluded: every other host registers with it. Re-runs change nothing that is already right, so leave it in"
            ),
            (
                "bridge interface on a bridge that is not mapped",
                twoHost("CONFIG_NEUTRON_OVS_BRIDGE_IFACES=br-eth1:eth1"),
                "a.txt:4: CONFIG_NEUTRON_OVS_BRIDGE_IFACES: bridge br-eth1 is not in CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS (extnet:br-ex); map a physical network to it there, e.g. extnet:br-eth1"
            ),
            (
                "tunnel interface whose name cannot exist",
                twoHost("CONFIG_NEUTRON_OVS_TUNNEL_IF=enp0s31f6-tunnel0"),
                "a.txt:4: CONFIG_NEUTRON_OVS_TUNNEL_IF: 'enp0s31f6-tunnel0': interface names are at most 15 bytes on Linux; this one has 17; expected Linux interface name"
            ),
            (
                "tunnel interface enslaved to a bridge",
                twoHost("CONFIG_NEUTRON_OVS_BRIDGE_IFACES=br-ex:eth1\nCONFIG_NEUTRON_OVS_TUNNEL_IF=eth1"),
                "a.txt:5: CONFIG_NEUTRON_OVS_TUNNEL_IF: eth1 is enslaved to br-ex by CONFIG_NEUTRON_OVS_BRIDGE_IFACES, so it has no address of its own; use br-ex or another interface"
            ),
            (
                "tenant network type that is not a type driver",
                twoHost("CONFIG_NEUTRON_ML2_TYPE_DRIVERS=flat\nCONFIG_NEUTRON_ML2_TENANT_NETWORK_TYPES=vxlan"),
                "a.txt:5: CONFIG_NEUTRON_ML2_TENANT_NETWORK_TYPES: vxlan is not in CONFIG_NEUTRON_ML2_TYPE_DRIVERS (flat); add it there or remove it here"
            ),
            (
                "a value that is not y or n, with a hint about inline comments",
                twoHost("CONFIG_PROVISION_DEMO=n //no demo"),
                "a.txt:4: CONFIG_PROVISION_DEMO: 'n //no demo' is not y or n; expected y or n (comments go on their own line: a # or // after a value is part of the value)"
            ),
            (
                "an integer out of range",
                twoHost("CONFIG_SWIFT_STORAGE_REPLICAS=9"),
                "a.txt:4: CONFIG_SWIFT_STORAGE_REPLICAS: '9' is not an integer from 1 to 5; expected integer from 1 to 5"
            ),
            (
                "a line that is not KEY=value",
                twoHost("CONFIG_DEBUG_MODE y"),
                "a.txt:4: 'CONFIG_DEBUG_MODE y' is not KEY=value, a comment (#) or a section header"
            ),
            (
                "a NUL byte",
                twoHost("CONFIG_DEBUG_MODE=\u{0}n"),
                "a.txt:4: the line contains NUL bytes; this looks like binary data, not a text answer file"
            ),
            (
                "a loopback controller in a multi-host cloud",
                "[general]\nCONFIG_CONTROLLER_HOST=127.0.0.1\nCONFIG_COMPUTE_HOSTS=10.0.0.2\n",
                "a.txt:2: CONFIG_CONTROLLER_HOST: 127.0.0.1 is a loopback address, which other hosts cannot reach; use the host's network address"
            ),
            (
                "compute hosts empty while compute is installed",
                "[general]\nCONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=\n",
                "a.txt:3: CONFIG_COMPUTE_HOSTS: is empty, but CONFIG_NOVA_INSTALL=y needs at least one host; name a host or set CONFIG_NOVA_INSTALL=n"
            ),
        ])
    func rule(name: String, text: String, expected: String) {
        let diagnostics = diagnose(text)
        #expect(diagnostics.contains(expected), "\(name): got \(diagnostics)")
    }

    @Test("A file without a [general] section is refused at its first key")
    func missingSection() {
        let diagnostics = diagnose("# answers\nCONFIG_CONTROLLER_HOST=10.0.0.1\n")
        #expect(diagnostics == ["a.txt:2: keys must follow a [general] section header; add [general] above this line"])
    }

    @Test("An empty file says it has no [general] section and no controller")
    func emptyFile() {
        #expect(
            diagnose("")
                == [
                    "a.txt: no [general] section; an answer file starts with [general] followed by KEY=value lines",
                    "a.txt: CONFIG_CONTROLLER_HOST: missing; set it to the IPv4 address or hostname of the host (nimbus gen-answer-file writes this machine's address)",
                ])
    }

    @Test("Every problem of a broken file is reported at once, in line order")
    func everyProblemAtOnce() {
        let text = """
            [general]
            CONFIG_CONTROLLER_HOST=10.0.0.1
            CONFIG_COMPUTE_HOSTS=10.0.0.2,compute3
            CONFIG_NETWORK_HOSTS=10.0.0.300
            CONFIG_NOVA_INSTALL=maybe
            CONFIG_SWIFT_STORAGE_SIZE=lots
            EXCLUDE_SERVERS=10.0.0.1
            CONFIG_NOVA_INSTALL=y
            """
        let lines = diagnose(text).filter { !$0.contains("warning:") && !$0.contains("note:") }
        #expect(lines.count == 6, "\(lines)")
        #expect(lines.map { $0.split(separator: ":")[1] } == ["3", "4", "5", "6", "7", "8"])
    }

    @Test("CRLF line endings and a UTF-8 byte-order mark are read like any file")
    func crlfAndBOM() {
        let text = twoHost("CONFIG_PROVISION_DEMO=n").replacingOccurrences(of: "\n", with: "\r\n")
        let result = AnswerFileLoader.load(bytes: [0xEF, 0xBB, 0xBF] + Array(text.utf8))
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.file?.bool(.provisionDemo) == false)
    }

    @Test("Packstack's True/False booleans are accepted", arguments: ["True", "False", "yes", "NO", "y", "n"])
    func packstackBooleans(value: String) {
        #expect(diagnose(twoHost("CONFIG_PROVISION_DEMO=\(value)")).isEmpty)
    }

    @Test("UTF-16 files are refused with how to fix them")
    func utf16() {
        #expect(
            diagnose(bytes: [0xFF, 0xFE, 0x5B, 0x00]) == [
                "a.txt: the file is UTF-16; save it as UTF-8 (or plain ASCII) and try again"
            ])
    }

    @Test("Binary garbage yields a bounded list of errors, not one per line")
    func binaryGarbage() {
        var bytes: [UInt8] = []
        for index in 0..<5000 { bytes += [0x00, UInt8(index % 251), 0x0A] }
        let diagnostics = diagnose(bytes: bytes)
        #expect(diagnostics.count < 30)
        #expect(diagnostics.contains("a.txt: 4980 more lines like the above (binary) not shown"))
    }

    @Test("A file over the size limit is refused unread")
    func tooLarge() {
        let bytes = [UInt8](repeating: UInt8(ascii: "#"), count: AnswerFileReader.maximumSize + 1)
        #expect(diagnose(bytes: bytes).first?.hasPrefix("a.txt: the file is 4194305 bytes") == true)
    }

    @Test("A large but legal file loads")
    func largeLegalFile() {
        let comments = String(repeating: "# a comment line of a long answer file\n", count: 50_000)
        #expect(diagnose(twoHost(comments)).isEmpty)
    }

    @Test("VLAN-only tenant networks say what Nimbus does instead")
    func vlanOnly() {
        let diagnostics = diagnose(
            twoHost("CONFIG_NEUTRON_ML2_TYPE_DRIVERS=vlan,flat\nCONFIG_NEUTRON_ML2_TENANT_NETWORK_TYPES=vlan"))
        #expect(
            diagnostics == [
                "a.txt:5: CONFIG_NEUTRON_ML2_TENANT_NETWORK_TYPES: note: VLAN-only tenant networks need switch trunks and VLAN ranges Nimbus does not manage; project networks are made as VXLAN instead"
            ])
    }

    @Test("Keys in another section are ignored with a warning")
    func otherSection() {
        #expect(
            diagnose(twoHost("[extra]\nCONFIG_DEBUG_MODE=y")) == [
                "a.txt:4: warning: section [extra] is not used by Nimbus; the keys in it are ignored (all keys belong in [general])"
            ])
    }
}
