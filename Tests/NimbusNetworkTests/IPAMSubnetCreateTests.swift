import Testing

@testable import NimbusNetwork

/// A subnet create request on `cidr` (version from the CIDR), for tests.
func subnetRequest(
    _ cidr: String, gateway: IPAM.Gateway = .automatic, pools: [(String, String)]? = nil, dhcp: Bool = true,
    ra: IPAM.IPv6Mode? = nil, address: IPAM.IPv6Mode? = nil, dns: [String] = [], routes: [(String, String)] = []
) -> IPAM.SubnetRequest {
    let network = IPNetwork(truncating: cidr)!
    return IPAM.SubnetRequest(
        ipVersion: network.version, cidr: network, gateway: gateway,
        allocationPools: pools?.map { IPAM.PoolBounds(start: ip($0.0), end: ip($0.1)) }, enableDHCP: dhcp,
        ipv6RAMode: ra, ipv6AddressMode: address, dnsNameservers: dns.map(ip),
        hostRoutes: routes.map { IPAM.HostRoute(destination: net($0.0), nexthop: ip($0.1)) })
}

/// Creates a subnet with ID `subnet-1` on network `net-1` from a request.
func create(_ request: IPAM.SubnetRequest, existing: [IPAM.Subnet] = [], pool: IPAM.PoolState? = nil)
    throws(IPAM.Error) -> IPAM.Subnet
{
    try IPAM.createSubnet(request, id: "subnet-1", networkID: "net-1", existing: existing, pool: pool)
}

@Suite("Subnet create fills in Neutron's defaults")
struct IPAMSubnetCreateTests {
    @Test(
        "Gateway and pools default as Neutron's generate_pools does, including the /31 and /32 edge cases",
        arguments: [
            ("10.0.0.0/24", IPAM.Gateway.automatic, true, "10.0.0.1", ["10.0.0.2-10.0.0.254"]),
            ("10.0.0.5/24", .automatic, true, "10.0.0.1", ["10.0.0.2-10.0.0.254"]),
            ("10.0.0.0/24", .none, true, nil, ["10.0.0.1-10.0.0.254"]),
            (
                "10.0.0.0/24", .address(ip("10.0.0.128")), true, "10.0.0.128",
                ["10.0.0.1-10.0.0.127", "10.0.0.129-10.0.0.254"]
            ),
            ("10.0.0.0/24", .address(ip("10.0.0.254")), true, "10.0.0.254", ["10.0.0.1-10.0.0.253"]),
            ("10.0.0.0/24", .address(ip("192.168.0.1")), true, "192.168.0.1", ["10.0.0.1-10.0.0.254"]),
            ("10.0.0.0/30", .automatic, true, "10.0.0.1", ["10.0.0.2-10.0.0.2"]),
            ("10.14.0.20/31", .address(ip("10.14.0.19")), false, "10.14.0.19", ["10.14.0.20-10.14.0.21"]),
            ("10.14.0.20/32", .address(ip("10.14.0.19")), false, "10.14.0.19", ["10.14.0.20-10.14.0.20"]),
            ("10.14.0.20/32", .automatic, false, "10.14.0.21", ["10.14.0.20-10.14.0.20"]),
            ("2001:db8::/64", .automatic, true, "2001:db8::", ["2001:db8::1-2001:db8::ffff:ffff:ffff:ffff"]),
            ("2001::/64", .address(ip("2001::1")), true, "2001::1", ["2001::2-2001::ffff:ffff:ffff:ffff"]),
            (
                "2001::/64", .address(ip("2001::ffff:ffff:ffff:ffff")), true, "2001::ffff:ffff:ffff:ffff",
                ["2001::1-2001::ffff:ffff:ffff:fffe"]
            ),
            ("2001:db8::/127", .none, false, nil, ["2001:db8::1-2001:db8::1"]),
        ] as [(String, IPAM.Gateway, Bool, String?, [String])])
    func defaults(cidr: String, gateway: IPAM.Gateway, dhcp: Bool, expectedGateway: String?, pools: [String]) throws {
        let subnet = try create(subnetRequest(cidr, gateway: gateway, dhcp: dhcp))
        #expect(subnet.gateway?.description == expectedGateway)
        #expect(subnet.allocationPools.map(\.description) == pools)
    }

    @Test("Given pools are kept, sorted, with the gateway outside them")
    func givenPools() throws {
        let request = subnetRequest("10.0.0.0/24", pools: [("10.0.0.100", "10.0.0.200"), ("10.0.0.10", "10.0.0.20")])
        let subnet = try create(request)
        #expect(subnet.allocationPools.map(\.description) == ["10.0.0.10-10.0.0.20", "10.0.0.100-10.0.0.200"])
        #expect(subnet.gateway == ip("10.0.0.1"))
    }

    @Test("An empty pool list gets the default pools, as Neutron's IPAM driver generates them")
    func emptyPools() throws {
        let subnet = try create(subnetRequest("10.0.0.0/24", pools: []))
        #expect(subnet.allocationPools.map(\.description) == ["10.0.0.2-10.0.0.254"])
    }

    @Test("IPv6 stateful subnets may have any prefix; SLAAC needs a /64 and gets it")
    func ipv6Modes() throws {
        let stateful = subnetRequest("2001:db8::/80", ra: .dhcpv6Stateful, address: .dhcpv6Stateful)
        #expect(try create(stateful).ipv6AddressMode == .dhcpv6Stateful)
        let slaac = try create(subnetRequest("2001:db8::/64", address: .slaac))
        #expect(slaac.isAutoAddress)
    }

    @Test("A subnet of the other version may share the network, and may not come from a pool when the first did not")
    func networkNeighbours() throws {
        let v6 = try create(subnetRequest("2001:db8::/64"))
        #expect(try create(subnetRequest("10.0.0.0/24"), existing: [v6]).cidr == net("10.0.0.0/24"))
        let pool = try IPAM.SubnetPool(id: "pool-1", prefixes: [net("10.0.0.0/16")])
        let state = IPAM.PoolState(pool: pool, allocated: [])
        let v4 = try create(subnetRequest("10.1.0.0/24"))
        #expect(throws: IPAM.Error.networkSubnetPoolAffinityError) {
            try create(subnetRequest("10.0.1.0/24"), existing: [v4], pool: state)
        }
    }

    @Test("A subnet overlapping another on the network is refused without naming it")
    func overlap() throws {
        let existing = try create(subnetRequest("10.0.0.0/24"))
        #expect(
            throws: IPAM.Error.invalidInput(
                "Requested subnet with cidr: 10.0.0.128/25 for network: net-1 overlaps with another subnet")
        ) {
            try create(subnetRequest("10.0.0.225/25"), existing: [existing])
        }
    }

    @Test("CIDR with prefixlen, or neither without a pool, is a bad request")
    func badRequests() {
        var both = subnetRequest("10.0.0.0/24")
        both.prefixLength = 24
        #expect(
            throws: IPAM.Error.badRequest(
                resource: "subnets", message: "cidr and prefixlen must not be supplied together")
        ) {
            try create(both)
        }
        let neither = IPAM.SubnetRequest(ipVersion: .v4)
        #expect(
            throws: IPAM.Error.badRequest(
                resource: "subnets", message: "a subnetpool must be specified in the absence of a cidr")
        ) {
            try create(neither)
        }
        #expect(IPAM.Error.badRequest(resource: "subnets", message: "x").description == "Bad subnets request: x.")
    }
}
