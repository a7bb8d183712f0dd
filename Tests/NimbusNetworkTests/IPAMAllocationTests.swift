import Testing

@testable import NimbusNetwork

/// A subnet with the given pools, for allocation tests.
func poolSubnet(_ cidr: String, pools: [(String, String)], id: String = "subnet-1") -> IPAM.Subnet {
    IPAM.Subnet(
        id: id, networkID: "net-1", cidr: net(cidr), gateway: nil,
        allocationPools: pools.map { IPRange(first: ip($0.0), last: ip($0.1))! })
}

@Suite("Address allocation follows Neutron's DB IPAM driver")
struct IPAMAllocationTests {
    let subnet = poolSubnet("10.0.0.0/24", pools: [("10.0.0.2", "10.0.0.254")])

    @Test(
        "Prefer-next takes the lowest free pool address",
        arguments: [
            ([], "10.0.0.2"), (["10.0.0.2", "10.0.0.3", "10.0.0.5"], "10.0.0.4"),
            (["10.0.0.1", "10.0.0.9"], "10.0.0.2"),
            ((2...253).map { "10.0.0.\($0)" }, "10.0.0.254"),
        ] as [([String], String)])
    func preferNext(used: [String], expected: String) throws {
        #expect(try subnet.allocate(.preferNext, used: IPAM.UsedAddresses(used.map(ip))).description == expected)
    }

    @Test("A full pool passes allocation on to the next pool, lowest pool first")
    func nextPool() throws {
        let twoPools = poolSubnet("10.0.0.0/24", pools: [("10.0.0.100", "10.0.0.101"), ("10.0.0.10", "10.0.0.11")])
        let used = IPAM.UsedAddresses([ip("10.0.0.10"), ip("10.0.0.11")])
        #expect(try twoPools.allocate(.preferNext, used: used) == ip("10.0.0.100"))
    }

    @Test("A subnet with every pool address used has no more IP addresses")
    func exhausted() {
        let tiny = poolSubnet("10.0.0.0/30", pools: [("10.0.0.1", "10.0.0.2")])
        #expect {
            try tiny.allocate(.any, used: [ip("10.0.0.1"), ip("10.0.0.2")])
        } throws: { error in
            let error = error as? IPAM.Error
            return error?.description == "No more IP addresses available for subnet subnet-1."
                && error?.type == "IpAddressGenerationFailure" && error?.httpStatus == 409
        }
    }

    @Test("Any-address allocation picks at random among the first 1000 free addresses, repeatably per seed")
    func randomWindow() throws {
        let big = poolSubnet("10.0.0.0/16", pools: [("10.0.0.2", "10.0.255.254")])
        let used = IPAM.UsedAddresses((2..<52).map { IPAddress(ipv4: 0x0A00_0000 + $0) })
        var picks: Set<IPAddress> = []
        for seed in 0..<200 as Range<UInt64> {
            var first = SeededGenerator(state: seed)
            var again = SeededGenerator(state: seed)
            let address = try big.allocate(.any, used: used, using: &first)
            #expect(address == (try big.allocate(.any, used: used, using: &again)))
            #expect(!used.contains(address))
            // 10.0.0.52 is the first free address, 10.0.4.27 the thousandth.
            #expect(address >= ip("10.0.0.52") && address <= ip("10.0.4.27"))
            picks.insert(address)
        }
        #expect(picks.count > 150)
    }

    @Test("Finding the n-th free address agrees with counting address by address")
    func freeIndexing() {
        var generator = SeededGenerator(state: 7)
        let range = IPRange(first: ip("10.0.0.0"), last: ip("10.0.0.255"))!
        for _ in 0..<50 {
            let used = IPAM.UsedAddresses(
                (0..<256).filter { _ in Bool.random(using: &generator) }.map {
                    IPAddress(ipv4: 0x0A00_0000 + UInt32($0))
                })
            let free = (0..<256).map { IPAddress(ipv4: 0x0A00_0000 + UInt32($0)) }.filter { !used.contains($0) }
            #expect(used.freeCount(in: range) == UInt128(free.count))
            for (offset, address) in free.enumerated() {
                #expect(used.free(at: UInt128(offset), in: range) == address)
            }
        }
    }

    @Test("A /8 with a hundred thousand used addresses allocates without walking them")
    func largeSubnet() throws {
        let huge = poolSubnet("10.0.0.0/8", pools: [("10.0.0.1", "10.255.255.254")])
        let used = IPAM.UsedAddresses((1...100_000).map { IPAddress(ipv4: 0x0A00_0000 + $0) })
        #expect(try huge.allocate(.preferNext, used: used) == IPAddress(ipv4: 0x0A00_0000 + 100_001))
        var generator = SeededGenerator(state: 1)
        let any = try huge.allocate(.any, used: used, using: &generator)
        #expect(any.value > 0x0A00_0000 + 100_000 && any.value <= 0x0A00_0000 + 101_000)
    }

    @Test(
        "A specific address must be unused and valid on the subnet, in or out of the pools",
        arguments: [
            ("10.0.0.200", nil), ("10.0.0.1", nil),
            ("10.0.0.7", "IP address 10.0.0.7 already allocated in subnet subnet-1"),
            ("10.0.0.0", "IP address 10.0.0.0 does not belong to subnet subnet-1"),
            ("10.0.0.255", "IP address 10.0.0.255 does not belong to subnet subnet-1"),
            ("10.0.1.1", "IP address 10.0.1.1 does not belong to subnet subnet-1"),
        ] as [(String, String?)])
    func specific(address: String, message: String?) {
        let used: IPAM.UsedAddresses = [ip("10.0.0.7")]
        #expect(attributeMessage { _ = try subnet.allocate(.specific(ip(address)), used: used) } == message)
    }

    @Test(
        "Fixed IPs follow check_subnet_ip: IPv4 network and broadcast refused, IPv6 first address for routers only",
        arguments: [
            ("10.14.0.20/31", "10.14.0.20", "", false), ("10.14.0.20/31", "10.14.0.21", "", true),
            ("10.14.0.20/32", "10.14.0.20", "", false), ("10.0.0.0/24", "10.0.0.255", "", false),
            ("2001::/64", "2001::", "compute:nova", false), ("2001::/64", "2001::", "network:router_gateway", true),
            ("2001::/64", "2001::", "", true), ("2001::/64", "2001::ffff:ffff:ffff:ffff", "compute:nova", true),
            ("2001::/64", "2002::1", "", false),
        ])
    func fixedIPValidity(cidr: String, address: String, owner: String, valid: Bool) {
        #expect(IPAM.isValidFixedIP(ip(address), in: net(cidr), deviceOwner: owner) == valid)
    }

    @Test("The port API refuses an address invalid for the port's owner with neutron-lib's message")
    func portCheck() {
        let v6 = poolSubnet("2001::/64", pools: [("2001::1", "2001::ffff")])
        let mac = MACAddress("fa:16:3e:00:00:01")!
        #expect(throws: IPAM.Error.invalidIPForSubnet(ip("2001::"))) {
            try v6.checkFixedIP(ip("2001::"), deviceOwner: "compute:nova", macAddress: mac)
        }
        #expect(
            IPAM.Error.invalidIPForSubnet(ip("2001::")).description
                == "IP address 2001:: is not a valid IP for the specified subnet.")
    }
}
