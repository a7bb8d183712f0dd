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

    /// Its id.
    public var id: String
    /// The owning project (`project_id`).
    public var projectID: String
    /// How it reaches the hosts.
    public var segment: Segment
    /// The largest packet its ports may send (1450 for VXLAN over a 1500 underlay).
    public var mtu: Int
    /// `admin_state_up`.
    public var adminStateUp: Bool
    /// `router:external`.
    public var external: Bool
}

/// A subnet. IPv6 subnets are kept (their ports' addresses matter to security groups) but
/// neither served by DHCP nor routed.
public struct Subnet: Sendable, Equatable {
    /// A `host_routes` entry.
    public struct HostRoute: Sendable, Equatable {
        /// The network reached.
        public var destination: IPv4Prefix
        /// The router on the subnet that reaches it.
        public var nexthop: IPv4
    }

    /// Its id.
    public var id: String
    /// The network it is on.
    public var networkID: String
    /// 4 or 6.
    public var ipVersion: Int
    /// The IPv4 network; nil for IPv6.
    public var cidr: IPv4Prefix?
    /// The router's address on the subnet; nil: no gateway.
    public var gatewayIP: IPv4?
    /// `enable_dhcp`.
    public var enableDHCP: Bool
    /// The DNS servers DHCP hands out (IPv4 ones only).
    public var dnsNameservers: [IPv4]
    /// Routes DHCP hands out (option 121).
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

    /// The IPv4 address, if it is one.
    public var v4: IPv4? {
        if case .v4(let address) = self { return address }
        return nil
    }

    /// The address as text.
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
        /// The subnet the address is on.
        public var subnetID: String
        /// The address.
        public var address: IPAddress
    }

    /// An `allowed_address_pairs` entry: more addresses (or networks) the port may send
    /// from, with their MAC (the port's own when not given).
    public struct AddressPair: Sendable, Equatable {
        /// An address or a network, as written (`10.0.0.5` or `10.0.0.0/24`).
        public var ipAddress: String
        /// The MAC it may send from with that address.
        public var macAddress: MACAddress
    }

    /// Its id.
    public var id: String
    /// The network it is on.
    public var networkID: String
    /// The port's MAC: the instance's (or namespace end's) address.
    public var macAddress: MACAddress
    /// Its addresses, each on a subnet.
    public var fixedIPs: [FixedIP]
    /// `device_owner`.
    public var owner: DeviceOwner
    /// `device_id`: the instance, router or DHCP server using the port.
    public var deviceID: String
    /// `binding:host_id`; empty when unbound.
    public var hostID: String
    /// The ids of its security groups.
    public var securityGroups: [String]
    /// `port_security_enabled`: false, no filtering and no anti-spoofing.
    public var portSecurityEnabled: Bool
    /// More addresses it may send from.
    public var allowedAddressPairs: [AddressPair]
    /// `admin_state_up`: false, its tap is set down.
    public var adminStateUp: Bool
    /// The owning project (the metadata proxy names it to the compute service).
    public var projectID = ""
    /// `extra_dhcp_opts` for IPv4 (name or option number, value), given to dnsmasq for
    /// this port only.
    public var extraDHCPOptions: [DHCPOption] = []

    /// An `extra_dhcp_opts` entry.
    public struct DHCPOption: Sendable, Equatable {
        /// `opt_name`: a name dnsmasq knows (`bootfile-name`) or an option number.
        public var name: String
        /// `opt_value`.
        public var value: String
    }

    /// The IPv4 fixed addresses, in order.
    public var ipv4: [IPv4] { fixedIPs.compactMap(\.address.v4) }
}

/// A router; its interfaces and gateway are ports (`NetworkView.interfaces(of:)`).
public struct Router: Sendable, Equatable {
    /// `external_gateway_info`.
    public struct Gateway: Sendable, Equatable {
        /// The external network.
        public var networkID: String
        /// Whether the internal networks are SNATed to the gateway address.
        public var enableSNAT: Bool
    }

    /// Its id.
    public var id: String
    /// The owning project.
    public var projectID: String
    /// `admin_state_up` (a router that is down is wired all the same).
    public var adminStateUp: Bool
    /// The external gateway; nil: none.
    public var gateway: Gateway?
}

/// A floating IP, associated when it has a port, a fixed address and a router.
public struct FloatingIP: Sendable, Equatable {
    /// Its id.
    public var id: String
    /// `floating_ip_address`.
    public var address: IPv4
    /// The associated port's address it maps to.
    public var fixedAddress: IPv4?
    /// The associated port.
    public var portID: String?
    /// The router that does its NAT.
    public var routerID: String?
    /// The external network it is from (`floating_network_id`).
    public var networkID: String
}

/// A security group with its rules.
public struct SecurityGroup: Sendable, Equatable {
    /// Its id.
    public var id: String
    /// Its rules (`security_group_rules`).
    public var rules: [SecurityGroupRule]
}

/// A security group rule, as Neutron's API has it.
public struct SecurityGroupRule: Sendable, Equatable {
    /// Into the port or out of it.
    public enum Direction: String, Sendable { case ingress, egress }
    /// The IP version the rule is for.
    public enum Ethertype: String, Sendable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
    }

    /// Its id.
    public var id: String
    /// Ingress or egress.
    public var direction: Direction
    /// IPv4 or IPv6.
    public var ethertype: Ethertype
    /// A name (`tcp`, `icmp`, `ipv6-icmp`…) or an IP protocol number as text; nil: any.
    public var protocolName: String?
    /// The lowest port (for ICMP: the type).
    public var portRangeMin: Int?
    /// The highest port (for ICMP: the code).
    public var portRangeMax: Int?
    /// A network (`0.0.0.0/0`, `2001:db8::/32`); nil: anywhere.
    public var remoteIPPrefix: String?
    /// A group whose members' addresses the rule admits (a named nft set).
    public var remoteGroupID: String?
}

/// Another host's L2 agent, whose `tunneling_ip` is a VXLAN peer.
public struct TunnelPeer: Sendable, Equatable {
    /// The host the agent runs on (as ports are bound to it).
    public var host: String
    /// The agent's type, as in its item id (`type/host`).
    public var agentType: String
    /// Its `tunneling_ip`.
    public var tunnelIP: IPv4
}
