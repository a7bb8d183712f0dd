/// What the L3 agent makes of each router: its `qrouter-` namespace, a `qr-` interface per
/// interface port with the subnet's gateway address, a `qg-` gateway on the external
/// network's bridge with the gateway port's addresses and the floating IPs, the default
/// route via the external subnet's gateway, and one NAT table. A pure value.
public struct RouterPlan: Sendable, Equatable {
    /// A floating IP's 1:1 mapping.
    public struct FloatingMapping: Sendable, Equatable {
        /// The floating address.
        public var floating: IPv4
        /// The instance's fixed address.
        public var fixed: IPv4
    }

    /// One router.
    public struct Router: Sendable, Equatable {
        /// The router.
        public var routerID: String
        /// `qrouter-<router id>`.
        public var namespace: String
        /// Its `qr-` interfaces.
        public var interfaces: [NamespacePort]
        /// Its `qg-` gateway, with the floating IPs' /32s among its addresses.
        public var gateway: NamespacePort?
        /// The external subnet's gateway, the router's default route.
        public var defaultRoute: IPv4?
        /// The floating IPs it serves.
        public var floatingIPs: [FloatingMapping]
        /// The NAT table (`nft -f` text with its fingerprint comment); nil without a gateway.
        public var nat: RouterNAT?
        /// The instances on its internal networks, by fixed address: whom the metadata
        /// proxy asks for.
        public var metadataClients: [String: MetadataRequester] = [:]

        /// The gateway's own addresses (not the floating IPs' /32s).
        public var gatewayAddresses: [IPv4Prefix] {
            let floating = Set(floatingIPs.map(\.floating))
            return (gateway?.addresses ?? []).filter { !($0.length == 32 && floating.contains($0.address)) }
        }
    }

    /// The routers, by id.
    public var routers: [Router] = []
    /// The router ports that cannot be wired, with why.
    public var failures: [String: DataplaneError] = [:]

    /// The plan for `view`.
    public init(view: NetworkView, config: L3Config) {
        for router in view.routers.values.sorted(by: { $0.id < $1.id }) {
            let namespace = DeviceName.routerNamespace(router: router.id)
            var plan = Router(
                routerID: router.id, namespace: namespace, interfaces: [], gateway: nil, defaultRoute: nil,
                floatingIPs: [], nat: nil)
            var internalNetworks: [IPv4Prefix] = []
            for port in view.interfaces(of: router.id) {
                do throws(DataplaneError) {
                    let wired = try Self.wire(
                        port, interface: DeviceName.routerInterface(port: port.id), namespace: namespace, view: view,
                        config: config)
                    plan.interfaces.append(wired)
                    internalNetworks += wired.addresses.map(\.network)
                } catch {
                    failures[port.id] = error
                }
            }
            // Only addresses on the subnets the router is on: those cannot overlap.
            let subnets = Set(plan.interfaces.flatMap { view.ports[$0.portID]?.fixedIPs.map(\.subnetID) ?? [] })
            let networks = Set(plan.interfaces.compactMap { view.ports[$0.portID]?.networkID })
            for port in view.ports.values where networks.contains(port.networkID) {
                guard case .compute = port.owner, !port.deviceID.isEmpty else { continue }
                for fixed in port.fixedIPs where subnets.contains(fixed.subnetID) {
                    guard let address = fixed.address.v4 else { continue }
                    plan.metadataClients["\(address)"] = MetadataRequester(
                        instanceID: port.deviceID, projectID: port.projectID)
                }
            }
            if let port = view.gatewayPort(of: router.id) {
                do throws(DataplaneError) {
                    var wired = try Self.wire(
                        port, interface: DeviceName.routerGateway(port: port.id), namespace: namespace, view: view,
                        config: config)
                    let subnet = port.fixedIPs.first { $0.address.v4 != nil }.flatMap { view.subnets[$0.subnetID] }
                    plan.defaultRoute = subnet?.gatewayIP
                    var seen: Set<IPv4> = []
                    plan.floatingIPs = view.floatingIPs(of: router.id).compactMap { floating in
                        guard let fixed = floating.fixedAddress, seen.insert(fixed).inserted else { return nil }
                        return FloatingMapping(floating: floating.address, fixed: fixed)
                    }
                    wired.addresses += plan.floatingIPs.compactMap { IPv4Prefix(address: $0.floating, length: 32) }
                    plan.gateway = wired
                    if let external = wired.addresses.first?.address {
                        plan.nat = RouterNAT(
                            gatewayInterface: wired.interface, gatewayAddress: external,
                            snat: router.gateway?.enableSNAT ?? true,
                            internalNetworks: Array(Set(internalNetworks)).sorted(),
                            floatingIPs: plan.floatingIPs)
                    }
                } catch {
                    failures[port.id] = error
                }
            }
            routers.append(plan)
        }
    }

    /// A router port as a veth pair into the router's namespace.
    static func wire(
        _ port: Port, interface: String, namespace: String, view: NetworkView, config: L3Config
    ) throws(DataplaneError) -> NamespacePort {
        guard let network = view.networks[port.networkID] else {
            throw .missingResource(kind: "network", id: port.networkID, neededBy: "router port \(port.id)")
        }
        let bridge = try DeviceName.bridge(for: network, mappings: config.bridgeMappings)
        return NamespacePort(
            portID: port.id, namespace: namespace, tap: DeviceName.tap(port: port.id), interface: interface,
            bridge: bridge, bridgeIsOwned: bridge.hasPrefix("brq-"), mtu: network.mtu, mac: port.macAddress,
            addresses: port.fixedIPs.compactMap(view.interfaceAddress))
    }
}
