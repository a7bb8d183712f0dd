import Foundation
import Testing

/// The network on the four-node sandbox in the three-node layout (node1 controller, node2
/// network host, node3 and node4 computes): ports on both computes talk over VXLAN, two
/// projects on the same 192.168.0.0/24 stay apart, class1's TCP 22 rule opens the floating
/// IP, and the traffic recovers from every agent killed and from a network host reboot.
extension IntegrationTests.DeployIntegrationTests {
    /// What the agents made on a node: namespaces, links and dnsmasq processes. Equal
    /// before and after a restart means nothing leaked and nothing was lost.
    func dataplane(_ node: String) throws -> String {
        try ssh(
            node,
            "ip netns list | cut -d' ' -f1 | sort; ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^(brq|vxlan|tap|qr|qg|ns)-|^tap' | sort; echo dnsmasq $(pgrep -c dnsmasq)"
        ).stdout
    }

    @Test(
        "The network and servers across hosts: VXLAN between the computes, projects apart, class1 opens TCP 22, agents killed, the network host rebooted; servers by zone and group on both computes, a compute agent killed, a compute host rebooted",
        whenInstalled("OPENSTACK"), .timeLimit(.minutes(20)))
    func networkAcrossHosts() throws {
        let started = Date()
        func step(_ name: String) { print("networkAcrossHosts +\(Int(Date().timeIntervalSince(started))) s: \(name)") }
        // Fresh node disks: the other tests of the suite leave node4 as an all-in-one cloud
        // with br-ex on eth0 (bridgeOnSSHInterface), which would run a second DHCP and L3 agent.
        _ = try nimbus("sandbox", "down", "--name", Self.name)
        try? FileManager.default.removeItem(atPath: "/var/lib/nimbus/sandbox/\(Self.name)")
        try? FileManager.default.removeItem(atPath: Self.answers)
        try up()
        // As the notes: the admin makes the external network (ext1) on extnet themselves.
        try setAnswer("CONFIG_PROVISION_DEMO", "n")
        // node3 the only compute at first: node4 joins later (scale-out).
        try setAnswer("CONFIG_COMPUTE_HOSTS", "10.244.0.13")
        let deployed = try deploy()
        #expect(deployed.status == 0, "\(deployed.text)")
        let cloud = CloudClient(keystonerc: Self.directory + "/keystonerc_admin")
        let walk = NetworkWalk(cloud: cloud, ssh: { try ssh($0, $1) }, provider: "10.245.0")
        let hosts = try Self.nodes.map {
            try ssh($0, "hostname").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var expected: [String: Set<String>] = [
            "Linux bridge agent": [hosts[1], hosts[2]], "DHCP agent": [hosts[1]], "L3 agent": [hosts[1]],
        ]
        var alive: [String: Set<String>] = [:]
        #expect(
            try eventually(60) {
                alive = try walk.aliveAgents()
                return alive == expected
            }, "agents alive: \(alive)")

        step("agents alive")
        // Project A as the notes make it, with class1 allowing only ICMP so far.
        try walk.externalNetwork()
        step("ext1")
        let a = try cloud.newMember("neta")
        step("member A")
        try walk.tenantNetwork(as: a)
        step("int1")
        let routerID = try walk.router(as: a)
        step("router1")
        _ = try cloud.json(["security", "group", "create", "class1"], as: a)
        try walk.allow(["--protocol", "icmp"], as: a)
        step("class1")
        let a1 = try walk.port("a1", on: "node3", groups: ["class1"], as: a)
        step("a1")
        try walk.plug(a1, into: "vma1", on: "node3")
        let leaseA1 = try walk.lease(in: "vma1", on: "node3")
        #expect(leaseA1.stdout.contains(a1.address), "node3 lease for \(a1.address): \(leaseA1.text)")
        try walk.configure(a1, in: "vma1", on: "node3")
        #expect(try walk.pings("192.168.0.254", from: "vma1", on: "node3"), "a1 → router1 before the scale-out")

        // Scale-out: node4 added to CONFIG_COMPUTE_HOSTS joins on the next deploy — its
        // hypervisor and L2 agent up — and node3's agents are not restarted: a1 keeps its
        // address and its way out all along.
        let agentSince =
            "systemctl show -p ActiveEnterTimestampMonotonic --value nimbus-compute-agent nimbus-network-agent"
        let node3Before = try ssh("node3", agentSince).stdout
        try setAnswer("CONFIG_COMPUTE_HOSTS", "10.244.0.13,10.244.0.14")
        let grown = try deploy()
        #expect(grown.status == 0, "\(grown.text)")
        expected["Linux bridge agent"] = [hosts[1], hosts[2], hosts[3]]
        #expect(
            try eventually(60) {
                alive = try walk.aliveAgents()
                return alive == expected
            }, "agents alive after the scale-out: \(alive)")
        let hypervisors = (try cloud.json(["hypervisor", "list"]) as? [[String: Any]]) ?? []
        #expect(
            Set(hypervisors.filter { "\($0["State"] ?? "")" == "up" }.map { "\($0["Hypervisor Hostname"] ?? "")" })
                == [hosts[2], hosts[3]], "\(hypervisors)")
        #expect(try ssh("node3", agentSince).stdout == node3Before, "node3's agents were restarted by the scale-out")
        #expect(
            try walk.pings("192.168.0.254", from: "vma1", on: "node3", within: 3), "a1 → router1 after the scale-out")
        step("scale-out: node4 joined")

        let a2 = try walk.port("a2", on: "node4", groups: ["class1"], as: a)
        step("a2")
        try walk.plug(a2, into: "vma2", on: "node4")
        step("plugged")
        for (port, namespace, node) in [(a2, "vma2", "node4")] {
            let lease = try walk.lease(in: namespace, on: node)
            #expect(lease.stdout.contains(port.address), "\(node) lease for \(port.address): \(lease.text)")
            try walk.configure(port, in: namespace, on: node)
            step("leased \(node)")
        }
        step("project A plugged and leased")
        // Across the computes over VXLAN, to the router on the network host, out through SNAT.
        #expect(try walk.pings(a2.address, from: "vma1", on: "node3"), "a1 → a2 over VXLAN")
        #expect(try walk.pings("192.168.0.254", from: "vma2", on: "node4"))
        #expect(try walk.pings("10.245.0.1", from: "vma1", on: "node3", within: 5), "SNAT")
        #expect(try ssh("node2", "ip netns exec qrouter-\(routerID) ping -c1 -W2 \(a2.address)").status == 0)

        step("VXLAN, router, SNAT")
        // The floating IP: ICMP passes, TCP 22 only once class1 allows it.
        let floating = try cloud.json(["floating", "ip", "create", "ext1"], as: a)
        let address = field(floating, "floating_ip_address")
        #expect(try cloud.openstack(["floating", "ip", "set", "--port", a1.id, address], as: a).status == 0)
        #expect(try walk.pingsFromProvider(address), "ping the floating IP \(address)")
        try walk.listen("hello-from-a1", in: "vma1", on: "node3")
        #expect(!(try walk.greeting(address).contains("hello-from-a1")), "TCP 22 before class1 allows it")
        try walk.allow(["--protocol", "tcp", "--dst-port", "22"], as: a)
        #expect(try eventually(15) { try walk.greeting(address).contains("hello-from-a1") }, "TCP 22 once allowed")

        step("floating IP and TCP 22")
        // Project B on the same CIDR, its port on node3 beside a1: it has its own DHCP server
        // and cannot reach A's ports.
        let b = try cloud.newMember("netb")
        try walk.tenantNetwork(as: b)
        // B's fixed address is none of A's (A's are allocated at random: the same address on
        // both sides would make each "reach" its own).
        let bAddress =
            ["192.168.0.50", "192.168.0.51", "192.168.0.52"].first { ![a1.address, a2.address].contains($0) }
            ?? "192.168.0.53"
        let b1 = try walk.port("b1", on: "node3", groups: ["default"], address: bAddress, as: b)
        try walk.plug(b1, into: "vmb1", on: "node3")
        let leaseB = try walk.lease(in: "vmb1", on: "node3")
        #expect(leaseB.stdout.contains(bAddress), "\(leaseB.text)")
        try walk.configure(b1, in: "vmb1", on: "node3")
        let dhcpB = try cloud.json(["port", "list", "--device-owner", "network:dhcp", "--long"], as: b)
        let dhcpAddress =
            ((dhcpB as? [[String: Any]])?.first?["Fixed IP Addresses"] as? [[String: Any]])?.first?["ip_address"]
            as? String ?? ""
        #expect(try walk.pings(dhcpAddress, from: "vmb1", on: "node3"), "B reaches its DHCP port \(dhcpAddress)")
        let target = [a1, a2].first { $0.address != dhcpAddress } ?? a1
        #expect(
            !(try walk.pings(target.address, from: "vmb1", on: "node3", within: 3)),
            "B must not reach A's \(target.address)")
        #expect(!(try walk.pings(bAddress, from: "vma2", on: "node4", within: 3)), "A must not reach B's b1")

        step("project B apart")
        // Every agent killed: traffic goes on, and nothing is made twice or left behind.
        let before = try ["node2", "node3", "node4"].map(dataplane)
        // kill -9 of each agent's process (systemctl kill cannot signal a sandbox node's
        // cgroup); systemd starts it again.
        let units = [
            ("node2", "nimbus-network-agent"), ("node2", "nimbus-network-gateway"), ("node3", "nimbus-network-agent"),
            ("node4", "nimbus-network-agent"),
        ]
        func mainPID(_ node: String, _ unit: String) throws -> String {
            try ssh(node, "systemctl show -p MainPID --value \(unit)").stdout.trimmingCharacters(
                in: .whitespacesAndNewlines)
        }
        var killed: [String] = []
        for (node, unit) in units {
            let pid = try mainPID(node, unit)
            killed.append(pid)
            #expect(try ssh(node, "kill -9 \(pid)").status == 0, "\(node) \(unit) \(pid)")
        }
        for ((node, unit), pid) in zip(units, killed) {
            #expect(
                try eventually(30) {
                    let now = try mainPID(node, unit)
                    let active = try ssh(node, "systemctl is-active \(unit)").stdout == "active\n"
                    return now != pid && now != "0" && active
                }, "\(node) \(unit) started again")
        }
        #expect(try walk.pings(a2.address, from: "vma1", on: "node3"), "a1 → a2 after the agents were killed")
        #expect(try walk.pingsFromProvider(address), "the floating IP after the agents were killed")
        Thread.sleep(forTimeInterval: 3)
        let after = try ["node2", "node3", "node4"].map(dataplane)
        #expect(
            after == before,
            "before:\n\(before.joined(separator: "\n--\n"))\nafter:\n\(after.joined(separator: "\n--\n"))")

        step("agents killed and back")
        // The network host rebooted: every router and DHCP server comes back.
        let reboot = try nimbus("sandbox", "reboot", "--name", Self.name, "node2", timeout: 180)
        #expect(reboot.status == 0, "\(reboot.text)")
        #expect(try walk.pings("192.168.0.254", from: "vma1", on: "node3", within: 60), "the router after the reboot")
        #expect(try walk.pings("10.245.0.1", from: "vma1", on: "node3"), "SNAT after the reboot")
        #expect(try walk.pingsFromProvider(address), "the floating IP after the reboot")
        let again = try walk.lease(in: "vma2", on: "node4")
        #expect(again.stdout.contains(a2.address), "DHCP after the reboot: \(again.text)")
        var rebooted = ""
        #expect(
            try eventually(20) {
                rebooted = try dataplane("node2")
                return rebooted == before[0]
            }, "node2 before:\n\(before[0])\nafter the reboot:\n\(rebooted)")

        step("network host rebooted")
        try computeAcrossHosts(cloud: cloud, member: a, hosts: hosts, step: step)
        // Deleting it all leaves nothing behind on any host.
        for node in ["node3", "node4"] {
            _ = try ssh(
                node,
                "systemctl stop vma1-listener 2>/dev/null; ip netns del vma1; ip netns del vma2; ip netns del vmb1")
        }
        _ = try cloud.openstack(["floating", "ip", "delete", address], as: a)
        _ = try cloud.openstack(["router", "remove", "subnet", "router1", "int1-subnet"], as: a)
        _ = try cloud.openstack(["router", "delete", "router1"], as: a)
        for (member, ports) in [(a, [a1, a2]), (b, [b1])] {
            for port in ports { #expect(try cloud.openstack(["port", "delete", port.id], as: member).status == 0) }
            #expect(try cloud.openstack(["network", "delete", "int1"], as: member).status == 0)
        }
        for node in ["node2", "node3", "node4"] {
            var left = ""
            #expect(
                try eventually(20) {
                    left = try dataplane(node)
                    return left == "dnsmasq 0\n"
                }, "\(node) keeps: \(left)")
        }
        step("all deleted")
    }
}
