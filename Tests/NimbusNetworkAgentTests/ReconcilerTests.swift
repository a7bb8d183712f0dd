import Foundation
import Logging
import NimbusAgentKit
import NimbusNetworkAgent
import NimbusServiceKit
import NimbusSystem
import Testing

/// The reconcilers over a fake runner: which commands a pass issues, in which namespace,
/// and what it reports.
@Suite("The reconcilers, with a fake host")
struct ReconcilerTests {
    let topology = Topology.fixed
    static let logger = Logger(label: "test.network-agent") { _ in SwiftLogNoOpLogHandler() }

    @Test("the L2 agent of a bare compute host creates its bridges and filters, and waits for the taps")
    func bareComputeHost() async throws {
        let runner = Fake.runner([
            (["ip", "-n", "cmp1", "-d", "-j", "link", "show"], [Fake.loopback()]),
            (["nsenter", "--net=/run/netns/cmp1", "--", "nft", "-j", "list"], ["nftables": []]),
        ])
        runner.answer(
            ["nsenter", "--net=/run/netns/cmp1", "--", "sysctl", "-n"], with: ProcessOutput(status: 0, stdout: "1\n1\n")
        )
        let config = L2Config(host: "cmp1", tunnelIP: IPv4("10.99.0.11") ?? .any, hostNamespace: "cmp1")
        let agent = L2Reconciler(config: config, runner: runner, logger: Self.logger)
        let statuses = await agent.resync(topology.items())
        #expect(statuses.map(\.id) == [topology.vm1, topology.vmB1])
        #expect(statuses.allSatisfy { $0.state == "DOWN" && $0.detail.contains("no device tap") })
        let commands = runner.commands.map(\.description)
        #expect(commands.contains("ip -n cmp1 link add brq-aaaa1111-00 type bridge"))
        #expect(
            commands.contains(
                "ip -n cmp1 link add vxlan-1001 type vxlan id 1001 dstport 4789 local 10.99.0.11 nolearning ttl 64"))
        let nft = try #require(runner.commands.first { $0.arguments.suffix(3) == ["nft", "-f", "-"] })
        #expect(nft.arguments.prefix(2) == ["nsenter", "--net=/run/netns/cmp1"])
        #expect(
            nft.input?.contains("add element bridge nimbus_sg_l2 port_in { \"tapa1a1a1a1-00\" : jump in_1 }") == true)
    }

    @Test("the L2 agent plugs the taps it finds and reports them ACTIVE, the port's own change included")
    func plugsTaps() async throws {
        let host: JSON = [
            Fake.loopback(), Fake.veth("tapa1a1a1a1-00"),
            Fake.veth("tapb1b1b1b1-00", master: "brq-bbbb2222-00", mtu: 1450),
        ]
        let runner = Fake.runner([
            (["ip", "-d", "-j", "link", "show"], host), (["nft", "-j", "list"], ["nftables": []]),
        ])
        runner.answer(["sysctl", "-n"], with: ProcessOutput(status: 0, stdout: "1\n1\n"))
        let agent = L2Reconciler(
            config: L2Config(host: "cmp1", tunnelIP: IPv4("10.99.0.11") ?? .any), runner: runner, logger: Self.logger)
        let statuses = await agent.resync(topology.items())
        #expect(statuses.map(\.state) == ["ACTIVE", "ACTIVE"])
        let commands = runner.commands.map(\.description)
        #expect(commands.contains("ip link set tapa1a1a1a1-00 mtu 1450 master brq-aaaa1111-00 up"))
        #expect(!commands.contains { $0.hasPrefix("ip link set tapb1b1b1b1-00") })
        let vm2 = try #require(topology.items().first { $0.id == topology.vm2 })
        #expect(await agent.apply(vm2) == nil)  // bound to cmp2: not this agent's to report
        let vm1 = try #require(topology.items().first { $0.id == topology.vm1 })
        #expect(await agent.apply(vm1)?.state == "ACTIVE")
    }

    @Test("the L3 agent makes a router's namespace, devices, route and NAT, announces new addresses, reports ACTIVE")
    func router() async throws {
        let directory = NSTemporaryDirectory() + "nimbus-l3-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = Fake.runner([
            (
                ["ip", "-n", "net", "-d", "-j", "link", "show"],
                [Fake.loopback(), Fake.bridge("brq-aaaa1111-00"), Fake.bridge("br-ex", mtu: 1500)]
            ),
            (["nsenter", "--net=/run/netns/qrouter-\(topology.router)", "--", "nft", "-j", "list"], ["nftables": []]),
            (["ip", "-n", "qrouter-\(topology.router)", "-j", "-4", "route", "show"], []),
        ])
        let announcer = RecordingAnnouncer()
        let agent = L3Reconciler(
            config: L3Config(
                host: "net", stateDirectory: directory, bridgeMappings: ["extnet": "br-ex"], hostNamespace: "net"),
            runner: runner, announcer: announcer, logger: Self.logger)
        let statuses = await agent.resync(topology.items())
        #expect(Set(statuses.map(\.id)) == [topology.router, topology.interfacePort, topology.gatewayPort])
        #expect(statuses.allSatisfy { $0.state == "ACTIVE" })
        let namespace = "qrouter-\(topology.router)"
        let commands = runner.commands.map(\.description)
        for expected in [
            "ip netns add \(namespace)",
            "nsenter --net=/run/netns/\(namespace) -- sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.all.rp_filter=0",
            "ip -n net link add tapc1c1c1c1-00 type veth peer name qr-c1c1c1c1-00 netns \(namespace)",
            "ip -n \(namespace) addr replace 192.168.0.254/24 dev qr-c1c1c1c1-00",
            "ip -n net link set tapc2c2c2c2-00 mtu 1500 master br-ex up",
            "ip -n \(namespace) addr replace 10.98.0.211/32 dev qg-c2c2c2c2-00",
            "ip -n \(namespace) route replace default via 10.98.0.1 dev qg-c2c2c2c2-00",
            "nsenter --net=/run/netns/\(namespace) -- nft -f -",
        ] {
            #expect(commands.contains(expected), "missing: \(expected)")
        }
        #expect(announcer.announced.map(\.interface) == ["qg-c2c2c2c2-00"])
        #expect(announcer.announced.first?.addresses.map(\.description) == ["10.98.0.210", "10.98.0.211"])
        #expect(FileManager.default.fileExists(atPath: directory + "/" + topology.router))
    }

    @Test("the L3 agent removes the namespace of a router it made once the router is gone, and no other")
    func removesRouters() async throws {
        let directory = NSTemporaryDirectory() + "nimbus-l3-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(
            atPath: directory + "/" + topology.router, withIntermediateDirectories: true)
        let runner = Fake.runner([])
        runner.answer(
            ["ip", "-j", "netns", "list"],
            with: ProcessOutput(
                status: 0, stdout: #"[{"name":"qrouter-\#(topology.router)"},{"name":"qrouter-other"}]"#))
        let agent = L3Reconciler(
            config: L3Config(host: "net", stateDirectory: directory), runner: runner, announcer: RecordingAnnouncer(),
            logger: Self.logger)
        #expect(await agent.resync([]).isEmpty)
        let deletions = runner.commands.map(\.description).filter { $0.contains("netns del") }
        #expect(deletions == ["ip netns del qrouter-\(topology.router)"])
        #expect(!FileManager.default.fileExists(atPath: directory + "/" + topology.router))
    }
}
