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
        // Gone again, with its floating IP: the suite's later reboots carry no guest.
        #expect(try demo.openstack(["server", "delete", "--wait", "demo-vm"]).status == 0)
        #expect(try demo.openstack(["floating", "ip", "delete", address]).status == 0)
        let left = (try demo.json(["server", "list"]) as? [[String: Any]]) ?? []
        #expect(left.isEmpty, "\(left)")
    }
}
