import NimbusNetworkAgent
import NimbusServiceKit
import Testing

@Suite("The network view")
struct NetworkViewTests {
    let topology = Topology.fixed
    var view: NetworkView { NetworkView(items: topology.items()) }

    @Test("reads every resource of the topology into typed values")
    func readsTheTopology() throws {
        let view = self.view
        #expect(view.problems.isEmpty)
        #expect(view.networks.count == 3 && view.subnets.count == 3 && view.ports.count == 8)
        let tenant = try #require(view.networks[topology.tenantNet])
        #expect(tenant.segment == .vxlan(vni: 1001) && tenant.mtu == 1450)
        #expect(view.networks[topology.extNet]?.segment == .flat(physicalNetwork: "extnet"))
        #expect(view.subnets[topology.tenantSubnet]?.cidr == IPv4Prefix("192.168.0.0/24"))
        #expect(view.subnets[topology.tenantSubnet]?.gatewayIP == IPv4("192.168.0.254"))
        #expect(view.ports[topology.vm1]?.owner == .compute(zone: "nova"))
        #expect(view.routers[topology.router]?.gateway?.networkID == topology.extNet)
        #expect(view.routers[topology.router]?.gateway?.enableSNAT == true)
        #expect(view.floatingIPs[topology.floatingIP]?.fixedAddress == IPv4("192.168.0.10"))
        #expect(view.securityGroups[topology.group]?.rules.count == 4)
    }

    @Test("finds a router's interfaces and gateway, a network's ports and a port's host")
    func lookups() {
        let view = self.view
        #expect(view.interfaces(of: topology.router).map(\.id) == [topology.interfacePort])
        #expect(view.gatewayPort(of: topology.router)?.id == topology.gatewayPort)
        #expect(
            Set(view.ports(of: topology.tenantNet).map(\.id)) == [
                topology.dhcpPort, topology.interfacePort, topology.vm1, topology.vm2,
            ])
        #expect(view.host(of: topology.vm2) == "cmp2")
        #expect(view.tunnelIP(of: "cmp1") == IPv4("10.99.0.11"))
        #expect(view.dhcpPort(of: topology.tenantNet, preferring: "net")?.id == topology.dhcpPort)
        #expect(view.floatingIPs(of: topology.router).map(\.address) == [IPv4("10.98.0.211")])
        #expect(view.members(of: topology.group).map(\.id).sorted() == [topology.vm1, topology.vm2].sorted())
    }

    @Test("forgets a deleted resource and takes a changed one")
    func appliesChanges() {
        var view = self.view
        view.apply(ChangeLog.Item(kind: "port", id: topology.vm2, revision: 100, body: nil))
        #expect(view.ports[topology.vm2] == nil)
        let moved = Body.port(
            topology.vm1, network: topology.tenantNet, mac: "fa:16:3e:00:00:01",
            ips: [(topology.tenantSubnet, "192.168.0.10")], owner: "compute:nova", host: "cmp2")
        view.apply(ChangeLog.Item(kind: "port", id: topology.vm1, revision: 101, body: moved))
        #expect(view.host(of: topology.vm1) == "cmp2")
        view.apply(ChangeLog.Item(kind: "unrelated", id: "x", revision: 102, body: ["a": 1]))
        #expect(view.ports.count == 7)
    }

    @Test("reports every problem of a body it cannot read, and keeps it out")
    func reportsProblems() throws {
        var view = NetworkView()
        let body = Body.port(
            "../../etc", network: topology.tenantNet, mac: "not-a-mac", ips: [(topology.tenantSubnet, "300.1.1.1")])
        let applied = view.apply(ChangeLog.Item(kind: "port", id: "bad", revision: 1, body: body))
        let problem = try #require(applied)
        #expect(problem.problems.count == 3)
        #expect(problem.description.contains("mac_address"))
        #expect(view.ports.isEmpty && view.problems["port/bad"] != nil)
    }

    @Test("learns the L2 agents' tunnel addresses from agent items and ignores agents without one")
    func peers() {
        var view = NetworkView()
        view.apply(
            ChangeLog.Item(
                kind: "agent", id: "l2/cmp9", revision: 1, body: Body.agent(host: "cmp9", tunnel: "10.0.0.9")))
        view.apply(
            ChangeLog.Item(
                kind: "agent", id: "dhcp/net", revision: 2, body: ["host": "net", "type": "dhcp", "configuration": [:]])
        )
        #expect(view.peers.count == 1 && view.tunnelIP(of: "cmp9") == IPv4("10.0.0.9"))
    }

    @Test("names every device within 15 characters, as the kernel requires")
    func deviceNames() {
        let id = "0123456789abcdef-0123-4567-89ab-cdef01234567"
        let names = [
            DeviceName.bridge(network: id), DeviceName.vxlan(vni: 16_777_215), DeviceName.tap(port: id),
            DeviceName.dhcpInterface(port: id), DeviceName.routerInterface(port: id),
            DeviceName.routerGateway(port: id),
        ]
        #expect(
            names == [
                "brq-0123456789a", "vxlan-16777215", "tap0123456789a", "ns-0123456789a", "qr-0123456789a",
                "qg-0123456789a",
            ])
        #expect(names.allSatisfy { $0.count <= DeviceName.maximumLength })
    }

    @Test(
        "parses addresses strictly",
        arguments: [
            ("192.168.0.1", true), ("192.168.0.01", false), ("256.0.0.1", false), ("1.2.3", false), ("", false),
        ])
    func parsesAddresses(text: String, valid: Bool) {
        #expect((IPv4(text) != nil) == valid)
    }

    @Test("knows a network's mask, size and the host-route form of an address")
    func prefixes() throws {
        let prefix = try #require(IPv4Prefix("192.168.0.254/24"))
        #expect(prefix.network.description == "192.168.0.0/24")
        #expect(prefix.netmask.description == "255.255.255.0" && prefix.size == 256)
        #expect(prefix.contains(try #require(IPv4("192.168.0.7"))))
        #expect(IPv4Prefix("10.0.0.1")?.length == 32 && IPv4Prefix("10.0.0.0/33") == nil)
        #expect(IPv4("192.168.0.10")?.dashed == "192-168-0-10")
        #expect(MACAddress("FA:16:3E:00:0A:01")?.description == "fa:16:3e:00:0a:01")
    }
}
