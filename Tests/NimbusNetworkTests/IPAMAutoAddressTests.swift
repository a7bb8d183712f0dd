import Testing

@testable import NimbusNetwork

@Suite("SLAAC addresses and network-wide allocation")
struct IPAMAutoAddressTests {
    let mac = MACAddress("00:16:3e:33:44:55")!
    let slaac = try! create(subnetRequest("2001:db8::/64", ra: .slaac, address: .slaac))

    @Test(
        "EUI-64 addresses match oslo.utils' get_ipv6_addr_by_EUI64",
        arguments: [
            ("2001:db8::/64", "00:16:3e:33:44:55", "2001:db8::216:3eff:fe33:4455"),
            ("fe80::/64", "52:54:00:42:02:19", "fe80::5054:ff:fe42:219"),
            ("2001:db8::/48", "fa:16:3e:00:00:01", "2001:db8::f816:3eff:fe00:1"),
            ("2001:db8:0:0:1::/80", "02:00:00:00:00:00", "2001:db8::1:ff:fe00:0"),
        ])
    func eui64(prefix: String, mac: String, expected: String) throws {
        let address = try IPAddress.eui64(prefix: net(prefix), mac: MACAddress(mac)!)
        #expect(address.description == expected)
        #expect(address.isEUI64)
    }

    @Test("EUI-64 of an IPv4 prefix cannot be calculated")
    func eui64OfIPv4() {
        #expect {
            try IPAddress.eui64(prefix: net("10.0.0.0/24"), mac: mac)
        } throws: { error in
            (error as? IPAM.Error)?.description
                == "Unable to calculate eui-64 address because of:Unable to generate IP address by EUI64 for IPv4 prefix"
        }
    }

    @Test("An EUI-64 request allocates the MAC's address unless it is taken")
    func eui64Allocation() throws {
        let address = try slaac.allocate(.eui64(mac), used: [])
        #expect(address == ip("2001:db8::216:3eff:fe33:4455"))
        #expect(throws: IPAM.Error.ipAddressAlreadyAllocated(address, subnetID: "subnet-1")) {
            try slaac.allocate(.eui64(mac), used: [address])
        }
    }

    @Test(
        "On a SLAAC subnet only router interfaces may ask for an address other than the port's EUI-64 one",
        arguments: [
            ("2001:db8::216:3eff:fe33:4455", "compute:nova", true), ("2001:db8::5", "compute:nova", false),
            ("2001:db8::5", "network:router_interface", true), ("2001:db8::5", "network:router_gateway", false),
        ])
    func autoAddressFixedIP(address: String, owner: String, allowed: Bool) {
        let result = Result { () throws(IPAM.Error) in
            try slaac.checkFixedIP(ip(address), deviceOwner: owner, macAddress: mac)
        }
        if allowed {
            #expect((try? result.get()) != nil)
        } else {
            #expect(throws: IPAM.Error.allocationOnAutoAddressSubnet(ip(address), subnetID: "subnet-1")) {
                try result.get()
            }
        }
    }

    @Test("The refusal on an automatic-address subnet reads as Neutron's")
    func autoAddressMessage() {
        let error = IPAM.Error.allocationOnAutoAddressSubnet(ip("2001:db8::5"), subnetID: "s")
        #expect(
            error.description
                == "IPv6 address 2001:db8::5 cannot be directly assigned to a port on subnet s as the subnet is configured "
                + "for automatic addresses")
        #expect(error.httpStatus == 400)
    }

    @Test("A fixed IP without a subnet goes to the first subnet that takes it, else InvalidIpForNetwork")
    func subnetForFixedIP() throws {
        let first = poolSubnet("10.0.0.0/24", pools: [("10.0.0.2", "10.0.0.254")], id: "a")
        let second = poolSubnet("10.0.1.0/24", pools: [("10.0.1.2", "10.0.1.254")], id: "b")
        #expect(try IPAM.subnet(forFixedIP: ip("10.0.1.9"), among: [first, second], deviceOwner: "").id == "b")
        #expect(throws: IPAM.Error.invalidIPForNetwork(ip("10.0.1.255"))) {
            try IPAM.subnet(forFixedIP: ip("10.0.1.255"), among: [first, second], deviceOwner: "")
        }
        #expect(
            IPAM.Error.invalidIPForNetwork(ip("10.0.1.255")).description
                == "IP address 10.0.1.255 is not a valid IP for any of the subnets on the specified network.")
        #expect(throws: IPAM.Error.invalidInput("IP allocation requires subnets for network")) {
            try IPAM.subnet(forFixedIP: ip("10.0.1.9"), among: [], deviceOwner: "")
        }
    }

    @Test("Allocation across a network's subnets skips full ones and reports the network when all are full")
    func acrossSubnets() throws {
        let full = poolSubnet("10.0.0.0/30", pools: [("10.0.0.2", "10.0.0.2")], id: "full")
        let open = poolSubnet("10.0.1.0/24", pools: [("10.0.1.2", "10.0.1.254")], id: "open")
        var generator = SeededGenerator(state: 3)
        let used = ["full": IPAM.UsedAddresses([ip("10.0.0.2")])]
        let result = try IPAM.allocate(
            .preferNext, fromAnyOf: [full, open], networkID: "net-1", used: used, using: &generator)
        #expect(result.address == ip("10.0.1.2") && result.subnet.id == "open")
        #expect {
            try IPAM.allocate(.preferNext, fromAnyOf: [full], networkID: "net-1", used: used, using: &generator)
        } throws: { error in
            (error as? IPAM.Error)?.description == "No more IP addresses available on network net-1."
        }
    }
}
