import Logging
import NimbusAgentKit
import NimbusServiceKit
import NimbusSystem

/// The DHCP agent of the network host: per network with a DHCP-enabled subnet, the
/// `qdhcp-<network id>` namespace with the network's DHCP port in it and a dnsmasq serving
/// static leases to the network's ports. A port change rewrites the files and sends
/// SIGHUP (no restart); a changed command line (a subnet added, another MTU) restarts it; a
/// network no longer served leaves no namespace, veth, dnsmasq or state directory behind.
/// Only networks with a directory in `config.stateDirectory` are its own to remove.
public actor DHCPReconciler: Reconciler {
    /// What the agent knows of its host.
    public let config: DHCPConfig
    let executor: HostExecutor
    let logger: Logger
    /// The desired state as last given.
    public private(set) var view = NetworkView()
    var statuses: [String: ResourceStatus] = [:]
    /// Whether a command failed in the last pass (`poll` then tries again).
    var hostRefused = false
    var turnstile = Turnstile()

    /// A DHCP agent running its commands with `runner`.
    public init(config: DHCPConfig, runner: any ProcessRunning = ProcessRunner(), logger: Logger) {
        self.config = config
        executor = HostExecutor(runner: runner, hostNamespace: config.hostNamespace, logger: logger)
        self.logger = logger
    }

    /// Makes the host serve exactly `items`' networks; the statuses of their DHCP ports.
    public func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        view = NetworkView(items: items)
        await pass()
        return statuses.values.sorted { $0.id < $1.id }
    }

    /// Takes one change and reconciles; the port's status when the item is a served DHCP port.
    public func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        view.apply(item)
        await pass()
        guard item.kind == NetworkView.Kind.port.rawValue, item.body != nil else { return nil }
        return statuses[item.id]
    }

    /// The plan for the current view.
    public var plan: DHCPPlan { DHCPPlan(view: view, config: config) }

    /// The statuses of the last pass (a retry may have changed them since the change that
    /// caused it).
    public func currentStatuses() async -> [ResourceStatus]? {
        statuses.values.sorted { $0.id < $1.id }
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
        for (port, error) in plan.failures { result[port] = .port(port, PortState.error, error.description) }
        let wanted = Set(plan.servers.map(\.networkID))
        do throws(DataplaneError) {
            let namespaces = try await executor.namespaces()
            for network in StateFile.owned(in: config.stateDirectory) where !wanted.contains(network) {
                try await remove(network: network, namespaces: namespaces)
            }
            let host = try await executor.links()
            for server in plan.servers {
                do throws(DataplaneError) {
                    try await serve(server, host: host, namespaces: namespaces)
                    result[server.port.portID] = .port(server.port.portID, PortState.active)
                } catch {
                    refused = true
                    logger.error(
                        "cannot serve DHCP", metadata: ["network": "\(server.networkID)", "error": "\(error)"])
                    result[server.port.portID] = .port(server.port.portID, PortState.error, error.description)
                }
            }
        } catch {
            refused = true
            logger.error("cannot read the host's namespaces or devices", metadata: ["error": "\(error)"])
            for server in plan.servers {
                result[server.port.portID] = .port(server.port.portID, PortState.error, error.description)
            }
        }
        statuses = result
        hostRefused = refused
    }

    /// Makes one network's server right: namespace, port, files, dnsmasq.
    func serve(_ server: DHCPPlan.Server, host: [String: Link], namespaces: Set<String>) async throws(DataplaneError) {
        let scope = HostCommand.Scope.namespace(server.namespace)
        let exists = namespaces.contains(server.namespace)
        // The directory first: it is what marks the namespace as this agent's.
        try StateFile.directory(server.directory)
        let inside = exists ? try await executor.addresses(scope) : [:]
        try await executor.run(NamespacePort.namespaceCreation(server.namespace, exists: exists, inside: inside))
        try await executor.run(
            NamespacePort.strays(
                in: server.namespace, inside: inside, prefixes: ["ns-"], keeping: [server.port.interface]))
        try await executor.run(try server.port.commands(host: host, inside: inside))
        var changed = false
        for (name, content) in [
            (DHCPPlan.Server.hostsFile, server.hosts), (DHCPPlan.Server.addnHostsFile, server.addnHosts),
            (DHCPPlan.Server.optionsFile, server.options),
        ] {
            changed = try StateFile.write(content, to: server.directory + "/" + name) || changed
        }
        let leases = server.directory + "/" + DHCPPlan.Server.leasesFile
        if SystemFile.read(leases) == nil { _ = try StateFile.write("", to: leases) }
        let running = Dnsmasq.running(directory: server.directory, networkID: server.networkID)
        if let running, running.arguments == server.arguments {
            if changed {
                try Dnsmasq.reload(running, networkID: server.networkID)
                logger.info("dnsmasq reloaded", metadata: ["network": "\(server.networkID)"])
                try await release(Self.staleLeases(SystemFile.text(leases) ?? "", hosts: server.hosts), server)
            }
            return
        }
        if let running {
            logger.info("dnsmasq's command line changed; restarting", metadata: ["network": "\(server.networkID)"])
            try await Dnsmasq.stop(running, networkID: server.networkID)
        }
        try await executor.run(HostCommand(scope, ["dnsmasq"] + server.arguments))
        guard Dnsmasq.running(directory: server.directory, networkID: server.networkID) != nil else {
            throw .dnsmasq(network: server.networkID, reason: "it exited after starting (see the system log)")
        }
        logger.info("dnsmasq started", metadata: ["network": "\(server.networkID)"])
    }

    /// The leases (address, MAC) of the leases file that the hosts file no longer gives:
    /// a deleted port's, or one whose address moved. dnsmasq would refuse that address to
    /// the next port IPAM hands it to until the lease ran out (a day).
    public static func staleLeases(_ leases: String, hosts: String) -> [(address: String, mac: String)] {
        // Hosts lines: `mac[,set:tag],name,address`; lease lines: `expiry mac address name client-id`.
        let given = Set(
            hosts.split(separator: "\n").compactMap { line -> String? in
                let fields = line.split(separator: ",")
                guard fields.count >= 3, let address = fields.last else { return nil }
                return "\(fields[0].lowercased()) \(address)"
            })
        return leases.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { return nil }
            let (mac, address) = (fields[1].lowercased(), String(fields[2]))
            return given.contains("\(mac) \(address)") ? nil : (address, mac)
        }
    }

    /// Tells dnsmasq to forget stale leases (`dhcp_release` in the namespace, as Neutron
    /// does: a DHCPRELEASE for the address on the port's interface). One that fails runs out
    /// on its own.
    func release(_ stale: [(address: String, mac: String)], _ server: DHCPPlan.Server) async throws(DataplaneError) {
        for lease in stale {
            _ = try await executor.run(
                HostCommand(
                    .namespace(server.namespace), ["dhcp_release", server.port.interface, lease.address, lease.mac],
                    mayFail: true))
            logger.info(
                "stale lease released", metadata: ["network": "\(server.networkID)", "address": "\(lease.address)"])
        }
    }

    /// Stops a network's dnsmasq, deletes its namespace (which takes the veth pair with it)
    /// and its directory.
    func remove(network: String, namespaces: Set<String>) async throws(DataplaneError) {
        let directory = config.directory(network: network)
        if let running = Dnsmasq.running(directory: directory, networkID: network) {
            try await Dnsmasq.stop(running, networkID: network)
        }
        let namespace = DeviceName.dhcpNamespace(network: network)
        if namespaces.contains(namespace) {
            try await executor.run(.ip(.agent, "netns", "del", namespace))
        }
        try StateFile.remove(directory)
        logger.info("DHCP of the network removed", metadata: ["network": "\(network)"])
    }
}
