import NimbusNetworkAgent
import NimbusServiceKit
import NimbusSystem
import Synchronization
import Testing

/// Host state as `ip -j`, `bridge -j` and `nft -j` print it, for the planning tests; and a
/// fake runner's answers built from it.
enum Fake {
    static func bridge(_ name: String, mtu: Int = 1450) -> JSON {
        [
            "ifindex": 10, "ifname": .string(name), "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
            "mtu": .int(Int64(mtu)), "address": "02:00:00:00:00:01", "inet6_addr_gen_mode": "none",
            "linkinfo": ["info_kind": "bridge", "info_data": ["forward_delay": 0, "stp_state": 0]],
        ]
    }

    static func vxlan(_ name: String, vni: Int, local: String, master: String?) -> JSON {
        [
            "ifindex": 11, "ifname": .string(name), "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
            "mtu": 1450, "master": .optional(master), "address": "02:00:00:00:00:02", "inet6_addr_gen_mode": "none",
            "linkinfo": [
                "info_kind": "vxlan",
                "info_data": ["id": .int(Int64(vni)), "local": .string(local), "port": 4789, "learning": false],
            ],
        ]
    }

    static func veth(
        _ name: String, master: String? = nil, mtu: Int = 1500, up: Bool = true, mac: String = "fe:16:3e:00:00:01",
        addresses: [String] = []
    ) -> JSON {
        [
            "ifindex": 12, "ifname": .string(name), "flags": up ? ["BROADCAST", "UP"] : ["BROADCAST"],
            "mtu": .int(Int64(mtu)), "master": .optional(master), "address": .string(mac),
            "inet6_addr_gen_mode": "none", "linkinfo": ["info_kind": "veth"],
            "addr_info": .array(
                addresses.map { address in
                    let parts = address.split(separator: "/")
                    return [
                        "family": "inet", "local": .string(String(parts[0])),
                        "prefixlen": .int(Int64(parts[1]) ?? 32),
                    ]
                }),
        ]
    }

    static func loopback() -> JSON {
        ["ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP"], "mtu": 65536, "address": "00:00:00:00:00:00"]
    }

    static func links(_ entries: JSON...) throws -> [String: Link] {
        let links = Link.parse(.array(entries))
        try #require(links.count == entries.count)
        return links
    }

    static func fdb(_ mac: String, _ destination: String) throws -> FDBEntry {
        try #require(FDBEntry.parse([["mac": .string(mac), "dst": .string(destination), "flags": ["self"]]]).first)
    }

    /// A runner that answers reads from tables and records every command.
    static func runner(_ answers: [([String], JSON)]) -> FakeProcessRunner {
        let runner = FakeProcessRunner()
        runner.answer(["ip", "-j", "netns", "list"], with: ProcessOutput(status: 0, stdout: "[]"))
        for (prefix, json) in answers { runner.answer(prefix, with: ProcessOutput(status: 0, stdout: json.text)) }
        return runner
    }
}

/// Records the addresses an L3 agent announces.
final class RecordingAnnouncer: AddressAnnouncing {
    private let calls = Mutex<[(interface: String, addresses: [IPv4])]>([])

    func announce(_ addresses: [IPv4], interface: String, mac: MACAddress, namespace: String) {
        calls.withLock { $0.append((interface, addresses)) }
    }

    var announced: [(interface: String, addresses: [IPv4])] { calls.withLock { $0 } }
}
