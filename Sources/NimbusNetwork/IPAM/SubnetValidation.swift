extension IPAM {
    /// The checks of `NeutronDbPluginV2._validate_subnet` (neutron/db/db_base_plugin_v2.py),
    /// in its order, shared by create and update.
    enum SubnetChecks {
        /// `_validate_ip_version`: "cidr '10.0.0.0/24' does not match the ip_version '6'".
        static func version(
            _ version: IPVersion, of address: some CustomStringConvertible, is actual: IPVersion,
            name: String
        ) throws(IPAM.Error) {
            guard actual != version else { return }
            throw .invalidInput("\(name) '\(address)' does not match the ip_version '\(version)'")
        }

        /// The CIDR's own checks: its version, the refused `::` network, and, when DHCP is
        /// being turned on, what dnsmasq cannot serve.
        static func cidr(_ cidr: IPNetwork, ipVersion: IPVersion, checkDHCP: Bool) throws(IPAM.Error) {
            try version(ipVersion, of: cidr, is: cidr.version, name: "cidr")
            if cidr.version == .v6 && cidr.network.value == 0 {
                throw .invalidInput("IPv6 subnet '::' is not supported")
            }
            guard checkDHCP else { return }
            if cidr.prefixLength > cidr.version.bitWidth - 2 {
                throw .invalidInput("Subnet has a prefix length that is incompatible with DHCP service enabled")
            }
            if cidr.isMulticast {
                throw .invalidInput("Multicast IP subnet is not supported if enable_dhcp is True")
            }
            if cidr.isLoopback {
                throw .invalidInput("Loopback IP subnet is not supported if enable_dhcp is True")
            }
            if cidr.version == .v4 && cidr.network.value == 0 {
                throw .invalidInput("First IP '0.0.0.0' of network is not supported if enable_dhcp is True.")
            }
        }

        /// A given gateway: of the subnet's version and, when inside the subnet, neither
        /// its IPv4 network nor its last address (`check_gateway_invalid_in_subnet`).
        static func gateway(_ gateway: IPAddress, ipVersion: IPVersion, cidr: IPNetwork?) throws(IPAM.Error) {
            try version(ipVersion, of: gateway, is: gateway.version, name: "gateway_ip")
            if let cidr, IPAM.isReservedGateway(gateway, in: cidr) {
                throw .invalidInput("Gateway is not valid on subnet")
            }
        }

        /// `dns_nameservers`: at most `max_dns_nameservers`, each of the subnet's version.
        static func nameservers(_ servers: [IPAddress], ipVersion: IPVersion, subnetID: String?, limits: Limits)
            throws(IPAM.Error)
        {
            if servers.count > limits.maxDNSNameservers {
                throw .dnsNameserversExhausted(subnetID: subnetID, quota: limits.maxDNSNameservers)
            }
            for server in servers {
                try version(ipVersion, of: server, is: server.version, name: "dns_nameserver")
            }
        }

        /// `host_routes`: at most `max_subnet_host_routes`, nexthop then destination of
        /// the subnet's version.
        static func hostRoutes(_ routes: [HostRoute], ipVersion: IPVersion, subnetID: String?, limits: Limits)
            throws(IPAM.Error)
        {
            if routes.count > limits.maxHostRoutes {
                throw .hostRoutesExhausted(subnetID: subnetID, quota: limits.maxHostRoutes)
            }
            for route in routes {
                try version(ipVersion, of: route.nexthop, is: route.nexthop.version, name: "nexthop")
                try version(ipVersion, of: route.destination, is: route.destination.version, name: "destination")
            }
        }

        /// The IPv6 mode rules on create: none on IPv4; none without DHCP; both the same
        /// when both are given; SLAAC or stateless only on a /64
        /// (`_validate_ipv6_attributes`, `_validate_eui64_applicable`).
        static func modes(ra: IPv6Mode?, address: IPv6Mode?, ipVersion: IPVersion, enableDHCP: Bool, cidr: IPNetwork?)
            throws(IPAM.Error)
        {
            if ipVersion == .v4 {
                if ra != nil { throw .invalidInput("ipv6_ra_mode is not valid when ip_version is 4") }
                if address != nil { throw .invalidInput("ipv6_address_mode is not valid when ip_version is 4") }
                return
            }
            if (ra != nil || address != nil) && !enableDHCP {
                throw .invalidInput("ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False")
            }
            if let ra, let address, ra != address {
                throw .invalidInput(
                    "ipv6_ra_mode set to '\(ra.rawValue)' with ipv6_address_mode set to '\(address.rawValue)' "
                        + "is not valid. If both attributes are set, they must be the same value")
            }
            let automatic = ra?.isAutomatic == true || address?.isAutomatic == true
            if let cidr, automatic, cidr.prefixLength != 64 {
                throw .invalidInput(
                    "Invalid CIDR \(cidr) for IPv6 address mode. OpenStack uses the EUI-64 address format, "
                        + "which requires the prefix to be /64")
            }
        }
    }

    /// Whether `gateway` is an address Neutron refuses as a gateway of `cidr`: inside it
    /// and, for IPv4, its first or last address (`ipam.utils.check_gateway_invalid_in_subnet`).
    /// On a /31 both addresses are refused, on a /32 the only one.
    public static func isReservedGateway(_ gateway: IPAddress, in cidr: IPNetwork) -> Bool {
        cidr.contains(gateway) && cidr.version == .v4 && (gateway == cidr.first || gateway == cidr.last)
    }
}
