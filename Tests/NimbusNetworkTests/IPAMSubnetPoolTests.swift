import Testing

@testable import NimbusNetwork

/// A pool of `prefixes` with ID `pool-1`, for tests.
func subnetPool(_ prefixes: [String], min: Int? = nil, max: Int? = nil, quota: Int? = nil) throws(IPAM.Error)
    -> IPAM.SubnetPool
{
    try IPAM.SubnetPool(
        id: "pool-1", prefixes: prefixes.map { IPNetwork(truncating: $0)! }, minPrefixLength: min,
        maxPrefixLength: max, defaultQuota: quota)
}

@Suite("Subnet pools hand out prefixes as Neutron's SubnetAllocator")
struct IPAMSubnetPoolTests {
    @Test("Bounds default per version and prefixes are compacted")
    func defaults() throws {
        let v4 = try subnetPool(["10.0.0.0/25", "10.0.0.128/25", "10.0.0.64/26", "10.0.0.5/24"])
        #expect(v4.prefixes.map(\.description) == ["10.0.0.0/24"])
        #expect((v4.minPrefixLength, v4.maxPrefixLength, v4.defaultPrefixLength) == (8, 32, 8))
        let v6 = try subnetPool(["2001:db8::/32"])
        #expect((v6.minPrefixLength, v6.maxPrefixLength, v6.defaultPrefixLength) == (64, 128, 64))
    }

    @Test(
        "Bad pools are refused with Neutron's messages",
        arguments: [
            ([], nil, nil, "Empty subnet pool prefix list."),
            (["10.0.0.0/8", "2001:db8::/32"], nil, nil, "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."),
            (["10.0.0.0/8"], 30, 24, "Illegal prefix bounds: min_prefixlen=30, max_prefixlen=24."),
            (["10.0.0.0/8"], nil, 33, "Illegal prefix bounds: max_prefixlen=33, ip_version_max=32."),
            (["10.0.0.0/8"], -1, nil, "Prefix '-1' not supported in IPv4 pool."),
        ] as [([String], Int?, Int?, String)])
    func refusedPools(prefixes: [String], min: Int?, max: Int?, message: String) {
        #expect(attributeMessage { _ = try subnetPool(prefixes, min: min, max: max) } == message)
    }

    @Test("A default prefix length outside the bounds is refused")
    func defaultOutOfBounds() {
        let low = attributeMessage {
            _ = try IPAM.SubnetPool(id: "p", prefixes: [net("10.0.0.0/8")], minPrefixLength: 16, defaultPrefixLength: 8)
        }
        #expect(low == "Illegal prefix bounds: default_prefixlen=8, min_prefixlen=16.")
        let high = attributeMessage {
            _ = try IPAM.SubnetPool(
                id: "p", prefixes: [net("10.0.0.0/8")], maxPrefixLength: 24, defaultPrefixLength: 28)
        }
        #expect(high == "Illegal prefix bounds: default_prefixlen=28, max_prefixlen=24.")
    }

    @Test(
        "Any-prefix requests take the smallest free block that fits, lowest address first",
        arguments: [
            (["10.1.0.0/16", "192.168.1.0/24"], [], 24, "192.168.1.0/24"),
            (["10.1.0.0/16", "192.168.1.0/24"], ["192.168.1.0/24"], 24, "10.1.0.0/24"),
            (["10.1.0.0/16", "192.168.1.0/24"], [], 21, "10.1.0.0/21"),
            (["10.0.0.0/16"], ["10.0.0.0/24"], 24, "10.0.1.0/24"),
            (["10.0.0.0/16"], ["10.0.0.0/24"], 23, "10.0.2.0/23"),
            (["10.0.0.0/16"], ["10.0.0.0/24", "10.0.1.0/25"], 25, "10.0.1.128/25"),
            (["2001:db8::/48"], ["2001:db8::/64"], 64, "2001:db8:0:1::/64"),
        ] as [([String], [String], Int, String)])
    func anyPrefix(prefixes: [String], allocated: [String], length: Int, expected: String) throws {
        let pool = try subnetPool(prefixes, min: 21)
        let state = IPAM.PoolState(pool: pool, allocated: allocated.map(net))
        #expect(try pool.allocate(.any(prefixLength: length), from: state).description == expected)
    }

    @Test(
        "Requests the pool cannot satisfy fail with Neutron's messages and statuses",
        arguments: [
            (
                ["10.1.1.0/24", "192.168.1.0/24"], [], IPAM.PrefixRequest.any(prefixLength: 21), 500,
                "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /21."
            ),
            (
                ["10.1.0.0/24"], [], .specific(net("10.1.0.0/21")), 500,
                "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes."
            ),
            (
                ["10.1.0.0/16"], ["10.1.2.0/25"], .specific(net("10.1.2.0/24")), 500,
                "Failed to allocate subnet: Cannot allocate requested subnet from the available set of prefixes."
            ),
            (
                ["10.1.0.0/16"], [], .any(prefixLength: 8), 400,
                "Unable to allocate subnet with prefix length 8, minimum allowed prefix is 21."
            ),
            (
                ["10.1.0.0/16"], [], .specific(net("10.1.0.0/31")), 400,
                "Unable to allocate subnet with prefix length 31, maximum allowed prefix is 30."
            ),
        ] as [([String], [String], IPAM.PrefixRequest, Int, String)])
    func unsatisfiable(
        prefixes: [String], allocated: [String], request: IPAM.PrefixRequest, status: Int, message: String
    ) throws {
        let pool = try subnetPool(prefixes, min: 21, max: 30)
        let state = IPAM.PoolState(pool: pool, allocated: allocated.map(net))
        #expect {
            try pool.allocate(request, from: state)
        } throws: { error in
            (error as? IPAM.Error)?.description == message && (error as? IPAM.Error)?.httpStatus == status
        }
    }

    @Test("A specific request inside free space is granted as asked")
    func specificPrefix() throws {
        let pool = try subnetPool(["10.1.0.0/16", "192.168.1.0/24"], min: 21)
        let state = IPAM.PoolState(pool: pool, allocated: [net("10.1.0.0/24")])
        #expect(try pool.allocate(.specific(net("10.1.2.0/24")), from: state) == net("10.1.2.0/24"))
    }

    @Test("The quota counts /64 units for IPv6, as Neutron's default_quota")
    func quota() throws {
        let pool = try subnetPool(["fe80::/48"], min: 48, quota: 1)
        let state = IPAM.PoolState(pool: pool, allocated: [])
        #expect(throws: IPAM.Error.subnetPoolQuotaExceeded) {
            try pool.allocate(.specific(net("fe80::/63")), from: state)
        }
        #expect(try pool.allocate(.specific(net("fe80::/64")), from: state) == net("fe80::/64"))
        let used = IPAM.PoolState(pool: pool, allocated: [net("fe80::/64")], quotaUsage: [net("fe80::/64")])
        #expect(throws: IPAM.Error.subnetPoolQuotaExceeded) { try pool.allocate(.any(prefixLength: 64), from: used) }
        #expect(IPAM.Error.subnetPoolQuotaExceeded.httpStatus == 409)
    }

    @Test("Prefixes may grow but never lose addresses on update")
    func prefixUpdates() throws {
        let pool = try subnetPool(["10.0.0.0/24"])
        #expect(try pool.updating(prefixes: [net("10.0.0.0/23")]).prefixes == [net("10.0.0.0/23")])
        #expect(
            throws: IPAM.Error.illegalSubnetPoolPrefixUpdate("Existing prefixes must be a subset of the new prefixes")
        ) {
            try pool.updating(prefixes: [net("10.0.0.0/25")])
        }
        #expect(try pool.addingPrefixes([net("10.0.1.0/24")]).prefixes == [net("10.0.0.0/23")])
        #expect(throws: IPAM.Error.prefixVersionMismatch) { try pool.addingPrefixes([net("2001:db8::/64")]) }
        #expect(try pool.updating(minPrefixLength: 16, defaultPrefixLength: 20).defaultPrefixLength == 20)
        #expect(
            throws: IPAM.Error.illegalSubnetPoolPrefixBounds(
                prefixType: "default_prefixlen", prefixLength: 8, baseType: "min_prefixlen", baseLength: 16)
        ) {
            try pool.updating(minPrefixLength: 16)
        }
    }

    @Test("Removing prefixes ignores foreign space and refuses space in use")
    func prefixRemoval() throws {
        let pool = try subnetPool(["10.0.0.0/23"])
        #expect(try pool.removingPrefixes([net("192.168.0.0/24")], allocated: []) == pool)
        #expect(try pool.removingPrefixes([net("10.0.1.0/24")], allocated: []).prefixes == [net("10.0.0.0/24")])
        #expect(
            throws: IPAM.Error.illegalSubnetPoolPrefixUpdate(
                "One or more the prefixes to be removed is in use by a subnet.")
        ) {
            try pool.removingPrefixes([net("10.0.1.0/24")], allocated: [net("10.0.1.128/25")])
        }
    }

    @Test("A subnet created from a pool gets the pool's default size, the address after the network as gateway")
    func createFromPool() throws {
        let pool = try IPAM.SubnetPool(id: "pool-6", prefixes: [net("2001:db8::/48")])
        let state = IPAM.PoolState(pool: pool, allocated: [net("2001:db8::/64")])
        let subnet = try create(IPAM.SubnetRequest(ipVersion: .v6), pool: state)
        #expect(subnet.cidr == net("2001:db8:0:1::/64") && subnet.subnetPoolID == "pool-6")
        #expect(subnet.gateway == ip("2001:db8:0:1::1"))
        #expect(subnet.allocationPools.map(\.description) == ["2001:db8:0:1::2-2001:db8:0:1:ffff:ffff:ffff:ffff"])
        let bare = try create(IPAM.SubnetRequest(ipVersion: .v6, prefixLength: 64, gateway: .none), pool: state)
        #expect(bare.cidr == net("2001:db8:0:1::/64") && bare.gateway == nil)
        #expect(bare.allocationPools.map(\.description) == ["2001:db8:0:1::1-2001:db8:0:1:ffff:ffff:ffff:ffff"])
    }

    @Test("A gateway without a CIDR asks the pool for the block around it")
    func gatewayDerived() throws {
        let pool = try subnetPool(["10.0.0.0/16"])
        let state = IPAM.PoolState(pool: pool, allocated: [])
        let request = IPAM.SubnetRequest(ipVersion: .v4, prefixLength: 24, gateway: .address(ip("10.0.7.254")))
        let subnet = try create(request, pool: state)
        #expect(subnet.cidr == net("10.0.7.0/24") && subnet.gateway == ip("10.0.7.254"))
        #expect(subnet.allocationPools.map(\.description) == ["10.0.7.1-10.0.7.253"])
    }

    @Test("Pool-based creates refuse pools without a CIDR and a pool of the other version")
    func poolRequestErrors() throws {
        let state = IPAM.PoolState(pool: try subnetPool(["10.0.0.0/16"]), allocated: [])
        var withPools = IPAM.SubnetRequest(ipVersion: .v4)
        withPools.allocationPools = []
        #expect(
            attributeMessage { _ = try create(withPools, pool: state) }
                == "Bad subnets request: allocation_pools allowed only for specific subnet requests..")
        #expect(
            attributeMessage { _ = try create(IPAM.SubnetRequest(ipVersion: .v6), pool: state) }
                == "Bad subnets request: Cannot allocate IPv6 subnet from IPv4 subnet pool.")
    }
}
