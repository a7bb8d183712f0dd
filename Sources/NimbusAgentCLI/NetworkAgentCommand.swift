import ArgumentParser
import Foundation
import Logging
import NimbusAgentKit
import NimbusNetworkAgent
import NimbusServiceKit
import NimbusSystem
import ServiceLifecycle
import Synchronization

/// `nimbus-agent network-agent`: the L2 agent (Neutron's "Linux bridge agent"): bridges,
/// VXLAN tunnels to the other hosts, taps of the ports bound here and their security groups.
struct NetworkAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network-agent", abstract: "The L2 agent: bridges, VXLAN, ports and their security groups.")

    @Option(name: .long, help: "The agent's configuration file.")
    var config = "/etc/nimbus/network-agent.conf"

    func run() async throws {
        let settings = try NetworkAgentSettings.load(path: config)
        let logger = Logger(label: "nimbus.network-agent")
        let reconciler = PollingL2(inner: L2Reconciler(config: settings.l2, logger: logger))
        try await AgentRunner.run(
            basics: settings.basics, reconciler: reconciler, state: "l2-state.json",
            heartbeats: [("linuxbridge", settings.l2.agentConfiguration)], logger: logger)
    }
}

/// The L2 reconciler, looking at the host every 2 s as Neutron's agent polls its devices:
/// a tap that appeared is plugged and its port reported ACTIVE (a tap appearing is no
/// channel event).
final class PollingL2: Reconciler {
    let inner: L2Reconciler
    let last = Mutex<[ResourceStatus]?>(nil)

    init(inner: L2Reconciler) { self.inner = inner }

    func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        let statuses = await inner.resync(items)
        last.withLock { $0 = statuses }
        return statuses
    }

    func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        let status = await inner.apply(item)
        // Every port's status as of this pass, so a port wired now is told now, not at the
        // next poll.
        let statuses = await inner.currentStatuses()
        last.withLock { $0 = statuses }
        return status
    }

    func currentStatuses() async -> [ResourceStatus]? { last.withLock { $0 } }

    func poll() async {
        let statuses = await inner.rescan()
        last.withLock { $0 = statuses }
    }

    var pollInterval: Duration? { .seconds(2) }
}

/// How every agent runs: log in as its service user, follow the API's channel with the
/// reconciler (state kept in the state directory), heartbeat as each agent type it is,
/// stop on SIGTERM.
enum AgentRunner {
    static func run(
        basics settings: AgentBasics, reconciler: some Reconciler, state: String,
        heartbeats: [(type: String, configuration: JSON)], logger: Logger
    ) async throws {
        try FileManager.default.createDirectory(
            atPath: settings.stateDirectory, withIntermediateDirectories: true,
            // dnsmasq, running as nobody, reads its files below it.
            attributes: [.posixPermissions: 0o755])
        let login = try ServiceLogin(settings.credentials)
        let client = try ChannelClient(apiURL: settings.apiURL, login: login)
        let follower = ChannelFollower(
            client: client, reconciler: reconciler, statePath: settings.stateDirectory + "/" + state, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: follower), .init(service: ReconcilerPoller(reconciler: reconciler)),
            .init(service: StartupCodeRelease()),
        ]
        for (type, configuration) in heartbeats {
            services.append(
                .init(
                    service: HeartbeatService(
                        client: client, follower: follower, type: type, host: settings.host,
                        configuration: configuration, logger: logger)))
        }
        logger.info(
            "agent starting",
            metadata: ["host": "\(settings.host)", "api": "\(settings.apiURL)", "types": "\(heartbeats.map(\.type))"])
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Hands back the start-up code's pages (`Memory.releaseStartupCode`) once the agent has
/// listed and applied its state, as the API services do once they serve: some 20 MiB of
/// an agent's resident memory is code it never runs again.
struct StartupCodeRelease: Service {
    func run() async throws {
        do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(5)) } } catch { return }
        Memory.releaseStartupCode()
        try? await gracefulShutdown()
    }
}
