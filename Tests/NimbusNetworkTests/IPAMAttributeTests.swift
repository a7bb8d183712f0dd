import Testing

@testable import NimbusNetwork

/// The message of the `IPAM.Error` a check throws, or nil when it passes.
func attributeMessage(_ check: () throws -> Void) -> String? {
    do {
        try check()
        return nil
    } catch {
        return (error as? IPAM.Error)?.description ?? "not an IPAM.Error: \(error)"
    }
}

@Suite("Subnet attributes are checked with neutron-lib's validator messages")
struct IPAMAttributeTests {
    @Test(
        "A subnet CIDR is normalised, or refused as not in a CIDR format",
        arguments: [
            ("10.0.0.5/24", "10.0.0.0/24"), ("2001:DB8::1/64", "2001:db8::/64"), ("10.0.2.0", "10.0.2.0/32"),
        ])
    func cidr(text: String, normalised: String) throws {
        #expect(try IPAM.Attributes.cidr(text).description == normalised)
    }

    @Test("An unreadable CIDR is InvalidInput")
    func badCIDR() {
        let message = attributeMessage { _ = try IPAM.Attributes.cidr("10.0.0.0/33") }
        #expect(message == "Invalid input for operation: 10.0.0.0/33 is not in a CIDR format.")
    }

    @Test(
        "IP address attributes say why a text is not an address",
        arguments: [
            ("10.0.0.1", nil), ("2001:db8::1", nil),
            ("10.0.0", "Invalid input for gateway_ip. Reason: '10.0.0' is not a valid IP address."),
            (
                "010.000.0.1",
                "Invalid input for gateway_ip. Reason: '010.000.0.1' is not an accepted IP address, '10.0.0.1' is recommended."
            ),
            ("2001:db8::g", "Invalid input for gateway_ip. Reason: '2001:db8::g' is not a valid IP address."),
        ] as [(String, String?)])
    func ipAddress(text: String, message: String?) {
        #expect(attributeMessage { _ = try IPAM.Attributes.ipAddress(text, attribute: "gateway_ip") } == message)
    }

    @Test("Allocation pool bounds must be addresses")
    func pools() throws {
        let pools = try IPAM.Attributes.allocationPools([(start: "10.0.0.2", end: "10.0.0.9")])
        #expect(pools == [IPAM.PoolBounds(start: ip("10.0.0.2"), end: ip("10.0.0.9"))])
        let message = attributeMessage { _ = try IPAM.Attributes.allocationPools([(start: "10.0.0.2", end: "x")]) }
        #expect(message == "Invalid input for allocation_pools. Reason: 'x' is not a valid IP address.")
    }

    @Test(
        "DNS nameservers must be addresses, none listed twice",
        arguments: [
            (["8.8.8.8", "2001:4860:4860::8888"], nil),
            (["8.8.8.8", "8.8.8.8"], "Invalid input for dns_nameservers. Reason: Duplicate nameserver '8.8.8.8'."),
            (
                ["dns.example.com"],
                "Invalid input for dns_nameservers. Reason: 'dns.example.com' is not a valid nameserver. "
                    + "'dns.example.com' is not a valid IP address."
            ),
        ] as [([String], String?)])
    func nameservers(hosts: [String], message: String?) {
        #expect(attributeMessage { _ = try IPAM.Attributes.dnsNameservers(hosts) } == message)
    }

    @Test(
        "Host routes need a routable CIDR without host bits, an address, and no repeats",
        arguments: [
            ([("0.0.0.0/0", "10.0.0.254"), ("192.168.0.0/16", "10.0.0.253")], nil),
            (
                [("10.0.0.5/24", "10.0.0.1")],
                "Invalid input for host_routes. Reason: '10.0.0.5/24' is not a valid CIDR."
            ),
            ([("10.0.0.0", "10.0.0.1")], "Invalid input for host_routes. Reason: '10.0.0.0' is not a valid CIDR."),
            (
                [("127.0.0.0/8", "10.0.0.1")],
                "Invalid input for host_routes. Reason: '127.0.0.0/8' is not a routable CIDR."
            ),
            ([("10.1.0.0/16", "gw")], "Invalid input for host_routes. Reason: 'gw' is not a valid IP address."),
            (
                [("10.1.0.0/16", "10.0.0.1"), ("10.1.0.0/16", "10.0.0.1")],
                "Invalid input for host_routes. Reason: Duplicate hostroute "
                    + "'{'destination': '10.1.0.0/16', 'nexthop': '10.0.0.1'}'."
            ),
        ] as [([(String, String)], String?)])
    func hostRoutes(routes: [(String, String)], message: String?) {
        let input = routes.map { (destination: $0.0, nexthop: $0.1) }
        #expect(attributeMessage { _ = try IPAM.Attributes.hostRoutes(input) } == message)
    }

    @Test("IPv6 modes are one of slaac, dhcpv6-stateful and dhcpv6-stateless")
    func ipv6Mode() throws {
        #expect(try IPAM.Attributes.ipv6Mode("dhcpv6-stateless", attribute: "ipv6_ra_mode") == .dhcpv6Stateless)
        let message = attributeMessage { _ = try IPAM.Attributes.ipv6Mode("foo", attribute: "ipv6_ra_mode") }
        #expect(message == "Invalid input for ipv6_ra_mode. Reason: foo is not in valid_values.")
    }

    @Test(
        "Subnet pool prefixes may carry host bits but must have a prefix and no duplicates",
        arguments: [
            (["10.0.0.5/24", "2001:db8::/48"], nil),
            (["10.0.0.0"], "Invalid input for prefixes. Reason: '10.0.0.0' is not a valid IP subnet."),
            (
                ["10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8"],
                "Invalid input for prefixes. Reason: Duplicate items in the list: '10.0.0.0/8'."
            ),
        ] as [([String], String?)])
    func poolPrefixes(texts: [String], message: String?) {
        #expect(attributeMessage { _ = try IPAM.Attributes.subnetPoolPrefixes(texts) } == message)
    }

    @Test("Attribute failures are 400 HTTPBadRequest faults")
    func faultShape() {
        let error = IPAM.Error.invalidAttribute(attribute: "cidr", reason: "r")
        #expect(error.type == "HTTPBadRequest" && error.httpStatus == 400)
    }
}
