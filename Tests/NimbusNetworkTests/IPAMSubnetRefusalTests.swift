import Testing

@testable import NimbusNetwork

/// A create request and what Neutron answers to it.
struct RefusedCreate: Sendable, CustomTestStringConvertible {
    var request: IPAM.SubnetRequest
    var type: String
    var status: Int
    var message: String
    var testDescription: String { message }
}

@Suite("Subnet create refuses what Neutron refuses, in Neutron's words")
struct IPAMSubnetRefusalTests {
    static let refused: [RefusedCreate] = [
        .init(
            request: subnetRequest("10.0.0.0/31"), type: "InvalidInput", status: 400,
            message:
                "Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled."
        ),
        .init(
            request: subnetRequest("2001:db8::/127"), type: "InvalidInput", status: 400,
            message:
                "Invalid input for operation: Subnet has a prefix length that is incompatible with DHCP service enabled."
        ),
        .init(
            request: subnetRequest("10.0.0.0/31", dhcp: false), type: "IpamValueInvalid", status: 409,
            message: "Gateway IP 10.0.0.1 cannot be the network or broadcast IP address 10.0.0.0/31"),
        .init(
            request: subnetRequest("10.0.0.0/24", gateway: .address(ip("10.0.0.0"))), type: "InvalidInput",
            status: 400, message: "Invalid input for operation: Gateway is not valid on subnet."),
        .init(
            request: subnetRequest("10.0.0.0/24", gateway: .address(ip("10.0.0.255"))), type: "InvalidInput",
            status: 400, message: "Invalid input for operation: Gateway is not valid on subnet."),
        .init(
            request: subnetRequest("10.0.0.0/24", gateway: .address(ip("::1"))), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: gateway_ip '::1' does not match the ip_version '4'."),
        .init(
            request: subnetRequest("::/64"), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: IPv6 subnet '::' is not supported."),
        .init(
            request: subnetRequest("224.0.0.0/24"), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: Multicast IP subnet is not supported if enable_dhcp is True."),
        .init(
            request: subnetRequest("127.0.0.0/24"), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: Loopback IP subnet is not supported if enable_dhcp is True."),
        .init(
            request: subnetRequest("0.0.0.0/24"), type: "InvalidInput", status: 400,
            message:
                "Invalid input for operation: First IP '0.0.0.0' of network is not supported if enable_dhcp is True.."),
        .init(
            request: subnetRequest("0.0.0.0/0", dhcp: false), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: 0 is not allowed as CIDR prefix length."),
        .init(
            request: subnetRequest("10.0.0.0/24", pools: [("10.0.0.0", "10.0.0.10")]),
            type: "OutOfBoundsAllocationPool",
            status: 400, message: "The allocation pool 10.0.0.0-10.0.0.10 spans beyond the subnet cidr 10.0.0.0/24."),
        .init(
            request: subnetRequest("10.0.0.0/24", pools: [("10.0.0.250", "10.0.0.255")]),
            type: "OutOfBoundsAllocationPool", status: 400,
            message: "The allocation pool 10.0.0.250-10.0.0.255 spans beyond the subnet cidr 10.0.0.0/24."),
        .init(
            request: subnetRequest("2001:db8::/64", pools: [("2001:db8::", "2001:db8::9")]),
            type: "OutOfBoundsAllocationPool", status: 400,
            message: "The allocation pool 2001:db8::-2001:db8::9 spans beyond the subnet cidr 2001:db8::/64."),
        .init(
            request: subnetRequest("10.0.0.0/24", pools: [("10.0.0.10", "10.0.0.5")]), type: "InvalidAllocationPool",
            status: 400, message: "The allocation pool {'start': '10.0.0.10', 'end': '10.0.0.5'} is not valid."),
        .init(
            request: subnetRequest("10.0.0.0/24", pools: [("10.0.0.10", "::5")]), type: "InvalidAllocationPool",
            status: 400, message: "The allocation pool {'start': '10.0.0.10', 'end': '::5'} is not valid."),
        .init(
            request: subnetRequest("10.0.0.0/24", pools: [("2001:db8::1", "2001:db8::5")]),
            type: "InvalidAllocationPool", status: 400,
            message: "The allocation pool 2001:db8::1-2001:db8::5 is not valid."),
        .init(
            request: subnetRequest("10.0.0.0/24", pools: [("10.0.0.20", "10.0.0.40"), ("10.0.0.30", "10.0.0.50")]),
            type: "OverlappingAllocationPools", status: 409,
            message:
                "Found overlapping allocation pools: 10.0.0.20-10.0.0.40 10.0.0.30-10.0.0.50 for subnet 10.0.0.0/24."),
        .init(
            request: subnetRequest("10.0.0.0/24", pools: [("10.0.0.1", "10.0.0.10")]),
            type: "GatewayConflictWithAllocationPools", status: 409,
            message: "Gateway ip 10.0.0.1 conflicts with allocation pool 10.0.0.1-10.0.0.10."),
        .init(
            request: subnetRequest("10.0.0.0/24", dns: (1...6).map { "10.1.0.\($0)" }), type: "DNSNameServersExhausted",
            status: 400,
            message: "Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit 5."),
        .init(
            request: subnetRequest("10.0.0.0/24", dns: ["2001:db8::53"]), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: dns_nameserver '2001:db8::53' does not match the ip_version '4'."),
        .init(
            request: subnetRequest("10.0.0.0/24", routes: (1...21).map { ("10.\($0).0.0/16", "10.0.0.9") }),
            type: "HostRoutesExhausted", status: 400,
            message: "Unable to complete operation for new subnet. The number of host routes exceeds the limit 20."),
        .init(
            request: subnetRequest("10.0.0.0/24", routes: [("10.2.0.0/16", "2001:db8::1")]), type: "InvalidInput",
            status: 400,
            message: "Invalid input for operation: nexthop '2001:db8::1' does not match the ip_version '4'."),
        .init(
            request: subnetRequest("10.0.0.0/24", ra: .slaac), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4."),
        .init(
            request: subnetRequest("10.0.0.0/24", address: .slaac), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: ipv6_address_mode is not valid when ip_version is 4."),
        .init(
            request: subnetRequest("2001:db8::/64", dhcp: false, address: .slaac), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp "
                + "is set to False."),
        .init(
            request: subnetRequest("2001:db8::/64", ra: .slaac, address: .dhcpv6Stateful), type: "InvalidInput",
            status: 400,
            message: "Invalid input for operation: ipv6_ra_mode set to 'slaac' with ipv6_address_mode set to "
                + "'dhcpv6-stateful' is not valid. If both attributes are set, they must be the same value."),
        .init(
            request: subnetRequest("2001:db8::/80", ra: .dhcpv6Stateless), type: "InvalidInput", status: 400,
            message: "Invalid input for operation: Invalid CIDR 2001:db8::/80 for IPv6 address mode. OpenStack uses "
                + "the EUI-64 address format, which requires the prefix to be /64."),
    ]

    @Test("Invalid requests fail with Neutron's exception type, status and message", arguments: refused)
    func refusal(_ refused: RefusedCreate) {
        #expect {
            try create(refused.request)
        } throws: { error in
            guard let error = error as? IPAM.Error else { return false }
            return error.type == refused.type && error.httpStatus == refused.status
                && error.description == refused.message
        }
    }
}
