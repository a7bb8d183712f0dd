extension IPAM {
    /// What a subnet asks of a pool.
    public enum PrefixRequest: Hashable, Sendable {
        /// Any free block of this prefix length (`AnySubnetRequest`).
        case any(prefixLength: Int)
        /// This network, which must lie in the pool's free space (`SpecificSubnetRequest`).
        case specific(IPNetwork)

        /// The prefix length asked for.
        public var prefixLength: Int {
            switch self {
            case .any(let length): length
            case .specific(let network): network.prefixLength
            }
        }
    }

    /// A pool with what it has given out: the state a subnet allocation reads.
    public struct PoolState: Hashable, Sendable {
        /// The pool.
        public var pool: SubnetPool
        /// Every subnet CIDR allocated from the pool.
        public var allocated: [IPNetwork]
        /// The CIDRs counted against the quota. Neutron counts the subnets of the pool
        /// that belong to the pool's own project (`_allocations_used_by_project`).
        public var quotaUsage: [IPNetwork]

        /// The state of `pool` with its allocations.
        public init(pool: SubnetPool, allocated: [IPNetwork], quotaUsage: [IPNetwork] = []) {
            self.pool = pool
            self.allocated = allocated
            self.quotaUsage = quotaUsage
        }
    }
}

extension IPAM.SubnetPool {
    /// Allocates a subnet CIDR as Neutron's `SubnetAllocator.allocate_subnet`: the prefix
    /// length must lie within the pool's bounds, the project's quota must hold it, and
    /// then an `.any` request takes the first block of that size in the smallest free
    /// space that fits (best fit, lowest address), while a `.specific` one must lie wholly
    /// in free space.
    public func allocate(_ request: IPAM.PrefixRequest, from state: IPAM.PoolState) throws(IPAM.Error) -> IPNetwork {
        let length = request.prefixLength
        if length > maxPrefixLength {
            throw .maxPrefixSubnetAllocationError(prefixLength: length, maxPrefixLength: maxPrefixLength)
        }
        if length < minPrefixLength {
            throw .minPrefixSubnetAllocationError(prefixLength: length, minPrefixLength: minPrefixLength)
        }
        try checkQuota(prefixLength: length, usage: state.quotaUsage)
        let available = availablePrefixes(allocated: state.allocated)
        switch request {
        case .any:
            for block in available where length >= block.prefixLength {
                if let subnet = IPNetwork(address: block.network, prefixLength: length) { return subnet }
            }
            throw .subnetAllocationError(reason: "Insufficient prefix space to allocate subnet size /\(length)")
        case .specific(let cidr):
            guard available.contains(where: { $0.contains(cidr) }) else {
                throw .subnetAllocationError(
                    reason: "Cannot allocate requested subnet from the available set of prefixes")
            }
            return cidr
        }
    }

    /// `_check_subnetpool_project_quota`: with a quota set, the units already used plus
    /// those of the request may not exceed it; a unit is a /32 (IPv4) or /64 (IPv6), and
    /// smaller subnets count as fractions, as Neutron's `math.pow` does.
    func checkQuota(prefixLength: Int, usage: [IPNetwork]) throws(IPAM.Error) {
        guard let quota = defaultQuota, quota != 0 else { return }
        let unit = ipVersion == .v4 ? 32 : 64
        func units(_ length: Int) -> Double { Double.pow2(unit - length) }
        let used = usage.reduce(0.0) { $0 + units($1.prefixLength) }
        if used + units(prefixLength) > Double(quota) { throw .subnetPoolQuotaExceeded }
    }
}

extension Double {
    /// 2 to the power `exponent`, negative exponents included.
    fileprivate static func pow2(_ exponent: Int) -> Double {
        Double(sign: .plus, exponent: exponent, significand: 1)
    }
}
