extension IPAM {
    /// A subnet pool: prefixes subnets are carved from, with bounds on their sizes.
    /// Built and checked as Neutron's `SubnetPoolReader` and `SubnetPoolHelper` do
    /// (neutron/ipam/subnet_alloc.py).
    public struct SubnetPool: Hashable, Sendable {
        /// The pool's ID.
        public var id: String
        /// The version of every prefix.
        public private(set) var ipVersion: IPVersion
        /// The prefixes, compacted: overlapping and adjacent ones merged, lowest first.
        public private(set) var prefixes: [IPNetwork]
        /// The shortest prefix length a subnet may have (largest subnet).
        public private(set) var minPrefixLength: Int
        /// The longest prefix length a subnet may have (smallest subnet).
        public private(set) var maxPrefixLength: Int
        /// The prefix length of a subnet that asks for none.
        public private(set) var defaultPrefixLength: Int
        /// Addresses a project may take, in /32 (IPv4) or /64 (IPv6) units; nil or 0 for
        /// no limit.
        public private(set) var defaultQuota: Int?

        /// A pool of `prefixes`. Missing bounds take Neutron's defaults: minimum 8 (IPv4)
        /// or 64 (IPv6), maximum 32 or 128, default the minimum. Throws, in Neutron's
        /// order, for an empty list, mixed versions and bounds out of order.
        public init(
            id: String, prefixes: [IPNetwork], minPrefixLength: Int? = nil, maxPrefixLength: Int? = nil,
            defaultPrefixLength: Int? = nil, defaultQuota: Int? = nil
        ) throws(IPAM.Error) {
            guard let version = prefixes.first?.version else { throw .emptySubnetPoolPrefixList }
            guard prefixes.allSatisfy({ $0.version == version }) else { throw .prefixVersionMismatch }
            let minimum = minPrefixLength ?? (version == .v4 ? 8 : 64)
            let maximum = maxPrefixLength ?? version.bitWidth
            let standard = defaultPrefixLength ?? minimum
            if minimum < 0 { throw .unsupportedMinSubnetPoolPrefix(prefix: minimum, version: 4) }
            if minimum > maximum {
                throw .illegalSubnetPoolPrefixBounds(
                    prefixType: "min_prefixlen", prefixLength: minimum, baseType: "max_prefixlen", baseLength: maximum)
            }
            if maximum > version.bitWidth {
                throw .illegalSubnetPoolPrefixBounds(
                    prefixType: "max_prefixlen", prefixLength: maximum, baseType: "ip_version_max",
                    baseLength: version.bitWidth)
            }
            if standard < minimum {
                throw .illegalSubnetPoolPrefixBounds(
                    prefixType: "default_prefixlen", prefixLength: standard, baseType: "min_prefixlen",
                    baseLength: minimum)
            }
            if standard > maximum {
                throw .illegalSubnetPoolPrefixBounds(
                    prefixType: "default_prefixlen", prefixLength: standard, baseType: "max_prefixlen",
                    baseLength: maximum)
            }
            self.id = id
            self.ipVersion = version
            self.prefixes = IPRangeSet(prefixes).cidrs
            self.minPrefixLength = minimum
            self.maxPrefixLength = maximum
            self.defaultPrefixLength = standard
            self.defaultQuota = defaultQuota
        }

        /// The pool after `PUT /v2.0/subnetpools/{id}`: given fields replace the old ones,
        /// new prefixes must keep every address of the old ones ("Illegal update to
        /// prefixes: Existing prefixes must be a subset of the new prefixes."), and the
        /// whole is checked again as on create.
        public func updating(
            prefixes newPrefixes: [IPNetwork]? = nil, minPrefixLength: Int? = nil, maxPrefixLength: Int? = nil,
            defaultPrefixLength: Int? = nil, defaultQuota: Int?? = nil
        ) throws(IPAM.Error) -> SubnetPool {
            if let newPrefixes, !IPRangeSet(prefixes).isSubset(of: IPRangeSet(newPrefixes)) {
                throw .illegalSubnetPoolPrefixUpdate("Existing prefixes must be a subset of the new prefixes")
            }
            return try SubnetPool(
                id: id, prefixes: newPrefixes ?? prefixes, minPrefixLength: minPrefixLength ?? self.minPrefixLength,
                maxPrefixLength: maxPrefixLength ?? self.maxPrefixLength,
                defaultPrefixLength: defaultPrefixLength ?? self.defaultPrefixLength,
                defaultQuota: defaultQuota ?? self.defaultQuota)
        }

        /// The pool after `PUT .../add_prefixes`: the prefixes joined and compacted.
        public func addingPrefixes(_ added: [IPNetwork]) throws(IPAM.Error) -> SubnetPool {
            added.isEmpty ? self : try updating(prefixes: prefixes + added)
        }

        /// The pool after `PUT .../remove_prefixes`, given the subnets allocated from it:
        /// prefixes not in the pool are ignored; removing space a subnet uses is refused.
        /// As in Neutron, the pool may be left with no prefix at all.
        public func removingPrefixes(_ removed: [IPNetwork], allocated: [IPNetwork]) throws(IPAM.Error) -> SubnetPool {
            let all = IPRangeSet(prefixes)
            let removal = IPRangeSet(removed)
            guard all.intersects(removal) else { return self }
            if IPRangeSet(allocated).intersects(removal) {
                throw .illegalSubnetPoolPrefixUpdate("One or more the prefixes to be removed is in use by a subnet.")
            }
            var pool = self
            pool.prefixes = all.subtracting(removal).cidrs
            return pool
        }

        /// The free space of the pool given its allocated subnets, in the order Neutron
        /// tries it (`_get_available_prefix_list`): smallest blocks first, lower addresses
        /// first among blocks of one size, so requests are filled best-fit.
        public func availablePrefixes(allocated: [IPNetwork]) -> [IPNetwork] {
            let free = IPRangeSet(prefixes).subtracting(IPRangeSet(allocated)).cidrs
            return free.enumerated().sorted { left, right in
                left.element.prefixLength != right.element.prefixLength
                    ? left.element.prefixLength > right.element.prefixLength : left.offset < right.offset
            }.map(\.element)
        }
    }
}
