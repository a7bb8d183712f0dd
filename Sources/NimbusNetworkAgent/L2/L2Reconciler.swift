import Logging
import NimbusAgentKit
import NimbusServiceKit
import NimbusSystem

/// The L2 agent of a network or compute host: VXLAN bridges with their flood lists and
/// l2pop entries, the physical networks' bridges as mapped, each bound port's tap plugged
/// into its network's bridge, and the security groups of the ports bound here.
///
/// It keeps the whole desired state and, on every change, recomputes its host's plan, reads
/// what the host holds and applies only the difference, so a restarted agent's `resync`
/// changes nothing that is right. Ports whose tap does not exist yet are `DOWN` until a
/// later pass finds it: the agent should call `rescan()` every few seconds (Neutron's agent
/// polls its devices every 2 s), since a tap appearing is no channel event.
public actor L2Reconciler: Reconciler {
    /// What the agent knows of its host.
    public let config: L2Config
    let executor: HostExecutor
    let logger: Logger
    /// The desired state as last given.
    public private(set) var view = NetworkView()
    var statuses: [String: ResourceStatus] = [:]
    var turnstile = Turnstile()

    /// An L2 agent for `config.host`, running its commands with `runner`.
    public init(config: L2Config, runner: any ProcessRunning = ProcessRunner(), logger: Logger) {
        self.config = config
        executor = HostExecutor(runner: runner, hostNamespace: config.hostNamespace, logger: logger)
        self.logger = logger
    }

    /// Makes the host hold exactly `items`' plan; the statuses of the ports bound here.
    public func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        view = NetworkView(items: items)
        await pass()
        return statuses.values.sorted { $0.id < $1.id }
    }

    /// Takes one change and reconciles; the port's status when the item is a port bound here.
    public func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        let problem = view.apply(item)
        await pass()
        guard item.kind == NetworkView.Kind.port.rawValue, item.body != nil else { return nil }
        if let problem { return .port(item.id, PortState.error, problem.description) }
        return statuses[item.id]
    }

    /// The statuses of the last pass.
    public func currentStatuses() async -> [ResourceStatus]? { statuses.values.sorted { $0.id < $1.id } }

    /// Re-applies the current view (taps that appeared since are plugged); the statuses.
    public func rescan() async -> [ResourceStatus] {
        await pass()
        return statuses.values.sorted { $0.id < $1.id }
    }

    /// The plan for the current view.
    public var plan: L2Plan { L2Plan(view: view, config: config) }

    /// One reconciliation of the current view, after any pass under way.
    func pass() async {
        if !turnstile.enter() { await withCheckedContinuation { turnstile.wait($0) } }
        await reconcile()
        turnstile.leave()?.resume()
    }

    func reconcile() async {
        let plan = self.plan
        var result: [String: ResourceStatus] = [:]
        for (port, error) in plan.failures { result[port] = .port(port, PortState.error, error.description) }
        let links: [String: Link]
        do {
            links = try await executor.links()
            try await executor.run(plan.removals(links: links))
        } catch {
            logger.error("cannot read or clean the host's devices", metadata: ["error": "\(error)"])
            for plug in plan.plugs where plug.boundHere {
                result[plug.portID] = .port(plug.portID, PortState.error, error.description)
            }
            statuses = result
            return
        }
        var failedBridges: [String: DataplaneError] = [:]
        for bridge in plan.bridges {
            do throws(DataplaneError) {
                let fdb = links[bridge.vxlan.name] != nil ? try await executor.fdb(device: bridge.vxlan.name) : []
                try await executor.run(try L2Plan.commands(for: bridge, links: links, fdb: fdb))
            } catch {
                logger.error(
                    "cannot wire a network", metadata: ["network": "\(bridge.networkID)", "error": "\(error)"])
                failedBridges[bridge.name] = error
            }
        }
        var filterFailure: DataplaneError?
        var filtered: Set<String> = []
        if config.securityGroups {
            do throws(DataplaneError) {
                filtered = try await applySecurityGroups(plan)
            } catch {
                logger.error("cannot apply security groups", metadata: ["error": "\(error)"])
                filterFailure = error
                filtered = Set(SecurityGroupPlan(view: view, l2: plan).ports.map(\.portID))
            }
        }
        let owned = Set(plan.bridges.map(\.name))
        for plug in plan.plugs {
            let status = await wire(plug, links: links, owned: owned, failure: failedBridges[plug.bridge])
            let blocked = filterFailure.flatMap { filtered.contains(plug.portID) ? $0 : nil }
            if plug.boundHere {
                result[plug.portID] =
                    blocked.map { .port(plug.portID, PortState.error, "security groups: \($0)") } ?? status
            }
        }
        statuses = result
    }

    /// Plugs one tap; its status.
    func wire(_ plug: L2Plan.Plug, links: [String: Link], owned: Set<String>, failure: DataplaneError?) async
        -> ResourceStatus
    {
        if let failure { return .port(plug.portID, PortState.error, failure.description) }
        if !owned.contains(plug.bridge) && links[plug.bridge] == nil {
            return .port(plug.portID, PortState.error, DataplaneError.missingBridge(plug.bridge).description)
        }
        guard let commands = L2Plan.commands(for: plug, links: links) else {
            return .port(plug.portID, PortState.down, "no device \(plug.tap) on host \(config.host) yet")
        }
        do throws(DataplaneError) {
            try await executor.run(commands)
        } catch {
            logger.error("cannot plug a port", metadata: ["port": "\(plug.portID)", "error": "\(error)"])
            return .port(plug.portID, PortState.error, error.description)
        }
        if !plug.up { return .port(plug.portID, PortState.down, "admin_state_up is false") }
        return .port(plug.portID, PortState.active)
    }

    /// Applies the security groups of the ports bound here in one transaction; the ports
    /// it filters.
    func applySecurityGroups(_ l2: L2Plan) async throws(DataplaneError) -> Set<String> {
        let plan = SecurityGroupPlan(view: view, l2: l2)
        if !plan.ports.isEmpty { try await ensureBridgeNetfilter() }
        let actual = try await executor.ruleset()
        if let script = plan.script(actual: actual) {
            try await executor.run(.nft(.host, script: script))
        }
        return Set(plan.ports.map(\.portID))
    }

    /// Bridged traffic must pass the inet hooks (br_netfilter), or nothing is filtered.
    func ensureBridgeNetfilter() async throws(DataplaneError) {
        let keys = ["net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"]
        let values: [String]
        do {
            values = try await executor.sysctl(keys, in: .host)
        } catch {
            throw .hostUnprepared(
                "br_netfilter is not loaded on host \(config.host) (modprobe br_netfilter): \(error)")
        }
        if values != ["1", "1"] {
            try await executor.run(.sysctl(.host, keys.map { ($0, "1") }))
        }
    }
}
