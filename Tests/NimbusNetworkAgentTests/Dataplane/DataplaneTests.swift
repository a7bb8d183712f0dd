import Foundation
import NimbusNetworkAgent
import NimbusServiceKit
import Testing

/// The reconcilers on a real dataplane: three hosts simulated as namespaces (`Lab`), the
/// course notes' topology fed as the API would, instances as namespaces behind `tap<11>`
/// veths. Root only; every name is unique to the run and everything is removed after.
@Suite(
    "The dataplane, on simulated hosts", .serialized,
    .enabled(if: Lab.available, "needs root and ip, bridge, nft, dnsmasq, busybox, nsenter, conntrack, sysctl, ping"))
struct DataplaneTests {
    /// Brings up the topology on a lab's agents with both instances of the first project
    /// plugged and leased; the instances' namespaces.
    func bringUp(_ lab: Lab, _ topology: Topology, _ agents: Agents) async throws -> (vm1: String, vm2: String) {
        let clock = ContinuousClock()
        var started = clock.now
        let statuses = await agents.resync(topology.items())
        print("resync of a bare cloud (5 agents): \(clock.now - started)")
        #expect(statuses["dhcp/port/\(topology.dhcpPort)"]?.state == "ACTIVE")
        #expect(statuses["l3/port/\(topology.interfacePort)"]?.state == "ACTIVE")
        #expect(statuses["l3/port/\(topology.gatewayPort)"]?.state == "ACTIVE")
        #expect(statuses["l2-cmp1/port/\(topology.vm1)"]?.state == "DOWN")
        let vm1 = try await lab.instance(port: topology.vm1, mac: topology.mac(0x01), on: lab.compute1)
        let vm2 = try await lab.instance(port: topology.vm2, mac: topology.mac(0x02), on: lab.compute2)
        started = clock.now
        let plugged = await agents.rescan()
        print("plugging two taps: \(clock.now - started)")
        #expect(plugged.filter { [topology.vm1, topology.vm2].contains($0.id) }.map(\.state) == ["ACTIVE", "ACTIVE"])
        started = clock.now
        let lease = await lab.lease(vm1)
        print("DHCP lease: \(clock.now - started)")
        #expect(lease == Lab.Lease(ip: "192.168.0.10", mtu: "1450", router: "192.168.0.254"))
        #expect(await lab.lease(vm2)?.ip == "192.168.0.11")
        return (vm1, vm2)
    }

    @Test(
        "an instance gets its lease, reaches its gateway and the provider side through SNAT, and is reached through its floating IP once ssh is allowed"
    )
    func instanceConnectivity() async throws {
        let topology = Topology.random()
        try await Lab.with(agentNamespaces: topology.agentNamespaces) { lab in
            let agents = Agents(lab: lab)
            // A stale neighbour entry for the floating IP, which the gratuitous ARP must fix.
            try await lab.run(
                [
                    "ip", "-n", lab.provider, "neigh", "replace", "10.98.0.211", "lladdr", "02:00:00:00:00:99", "dev",
                    "eth0", "nud", "stale",
                ])
            let (vm1, vm2) = try await bringUp(lab, topology, agents)
            #expect(await lab.ping(from: vm1, "192.168.0.254"))
            // The metadata service through the router's proxy: each guest is named by its
            // address, signed; the proxy's port is closed to the provider side.
            let echo = try MetadataEcho(port: agents.metadataPort, secret: Agents.metadataSecret)
            defer { echo.stop() }
            for (instance, name) in [(vm1, "i-1"), (vm2, "i-2")] {
                var answer = ""
                for _ in 0..<30 where !answer.contains("\"instance\"") {
                    answer =
                        (try? await lab.run(
                            ["busybox", "wget", "-qO-", "http://169.254.169.254/openstack/latest/meta_data.json"],
                            in: instance, timeout: 3)) ?? ""
                    if !answer.contains("\"instance\"") { try await Task.sleep(for: .milliseconds(100)) }
                }
                let echoed = try? JSON.parse(Array(answer.utf8))
                #expect(echoed?["instance"]?.string == name && echoed?["signed"]?.bool == true, "\(answer)")
                #expect(echoed?["path"]?.string == "/openstack/latest/meta_data.json", "\(answer)")
                #expect(echoed?["router"]?.string == topology.router, "\(answer)")
            }
            #expect(await TCP.probe(from: lab.provider, to: IPv4("10.98.0.210") ?? .any, port: 9697) == .timeout)
            #expect(await lab.ping(from: vm1, "192.168.0.11"))
            let outside = try await TCP.listen(in: lab.provider, port: 9000)
            defer { outside.stop() }
            #expect(await TCP.probe(from: vm2, to: IPv4("10.98.0.1") ?? .any, port: 9000) == .open("hi 10.98.0.210"))
            #expect(await lab.ping(from: vm2, "10.98.0.1"))
            // The floating IP's owner leaves as the floating IP.
            #expect(await TCP.probe(from: vm1, to: IPv4("10.98.0.1") ?? .any, port: 9000) == .open("hi 10.98.0.211"))
            var announced = false
            for _ in 0..<40 where !announced {
                let neighbour = try await lab.run(["ip", "-n", lab.provider, "neigh", "show", "10.98.0.211"])
                announced = neighbour.contains(topology.mac(0xc2))
                if !announced { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(announced, "the provider host's neighbour entry for the floating IP is the router's gateway MAC")

            let ssh = try await TCP.listen(in: vm1, port: 22)
            defer { ssh.stop() }
            let floating = IPv4("10.98.0.211") ?? .any
            let fixed = IPv4("192.168.0.10") ?? .any
            #expect(await TCP.probe(from: lab.provider, to: floating, port: 22) == .timeout)
            #expect(await TCP.probe(from: vm2, to: fixed, port: 22) == .timeout)
            let clock = ContinuousClock()
            let started = clock.now
            await agents.apply(try #require(topology.item(topology.group, ssh: true)))
            print("a security group change on 5 agents: \(clock.now - started)")
            #expect(await TCP.probe(from: lab.provider, to: floating, port: 22) == .open("hi 10.98.0.1"))
            #expect(await TCP.probe(from: vm2, to: fixed, port: 22) == .open("hi 192.168.0.11"))
            // Web is open to the group's own members only.
            let web = try await TCP.listen(in: vm1, port: 80)
            defer { web.stop() }
            #expect(await TCP.probe(from: vm2, to: fixed, port: 80) == .open("hi 192.168.0.11"))
            #expect(await TCP.probe(from: lab.provider, to: floating, port: 80) == .timeout)
        }
    }

    @Test("instances on two compute hosts talk over VXLAN while a second project's identical network stays apart")
    func isolation() async throws {
        let topology = Topology.random()
        try await Lab.with(agentNamespaces: topology.agentNamespaces) { lab in
            let agents = Agents(lab: lab)
            let (vm1, vm2) = try await bringUp(lab, topology, agents)
            let b1 = try await lab.instance(port: topology.vmB1, mac: topology.mac(0xb1), on: lab.compute1)
            let b2 = try await lab.instance(port: topology.vmB2, mac: topology.mac(0xb2), on: lab.compute2)
            _ = await agents.rescan()
            #expect(await lab.lease(b1)?.ip == "192.168.0.10")
            #expect(await lab.lease(b2)?.ip == "192.168.0.20")
            #expect(await lab.ping(from: vm2, "192.168.0.10"))
            #expect(try await lab.run(["ip", "-n", vm2, "neigh", "show", "192.168.0.10"]).contains(topology.mac(0x01)))
            #expect(await lab.ping(from: b2, "192.168.0.10"))
            #expect(try await lab.run(["ip", "-n", b2, "neigh", "show", "192.168.0.10"]).contains(topology.mac(0xb1)))
            #expect(!(await lab.ping(from: b1, "192.168.0.11")))
            #expect(!(await lab.ping(from: b1, "192.168.0.254")))
            // The full MTU of the overlay passes with DF set; one byte more does not.
            #expect(
                await lab.succeeds(["ping", "-c", "1", "-W", "1", "-M", "do", "-s", "1422", "192.168.0.11"], in: vm1))
            #expect(
                !(await lab.succeeds(["ping", "-c", "1", "-W", "1", "-M", "do", "-s", "1423", "192.168.0.11"], in: vm1))
            )
            // l2pop: compute1 sends vm2's frames to compute2 only.
            let fdb = try await lab.run(["bridge", "-n", lab.compute1, "fdb", "show", "dev", "vxlan-1001"])
            #expect(fdb.contains("\(topology.mac(0x02)) dst 10.99.0.12 self permanent"))
        }
    }

    @Test("a port added later gets its lease from the same dnsmasq, and a floating IP moves between instances")
    func changes() async throws {
        let topology = Topology.random()
        try await Lab.with(agentNamespaces: topology.agentNamespaces) { lab in
            let agents = Agents(lab: lab)
            let (vm1, _) = try await bringUp(lab, topology, agents)
            let pidFile = lab.directory + "/dhcp/\(topology.tenantNet)/pid"
            let pid = try String(contentsOfFile: pidFile, encoding: .utf8)
            let vm3 = UUID().uuidString.lowercased()
            let port = Body.port(
                vm3, network: topology.tenantNet, mac: topology.mac(0x03),
                ips: [(topology.tenantSubnet, "192.168.0.12")],
                owner: "compute:nova", device: "i-5", host: "cmp1", groups: [topology.group])
            let statuses = await agents.apply(ChangeLog.Item(kind: "port", id: vm3, revision: 100, body: port))
            #expect(statuses.map(\.state) == ["DOWN"])
            let instance = try await lab.instance(port: vm3, mac: topology.mac(0x03), on: lab.compute1)
            #expect(await agents.rescan().first { $0.id == vm3 }?.state == "ACTIVE")
            #expect(await lab.lease(instance)?.ip == "192.168.0.12")
            #expect(try String(contentsOfFile: pidFile, encoding: .utf8) == pid, "dnsmasq was reloaded, not restarted")
            // The new member is in the group's set at once: web from members only.
            let web = try await TCP.listen(in: vm1, port: 80)
            defer { web.stop() }
            #expect(
                await TCP.probe(from: instance, to: IPv4("192.168.0.10") ?? .any, port: 80) == .open("hi 192.168.0.12"))

            let namespace = "qrouter-\(topology.router)"
            #expect(await lab.ping(from: lab.provider, "10.98.0.211"))
            let released = Body.floatingIP(
                topology.floatingIP, address: "10.98.0.211", fixed: nil, port: nil, router: nil,
                network: topology.extNet)
            await agents.apply(
                ChangeLog.Item(kind: "floatingip", id: topology.floatingIP, revision: 101, body: released))
            #expect(!(try await lab.run(["ip", "-n", namespace, "addr", "show"])).contains("10.98.0.211/32"))
            #expect(!(await lab.ping(from: lab.provider, "10.98.0.211")))
            let moved = Body.floatingIP(
                topology.floatingIP, address: "10.98.0.211", fixed: "192.168.0.12", port: vm3, router: topology.router,
                network: topology.extNet)
            await agents.apply(ChangeLog.Item(kind: "floatingip", id: topology.floatingIP, revision: 102, body: moved))
            let outside = try await TCP.listen(in: lab.provider, port: 9000)
            defer { outside.stop() }
            #expect(
                await TCP.probe(from: instance, to: IPv4("10.98.0.1") ?? .any, port: 9000) == .open("hi 10.98.0.211"))
            #expect(await lab.ping(from: lab.provider, "10.98.0.211"))

            // The deleted port's address handed to a new port: dnsmasq forgets the old lease
            // (dhcp_release), or it would refuse the address to the new MAC for a day.
            await agents.apply(
                ChangeLog.Item(kind: "floatingip", id: topology.floatingIP, revision: 103, body: released))
            await agents.apply(ChangeLog.Item(kind: "port", id: vm3, revision: 104, body: nil))
            _ = try await lab.run(["ip", "netns", "del", instance])
            let vm4 = UUID().uuidString.lowercased()
            let reused = Body.port(
                vm4, network: topology.tenantNet, mac: topology.mac(0x04),
                ips: [(topology.tenantSubnet, "192.168.0.12")],
                owner: "compute:nova", device: "i-6", host: "cmp1", groups: [topology.group])
            await agents.apply(ChangeLog.Item(kind: "port", id: vm4, revision: 105, body: reused))
            let second = try await lab.instance(port: vm4, mac: topology.mac(0x04), on: lab.compute1)
            _ = await agents.rescan()
            #expect(await lab.lease(second)?.ip == "192.168.0.12", "the address of a deleted port's lease")
        }
    }

    /// What a resync must not change: every device's index (so nothing was recreated), the
    /// addresses and routes in the agents' namespaces, the rulesets, the dnsmasq processes.
    func snapshot(_ lab: Lab, _ topology: Topology) async throws -> [String] {
        var lines: [String] = []
        for host in [lab.network, lab.compute1, lab.compute2] {
            lines += try await lab.run(["ip", "-n", host, "-o", "link", "show"]).split(separator: "\n").map {
                host + " " + $0.split(separator: " ").prefix(2).joined(separator: " ")
            }
            // The agent's own VXLAN entries (the flood entries and permanent ones), not those the
            // kernel learns from traffic and ages out.
            lines += try await lab.run(["bridge", "-n", host, "fdb", "show"]).split(separator: "\n").filter {
                $0.contains(" dst ") && ($0.hasPrefix("00:00:00:00:00:00 ") || $0.contains("permanent"))
            }
            .map { host + " " + $0 }
            let ruleset = try await lab.run(["nft", "-a", "list", "ruleset"], in: host)
            lines.append(host + " " + ruleset.replacing(/packets \d+ bytes \d+/, with: "counted"))
        }
        for namespace in topology.agentNamespaces.prefix(1) + topology.agentNamespaces.suffix(1) {
            // (Without the flags of duplicate address detection, which ends on its own.)
            lines += try await lab.run(["ip", "-n", namespace, "-o", "addr", "show"]).split(separator: "\n").map {
                $0.replacingOccurrences(of: " tentative", with: "")
            }
            lines += try await lab.run(["ip", "-n", namespace, "route", "show"]).split(separator: "\n").map(String.init)
        }
        lines.append(try String(contentsOfFile: lab.directory + "/dhcp/\(topology.tenantNet)/pid", encoding: .utf8))
        return lines
    }

    @Test("a restarted agent's resync changes nothing, and deleting everything leaves nothing behind")
    func restartAndTeardown() async throws {
        let topology = Topology.random()
        try await Lab.with(agentNamespaces: topology.agentNamespaces) { lab in
            let (vm1, vm2) = try await bringUp(lab, topology, Agents(lab: lab))
            let before = try await snapshot(lab, topology)
            let recorder = RecordingRunner()
            let restarted = Agents(lab: lab, runner: recorder)
            let clock = ContinuousClock()
            var started = clock.now
            let statuses = await restarted.resync(topology.items())
            print("resync after a restart, nothing to do: \(clock.now - started), \(recorder.commands.count) reads")
            #expect(recorder.changes == [])
            let ports = statuses.values.filter { $0.kind == "port" && ![topology.vmB1, topology.vmB2].contains($0.id) }
            // The network host's L2 agent (4), each compute host's (1), DHCP (2) and L3 (2).
            #expect(ports.count == 10 && ports.allSatisfy { $0.state == "ACTIVE" })
            let after = try await snapshot(lab, topology)
            #expect(
                after == before,
                "gone: \(before.filter { !after.contains($0) })\nnew: \(after.filter { !before.contains($0) })")
            #expect(await lab.ping(from: vm1, "192.168.0.11"))

            // The compute agent deletes the instances, then the API everything else.
            for instance in [vm1, vm2] { try await lab.run(["ip", "netns", "del", instance]) }
            started = clock.now
            for item in topology.items().reversed() {
                await restarted.apply(
                    ChangeLog.Item(kind: item.kind, id: item.id, revision: item.revision + 1000, body: nil))
            }
            print("deleting everything, item by item: \(clock.now - started)")
            let namespaces = try await lab.run(["ip", "netns", "list"])
            for namespace in topology.agentNamespaces { #expect(!namespaces.contains(namespace)) }
            for host in [lab.network, lab.compute1, lab.compute2] {
                let links = try await lab.run(["ip", "-n", host, "-o", "link", "show"])
                for prefix in ["brq-", "vxlan-", "tap"] {
                    #expect(!links.contains(": \(prefix)"), "\(prefix) left on \(host)")
                }
                #expect(try await lab.run(["nft", "list", "tables"], in: host).isEmpty)
            }
            let processes = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter {
                $0.allSatisfy(\.isNumber)
            }
            let dnsmasq = processes.filter { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))?.contains(lab.directory) == true
            }
            #expect(dnsmasq.isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: lab.directory + "/dhcp").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: lab.directory + "/l3").isEmpty)
        }
    }
}
