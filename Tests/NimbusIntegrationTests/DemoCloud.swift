import Foundation
import Testing

/// Packstack's demo on the four-node sandbox (the sandbox's answer file keeps
/// `CONFIG_PROVISION_DEMO=y`): what the deploy made, read back with the stock client, then
/// `make demo`'s instance booted by scripts/demo-instance.sh as the demo user — on a compute
/// host, its floating IP routed by the network host — logged into, and deleted.
extension IntegrationTests.DeployIntegrationTests {
    func demoCloud() throws {
        let admin = CloudClient(keystonerc: Self.directory + "/keystonerc_admin")
        let external = try admin.json(["network", "show", "public"])
        #expect(
            field(external, "router:external") == "1" || field(external, "router:external") == "true",
            "\(external ?? "")")
        #expect(field(external, "provider:network_type") == "flat", "\(external ?? "")")
        #expect(field(external, "provider:physical_network") == "extnet", "\(external ?? "")")
        let subnet = try admin.json(["subnet", "show", "public_subnet"])
        #expect(
            field(subnet, "cidr") == "10.245.0.0/24" && field(subnet, "gateway_ip") == "10.245.0.1", "\(subnet ?? "")")
        #expect("\(field(subnet, "allocation_pools"))".contains("10.245.0.100"), "\(subnet ?? "")")
        #expect(field(subnet, "enable_dhcp") == "0" || field(subnet, "enable_dhcp") == "false", "\(subnet ?? "")")
        let image = try admin.json(["image", "show", "cirros"])
        #expect(field(image, "status") == "active" && field(image, "visibility") == "public", "\(image ?? "")")
        // Seed 003's listing, and m1.micro.
        let flavors = (try admin.json(["flavor", "list"]) as? [[String: Any]]) ?? []
        let rows = Set(
            flavors.map {
                "\($0["ID"] ?? "") \($0["Name"] ?? "") \($0["RAM"] ?? "") \($0["Disk"] ?? "") \($0["VCPUs"] ?? "")"
            })
        for row in [
            "1 m1.tiny 512 1 1", "2 m1.small 2048 20 1", "3 m1.medium 4096 40 2", "4 m1.large 8192 80 4",
            "5 m1.xlarge 16384 160 8", "m1.micro m1.micro 96 1 1",
        ] {
            #expect(rows.contains(row), "\(row) not in \(rows)")
        }
        // keystonerc_demo: the demo project's own private network and router1.
        let demo = CloudClient(keystonerc: Self.directory + "/keystonerc_demo")
        let token = try demo.json(["token", "issue"])
        #expect(!field(token, "id").isEmpty, "\(token ?? "")")
        let router = try demo.json(["router", "show", "router1"])
        #expect("\(field(router, "external_gateway_info"))".contains(field(external, "id")), "\(router ?? "")")
        let ports =
            (try demo.json(["port", "list", "--router", "router1", "--device-owner", "network:router_interface"])
                as? [[String: Any]]) ?? []
        #expect(ports.count == 1, "router1's interfaces: \(ports)")
        let nets = (try demo.json(["network", "list"]) as? [[String: Any]]) ?? []
        #expect(Set(nets.map { "\($0["Name"] ?? "")" }) == ["public", "private"], "\(nets)")

        // make demo's instance, twice: the second run changes nothing and prints the same login.
        let key = Self.directory + "/demo-key"
        try? FileManager.default.removeItem(atPath: key)
        try? FileManager.default.removeItem(atPath: key + ".pub")
        let script = repositoryRoot.appendingPathComponent("scripts/demo-instance.sh").path
        let openstack = try requireTool("OPENSTACK")
        let started = Date()
        let booted = try run(["OPENSTACK=\(openstack)", "DEMO_KEY=\(key)", script, Self.directory], timeout: 600)
        print("demo-instance.sh: \(Int(Date().timeIntervalSince(started))) s")
        #expect(booted.status == 0, "\(booted.text)")
        let login =
            booted.stdout.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        #expect(login.hasPrefix("ssh -i \(key) ") && login.contains("cirros@10.245.0.1"), "\(booted.stdout)")
        let again = try run(["OPENSTACK=\(openstack)", "DEMO_KEY=\(key)", script, Self.directory], timeout: 300)
        #expect(again.status == 0 && !again.stdout.contains("booting"), "\(again.text)")
        #expect(
            again.stdout.split(separator: "\n").last.map(String.init)?.trimmingCharacters(in: .whitespaces) == login)
        let address = String(login.split(separator: "@").last ?? "")
        let inside = try guestLogin(
            keyFile: key, address: address, "hostname; ping -c1 -W3 10.245.0.1 >/dev/null && echo out", timeout: 60)
        #expect(inside.stdout == "demo-vm\nout\n", "\(inside.text)")
        let servers =
            (try admin.json(["server", "list", "--all-projects", "--long", "--name", "demo-vm"]) as? [[String: Any]])
            ?? []
        #expect(["node3", "node4"].contains(servers.first.map { "\($0["Host"] ?? "")" } ?? ""), "\(servers)")
        try linkCut(address: address, key: key)
        // Gone again, with its floating IP: the suite's later reboots carry no guest.
        #expect(try demo.openstack(["server", "delete", "--wait", "demo-vm"]).status == 0)
        #expect(try demo.openstack(["floating", "ip", "delete", address]).status == 0)
        let left = (try demo.json(["server", "list"]) as? [[String: Any]]) ?? []
        #expect(left.isEmpty, "\(left)")
    }

    /// The fault drill of the network host's uplink: node2's eth1 (in br-ex, which carries
    /// every floating IP) down for 10 s while demo-vm is pinged through its floating IP. The
    /// pings stop, come back within 10 s of the link, and the guest kept running with its
    /// file; status is green again.
    func linkCut(address: String, key: String) throws {
        let marked = try guestLogin(
            keyFile: key, address: address, "echo before-the-cut > /home/cirros/mark && sync && cat /proc/uptime",
            timeout: 60)
        #expect(marked.status == 0, "\(marked.text)")
        let uptime = Double(marked.stdout.split(separator: " ").first ?? "") ?? 0
        func pings() throws -> Bool { try run(["ping", "-c1", "-W1", address], timeout: 5).status == 0 }
        #expect(try pings(), "demo-vm's floating IP before the cut")
        let cut = try ssh(
            "node2", "nohup sh -c 'ip link set eth1 down; sleep 10; ip link set eth1 up' >/dev/null 2>&1 &")
        #expect(cut.status == 0, "\(cut.text)")
        let cutAt = Date()
        #expect(try eventually(5) { !(try pings()) }, "the floating IP still answers with node2's eth1 down")
        #expect(
            try eventually(30) {
                guard Date().timeIntervalSince(cutAt) > 10 else { return false }
                return try pings()
            },
            "no answer after the link came back")
        let back = Date().timeIntervalSince(cutAt)
        print(
            "link cut: demo-vm's floating IP answers again \(String(format: "%.1f", back)) s after the cut (link down 10 s)"
        )
        #expect(back < 20, "the floating IP came back \(back) s after the cut, more than 10 s after the link")
        let after = try guestLogin(keyFile: key, address: address, "cat /home/cirros/mark /proc/uptime", timeout: 60)
        let lines = after.stdout.split(separator: "\n")
        #expect(lines.first == "before-the-cut", "\(after.text)")
        let uptimeAfter = Double(lines.dropFirst().first?.split(separator: " ").first ?? "") ?? 0
        #expect(uptimeAfter > uptime, "demo-vm rebooted: uptime \(uptime) → \(uptimeAfter)")
        var status = try nimbus("status", Self.answers, timeout: 120)
        for _ in 0..<20 where status.status != 0 {
            Thread.sleep(forTimeInterval: 1)
            status = try nimbus("status", Self.answers, timeout: 120)
        }
        #expect(status.status == 0, "\(status.text)")
    }
}
