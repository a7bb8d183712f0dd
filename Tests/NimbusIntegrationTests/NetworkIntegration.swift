import Foundation
import Testing

/// The notes' network walk-through with the stock `openstack` client, in pieces any layout
/// uses: ext1 flat on extnet with the floating pool, a member's int1 with DHCP, router1 with
/// gateway and interface, class1, and ports plugged for real: a namespace on a node with a
/// veth whose node end is `tap<port id prefix>` and carries the port's MAC, as the compute
/// agent will plug a VM.
struct NetworkWalk {
    let cloud: CloudClient
    /// Runs a command on a node of the sandbox.
    let ssh: (_ node: String, _ command: String) throws -> Output
    /// The provider network's first three octets (`10.243.0`); the host is `.1` there.
    let provider: String

    /// A port as the walk uses it.
    struct Port {
        var id: String
        var mac: String
        var address: String
        var tap: String { "tap" + id.prefix(11) }
    }

    /// The agents alive, by Neutron's agent type, and on which hosts.
    func aliveAgents() throws -> [String: Set<String>] {
        let agents = (try cloud.json(["network", "agent", "list"]) as? [[String: Any]]) ?? []
        var alive: [String: Set<String>] = [:]
        for agent in agents where ["true", "1"].contains("\(agent["Alive"] ?? "")") {
            alive["\(agent["Agent Type"] ?? "")", default: []].insert("\(agent["Host"] ?? "")")
        }
        return alive
    }

    /// ext1, flat on extnet, with ext1-subnet's floating pool .210–.220 (made once: a
    /// physical network carries one flat network).
    func externalNetwork() throws {
        let existing = try cloud.openstack(["network", "show", "ext1", "-f", "value", "-c", "id"])
        guard existing.status != 0 else { return }
        let ext = try cloud.json([
            "network", "create", "--external", "--provider-network-type", "flat", "--provider-physical-network",
            "extnet", "ext1",
        ])
        #expect(["External", "1", "True"].contains(field(ext, "router:external")), "\(ext ?? "")")
        _ = try cloud.json([
            "subnet", "create", "--network", "ext1", "--subnet-range", "\(provider).0/24", "--gateway",
            "\(provider).1", "--allocation-pool", "start=\(provider).210,end=\(provider).220", "--no-dhcp",
            "ext1-subnet",
        ])
    }

    /// The member's int1 on 192.168.0.0/24 with the gateway .254, as in the notes.
    func tenantNetwork(as member: [String: String]) throws {
        _ = try cloud.json(["network", "create", "int1"], as: member)
        _ = try cloud.json(
            [
                "subnet", "create", "--network", "int1", "--subnet-range", "192.168.0.0/24", "--gateway",
                "192.168.0.254", "--dns-nameserver", "\(provider).1", "int1-subnet",
            ], as: member)
    }

    /// router1 with its gateway on ext1 and an interface on int1-subnet; its id.
    func router(as member: [String: String]) throws -> String {
        let router = try cloud.json(["router", "create", "router1"], as: member)
        #expect(
            try cloud.openstack(["router", "set", "--external-gateway", "ext1", "router1"], as: member).status == 0)
        #expect(try cloud.openstack(["router", "add", "subnet", "router1", "int1-subnet"], as: member).status == 0)
        return field(router, "id")
    }

    /// A rule of class1 (`--protocol tcp --dst-port 22`, …).
    func allow(_ rule: [String], as member: [String: String]) throws {
        _ = try cloud.json(["security", "group", "rule", "create", "--ingress"] + rule + ["class1"], as: member)
    }

    /// A port on int1 (in `groups`, with `address` when given), bound to `node`'s host name.
    func port(
        _ name: String, on node: String, groups: [String], address: String? = nil, as member: [String: String]
    ) throws -> Port {
        var arguments = ["port", "create", "--network", "int1"]
        for group in groups { arguments += ["--security-group", group] }
        if let address { arguments += ["--fixed-ip", "subnet=int1-subnet,ip-address=\(address)"] }
        let made = try cloud.json(arguments + [name], as: member)
        let port = Port(
            id: field(made, "id"), mac: field(made, "mac_address"),
            address: try #require(
                (made as? [String: Any]).flatMap {
                    ($0["fixed_ips"] as? [[String: Any]])?.first?["ip_address"] as? String
                }))
        // Bound to the node, as compute will bind it.
        let hostname = try ssh(node, "hostname").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try cloud.openstack(["port", "set", "--host", hostname, port.id]).status == 0)
        return port
    }

    /// Plugs `port` into namespace `namespace` on `node`: a veth whose node end is its tap.
    func plug(_ port: Port, into namespace: String, on node: String) throws {
        let plug = try ssh(
            node,
            "ip netns del \(namespace) 2>/dev/null; ip netns add \(namespace) && ip link add \(port.tap) type veth peer name eth0 netns \(namespace) && ip -n \(namespace) link set eth0 address \(port.mac) && ip -n \(namespace) link set eth0 up && ip -n \(namespace) link set lo up && ip link set \(port.tap) up"
        )
        #expect(plug.status == 0, "\(plug.text)")
    }

    /// A DHCP lease in the namespace (busybox udhcpc without a script: it prints the lease),
    /// tried for up to ten seconds.
    func lease(in namespace: String, on node: String) throws -> Output {
        try ssh(
            node,
            "for i in 1 2 3 4 5 6 7 8 9 10; do out=$(ip netns exec \(namespace) busybox udhcpc -f -q -n -t 3 -T 1 -i eth0 -s /bin/true 2>&1) && break; sleep 1; done; echo \"$out\""
        )
    }

    /// The lease's address on eth0 and the default route via int1's gateway.
    func configure(_ port: Port, in namespace: String, on node: String) throws {
        _ = try ssh(
            node,
            "ip -n \(namespace) addr add \(port.address)/24 dev eth0; ip -n \(namespace) route add default via 192.168.0.254"
        )
    }

    /// Whether `namespace` on `node` gets an answer from `address` within `seconds`.
    func pings(_ address: String, from namespace: String, on node: String, within seconds: Double = 20) throws -> Bool {
        try eventually(seconds) { try ssh(node, "ip netns exec \(namespace) ping -c1 -W1 \(address)").status == 0 }
    }

    /// A TCP listener on port 22 in the namespace that greets with `greeting` (a unit, so it
    /// outlives the ssh session).
    func listen(_ greeting: String, in namespace: String, on node: String) throws {
        let started = try ssh(
            node,
            "systemctl stop \(namespace)-listener 2>/dev/null; systemd-run --unit=\(namespace)-listener --collect ip netns exec \(namespace) busybox nc -ll -p 22 -e /bin/echo \(greeting) && sleep 0.5"
        )
        #expect(started.status == 0, "\(started.text)")
    }

    /// What a TCP connection from this machine to `address`:22 reads within 4 s.
    func greeting(_ address: String) throws -> String {
        try NimbusIntegrationTests.run(["sh", "-c", "timeout 4 nc -w 2 \(address) 22 </dev/null"], timeout: 10).stdout
    }

    /// Whether the floating IP answers pings from this machine within `seconds`.
    func pingsFromProvider(_ address: String, within seconds: Double = 20) throws -> Bool {
        try eventually(seconds) {
            try NimbusIntegrationTests.run(["ping", "-c1", "-W1", address], timeout: 10).status == 0
        }
    }
}

/// The walk-through on the all-in-one cloud: everything on node1.
extension IntegrationTests.IdentityIntegrationTests {
    /// The member whose network, router and class1 the walk made.
    @discardableResult
    func networkWalkthrough() throws -> [String: String] {
        let walk = NetworkWalk(cloud: Self.cloud, ssh: { _, command in try ssh(command) }, provider: "10.243.0")
        #expect(
            try eventually(60) {
                Set(try walk.aliveAgents().keys) == ["Linux bridge agent", "DHCP agent", "L3 agent"]
            }, "the L2, DHCP and L3 agents are alive")

        try walk.externalNetwork()
        // The member's side, as the notes' student does it.
        let member = try newMember("net")
        try walk.tenantNetwork(as: member)
        let routerID = try walk.router(as: member)
        _ = try Self.cloud.json(["security", "group", "create", "class1"], as: member)
        try walk.allow(["--protocol", "tcp", "--dst-port", "22"], as: member)
        try walk.allow(["--protocol", "icmp"], as: member)
        let port = try walk.port("vm1-port", on: "node1", groups: ["class1"], as: member)
        try walk.plug(port, into: "vm1", on: "node1")
        let lease = try walk.lease(in: "vm1", on: "node1")
        #expect(lease.stdout.contains(port.address), "DHCP lease for \(port.address): \(lease.text)")
        try walk.configure(port, in: "vm1", on: "node1")
        // The router answers, and reaches the port from its namespace.
        #expect(try walk.pings("192.168.0.254", from: "vm1", on: "node1"))
        #expect(try ssh("ip netns exec qrouter-\(routerID) ping -c1 -W2 \(port.address)").status == 0)
        // SNAT: the provider gateway (the host's end of the provider network) answers.
        #expect(try walk.pings("10.243.0.1", from: "vm1", on: "node1", within: 5))

        // A floating IP reaches it from the provider network.
        let floating = try Self.cloud.json(["floating", "ip", "create", "ext1"], as: member)
        let address = field(floating, "floating_ip_address")
        #expect(address.hasPrefix("10.243.0.2"), "\(floating ?? "")")
        #expect(try openstack("floating", "ip", "set", "--port", port.id, address, as: member).status == 0)
        #expect(try walk.pingsFromProvider(address), "ping the floating IP \(address) from the provider network")
        try walk.listen("hello-from-vm1", in: "vm1", on: "node1")
        var read = ""
        let greeted = try eventually(15) {
            read = try walk.greeting(address)
            return read.contains("hello-from-vm1")
        }
        let listener = try ssh("systemctl status vm1-listener --no-pager | tail -3; ip netns exec vm1 ss -ltn")
        #expect(greeted, "TCP 22 through the floating IP: \(read); listener: \(listener.text)")

        // Clean up the port namespace; the cloud's resources stay for the other tests.
        _ = try ssh("systemctl stop vm1-listener; ip netns del vm1")
        return member
    }
}
