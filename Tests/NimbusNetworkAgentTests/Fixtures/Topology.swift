import Foundation
import NimbusServiceKit

/// The course notes' topology: a flat external network `extnet` on `br-ex`
/// (10.98.0.0/24, gateway 10.98.0.1, the router at .210, a floating IP .211), a VXLAN
/// tenant network 192.168.0.0/24 (gateway .254, DHCP at .1) with an instance on each compute
/// host (.10 on cmp1, .11 on cmp2), a router with gateway and interface, a floating IP to
/// the first instance, a security group allowing ICMP (and ssh, when asked); and a second
/// project's network with the very same 192.168.0.0/24 (instances .10 on cmp1, .20 on cmp2).
struct Topology {
    var extNet, extSubnet, tenantNet, tenantSubnet, router, gatewayPort, interfacePort, dhcpPort: String
    var vm1, vm2, floatingIP, group: String
    var netB, subnetB, dhcpPortB, vmB1, vmB2, groupB: String
    /// A random middle for the MACs, so that two runs never share one.
    var macStem: String
    var hosts = (network: "net", compute1: "cmp1", compute2: "cmp2")
    var tunnels = (network: "10.99.0.10", compute1: "10.99.0.11", compute2: "10.99.0.12")

    /// Readable fixed ids, for tests that compare rendered text.
    static let fixed = Topology(
        extNet: "eeee3333-0000-4000-8000-00000000000e", extSubnet: "5eee0000-0000-4000-8000-00000000000e",
        tenantNet: "aaaa1111-0000-4000-8000-00000000000a", tenantSubnet: "5aaa0000-0000-4000-8000-00000000000a",
        router: "c0c0c0c0-0000-4000-8000-0000000000c0", gatewayPort: "c2c2c2c2-0000-4000-8000-0000000000c2",
        interfacePort: "c1c1c1c1-0000-4000-8000-0000000000c1", dhcpPort: "d0a0d0a0-0000-4000-8000-0000000000d0",
        vm1: "a1a1a1a1-0000-4000-8000-0000000000a1", vm2: "a2a2a2a2-0000-4000-8000-0000000000a2",
        floatingIP: "f1f1f1f1-0000-4000-8000-0000000000f1", group: "5a5a5a5a-0000-4000-8000-0000000000aa",
        netB: "bbbb2222-0000-4000-8000-00000000000b", subnetB: "5bbb0000-0000-4000-8000-00000000000b",
        dhcpPortB: "d0b0d0b0-0000-4000-8000-0000000000d0", vmB1: "b1b1b1b1-0000-4000-8000-0000000000b1",
        vmB2: "b2b2b2b2-0000-4000-8000-0000000000b2", groupB: "5b5b5b5b-0000-4000-8000-0000000000bb",
        macStem: "00:00")

    /// Fresh random ids (unique device and namespace names on a shared machine).
    static func random() -> Topology {
        func id() -> String { UUID().uuidString.lowercased() }
        let stem = String(format: "%02x:%02x", Int.random(in: 0...255), Int.random(in: 0...255))
        return Topology(
            extNet: id(), extSubnet: id(), tenantNet: id(), tenantSubnet: id(), router: id(), gatewayPort: id(),
            interfacePort: id(), dhcpPort: id(), vm1: id(), vm2: id(), floatingIP: id(), group: id(), netB: id(),
            subnetB: id(), dhcpPortB: id(), vmB1: id(), vmB2: id(), groupB: id(), macStem: stem)
    }

    /// The namespaces the DHCP and L3 agents make for this topology.
    var agentNamespaces: [String] { ["qdhcp-\(tenantNet)", "qdhcp-\(netB)", "qrouter-\(router)"] }

    /// The item of one resource.
    func item(_ id: String, ssh: Bool = false) -> ChangeLog.Item? { items(ssh: ssh).first { $0.id == id } }

    func mac(_ last: Int) -> String { "fa:16:3e:\(macStem):" + String(format: "%02x", last) }

    /// Every item, as a full list would hand them over; `ssh` adds the ingress tcp/22 rule.
    func items(ssh: Bool = false) -> [ChangeLog.Item] {
        var bodies: [(String, String, JSON)] = [
            ("agent", "l2/\(hosts.network)", Body.agent(host: hosts.network, tunnel: tunnels.network)),
            ("agent", "l2/\(hosts.compute1)", Body.agent(host: hosts.compute1, tunnel: tunnels.compute1)),
            ("agent", "l2/\(hosts.compute2)", Body.agent(host: hosts.compute2, tunnel: tunnels.compute2)),
            ("network", extNet, Body.network(extNet, type: "flat", physnet: "extnet", mtu: 1500, external: true)),
            (
                "subnet", extSubnet,
                Body.subnet(extSubnet, network: extNet, cidr: "10.98.0.0/24", gateway: "10.98.0.1", dhcp: false)
            ),
            ("network", tenantNet, Body.network(tenantNet, type: "vxlan", vni: 1001, mtu: 1450)),
            (
                "subnet", tenantSubnet,
                Body.subnet(
                    tenantSubnet, network: tenantNet, cidr: "192.168.0.0/24", gateway: "192.168.0.254",
                    dns: ["10.98.0.1"])
            ),
            ("network", netB, Body.network(netB, type: "vxlan", vni: 1002, mtu: 1450, project: "p2")),
            ("subnet", subnetB, Body.subnet(subnetB, network: netB, cidr: "192.168.0.0/24", gateway: "192.168.0.254")),
            ("security_group", group, Body.securityGroup(group, rules: rules(ssh: ssh))),
            (
                "security_group", groupB,
                Body.securityGroup(
                    groupB,
                    rules: [
                        Body.rule("r-b1", "egress"), Body.rule("r-b2", "ingress", proto: "icmp"),
                    ])
            ),
            ("router", router, Body.router(router, gateway: extNet, external: [(extSubnet, "10.98.0.210")])),
        ]
        let ports: [(String, JSON)] = [
            (
                dhcpPort,
                Body.port(
                    dhcpPort, network: tenantNet, mac: mac(0xd0), ips: [(tenantSubnet, "192.168.0.1")],
                    owner: "network:dhcp", device: "dhcp-\(tenantNet)", host: hosts.network)
            ),
            (
                dhcpPortB,
                Body.port(
                    dhcpPortB, network: netB, mac: mac(0xd1), ips: [(subnetB, "192.168.0.1")], owner: "network:dhcp",
                    device: "dhcp-\(netB)", host: hosts.network)
            ),
            (
                gatewayPort,
                Body.port(
                    gatewayPort, network: extNet, mac: mac(0xc2), ips: [(extSubnet, "10.98.0.210")],
                    owner: "network:router_gateway", device: router, host: hosts.network)
            ),
            (
                interfacePort,
                Body.port(
                    interfacePort, network: tenantNet, mac: mac(0xc1), ips: [(tenantSubnet, "192.168.0.254")],
                    owner: "network:router_interface", device: router, host: hosts.network)
            ),
            (
                vm1,
                Body.port(
                    vm1, network: tenantNet, mac: mac(0x01), ips: [(tenantSubnet, "192.168.0.10")],
                    owner: "compute:nova", device: "i-1", host: hosts.compute1, groups: [group])
            ),
            (
                vm2,
                Body.port(
                    vm2, network: tenantNet, mac: mac(0x02), ips: [(tenantSubnet, "192.168.0.11")],
                    owner: "compute:nova", device: "i-2", host: hosts.compute2, groups: [group])
            ),
            (
                vmB1,
                Body.port(
                    vmB1, network: netB, mac: mac(0xb1), ips: [(subnetB, "192.168.0.10")], owner: "compute:nova",
                    device: "i-3", host: hosts.compute1, groups: [groupB])
            ),
            (
                vmB2,
                Body.port(
                    vmB2, network: netB, mac: mac(0xb2), ips: [(subnetB, "192.168.0.20")], owner: "compute:nova",
                    device: "i-4", host: hosts.compute2, groups: [groupB])
            ),
        ]
        bodies += ports.map { ("port", $0.0, $0.1) }
        bodies.append(
            (
                "floatingip", floatingIP,
                Body.floatingIP(
                    floatingIP, address: "10.98.0.211", fixed: "192.168.0.10", port: vm1, router: router,
                    network: extNet)
            ))
        return bodies.enumerated().map { ChangeLog.Item(kind: $1.0, id: $1.1, revision: Int64($0 + 1), body: $1.2) }
    }

    /// The tenant group's rules: egress anywhere, ICMP in, ssh in when asked, and web (80)
    /// from the group's own members.
    func rules(ssh: Bool) -> [JSON] {
        var rules = [
            Body.rule("r-1", "egress"), Body.rule("r-2", "egress", ethertype: "IPv6"),
            Body.rule("r-3", "ingress", proto: "icmp"),
            Body.rule("r-4", "ingress", proto: "tcp", min: 80, max: 80, group: group),
        ]
        if ssh { rules.append(Body.rule("r-5", "ingress", proto: "tcp", min: 22, max: 22, prefix: "0.0.0.0/0")) }
        return rules
    }

    /// The items without those of `kinds`, to feed a pass that should see only part.
    func items(ssh: Bool = false, without ids: Set<String>) -> [ChangeLog.Item] {
        items(ssh: ssh).filter { !ids.contains($0.id) }
    }
}
