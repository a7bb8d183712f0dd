extension IPAM {
    /// A subnet create request after its attributes were parsed (see `IPAM.Attributes`):
    /// what `POST /v2.0/subnets` carries that IPAM decides on.
    public struct SubnetRequest: Hashable, Sendable {
        /// `ip_version`.
        public var ipVersion: IPVersion
        /// `cidr`, host bits already cleared; nil to take one from a subnet pool.
        public var cidr: IPNetwork?
        /// `prefixlen`, only with a subnet pool and no `cidr`.
        public var prefixLength: Int?
        /// `gateway_ip`.
        public var gateway: Gateway
        /// `allocation_pools`; nil or empty for Neutron's default pools.
        public var allocationPools: [PoolBounds]?
        /// `enable_dhcp`, true unless given.
        public var enableDHCP: Bool
        /// `ipv6_ra_mode`.
        public var ipv6RAMode: IPv6Mode?
        /// `ipv6_address_mode`.
        public var ipv6AddressMode: IPv6Mode?
        /// `dns_nameservers`.
        public var dnsNameservers: [IPAddress]
        /// `host_routes`.
        public var hostRoutes: [HostRoute]

        /// A request with Neutron's defaults for everything not given.
        public init(
            ipVersion: IPVersion, cidr: IPNetwork? = nil, prefixLength: Int? = nil, gateway: Gateway = .automatic,
            allocationPools: [PoolBounds]? = nil, enableDHCP: Bool = true, ipv6RAMode: IPv6Mode? = nil,
            ipv6AddressMode: IPv6Mode? = nil, dnsNameservers: [IPAddress] = [], hostRoutes: [HostRoute] = []
        ) {
            self.ipVersion = ipVersion
            self.cidr = cidr
            self.prefixLength = prefixLength
            self.gateway = gateway
            self.allocationPools = allocationPools
            self.enableDHCP = enableDHCP
            self.ipv6RAMode = ipv6RAMode
            self.ipv6AddressMode = ipv6AddressMode
            self.dnsNameservers = dnsNameservers
            self.hostRoutes = hostRoutes
        }

        /// Whether the request asks for automatic (EUI-64) IPv6 addressing.
        var isAutoAddress: Bool {
            ipv6AddressMode?.isAutomatic == true || ipv6RAMode?.isAutomatic == true
        }
    }

    /// A subnet update request (`PUT /v2.0/subnets/{id}`): nil fields are not changed.
    /// `cidr`, `ip_version` and the IPv6 modes cannot be updated in Neutron.
    public struct SubnetUpdate: Hashable, Sendable {
        /// `gateway_ip`: nil leaves it, `.some(nil)` removes it.
        public var gateway: IPAddress??
        /// `allocation_pools`: replaces the pools; an empty list leaves none.
        public var allocationPools: [PoolBounds]?
        /// `enable_dhcp`.
        public var enableDHCP: Bool?
        /// `dns_nameservers`: replaces the list.
        public var dnsNameservers: [IPAddress]?
        /// `host_routes`: replaces the list.
        public var hostRoutes: [HostRoute]?

        /// An update of the fields given.
        public init(
            gateway: IPAddress?? = nil, allocationPools: [PoolBounds]? = nil, enableDHCP: Bool? = nil,
            dnsNameservers: [IPAddress]? = nil, hostRoutes: [HostRoute]? = nil
        ) {
            self.gateway = gateway
            self.allocationPools = allocationPools
            self.enableDHCP = enableDHCP
            self.dnsNameservers = dnsNameservers
            self.hostRoutes = hostRoutes
        }
    }
}
