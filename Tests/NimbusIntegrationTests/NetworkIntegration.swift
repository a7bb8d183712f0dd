import Foundation
import Testing

/// The notes' network walk-through on the all-in-one cloud, with the stock `openstack`
/// client: the agents alive, ext1 flat on extnet with the floating pool, int1 with DHCP,
/// router1 with gateway and interface, class1 allowing ssh and icmp, a port plugged for
/// real (a namespace on the node with a veth named `tap<port id prefix>`, as the compute
/// agent will plug a VM), its DHCP lease, the router, SNAT and the floating IP.
extension IntegrationTests.IdentityIntegrationTests {
    /// `openstack … -f json` parsed.
    func openstackJSON(_ arguments: String..., as changes: [String: String] = [:]) throws -> Any? {
        let client = try requireTool("OPENSTACK")
        let output = try Self.withCredentials(client, arguments + ["-f", "json"], changes: changes)
        #expect(output.status == 0, "openstack \(arguments.joined(separator: " ")): \(output.text)")
        return try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }

    func field(_ object: Any?, _ key: String) -> String {
        ((object as? [String: Any])?[key]).map { "\($0)" } ?? ""
    }

    /// Polls `check` every half second for up to `seconds`.
    func eventually(_ seconds: Double, _ check: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if try check() { return true }
            Thread.sleep(forTimeInterval: 0.5)
        } while Date() < deadline
        return false
    }

    func networkWalkthrough() throws {
        // The three agents report in.
        #expect(
            try eventually(60) {
                let agents = (try openstackJSON("network", "agent", "list") as? [[String: Any]]) ?? []
                let alive = agents.filter { "\($0["Alive"] ?? "")" == "true" || "\($0["Alive"] ?? "")" == "1" }
                return Set(alive.map { "\($0["Agent Type"] ?? "")" }) == [
                    "Linux bridge agent", "DHCP agent", "L3 agent",
                ]
            }, "the L2, DHCP and L3 agents are alive")

        // Admin: the external network on the sandbox's provider network.
        let ext = try openstackJSON(
            "network", "create", "--external", "--provider-network-type", "flat", "--provider-physical-network",
            "extnet", "ext1")
        #expect(field(ext, "router:external") == "External" || field(ext, "router:external") == "1", "\(ext ?? "")")
        _ = try openstackJSON(
            "subnet", "create", "--network", "ext1", "--subnet-range", "10.243.0.0/24", "--gateway", "10.243.0.1",
            "--allocation-pool", "start=10.243.0.210,end=10.243.0.220", "--no-dhcp", "ext1-subnet")

        // The member's side, as the notes' student does it.
        let member = try newMember("net")
        _ = try openstackJSON("network", "create", "int1", as: member)
        _ = try openstackJSON(
            "subnet", "create", "--network", "int1", "--subnet-range", "192.168.0.0/24", "--gateway", "192.168.0.254",
            "--dns-nameserver", "10.243.0.1", "int1-subnet", as: member)
        let router = try openstackJSON("router", "create", "router1", as: member)
        let routerID = field(router, "id")
        #expect(try openstack("router", "set", "--external-gateway", "ext1", "router1", as: member).status == 0)
        #expect(try openstack("router", "add", "subnet", "router1", "int1-subnet", as: member).status == 0)
        _ = try openstackJSON("security", "group", "create", "class1", as: member)
        for rule in [["--protocol", "tcp", "--dst-port", "22"], ["--protocol", "icmp"]] {
            let arguments = ["security", "group", "rule", "create", "--ingress"] + rule + ["class1", "-f", "json"]
            let output = try Self.withCredentials(try requireTool("OPENSTACK"), arguments, changes: member)
            #expect(output.status == 0, "\(output.text)")
        }
        let port = try openstackJSON(
            "port", "create", "--network", "int1", "--security-group", "class1", "vm1-port", as: member)
        let portID = field(port, "id")
        let mac = field(port, "mac_address")
        let fixedIP = try #require(
            (port as? [String: Any]).flatMap { ($0["fixed_ips"] as? [[String: Any]])?.first?["ip_address"] as? String })
        // Bind it to the node, as compute will.
        let hostname = try ssh("hostname").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try openstack("port", "set", "--host", hostname, portID).status == 0)

        // Plug it for real: a namespace with a veth whose node end is tap<11>.
        let tap = "tap" + portID.prefix(11)
        let plug = try ssh(
            "ip netns del vm1 2>/dev/null; ip netns add vm1 && ip link add \(tap) type veth peer name eth0 netns vm1 && ip -n vm1 link set eth0 address \(mac) && ip -n vm1 link set eth0 up && ip -n vm1 link set lo up && ip link set \(tap) up"
        )
        #expect(plug.status == 0, "\(plug.text)")
        // DHCP gives the port its address (busybox udhcpc, no script: print the lease).
        let lease = try ssh(
            "for i in 1 2 3 4 5 6 7 8 9 10; do out=$(ip netns exec vm1 busybox udhcpc -f -q -n -t 3 -T 1 -i eth0 -s /bin/true 2>&1) && break; sleep 1; done; echo \"$out\""
        )
        #expect(lease.stdout.contains(fixedIP), "DHCP lease for \(fixedIP): \(lease.text)")
        _ = try ssh("ip -n vm1 addr add \(fixedIP)/24 dev eth0; ip -n vm1 route add default via 192.168.0.254")
        // The router answers, and reaches the port from its namespace.
        #expect(try eventually(20) { try ssh("ip netns exec vm1 ping -c1 -W1 192.168.0.254").status == 0 })
        #expect(try ssh("ip netns exec qrouter-\(routerID) ping -c1 -W2 \(fixedIP)").status == 0)
        // SNAT: the provider gateway (the host's end of the provider network) answers.
        #expect(try ssh("ip netns exec vm1 ping -c1 -W2 10.243.0.1").status == 0)

        // A floating IP reaches it from the provider network.
        let floating = try openstackJSON("floating", "ip", "create", "ext1", as: member)
        let address = field(floating, "floating_ip_address")
        #expect(address.hasPrefix("10.243.0.2"), "\(floating ?? "")")
        #expect(try openstack("floating", "ip", "set", "--port", portID, address, as: member).status == 0)
        #expect(
            try eventually(20) { try run(["ping", "-c1", "-W1", address], timeout: 10).status == 0 },
            "ping the floating IP \(address) from the provider network")
        let port22 = try ssh(
            "systemd-run --unit=vm1-listener --collect ip netns exec vm1 busybox nc -ll -p 22 -e /bin/echo hello-from-vm1 && sleep 0.5"
        )
        #expect(port22.status == 0, "\(port22.text)")
        var reached = Output(status: -1, stdout: "", stderr: "")
        let greeted = try eventually(15) {
            reached = try run(["sh", "-c", "timeout 4 nc -w 2 \(address) 22 </dev/null"], timeout: 10)
            return reached.stdout.contains("hello-from-vm1")
        }
        let listener = try ssh("systemctl status vm1-listener --no-pager | tail -3; ip netns exec vm1 ss -ltn")
        #expect(greeted, "TCP 22 through the floating IP: \(reached.text); listener: \(listener.text)")

        // Clean up the port namespace; the cloud's resources stay for the other tests.
        _ = try ssh("systemctl stop vm1-listener; ip netns del vm1")
    }
}
