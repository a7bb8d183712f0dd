extension IPAM {
    /// An IPv6 address or router-advertisement mode (`ipv6_address_mode`, `ipv6_ra_mode`).
    public enum IPv6Mode: String, Sendable, Hashable, Codable, CaseIterable {
        case slaac
        case dhcpv6Stateful = "dhcpv6-stateful"
        case dhcpv6Stateless = "dhcpv6-stateless"

        /// Whether addresses come from the MAC rather than from IPAM (SLAAC, stateless).
        public var isAutomatic: Bool { self != .dhcpv6Stateful }
    }

    /// A static route handed to instances by DHCP (`host_routes`).
    public struct HostRoute: Hashable, Sendable {
        /// Where the route leads.
        public var destination: IPNetwork
        /// The router to send through.
        public var nexthop: IPAddress

        /// A route to `destination` through `nexthop`.
        public init(destination: IPNetwork, nexthop: IPAddress) {
            self.destination = destination
            self.nexthop = nexthop
        }
    }

    /// What a subnet request says of `gateway_ip`.
    public enum Gateway: Hashable, Sendable {
        /// Not given: Neutron picks one (see `IPAM.defaultGateway`).
        case automatic
        /// `null`: the subnet has no gateway.
        case none
        /// An address, inside the subnet or (assumed on-link) outside it.
        case address(IPAddress)
    }

    /// One requested allocation pool, bounds as given (not yet known to be in order).
    public struct PoolBounds: Hashable, Sendable, CustomStringConvertible {
        /// The `start` address.
        public var start: IPAddress
        /// The `end` address.
        public var end: IPAddress

        /// A pool from `start` to `end`.
        public init(start: IPAddress, end: IPAddress) {
            self.start = start
            self.end = end
        }

        /// The pool the way Neutron prints the request's dict: `{'start': 'a', 'end': 'b'}`.
        public var description: String { "{'start': '\(start)', 'end': '\(end)'}" }
    }

    /// Neutron's per-subnet limits (`max_dns_nameservers`, `max_subnet_host_routes`).
    public struct Limits: Hashable, Sendable {
        /// Most DNS servers a subnet may list; Neutron's default is 5.
        public var maxDNSNameservers: Int
        /// Most host routes a subnet may list; Neutron's default is 20.
        public var maxHostRoutes: Int

        /// Limits with Neutron's defaults unless given.
        public init(maxDNSNameservers: Int = 5, maxHostRoutes: Int = 20) {
            self.maxDNSNameservers = maxDNSNameservers
            self.maxHostRoutes = maxHostRoutes
        }
    }

    /// A subnet as IPAM knows it: what Neutron stores of its addressing.
    public struct Subnet: Hashable, Sendable {
        /// The subnet's ID, used in error messages.
        public var id: String
        /// The network's ID.
        public var networkID: String
        /// The subnet's network, host bits clear.
        public var cidr: IPNetwork
        /// The gateway, nil when there is none.
        public var gateway: IPAddress?
        /// Where automatic addresses come from, in stored order.
        public var allocationPools: [IPRange]
        /// Whether DHCP serves the subnet.
        public var enableDHCP: Bool
        /// How routers advertise the prefix (IPv6 only).
        public var ipv6RAMode: IPv6Mode?
        /// How ports get addresses (IPv6 only).
        public var ipv6AddressMode: IPv6Mode?
        /// DNS servers, in order.
        public var dnsNameservers: [IPAddress]
        /// Static routes.
        public var hostRoutes: [HostRoute]
        /// The subnet pool the CIDR came from, if any.
        public var subnetPoolID: String?

        /// A subnet with everything given.
        public init(
            id: String, networkID: String, cidr: IPNetwork, gateway: IPAddress?, allocationPools: [IPRange],
            enableDHCP: Bool = true, ipv6RAMode: IPv6Mode? = nil, ipv6AddressMode: IPv6Mode? = nil,
            dnsNameservers: [IPAddress] = [], hostRoutes: [HostRoute] = [], subnetPoolID: String? = nil
        ) {
            self.id = id
            self.networkID = networkID
            self.cidr = cidr
            self.gateway = gateway
            self.allocationPools = allocationPools
            self.enableDHCP = enableDHCP
            self.ipv6RAMode = ipv6RAMode
            self.ipv6AddressMode = ipv6AddressMode
            self.dnsNameservers = dnsNameservers
            self.hostRoutes = hostRoutes
            self.subnetPoolID = subnetPoolID
        }

        /// IPv4 or IPv6.
        public var ipVersion: IPVersion { cidr.version }

        /// Whether ports get EUI-64 addresses here rather than pool addresses:
        /// `ipv6_utils.is_auto_address_subnet` (either mode SLAAC or stateless).
        public var isAutoAddress: Bool {
            ipv6AddressMode?.isAutomatic == true || ipv6RAMode?.isAutomatic == true
        }
    }
}
