import NimbusServiceKit

/// The network service's desired state, read from the agent channel's items into typed
/// values, with the lookups the agents plan from. Built from a full list (`init(items:)`)
/// and kept current change by change (`apply`); an item that cannot be read is left out
/// and its problems are kept in `problems`.
public struct NetworkView: Sendable {
    /// The item kinds the network API publishes to its agents.
    public enum Kind: String, Sendable, CaseIterable {
        case network, subnet, port, router, floatingip
        case securityGroup = "security_group"
        case agent
    }

    /// Networks by id.
    public private(set) var networks: [String: Network] = [:]
    /// Subnets by id.
    public private(set) var subnets: [String: Subnet] = [:]
    /// Ports by id.
    public private(set) var ports: [String: Port] = [:]
    /// Routers by id.
    public private(set) var routers: [String: Router] = [:]
    /// Floating IPs by id.
    public private(set) var floatingIPs: [String: FloatingIP] = [:]
    /// Security groups by id.
    public private(set) var securityGroups: [String: SecurityGroup] = [:]
    /// The L2 agents' tunnel addresses, by agent item id (`type/host`).
    public private(set) var peers: [String: TunnelPeer] = [:]
    /// Items that could not be read, by `kind/id`.
    public private(set) var problems: [String: ResourceProblem] = [:]

    /// The view of a full list of items (deletions in it are ignored).
    public init(items: [ChangeLog.Item] = []) {
        for item in items where item.body != nil { apply(item) }
    }

    /// Takes one change into the view: a body replaces the resource, nil deletes it. Items of
    /// other kinds are ignored. The problem, when the body could not be read.
    @discardableResult
    public mutating func apply(_ item: ChangeLog.Item) -> ResourceProblem? {
        guard let kind = Kind(rawValue: item.kind) else { return nil }
        let key = "\(item.kind)/\(item.id)"
        problems[key] = nil
        remove(kind, item.id)
        guard let body = item.body else { return nil }
        do throws(ResourceProblem) {
            switch kind {
            case .network: networks[item.id] = try Network(body: body)
            case .subnet: subnets[item.id] = try Subnet(body: body)
            case .port: ports[item.id] = try Port(body: body)
            case .router: routers[item.id] = try Router(body: body)
            case .floatingip: floatingIPs[item.id] = try FloatingIP(body: body)
            case .securityGroup: securityGroups[item.id] = try SecurityGroup(body: body)
            case .agent: peers[item.id] = try TunnelPeer(body: body)
            }
            return nil
        } catch {
            problems[key] = error
            return error
        }
    }

    private mutating func remove(_ kind: Kind, _ id: String) {
        switch kind {
        case .network: networks[id] = nil
        case .subnet: subnets[id] = nil
        case .port: ports[id] = nil
        case .router: routers[id] = nil
        case .floatingip: floatingIPs[id] = nil
        case .securityGroup: securityGroups[id] = nil
        case .agent: peers[id] = nil
        }
    }
}

extension NetworkView {
    /// The ports on a network, by id.
    public func ports(of networkID: String) -> [Port] {
        ports.values.filter { $0.networkID == networkID }.sorted { $0.id < $1.id }
    }

    /// The subnets of a network, by id.
    public func subnets(of networkID: String) -> [Subnet] {
        subnets.values.filter { $0.networkID == networkID }.sorted { $0.id < $1.id }
    }

    /// A router's interface ports (`network:router_interface` with the router as device).
    public func interfaces(of routerID: String) -> [Port] {
        ports.values.filter { $0.owner == .routerInterface && $0.deviceID == routerID }.sorted { $0.id < $1.id }
    }

    /// A router's gateway port (`network:router_gateway` with the router as device).
    public func gatewayPort(of routerID: String) -> Port? {
        ports.values.filter { $0.owner == .routerGateway && $0.deviceID == routerID }.min { $0.id < $1.id }
    }

    /// The floating IPs a router serves: associated (port and fixed address) and routed by it.
    public func floatingIPs(of routerID: String) -> [FloatingIP] {
        floatingIPs.values.filter { $0.routerID == routerID && $0.portID != nil && $0.fixedAddress != nil }
            .sorted { $0.address < $1.address }
    }

    /// The host a port is bound to (`binding:host_id`); nil when unbound or unknown.
    public func host(of portID: String) -> String? {
        guard let host = ports[portID]?.hostID, !host.isEmpty else { return nil }
        return host
    }

    /// The tunnel address a host's L2 agent published.
    public func tunnelIP(of host: String) -> IPv4? {
        peers.values.filter { $0.host == host }.map(\.tunnelIP).min()
    }

    /// The network's DHCP port: the one bound to `host` if there is one, else the first.
    public func dhcpPort(of networkID: String, preferring host: String) -> Port? {
        let candidates = ports(of: networkID).filter { $0.owner == .dhcp }
        return candidates.first { $0.hostID == host } ?? candidates.first
    }

    /// The ports whose `security_groups` include `groupID`, on any host.
    public func members(of groupID: String) -> [Port] {
        ports.values.filter { $0.securityGroups.contains(groupID) }.sorted { $0.id < $1.id }
    }

    /// The subnet a port's fixed IP is on, with its address on the subnet's prefix length.
    public func interfaceAddress(_ fixed: Port.FixedIP) -> IPv4Prefix? {
        guard let address = fixed.address.v4, let cidr = subnets[fixed.subnetID]?.cidr else { return nil }
        return cidr.with(address: address)
    }
}
