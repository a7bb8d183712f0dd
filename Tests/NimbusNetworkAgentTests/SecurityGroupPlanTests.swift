import NimbusNetworkAgent
import NimbusServiceKit
import Testing

@Suite("The security group plan")
struct SecurityGroupPlanTests {
    let topology = Topology.fixed

    func plan(ssh: Bool = false, host: String = "cmp1", tunnel: String = "10.99.0.11") -> SecurityGroupPlan {
        let view = NetworkView(items: topology.items(ssh: ssh))
        let l2 = L2Plan(view: view, config: L2Config(host: host, tunnelIP: IPv4(tunnel) ?? .any))
        return SecurityGroupPlan(view: view, l2: l2)
    }

    static let rules: [(JSON, String?)] = [
        (
            Body.rule("a", "ingress", proto: "tcp", min: 22, max: 22),
            "meta nfproto ipv4 meta l4proto tcp th dport 22 accept"
        ),
        (
            Body.rule("b", "ingress", proto: "udp", min: 1000, max: 2000, prefix: "10.0.0.0/8"),
            "meta nfproto ipv4 ip saddr 10.0.0.0/8 meta l4proto udp th dport 1000-2000 accept"
        ),
        (
            Body.rule("c", "ingress", proto: "icmp", min: 8, max: 0),
            "meta nfproto ipv4 meta l4proto icmp icmp type 8 icmp code 0 accept"
        ),
        (Body.rule("d", "egress"), "meta nfproto ipv4 return"),
        (Body.rule("e", "egress", ethertype: "IPv6", prefix: "::/0"), "meta nfproto ipv6 return"),
        (Body.rule("f", "ingress", ethertype: "IPv6", proto: "icmp"), nil),
        (Body.rule("g", "ingress", proto: "tcp", prefix: "2001:db8::/32"), nil),
        (Body.rule("h", "ingress", proto: "47"), "meta nfproto ipv4 meta l4proto 47 accept"),
        (
            Body.rule("i", "ingress", ethertype: "IPv6", proto: "icmpv6", min: 128),
            "meta nfproto ipv6 meta l4proto ipv6-icmp icmpv6 type 128 accept"
        ),
        (
            Body.rule("j", "egress", proto: "tcp", min: 443, max: 443, group: "5a5a5a5a-0000-4000-8000-0000000000aa"),
            "meta nfproto ipv4 ip daddr @rg4_5a5a5a5a0000400080000000000000aa meta l4proto tcp th dport 443 return"
        ),
    ]

    @Test("renders each rule as an nft rule, and none that cannot match", arguments: rules)
    func rendersRules(body: JSON, expected: String?) throws {
        let rule = try SecurityGroupRule(body: body)
        #expect(SecurityGroupPlan.render(rule) == expected)
    }

    @Test("filters the instances bound here, not the network's own ports, with a zone per network")
    func filteredPorts() throws {
        let plan = self.plan()
        #expect(plan.ports.map(\.portID) == [topology.vm1, topology.vmB1])
        #expect(plan.zones == ["brq-aaaa1111-00", "brq-bbbb2222-00"])
        let vm1 = try #require(plan.ports.first)
        #expect(vm1.macs.map(\.description) == ["fa:16:3e:00:00:01"] && vm1.ipv4 == ["192.168.0.10"])
        #expect(vm1.ingress.contains("meta nfproto ipv4 meta l4proto icmp accept"))
        #expect(!vm1.ingress.contains { $0.contains("th dport 22") })
        #expect(plan.sets == ["rg4_5a5a5a5a0000400080000000000000aa": ["192.168.0.10", "192.168.0.11"]])
        #expect(
            self.plan(ssh: true).ports.first?.ingress.last == "meta nfproto ipv4 meta l4proto tcp th dport 22 accept")
        #expect(self.plan(host: "net", tunnel: "10.99.0.10").ports.isEmpty)
    }

    @Test("creates the base tables, the sets, the zones and each port's chains in one transaction on a bare host")
    func bareHost() throws {
        let script = try #require(plan().script(actual: NftRuleset()))
        #expect(script.hasPrefix("table bridge nimbus_sg_l2 {"))
        for line in [
            "add set inet nimbus_sg rg4_5a5a5a5a0000400080000000000000aa { type ipv4_addr; }",
            "add element inet nimbus_sg rg4_5a5a5a5a0000400080000000000000aa { 192.168.0.10, 192.168.0.11 }",
            "add element inet nimbus_sg zone_of { \"brq-aaaa1111-00\" : 1 }",
            "add element inet nimbus_sg zone_of { \"brq-bbbb2222-00\" : 2 }",
            "flush chain bridge nimbus_sg_l2 in_1", "flush chain inet nimbus_sg ing_2",
            "    ether saddr != { fa:16:3e:00:00:01 } counter drop",
            "    arp saddr ip != { 192.168.0.10, 0.0.0.0 } counter drop",
            "    ip saddr != { 192.168.0.10 } counter drop",
            "    meta mark set meta mark & 0x0000ffff | 0x00010000",
            "add element bridge nimbus_sg_l2 port_in { \"tapa1a1a1a1-00\" : jump in_1 }",
            "add element inet nimbus_sg ing_dispatch { 0x00020000 : jump ing_2 }",
        ] {
            #expect(script.contains(line + "\n"), "missing: \(line)")
        }
    }

    /// The ruleset as nft would list it after `plan`'s transaction.
    func applied(_ plan: SecurityGroupPlan) -> NftRuleset {
        var ruleset = NftRuleset()
        var bridge = NftRuleset.Table()
        var inet = NftRuleset.Table()
        for (offset, port) in plan.ports.enumerated() {
            let index = offset + 1
            let fingerprint = plan.fingerprint(of: port, index: index)
            bridge.chains["in_\(index)"] = [fingerprint, nil]
            bridge.chains["out_\(index)"] = [nil]
            inet.chains["eg_\(index)"] = [nil]
            inet.chains["ing_\(index)"] = [nil]
            bridge.sets["port_in", default: []].append(.init(key: port.tap, value: "jump in_\(index)"))
            bridge.sets["port_out", default: []].append(.init(key: port.tap, value: "jump out_\(index)"))
            inet.sets["eg_dispatch", default: []].append(.init(key: "\(index)", value: "jump eg_\(index)"))
            inet.sets["ing_dispatch", default: []].append(.init(key: "\(index << 16)", value: "jump ing_\(index)"))
        }
        inet.sets["zone_of"] = plan.zones.enumerated().map { .init(key: $1, value: "\($0 + 1)") }
        for (name, elements) in plan.sets { inet.sets[name] = elements.map { .init(key: $0) } }
        ruleset.tables[SecurityGroupPlan.bridgeTable] = bridge
        ruleset.tables[SecurityGroupPlan.inetTable] = inet
        return ruleset
    }

    @Test("does nothing when the ruleset holds the plan, and replaces only a changed port's chains")
    func diffs() throws {
        let before = plan()
        let current = applied(before)
        #expect(before.script(actual: current) == nil)
        let script = try #require(plan(ssh: true).script(actual: current))
        #expect(script.contains("flush chain bridge nimbus_sg_l2 in_1") && !script.contains("in_2"))
        #expect(!script.contains("table bridge nimbus_sg_l2 {\n  map"))
    }

    @Test("removes a gone port's elements before its chains, a stale member, and the tables once no port is left")
    func removals() throws {
        var current = applied(plan())
        current.tables[SecurityGroupPlan.inetTable]?.sets["rg4_5a5a5a5a0000400080000000000000aa"]?.append(
            .init(key: "192.168.0.99"))
        let items = topology.items(without: [topology.vmB1])
        let view = NetworkView(items: items)
        let smaller = SecurityGroupPlan(
            view: view, l2: L2Plan(view: view, config: L2Config(host: "cmp1", tunnelIP: IPv4("10.99.0.11") ?? .any)))
        let script = try #require(smaller.script(actual: current))
        let element = try #require(
            script.range(of: "delete element bridge nimbus_sg_l2 port_in { \"tapb1b1b1b1-00\" }"))
        let chain = try #require(script.range(of: "delete chain bridge nimbus_sg_l2 in_2"))
        #expect(element.lowerBound < chain.lowerBound)
        #expect(script.contains("delete element inet nimbus_sg rg4_5a5a5a5a0000400080000000000000aa { 192.168.0.99 }"))
        #expect(script.contains("delete element inet nimbus_sg zone_of { \"brq-bbbb2222-00\" }"))
        let none = NetworkView(items: topology.items(without: [topology.vm1, topology.vmB1]))
        let empty = SecurityGroupPlan(
            view: none, l2: L2Plan(view: none, config: L2Config(host: "cmp1", tunnelIP: .any)))
        #expect(empty.script(actual: current) == "delete table bridge nimbus_sg_l2\ndelete table inet nimbus_sg\n")
        #expect(empty.script(actual: NftRuleset()) == nil)
    }

    @Test("does not filter a port whose port security is off")
    func portSecurityOff() {
        var items = topology.items()
        let open = Body.port(
            topology.vm1, network: topology.tenantNet, mac: "fa:16:3e:00:00:01",
            ips: [(topology.tenantSubnet, "192.168.0.10")], owner: "compute:nova", host: "cmp1", security: false)
        items.append(ChangeLog.Item(kind: "port", id: topology.vm1, revision: 400, body: open))
        let view = NetworkView(items: items)
        let plan = SecurityGroupPlan(view: view, l2: L2Plan(view: view, config: L2Config(host: "cmp1", tunnelIP: .any)))
        #expect(plan.ports.map(\.portID) == [topology.vmB1])
    }
}
