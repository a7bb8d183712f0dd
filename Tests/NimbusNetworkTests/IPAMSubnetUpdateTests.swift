import Testing

@testable import NimbusNetwork

@Suite("Subnet updates are validated as Neutron's update_subnet")
struct IPAMSubnetUpdateTests {
    /// 10.0.0.0/24 with gateway 10.0.0.1 and the default pool 10.0.0.2-10.0.0.254.
    let subnet = try! create(subnetRequest("10.0.0.0/24"))

    @Test("New pools replace the old and may leave the subnet with none")
    func pools() throws {
        let update = IPAM.SubnetUpdate(allocationPools: [IPAM.PoolBounds(start: ip("10.0.0.20"), end: ip("10.0.0.40"))])
        #expect(try subnet.applying(update).allocationPools.map(\.description) == ["10.0.0.20-10.0.0.40"])
        #expect(try subnet.applying(IPAM.SubnetUpdate(allocationPools: [])).allocationPools.isEmpty)
    }

    @Test("Moving the gateway does not regenerate pools: into a pool it conflicts")
    func gatewayIntoPool() {
        #expect(
            throws: IPAM.Error.gatewayConflictWithAllocationPools(
                gateway: ip("10.0.0.100"), pool: IPRange(first: ip("10.0.0.2"), last: ip("10.0.0.254"))!)
        ) {
            try subnet.applying(IPAM.SubnetUpdate(gateway: .some(ip("10.0.0.100"))))
        }
    }

    @Test("The gateway may move together with pools that leave room for it, or be removed")
    func gatewayWithPools() throws {
        let update = IPAM.SubnetUpdate(
            gateway: .some(ip("10.0.0.254")),
            allocationPools: [IPAM.PoolBounds(start: ip("10.0.0.1"), end: ip("10.0.0.253"))])
        #expect(try subnet.applying(update).gateway == ip("10.0.0.254"))
        #expect(try subnet.applying(IPAM.SubnetUpdate(gateway: .some(nil))).gateway == nil)
    }

    @Test("New pools must leave the current gateway out")
    func poolsOverGateway() {
        let update = IPAM.SubnetUpdate(allocationPools: [IPAM.PoolBounds(start: ip("10.0.0.1"), end: ip("10.0.0.9"))])
        #expect(
            throws: IPAM.Error.gatewayConflictWithAllocationPools(
                gateway: ip("10.0.0.1"), pool: IPRange(first: ip("10.0.0.1"), last: ip("10.0.0.9"))!)
        ) {
            try subnet.applying(update)
        }
    }

    @Test("A gateway held by a router port cannot change")
    func gatewayInUse() {
        let update = IPAM.SubnetUpdate(gateway: .some(ip("192.168.0.1")))
        #expect {
            try subnet.applying(update, gatewayPortID: "port-9")
        } throws: { error in
            (error as? IPAM.Error)?.description
                == "Current gateway ip 10.0.0.1 already in use by port port-9. Unable to update."
                && (error as? IPAM.Error)?.httpStatus == 409
        }
        #expect((try? subnet.applying(IPAM.SubnetUpdate(gateway: .some(ip("10.0.0.1"))), gatewayPortID: "p")) != nil)
    }

    @Test("Too many DNS servers name the subnet being updated")
    func dnsLimit() {
        let update = IPAM.SubnetUpdate(dnsNameservers: [ip("10.1.0.1"), ip("10.1.0.2")])
        #expect(throws: IPAM.Error.dnsNameserversExhausted(subnetID: "subnet-1", quota: 1)) {
            try subnet.applying(update, limits: IPAM.Limits(maxDNSNameservers: 1))
        }
    }

    @Test("Turning DHCP on checks the CIDR as a create would")
    func enableDHCP() throws {
        let quiet = try create(subnetRequest("10.0.0.0/31", gateway: .none, dhcp: false))
        #expect(
            throws: IPAM.Error.invalidInput("Subnet has a prefix length that is incompatible with DHCP service enabled")
        ) {
            try quiet.applying(IPAM.SubnetUpdate(enableDHCP: true))
        }
    }

    @Test("DHCP cannot be turned off on a subnet with IPv6 modes")
    func disableDHCP() throws {
        let slaac = try create(subnetRequest("2001:db8::/64", ra: .slaac, address: .slaac))
        #expect(throws: IPAM.Error.invalidInput("Cannot disable enable_dhcp with ipv6 attributes set")) {
            try slaac.applying(IPAM.SubnetUpdate(enableDHCP: false))
        }
    }

    @Test("An invalid new gateway is refused before anything else")
    func invalidGateway() {
        #expect(throws: IPAM.Error.invalidInput("Gateway is not valid on subnet")) {
            try subnet.applying(IPAM.SubnetUpdate(gateway: .some(ip("10.0.0.255"))))
        }
    }
}
