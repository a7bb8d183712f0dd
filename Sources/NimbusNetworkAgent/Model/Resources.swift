/// A Neutron network as the agents need it.
public struct Network: Sendable, Equatable {
    /// How the network reaches the hosts (`provider:network_type` and its details).
    public enum Segment: Sendable, Equatable {
        /// Untagged on a physical network (`provider:physical_network`), which a host's bridge
        /// mapping names.
        case flat(physicalNetwork: String)
        /// A VXLAN overlay with this VNI (`provider:segmentation_id`).
        case vxlan(vni: Int)
        /// A type the agents do not wire (vlan, geneve, local…).
        case unsupported(type: String)
    }

    public var id: String
    public var projectID: String
    public var segment: Segment
    public var mtu: Int
    public var adminStateUp: Bool
    /// `router:external`.
    public var external: Bool
}

/// A subnet. IPv6 subnets are kept (their ports' addresses matter to security groups) but
/// neither served by DHCP nor routed.
public struct Subnet: Sendable, Equatable {
    /// A `host_routes` entry.
    public struct HostRoute: Sendable, Equatable {
        public var destination: IPv4Prefix
        public var nexthop: IPv4
    }

    public var id: String
    public var networkID: String
    public var ipVersion: Int
    /// The IPv4 network; nil for IPv6.
    public var cidr: IPv4Prefix?
    public var gatewayIP: IPv4?
    public var enableDHCP: Bool
    public var dnsNameservers: [IPv4]
    public var hostRoutes: [HostRoute]
}

/// What a port is for (`device_owner`).
public enum DeviceOwner: Sendable, Equatable, Hashable {
    case dhcp
    case routerInterface
    case routerGateway
    case floatingIP
    /// `compute:<zone>`: an instance's interface.
    case compute(zone: String)
    /// `""`: nobody's yet.
    case none
    /// Any other owner, kept as written.
    case other(String)

    /// Reads Neutron's text.
    public init(_ text: String) {
        switch text {
        case "network:dhcp": self = .dhcp
        case "network:router_interface": self = .routerInterface
        case "network:router_gateway": self = .routerGateway
        case "network:floatingip": self = .floatingIP
        case "": self = .none
        default: self = text.hasPrefix("compute:") ? .compute(zone: String(text.dropFirst(8))) : .other(text)
        }
    }

    /// Owners Neutron trusts: the network's own ports, never filtered by security groups.
    public var isNetworkOwned: Bool {
        switch self {
        case .dhcp, .routerInterface, .routerGateway, .floatingIP: true
        case .other(let text): text.hasPrefix("network:")
        case .compute, .none: false
        }
    }
}

/// An address of a port, IPv4 or IPv6.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(IPv4)
    case v6(IPv6)

    /// Parses either family; nil for anything else.
    public init?(_ text: String) {
        if let v4 = IPv4(text) {
            self = .v4(v4)
        } else if let v6 = IPv6(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    public var v4: IPv4? {
        if case .v4(let address) = self { return address }
        return nil
    }

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }
}

/// A port: an instance's interface, a DHCP server's, a router's.
public struct Port: Sendable, Equatable {
    /// A `fixed_ips` entry.
    public struct FixedIP: Sendable, Equatable {
        public var subnetID: String
        public var address: IPAddress
    }

    /// An `allowed_address_pairs` entry: more addresses (or networks) the port may send
    /// from, with their MAC (the port's own when not given).
    public struct AddressPair: Sendable, Equatable {
        /// An address or a network, as written (`10.0.0.5` or `10.0.0.0/24`).
        public var ipAddress: String
        public var macAddress: MACAddress
    }

    public var id: String
    public var networkID: String
    public var macAddress: MACAddress
    public var fixedIPs: [FixedIP]
    public var owner: DeviceOwner
    public var deviceID: String
    /// `binding:host_id`; empty when unbound.
    public var hostID: String
    public var securityGroups: [String]
    public var portSecurityEnabled: Bool
    public var allowedAddressPairs: [AddressPair]
    public var adminStateUp: Bool

    /// The IPv4 fixed addresses, in order.
    public var ipv4: [IPv4] { fixedIPs.compactMap(\.address.v4) }
}

/// A router; its interfaces and gateway are ports (`NetworkView.interfaces(of:)`).
public struct Router: Sendable, Equatable {
    /// `external_gateway_info`.
    public struct Gateway: Sendable, Equatable {
        public var networkID: String
        public var enableSNAT: Bool
    }

    public var id: String
    public var projectID: String
    public var adminStateUp: Bool
    public var gateway: Gateway?
}

/// A floating IP, associated when it has a port, a fixed address and a router.
public struct FloatingIP: Sendable, Equatable {
    public var id: String
    public var address: IPv4
    public var fixedAddress: IPv4?
    public var portID: String?
    public var routerID: String?
    public var networkID: String
}

/// A security group with its rules.
public struct SecurityGroup: Sendable, Equatable {
    public var id: String
    public var rules: [SecurityGroupRule]
}

/// A security group rule, as Neutron's API has it.
public struct SecurityGroupRule: Sendable, Equatable {
    public enum Direction: String, Sendable { case ingress, egress }
    public enum Ethertype: String, Sendable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
    }

    public var id: String
    public var direction: Direction
    public var ethertype: Ethertype
    /// A name (`tcp`, `icmp`, `ipv6-icmp`…) or an IP protocol number as text; nil: any.
    public var protocolName: String?
    public var portRangeMin: Int?
    public var portRangeMax: Int?
    /// A network (`0.0.0.0/0`, `2001:db8::/32`); nil: anywhere.
    public var remoteIPPrefix: String?
    public var remoteGroupID: String?
}

/// Another host's L2 agent, whose `tunneling_ip` is a VXLAN peer.
public struct TunnelPeer: Sendable, Equatable {
    public var host: String
    public var agentType: String
    public var tunnelIP: IPv4
}
