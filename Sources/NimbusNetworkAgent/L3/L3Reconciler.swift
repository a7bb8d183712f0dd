import Logging
import NimbusAgentKit
import NimbusServiceKit
import NimbusSystem

/// The L3 agent of the network host: per router a `qrouter-<router id>` namespace (IP
/// forwarding on there only), its interfaces and gateway as veth pairs into the networks'
/// bridges, the default route, and its NAT table with the floating IPs. New floating IPs
/// are announced by gratuitous ARP in the background; a removed one's conntrack entries
/// are deleted. Routers that are administratively down are wired all the same. Only
/// routers with a marker directory in `config.stateDirectory` are its own to remove.
public actor L3Reconciler: Reconciler {
    /// What the agent knows of its host.
    public let config: L3Config
    let executor: HostExecutor
    let announcer: any AddressAnnouncing
    let logger: Logger
    /// The desired state as last given.
    public private(set) var view = NetworkView()
    var statuses: [String: ResourceStatus] = [:]
    /// Whether a command failed in the last pass (`poll` then tries again).
    var hostRefused = false
    var turnstile = Turnstile()
    /// The routers' metadata proxies; nil when no metadata API is configured.
    let metadata: MetadataProxy?

    /// The sysctls of a router namespace, as Neutron sets them.
    static let sysctls = [
        ("net.ipv4.ip_forward", "1"), ("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"),
        ("net.ipv4.conf.all.rp_filter", "0"),
    ]

    /// An L3 agent running its commands with `runner`; `announcer` nil: `GratuitousARP`.
    public init(
        config: L3Config, runner: any ProcessRunning = ProcessRunner(), announcer: (any AddressAnnouncing)? = nil,
        logger: Logger
    ) {
        self.config = config
        executor = HostExecutor(runner: runner, hostNamespace: config.hostNamespace, logger: logger)
        self.announcer = announcer ?? GratuitousARP(logger: logger)
        self.logger = logger
        var proxy: MetadataProxy?
        if let settings = config.metadata {
            do { proxy = try MetadataProxy(config: settings, logger: logger) } catch {
                logger.error("no metadata proxies", metadata: ["error": "\(error)"])
            }
        }
        metadata = proxy
    }

    /// Makes the host hold exactly `items`' routers; the statuses of the routers and their ports.
    public func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        view = NetworkView(items: items)
        await pass()
        return statuses.values.sorted { ($0.kind, $0.id) < ($1.kind, $1.id) }
    }

    /// Takes one change and reconciles; the status of the router or router port it is.
    public func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        view.apply(item)
        await pass()
        guard item.body != nil else { return nil }
        return statuses["\(item.kind)/\(item.id)"]
    }

    /// The plan for the current view.
    public var plan: RouterPlan { RouterPlan(view: view, config: config) }

    /// The statuses of the last pass (a retry may have changed them since the change that
    /// caused it).
    public func currentStatuses() async -> [ResourceStatus]? {
        statuses.values.sorted { ($0.kind, $0.id) < ($1.kind, $1.id) }
    }

    /// Tries again when the host refused something in the last pass: a port on a network
    /// whose bridge the L2 agent, acting on the same change, had not made yet. (A port the
    /// plan itself refuses stays in ERROR until it changes.)
    public func poll() async {
        guard hostRefused else { return }
        await pass()
    }

    public nonisolated var pollInterval: Duration? { .seconds(1) }

    func pass() async {
        if !turnstile.enter() { await withCheckedContinuation { turnstile.wait($0) } }
        await reconcile()
        turnstile.leave()?.resume()
    }

    func reconcile() async {
        let plan = self.plan
        var result: [String: ResourceStatus] = [:]
        var refused = false
        var failed: Set<String> = []
        func record(_ status: ResourceStatus) { result["\(status.kind)/\(status.id)"] = status }
        for (port, error) in plan.failures { record(.port(port, PortState.error, error.description)) }
        let wanted = Set(plan.routers.map(\.routerID))
        do throws(DataplaneError) {
            let namespaces = try await executor.namespaces()
            // A proxy's socket keeps its namespace alive: closed before the namespace goes.
            await metadata?.retire(
                keeping: wanted.filter { namespaces.contains(DeviceName.routerNamespace(router: $0)) })
            for router in StateFile.owned(in: config.stateDirectory) where !wanted.contains(router) {
                let namespace = DeviceName.routerNamespace(router: router)
                if namespaces.contains(namespace) { try await executor.run(.ip(.agent, "netns", "del", namespace)) }
                try StateFile.remove(config.directory(router: router))
                logger.info("router removed", metadata: ["router": "\(router)"])
            }
            let host = try await executor.links()
            for router in plan.routers {
                let ports = router.interfaces.map(\.portID) + (router.gateway.map { [$0.portID] } ?? [])
                do throws(DataplaneError) {
                    try await wire(router, host: host, namespaces: namespaces)
                    record(.router(router.routerID, PortState.active))
                    for port in ports { record(.port(port, PortState.active)) }
                } catch {
                    refused = true
                    failed.insert(router.routerID)
                    logger.error(
                        "cannot wire a router", metadata: ["router": "\(router.routerID)", "error": "\(error)"])
                    record(.router(router.routerID, PortState.error, error.description))
                    for port in ports { record(.port(port, PortState.error, error.description)) }
                }
            }
            if let metadata {
                var served: [String: (namespace: String, clients: [String: MetadataRequester])] = [:]
                for router in plan.routers where !failed.contains(router.routerID) {
                    served[router.routerID] = (router.namespace, router.metadataClients)
                }
                do throws(DataplaneError) { try await metadata.serve(served) } catch { refused = true }
            }
        } catch {
            refused = true
            logger.error("cannot read the host's namespaces or devices", metadata: ["error": "\(error)"])
            for router in plan.routers { record(.router(router.routerID, PortState.error, error.description)) }
        }
        statuses = result
        hostRefused = refused
    }

    /// Makes one router right, in the order traffic needs it.
    func wire(_ router: RouterPlan.Router, host: [String: Link], namespaces: Set<String>) async throws(DataplaneError) {
        let scope = HostCommand.Scope.namespace(router.namespace)
        let exists = namespaces.contains(router.namespace)
        // A namespace made anew (deleted behind the agent's back) needs a new listener.
        if !exists { await metadata?.retire(router.routerID) }
        try StateFile.directory(config.directory(router: router.routerID))
        let inside = exists ? try await executor.addresses(scope) : [:]
        try await executor.run(NamespacePort.namespaceCreation(router.namespace, exists: exists, inside: inside))
        let values = try await executor.sysctl(Self.sysctls.map(\.0), in: scope)
        let differing = zip(Self.sysctls, values + Array(repeating: "", count: Self.sysctls.count)).filter {
            $0.0.1 != $0.1
        }.map(\.0)
        if !differing.isEmpty { try await executor.run(.sysctl(scope, differing)) }
        let keep = Set(router.interfaces.map(\.interface) + (router.gateway.map { [$0.interface] } ?? []))
        try await executor.run(
            NamespacePort.strays(in: router.namespace, inside: inside, prefixes: ["qr-", "qg-"], keeping: keep))
        for port in router.interfaces + (router.gateway.map { [$0] } ?? []) {
            try await executor.run(try port.commands(host: host, inside: inside))
        }
        try await route(router, scope: scope)
        let ruleset = try await executor.ruleset(scope)
        if let nat = router.nat {
            if !nat.isCurrent(in: ruleset) { try await executor.run(.nft(scope, script: nat.script)) }
        } else if ruleset[RouterNAT.table] != nil {
            try await executor.run(.nft(scope, script: "delete table \(RouterNAT.table)\n"))
        }
        if metadata != nil {
            if !RouterMetadataTable.isCurrent(in: ruleset) {
                try await executor.run(.nft(scope, script: RouterMetadataTable.script))
            }
        } else if ruleset[RouterMetadataTable.table] != nil {
            try await executor.run(.nft(scope, script: "delete table \(RouterMetadataTable.table)\n"))
        }
        guard let gateway = router.gateway else { return }
        let before = Set(inside[gateway.interface]?.addresses ?? [])
        let desired = Set(gateway.addresses)
        let own = Set(router.gatewayAddresses)
        for removed in before.subtracting(desired) where removed.length == 32 && !own.contains(removed) {
            for direction in ["--orig-dst", "--reply-dst"] {
                try await executor.run(
                    HostCommand(scope, ["conntrack", "-D", direction, "\(removed.address)"], mayFail: true))
            }
        }
        let added = desired.subtracting(before).map(\.address).sorted()
        announcer.announce(added, interface: gateway.interface, mac: gateway.mac, namespace: router.namespace)
    }

    /// The default route via the external subnet's gateway, or none.
    func route(_ router: RouterPlan.Router, scope: HostCommand.Scope) async throws(DataplaneError) {
        let current = try await executor.routes(scope).first { $0.destination == "default" }
        if let gateway = router.gateway, let next = router.defaultRoute {
            if current?.gateway != next || current?.device != gateway.interface {
                try await executor.run(
                    .ip(scope, "route", "replace", "default", "via", "\(next)", "dev", gateway.interface))
            }
        } else if current != nil {
            try await executor.run(.ip(scope, "route", "del", "default"))
        }
    }
}
