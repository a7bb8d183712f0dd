import Foundation

/// The kinds of resource the network service keeps, with the names Neutron gives them in
/// URLs, bodies and errors.
public enum ResourceKind: String, Sendable, CaseIterable, Codable {
    case network, subnet, subnetpool, port, router, floatingip
    case securityGroup = "security_group"
    case securityGroupRule = "security_group_rule"

    /// The member key of a body (`network`, `security_group`).
    public var member: String { rawValue }
    /// The collection key of a list (`networks`, `security_groups`).
    public var collection: String { rawValue + "s" }
    /// The URL segment (`networks`, `security-groups`).
    public var path: String { collection.replacingOccurrences(of: "_", with: "-") }

    var notFoundType: String {
        switch self {
        case .network: "NetworkNotFound"
        case .subnet: "SubnetNotFound"
        case .subnetpool: "SubnetPoolNotFound"
        case .port: "PortNotFound"
        case .router: "RouterNotFound"
        case .floatingip: "FloatingIPNotFound"
        case .securityGroup: "SecurityGroupNotFound"
        case .securityGroupRule: "SecurityGroupRuleNotFound"
        }
    }

    func notFoundMessage(_ id: String) -> String {
        switch self {
        case .network: "Network \(id) could not be found."
        case .subnet: "Subnet \(id) could not be found."
        case .subnetpool: "Subnet pool \(id) could not be found."
        case .port: "Port \(id) could not be found."
        case .router: "Router \(id) could not be found"
        case .floatingip: "Floating IP \(id) could not be found"
        case .securityGroup: "Security group \(id) does not exist"
        case .securityGroupRule: "Security group rule \(id) does not exist"
        }
    }
}

/// What every resource carries: id, owner, name, description, tags, stamps and Neutron's
/// `revision_number`.
public struct Common: Codable, Sendable, Equatable {
    public var id: String
    public var projectID: String
    public var name: String
    public var description: String
    public var tags: [String]
    /// Seconds since 1970.
    public var createdAt: Int64
    public var updatedAt: Int64
    public var revision: Int64

    public init(id: String, projectID: String, name: String = "", description: String = "", now: Int64) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.description = description
        tags = []
        createdAt = now
        updatedAt = now
        revision = 0
    }
}

/// A network and its segment.
public struct Network: Codable, Sendable, Equatable {
    public var common: Common
    public var adminStateUp: Bool
    public var shared: Bool
    public var external: Bool
    public var mtu: Int
    public var portSecurityEnabled: Bool
    /// `flat` or `vxlan`.
    public var networkType: String
    public var physicalNetwork: String?
    public var segmentationID: Int?
    public var isDefault: Bool
}

public struct AllocationPool: Codable, Sendable, Equatable {
    public var start: String
    public var end: String
}

public struct HostRoute: Codable, Sendable, Equatable {
    public var destination: String
    public var nexthop: String
}

public struct Subnet: Codable, Sendable, Equatable {
    public var common: Common
    public var networkID: String
    public var ipVersion: Int
    public var cidr: String
    public var gatewayIP: String?
    public var allocationPools: [AllocationPool]
    public var dnsNameservers: [String]
    public var hostRoutes: [HostRoute]
    public var enableDHCP: Bool
    public var ipv6RAMode: String?
    public var ipv6AddressMode: String?
    public var subnetpoolID: String?
}

public struct SubnetPool: Codable, Sendable, Equatable {
    public var common: Common
    public var prefixes: [String]
    public var ipVersion: Int
    public var minPrefixlen: Int
    public var maxPrefixlen: Int
    public var defaultPrefixlen: Int
    public var shared: Bool
    public var isDefault: Bool
    public var defaultQuota: Int?
    public var addressScopeID: String?
}

public struct FixedIP: Codable, Sendable, Equatable, Hashable {
    public var subnetID: String
    public var ipAddress: String
}

public struct AddressPair: Codable, Sendable, Equatable {
    public var ipAddress: String
    public var macAddress: String
}

public struct Port: Codable, Sendable, Equatable {
    public var common: Common
    public var networkID: String
    public var macAddress: String
    public var adminStateUp: Bool
    public var status: String
    public var deviceID: String
    public var deviceOwner: String
    public var fixedIPs: [FixedIP]
    public var allowedAddressPairs: [AddressPair]
    public var securityGroups: [String]
    public var portSecurityEnabled: Bool
    public var bindingHostID: String
    public var bindingVNICType: String
    public var bindingProfile: String
    public var extraDHCPOpts: String
    public var dnsName: String
}

public struct ExternalGateway: Codable, Sendable, Equatable {
    public var networkID: String
    public var enableSNAT: Bool
    public var fixedIPs: [FixedIP]
    /// The gateway port's id.
    public var portID: String
}

public struct Router: Codable, Sendable, Equatable {
    public var common: Common
    public var adminStateUp: Bool
    public var gateway: ExternalGateway?
    public var routes: [HostRoute]
}

public struct FloatingIP: Codable, Sendable, Equatable {
    public var common: Common
    public var floatingNetworkID: String
    public var floatingIPAddress: String
    /// The floating IP's own port on the external network (`network:floatingip`).
    public var floatingPortID: String
    public var portID: String?
    public var fixedIPAddress: String?
    public var routerID: String?
    public var dnsName: String
    public var dnsDomain: String
}

public struct SecurityGroup: Codable, Sendable, Equatable {
    public var common: Common
    public var stateful: Bool
}

public struct SecurityGroupRule: Codable, Sendable, Equatable {
    public var common: Common
    public var securityGroupID: String
    /// `ingress` or `egress`.
    public var direction: String
    /// `IPv4` or `IPv6`.
    public var ethertype: String
    public var proto: String?
    public var portRangeMin: Int?
    public var portRangeMax: Int?
    public var remoteIPPrefix: String?
    public var remoteGroupID: String?
}

/// A project's limits; nil fields take the service's defaults.
public struct Quota: Codable, Sendable, Equatable {
    public var projectID: String
    public var limits: [String: Int]
}

/// What an admin set on an agent (`PUT /v2.0/agents/{id}`): the rest of an agent is its
/// heartbeat's.
public struct AgentSetting: Codable, Sendable, Equatable {
    public var adminStateUp: Bool
    public var description: String?
}
