import Foundation

/// Everything the network service holds, in memory; `NetworkStore` keeps it on disk.
/// Reads take a snapshot (a value), writes go through `NetworkStore.write`.
public struct NetworkState: Sendable {
    public var networks: [String: Network] = [:]
    public var subnets: [String: Subnet] = [:]
    public var subnetPools: [String: SubnetPool] = [:]
    public var ports: [String: Port] = [:]
    public var routers: [String: Router] = [:]
    public var floatingIPs: [String: FloatingIP] = [:]
    public var securityGroups: [String: SecurityGroup] = [:]
    public var rules: [String: SecurityGroupRule] = [:]
    public var quotas: [String: Quota] = [:]
    /// Agents' settings, by agent id.
    public var agentSettings: [String: AgentSetting] = [:]

    public init() {}

    public func subnets(of network: String) -> [Subnet] {
        subnets.values.filter { $0.networkID == network }.sorted {
            $0.common.createdAt < $1.common.createdAt
                || ($0.common.createdAt == $1.common.createdAt && $0.common.id < $1.common.id)
        }
    }

    public func ports(of network: String) -> [Port] { ports.values.filter { $0.networkID == network } }

    public func rules(of group: String) -> [SecurityGroupRule] {
        rules.values.filter { $0.securityGroupID == group }.sorted { $0.common.id < $1.common.id }
    }

    /// The addresses taken in a subnet: every port's fixed IPs there.
    public func usedAddresses(in subnet: String) -> Set<String> {
        var used = Set<String>()
        for port in ports.values { for ip in port.fixedIPs where ip.subnetID == subnet { used.insert(ip.ipAddress) } }
        return used
    }

    /// The router interface ports of a router.
    public func interfaces(of router: String) -> [Port] {
        ports.values.filter { $0.deviceID == router && $0.deviceOwner == DeviceOwner.routerInterface }
            .sorted { $0.common.id < $1.common.id }
    }

    /// The project's `default` security group, if made already.
    public func defaultGroup(of project: String) -> SecurityGroup? {
        securityGroups.values.first { $0.common.projectID == project && $0.common.name == "default" }
    }

    /// How many resources of a kind a project owns (quota checks).
    public func count(_ kind: ResourceKind, project: String) -> Int {
        switch kind {
        case .network: networks.values.count { $0.common.projectID == project }
        case .subnet: subnets.values.count { $0.common.projectID == project }
        case .subnetpool: subnetPools.values.count { $0.common.projectID == project }
        case .port: ports.values.count { $0.common.projectID == project }
        case .router: routers.values.count { $0.common.projectID == project }
        case .floatingip: floatingIPs.values.count { $0.common.projectID == project }
        case .securityGroup: securityGroups.values.count { $0.common.projectID == project }
        case .securityGroupRule: rules.values.count { $0.common.projectID == project }
        }
    }
}

/// Neutron's `device_owner` values for the ports the service makes itself.
public enum DeviceOwner {
    public static let routerInterface = "network:router_interface"
    public static let routerGateway = "network:router_gateway"
    public static let dhcp = "network:dhcp"
    public static let floatingIP = "network:floatingip"

    /// Ports the service owns: users cannot delete them directly (Neutron's
    /// `ServicePortInUse` and `L3PortInUse` checks).
    public static func isNetworkOwned(_ owner: String) -> Bool { owner.hasPrefix("network:") }
}
