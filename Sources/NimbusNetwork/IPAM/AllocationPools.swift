extension IPAM {
    /// The gateway Neutron gives a subnet created with a CIDR and no `gateway_ip`
    /// (`IpamBackendMixin._gateway_ip_str`): the first host address for IPv4
    /// (`10.0.0.1` of `10.0.0.0/24`), and, since Neutron allowed the subnet-router
    /// anycast address as a gateway (change 1916bc5, bug 1682094), the network address
    /// itself for IPv6 (`2001:db8::` of `2001:db8::/64`). Nil only when the address after
    /// the network does not exist (`255.255.255.255/32`, where Neutron fails).
    public static func defaultGateway(for cidr: IPNetwork) -> IPAddress? {
        cidr.version == .v6 ? cidr.network : cidr.network + 1
    }

    /// The gateway Neutron gives a subnet taken from a subnet pool without a
    /// `gateway_ip`: the address after the network for both versions
    /// (`SubnetAllocator._allocate_any_subnet`).
    public static func defaultPoolSubnetGateway(for cidr: IPNetwork) -> IPAddress? {
        cidr.network + 1
    }

    /// The allocation pools Neutron generates when none are given
    /// (`neutron.ipam.utils.generate_pools`): the whole subnet less the IPv4 network and
    /// broadcast addresses (kept on a /31, where both are usable), less the IPv6
    /// subnet-router anycast address, less the gateway when it is inside. A /32 or /128
    /// is one pool of its only address, whatever the gateway.
    public static func defaultAllocationPools(cidr: IPNetwork, gateway: IPAddress?) -> [IPRange] {
        if cidr.first == cidr.last { return [IPRange(cidr.first)] }
        var usable = IPRangeSet([poolSpan(of: cidr)])
        if let gateway, gateway.version == cidr.version { usable = usable.removing(gateway) }
        return usable.ranges
    }

    /// Where pools may lie in a subnet (`IpamBackendMixin.validate_allocation_pools`):
    /// IPv4 without its network and broadcast address (the whole of a /31 or /32), IPv6
    /// without its first address.
    static func poolSpan(of cidr: IPNetwork) -> IPRange {
        let range = cidr.range
        let first: IPAddress
        let last: IPAddress
        switch cidr.version {
        case .v4 where cidr.prefixLength <= 30:
            first = (range.first + 1) ?? range.first
            last = (range.last - 1) ?? range.last
        case .v4:
            (first, last) = (range.first, range.last)
        case .v6:
            first = (range.first + 1) ?? range.first
            last = range.last
        }
        return IPRange(first: first, last: last) ?? range
    }

    /// Requested pools checked as Neutron does (`pools_to_ip_range`, then
    /// `validate_allocation_pools`): each a well-ordered range of one version, then each of
    /// the subnet's version and inside the usable span, then no two overlapping. Returns
    /// the pools in the order given.
    public static func allocationPools(_ requested: [PoolBounds], in cidr: IPNetwork) throws(IPAM.Error) -> [IPRange] {
        var pools: [IPRange] = []
        for bounds in requested {
            guard let pool = IPRange(first: bounds.start, last: bounds.end) else {
                throw .invalidAllocationPool(pool: bounds.description)
            }
            pools.append(pool)
        }
        let span = poolSpan(of: cidr)
        for pool in pools {
            guard pool.version == cidr.version else { throw .invalidAllocationPool(pool: pool.description) }
            guard span.contains(pool) else { throw .outOfBoundsAllocationPool(pool: pool, subnetCIDR: cidr) }
        }
        for (index, left) in pools.enumerated() {
            for right in pools[(index + 1)...] where left.overlaps(right) {
                throw .overlappingAllocationPools(left, right, subnetCIDR: cidr)
            }
        }
        return pools
    }

    /// Refuses a gateway inside any pool, the first such pool named
    /// (`validate_gw_out_of_pools`).
    public static func checkGateway(_ gateway: IPAddress, outside pools: [IPRange]) throws(IPAM.Error) {
        for pool in pools where pool.contains(gateway) {
            throw .gatewayConflictWithAllocationPools(gateway: gateway, pool: pool)
        }
    }
}
