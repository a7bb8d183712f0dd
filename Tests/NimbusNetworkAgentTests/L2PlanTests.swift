import NimbusNetworkAgent
import NimbusServiceKit
import Testing

@Suite("The L2 plan")
struct L2PlanTests {
    let topology = Topology.fixed
    var view: NetworkView { NetworkView(items: topology.items()) }

    func config(_ host: String, _ tunnel: String, all: Bool = false) -> L2Config {
        L2Config(
            host: host, tunnelIP: IPv4(tunnel) ?? .any, bridgeMappings: ["extnet": "br-ex"], servesAllNetworks: all)
    }

    @Test("gives a compute host the bridges of the networks bound there, flooding to every other peer")
    func computeHost() throws {
        let plan = L2Plan(view: view, config: config("cmp1", "10.99.0.11"))
        #expect(plan.bridges.map(\.name).sorted() == ["brq-aaaa1111-00", "brq-bbbb2222-00"])
        let bridge = try #require(plan.bridges.first { $0.networkID == topology.tenantNet })
        #expect(bridge.mtu == 1450 && bridge.vxlan.name == "vxlan-1001" && bridge.vxlan.port == 4789)
        #expect(bridge.vxlan.flood.map(\.description) == ["10.99.0.10", "10.99.0.12"])
        // l2pop: the ports bound to the other hosts, at their hosts' tunnel addresses.
        let unicast = Dictionary(
            uniqueKeysWithValues: bridge.vxlan.unicast.map { ($0.key.description, $0.value.description) })
        #expect(
            unicast == [
                "fa:16:3e:00:00:02": "10.99.0.12", "fa:16:3e:00:00:d0": "10.99.0.10", "fa:16:3e:00:00:c1": "10.99.0.10",
            ])
        #expect(plan.plugs.map(\.tap) == ["tapa1a1a1a1-00", "tapb1b1b1b1-00"])
        #expect(plan.plugs.allSatisfy { $0.boundHere && $0.mtu == 1450 })
        #expect(plan.reportedPorts == [topology.vm1, topology.vmB1])
    }

    @Test("gives the network host every network and plugs its DHCP and router ports, flat ones into br-ex")
    func networkHost() {
        let plan = L2Plan(view: view, config: config("net", "10.99.0.10", all: true))
        #expect(plan.bridges.count == 2)
        let plugs = Dictionary(uniqueKeysWithValues: plan.plugs.map { ($0.portID, $0.bridge) })
        #expect(plugs[topology.gatewayPort] == "br-ex" && plugs[topology.interfacePort] == "brq-aaaa1111-00")
        #expect(plugs[topology.dhcpPort] == "brq-aaaa1111-00" && plugs[topology.vm1] == nil)
    }

    @Test("fails the ports of a flat network whose physical network has no bridge here")
    func missingMapping() {
        var items = topology.items()
        items.append(
            ChangeLog.Item(
                kind: "port", id: "e1e1e1e1-0000-4000-8000-0000000000e1", revision: 99,
                body: Body.port(
                    "e1e1e1e1-0000-4000-8000-0000000000e1", network: topology.extNet, mac: "fa:16:3e:00:00:e1",
                    ips: [(topology.extSubnet, "10.98.0.50")], owner: "compute:nova", host: "cmp2")))
        let plan = L2Plan(
            view: NetworkView(items: items), config: L2Config(host: "cmp2", tunnelIP: IPv4("10.99.0.12") ?? .any))
        #expect(
            plan.failures["e1e1e1e1-0000-4000-8000-0000000000e1"]
                == .noBridgeMapping(
                    network: topology.extNet, physicalNetwork: "extnet"))
    }

    @Test("creates a bridge with its VXLAN device and flood list on a bare host")
    func createsOnABareHost() throws {
        let plan = L2Plan(view: view, config: config("cmp2", "10.99.0.12"))
        let bridge = try #require(plan.bridges.first { $0.networkID == topology.netB })
        let commands = try L2Plan.commands(for: bridge, links: [:], fdb: []).map(\.description)
        #expect(
            commands == [
                "ip link add brq-bbbb2222-00 type bridge",
                "ip link set brq-bbbb2222-00 addrgenmode none",
                "ip link set brq-bbbb2222-00 type bridge stp_state 0 forward_delay 0",
                "ip link add vxlan-1002 type vxlan id 1002 dstport 4789 local 10.99.0.12 nolearning ttl 64",
                "ip link set vxlan-1002 addrgenmode none",
                "ip link set vxlan-1002 mtu 1450 master brq-bbbb2222-00 up",
                "bridge fdb append 00:00:00:00:00:00 dev vxlan-1002 dst 10.99.0.10",
                "bridge fdb append 00:00:00:00:00:00 dev vxlan-1002 dst 10.99.0.11",
                "bridge fdb replace fa:16:3e:00:00:b1 dev vxlan-1002 dst 10.99.0.11 self permanent",
                "bridge fdb replace fa:16:3e:00:00:d1 dev vxlan-1002 dst 10.99.0.10 self permanent",
                "ip link set brq-bbbb2222-00 mtu 1450 up",
            ])
    }

    @Test("changes nothing on a host that holds the plan, and only what differs on one that does not")
    func diffs() throws {
        let plan = L2Plan(view: view, config: config("cmp2", "10.99.0.12"))
        let bridge = try #require(plan.bridges.first { $0.networkID == topology.netB })
        let links = try Fake.links(
            Fake.bridge("brq-bbbb2222-00"),
            Fake.vxlan("vxlan-1002", vni: 1002, local: "10.99.0.12", master: "brq-bbbb2222-00"))
        let right: [FDBEntry] = try [
            Fake.fdb("00:00:00:00:00:00", "10.99.0.10"), Fake.fdb("00:00:00:00:00:00", "10.99.0.11"),
            Fake.fdb("fa:16:3e:00:00:b1", "10.99.0.11"), Fake.fdb("fa:16:3e:00:00:d1", "10.99.0.10"),
        ]
        #expect(try L2Plan.commands(for: bridge, links: links, fdb: right).isEmpty)
        let wrong: [FDBEntry] = try [
            Fake.fdb("00:00:00:00:00:00", "10.99.0.10"), Fake.fdb("00:00:00:00:00:00", "10.99.0.77"),
            Fake.fdb("fa:16:3e:00:00:b1", "10.99.0.10"), Fake.fdb("fa:16:3e:00:00:d1", "10.99.0.10"),
            Fake.fdb("fa:16:3e:00:00:99", "10.99.0.10"),
        ]
        #expect(
            try L2Plan.commands(for: bridge, links: links, fdb: wrong).map(\.description) == [
                "bridge fdb append 00:00:00:00:00:00 dev vxlan-1002 dst 10.99.0.11",
                "bridge fdb del 00:00:00:00:00:00 dev vxlan-1002 dst 10.99.0.77",
                "bridge fdb replace fa:16:3e:00:00:b1 dev vxlan-1002 dst 10.99.0.11 self permanent",
                "bridge fdb del fa:16:3e:00:00:99 dev vxlan-1002 dst 10.99.0.10 self",
            ])
    }

    @Test("recreates a VXLAN device whose VNI or endpoint is wrong, and refuses a name taken by something else")
    func recreates() throws {
        let plan = L2Plan(view: view, config: config("cmp2", "10.99.0.12"))
        let bridge = try #require(plan.bridges.first { $0.networkID == topology.netB })
        let moved = try Fake.links(
            Fake.bridge("brq-bbbb2222-00"),
            Fake.vxlan("vxlan-1002", vni: 1002, local: "10.99.0.99", master: "brq-bbbb2222-00"))
        let commands = try L2Plan.commands(for: bridge, links: moved, fdb: []).map(\.description)
        #expect(commands.first == "ip link del vxlan-1002")
        #expect(
            commands.contains(
                "ip link add vxlan-1002 type vxlan id 1002 dstport 4789 local 10.99.0.12 nolearning ttl 64"))
        let taken = try Fake.links(Fake.veth("brq-bbbb2222-00"))
        #expect(throws: DataplaneError.nameTaken(device: "brq-bbbb2222-00", kind: "veth")) {
            try L2Plan.commands(for: bridge, links: taken, fdb: [])
        }
    }

    @Test("plugs an existing tap into its bridge, waits for a missing one, and removes only its own stale devices")
    func plugsAndRemoves() throws {
        let plan = L2Plan(view: view, config: config("cmp1", "10.99.0.11"))
        let plug = try #require(plan.plugs.first { $0.portID == topology.vm1 })
        #expect(L2Plan.commands(for: plug, links: [:]) == nil)
        let loose = try Fake.links(Fake.veth("tapa1a1a1a1-00", master: nil, mtu: 1500, up: false))
        #expect(
            L2Plan.commands(for: plug, links: loose)?.map(\.description) == [
                "ip link set tapa1a1a1a1-00 mtu 1450 master brq-aaaa1111-00 up"
            ])
        let plugged = try Fake.links(Fake.veth("tapa1a1a1a1-00", master: "brq-aaaa1111-00", mtu: 1450, up: true))
        #expect(L2Plan.commands(for: plug, links: plugged) == [])
        let host = try Fake.links(
            Fake.bridge("brq-aaaa1111-00"), Fake.bridge("brq-deadbeef-00"), Fake.bridge("br-ex"),
            Fake.vxlan("vxlan-4242", vni: 4242, local: "10.99.0.11", master: "brq-deadbeef-00"),
            Fake.vxlan("vxlan-other", vni: 7, local: "10.99.0.11", master: nil))
        #expect(
            plan.removals(links: host).map(\.description) == ["ip link del vxlan-4242", "ip link del brq-deadbeef-00"])
    }
}
