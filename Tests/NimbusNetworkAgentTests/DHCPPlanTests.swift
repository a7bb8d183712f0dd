import NimbusNetworkAgent
import NimbusServiceKit
import Testing

@Suite("The DHCP plan")
struct DHCPPlanTests {
    let topology = Topology.fixed
    let config = DHCPConfig(
        host: "net", stateDirectory: "/var/lib/nimbus/network-dhcp", bridgeMappings: ["extnet": "br-ex"])

    func server(_ items: [ChangeLog.Item]? = nil) throws -> DHCPPlan.Server {
        let plan = DHCPPlan(view: NetworkView(items: items ?? topology.items()), config: config)
        return try #require(plan.servers.first { $0.networkID == topology.tenantNet })
    }

    @Test("serves each network with a DHCP subnet and port from a qdhcp namespace, and not the external one")
    func servers() throws {
        let plan = DHCPPlan(view: NetworkView(items: topology.items()), config: config)
        #expect(plan.servers.map(\.networkID).sorted() == [topology.tenantNet, topology.netB].sorted())
        let server = try self.server()
        #expect(server.namespace == "qdhcp-\(topology.tenantNet)")
        #expect(server.port.tap == "tapd0a0d0a0-00" && server.port.interface == "ns-d0a0d0a0-00")
        #expect(server.port.bridge == "brq-aaaa1111-00" && server.port.bridgeIsOwned && server.port.mtu == 1450)
        #expect(server.port.addresses == [IPv4Prefix("192.168.0.1/24")].compactMap { $0 })
        #expect(server.directory == "/var/lib/nimbus/network-dhcp/\(topology.tenantNet)")
    }

    @Test("writes one host line per port address, with Neutron's host names")
    func hostsFiles() throws {
        let server = try self.server()
        #expect(
            server.hosts == """
                fa:16:3e:00:00:01,host-192-168-0-10.openstacklocal,192.168.0.10
                fa:16:3e:00:00:02,host-192-168-0-11.openstacklocal,192.168.0.11
                fa:16:3e:00:00:c1,host-192-168-0-254.openstacklocal,192.168.0.254
                fa:16:3e:00:00:d0,host-192-168-0-1.openstacklocal,192.168.0.1

                """)
        #expect(server.addnHosts.hasPrefix("192.168.0.10\thost-192-168-0-10.openstacklocal host-192-168-0-10\n"))
    }

    @Test("gives the DNS servers and the gateway, and host routes with the default route in option 121")
    func options() throws {
        #expect(
            try server().options == """
                tag:subnet-\(topology.tenantSubnet),option:dns-server,10.98.0.1
                tag:subnet-\(topology.tenantSubnet),option:router,192.168.0.254

                """)
        var items = topology.items()
        let routed = Body.subnet(
            topology.tenantSubnet, network: topology.tenantNet, cidr: "192.168.0.0/24", gateway: "192.168.0.254",
            routes: [("10.77.0.0/24", "192.168.0.254")])
        items.append(ChangeLog.Item(kind: "subnet", id: topology.tenantSubnet, revision: 200, body: routed))
        let tag = "tag:subnet-\(topology.tenantSubnet)"
        #expect(
            try server(items).options == """
                \(tag),option:classless-static-route,10.77.0.0/24,192.168.0.254,0.0.0.0/0,192.168.0.254
                \(tag),249,10.77.0.0/24,192.168.0.254,0.0.0.0/0,192.168.0.254
                \(tag),option:router,192.168.0.254

                """)
    }

    @Test("a port's extra_dhcp_opts go to its tag only: a set: in its host line, its IPv4 options by name or number")
    func portOptions() throws {
        var items = topology.items()
        var body = Body.port(
            topology.vm1, network: topology.tenantNet, mac: topology.mac(0x01),
            ips: [(topology.tenantSubnet, "192.168.0.10")], owner: "compute:nova", device: "i-1", host: "cmp1")
        let options: JSON = [
            ["opt_name": "bootfile-name", "opt_value": "pxelinux.0", "ip_version": 4],
            ["opt_name": "150", "opt_value": "10.0.0.9"],
            ["opt_name": "dns-server", "opt_value": "2001:db8::1", "ip_version": 6],
        ]
        if case .object(let members) = body { body = .object(members + [("extra_dhcp_opts", options)]) }
        items.append(ChangeLog.Item(kind: "port", id: topology.vm1, revision: 300, body: body))
        let server = try server(items)
        #expect(
            server.hosts.hasPrefix(
                "fa:16:3e:00:00:01,set:port-\(topology.vm1),host-192-168-0-10.openstacklocal,192.168.0.10\n"),
            "\(server.hosts)")
        #expect(server.hosts.contains("fa:16:3e:00:00:02,host-192-168-0-11"))
        #expect(
            server.options.hasSuffix(
                """
                tag:port-\(topology.vm1),option:bootfile-name,pxelinux.0
                tag:port-\(topology.vm1),150,10.0.0.9

                """), "\(server.options)")
        // A tagged host line is still read for its address.
        let stale = DHCPReconciler.staleLeases(
            "1 fa:16:3e:00:00:01 192.168.0.10 host *\n", hosts: server.hosts)
        #expect(stale.isEmpty)
    }

    @Test("runs dnsmasq as Neutron does: static ranges, the leases file kept, bound to the port's interface")
    func commandLine() throws {
        let directory = "/var/lib/nimbus/network-dhcp/\(topology.tenantNet)"
        #expect(
            try server().arguments == [
                "--no-hosts", "--no-resolv", "--pid-file=\(directory)/pid", "--dhcp-hostsfile=\(directory)/host",
                "--addn-hosts=\(directory)/addn_hosts", "--dhcp-optsfile=\(directory)/opts",
                "--dhcp-leasefile=\(directory)/leases", "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE",
                "--local-service", "--bind-dynamic", "--interface=ns-d0a0d0a0-00",
                "--dhcp-range=set:subnet-\(topology.tenantSubnet),192.168.0.0,static,255.255.255.0,86400s",
                "--dhcp-option-force=option:mtu,1450", "--dhcp-lease-max=256", "--conf-file=/dev/null",
                "--domain=openstacklocal",
            ])
    }

    @Test("serves nothing for a network without a DHCP port, and fails a DHCP port without an address there")
    func gaps() {
        let withoutPort = topology.items(without: [topology.dhcpPort])
        #expect(
            !DHCPPlan(view: NetworkView(items: withoutPort), config: config).servers.contains {
                $0.networkID == topology.tenantNet
            })
        var items = topology.items()
        let bare = Body.port(
            topology.dhcpPort, network: topology.tenantNet, mac: "fa:16:3e:00:00:d0", ips: [], owner: "network:dhcp",
            host: "net")
        items.append(ChangeLog.Item(kind: "port", id: topology.dhcpPort, revision: 300, body: bare))
        let plan = DHCPPlan(view: NetworkView(items: items), config: config)
        #expect(plan.failures[topology.dhcpPort] != nil)
    }

    @Test("wires a namespace port as a veth pair, then changes only addresses that differ")
    func namespacePort() throws {
        let port = try server().port
        #expect(
            try port.commands(host: try Fake.links(Fake.bridge("brq-aaaa1111-00")), inside: [:]).map(\.description) == [
                "ip link add tapd0a0d0a0-00 type veth peer name ns-d0a0d0a0-00 netns qdhcp-\(topology.tenantNet)",
                "ip link set tapd0a0d0a0-00 addrgenmode none",
                "ip link set tapd0a0d0a0-00 mtu 1450 master brq-aaaa1111-00 up",
                "[qdhcp-\(topology.tenantNet)] ip link set ns-d0a0d0a0-00 address fa:16:3e:00:00:d0 mtu 1450 up",
                "[qdhcp-\(topology.tenantNet)] ip addr replace 192.168.0.1/24 dev ns-d0a0d0a0-00",
            ])
        let host = try Fake.links(
            Fake.bridge("brq-aaaa1111-00"), Fake.veth("tapd0a0d0a0-00", master: "brq-aaaa1111-00", mtu: 1450))
        let inside = try Fake.links(
            Fake.veth(
                "ns-d0a0d0a0-00", mtu: 1450, mac: "fa:16:3e:00:00:d0", addresses: ["192.168.0.1/24", "192.168.0.9/24"]))
        #expect(
            try port.commands(host: host, inside: inside).map(\.description) == [
                "[qdhcp-\(topology.tenantNet)] ip addr del 192.168.0.9/24 dev ns-d0a0d0a0-00"
            ])
    }

    @Test("A lease the hosts file no longer gives is stale: a deleted port's, or one whose address moved")
    func staleLeases() {
        let hosts =
            "fa:16:3e:00:00:01,host-192-168-0-5.openstacklocal,192.168.0.5\nfa:16:3e:00:00:02,host-192-168-0-6.openstacklocal,192.168.0.6\n"
        let leases = """
            1796223000 fa:16:3e:00:00:01 192.168.0.5 host-192-168-0-5 01:fa:16:3e:00:00:01
            1796223000 FA:16:3E:00:00:02 192.168.0.7 host-192-168-0-7 *
            1796223000 fa:16:3e:00:00:09 192.168.0.9 host-192-168-0-9 *

            """
        let stale = DHCPReconciler.staleLeases(leases, hosts: hosts)
        #expect(stale.map(\.address) == ["192.168.0.7", "192.168.0.9"])
        #expect(stale.map(\.mac) == ["fa:16:3e:00:00:02", "fa:16:3e:00:00:09"])
    }
}
