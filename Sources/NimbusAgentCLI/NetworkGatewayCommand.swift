import ArgumentParser
import Foundation
import Logging
import NimbusAgentKit
import NimbusNetworkAgent
import NimbusServiceKit

/// `nimbus-agent network-gateway`: the DHCP agent and the L3 agent of the network host
/// (`qdhcp-` namespaces with dnsmasq; `qrouter-` namespaces with SNAT and floating IPs).
struct NetworkGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network-gateway", abstract: "The DHCP and L3 agents: dnsmasq per network, a namespace per router."
    )

    @Option(name: .long, help: "The agent's configuration file.")
    var config = "/etc/nimbus/network-gateway.conf"

    func run() async throws {
        let settings = try NetworkAgentSettings.load(path: config)
        let logger = Logger(label: "nimbus.network-gateway")
        let reconciler = GatewayReconciler(settings: settings, logger: logger)
        try await AgentRunner.run(
            basics: settings.basics, reconciler: reconciler, state: "gateway-state.json",
            heartbeats: [("dhcp", ["agent": "dhcp"]), ("l3", ["agent": "l3"])], logger: logger)
    }
}

/// The DHCP and L3 reconcilers behind one channel follower: every change goes to both.
struct GatewayReconciler: Reconciler {
    let dhcp: DHCPReconciler
    let l3: L3Reconciler

    init(settings: NetworkAgentSettings, logger: Logger) {
        dhcp = DHCPReconciler(config: settings.dhcp, logger: logger)
        l3 = L3Reconciler(config: settings.l3, logger: logger)
    }

    func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        let first = await dhcp.resync(items)
        return first + (await l3.resync(items))
    }

    func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        let a = await dhcp.apply(item)
        let b = await l3.apply(item)
        return b ?? a
    }

    /// Both agents' statuses (each reports the ports it wired).
    func currentStatuses() async -> [ResourceStatus]? {
        let first = await dhcp.currentStatuses()
        let second = await l3.currentStatuses()
        guard first != nil || second != nil else { return nil }
        return (first ?? []) + (second ?? [])
    }

    func poll() async {
        await dhcp.poll()
        await l3.poll()
    }

    var pollInterval: Duration? { dhcp.pollInterval ?? l3.pollInterval }
}
