extension IPAM {
    /// The API's checks of single subnet attributes, run before any subnet logic:
    /// neutron-lib's converters and validators (`neutron_lib/api/validators`,
    /// `converters.py`) with their messages. Each returns the parsed value or throws the
    /// error Neutron answers with; like Neutron, the first problem found is the one
    /// reported.
    public enum Attributes {
        /// `cidr`: read through `convert_cidr_to_canonical_format`, then normalised by
        /// create_subnet: host bits are cleared (`10.0.0.5/24` is `10.0.0.0/24`), a bare
        /// address is a /32 or /128. Anything unreadable is "Invalid input for
        /// operation: abc is not in a CIDR format.".
        public static func cidr(_ text: String) throws(IPAM.Error) -> IPNetwork {
            guard let network = IPNetwork(truncating: text) else {
                throw .invalidInput("\(text) is not in a CIDR format")
            }
            return network
        }

        /// An IP address attribute (`gateway_ip`, a pool bound, a fixed IP): neutron-lib's
        /// `validate_ip_address`.
        public static func ipAddress(_ text: String, attribute: String) throws(IPAM.Error) -> IPAddress {
            switch checkIPAddress(text) {
            case .success(let address): return address
            case .failure(let reason): throw .invalidAttribute(attribute: attribute, reason: reason.text)
            }
        }

        /// `allocation_pools`: every bound must be an IP address (`validate_ip_pools`).
        /// Order and range are checked later, with the subnet.
        public static func allocationPools(_ pools: [(start: String, end: String)]) throws(IPAM.Error) -> [PoolBounds] {
            var result: [PoolBounds] = []
            for pool in pools {
                let start = try ipAddress(pool.start, attribute: "allocation_pools")
                let end = try ipAddress(pool.end, attribute: "allocation_pools")
                result.append(PoolBounds(start: start, end: end))
            }
            return result
        }

        /// `dns_nameservers`: addresses, none twice as written (`validate_nameservers`).
        public static func dnsNameservers(_ hosts: [String]) throws(IPAM.Error) -> [IPAddress] {
            var seen: Set<String> = []
            var result: [IPAddress] = []
            for host in hosts {
                switch checkIPAddress(host) {
                case .failure(let problem):
                    let reason = "'\(host)' is not a valid nameserver. \(problem.text)"
                    throw .invalidAttribute(attribute: "dns_nameservers", reason: reason)
                case .success(let address):
                    guard seen.insert(host).inserted else {
                        throw .invalidAttribute(attribute: "dns_nameservers", reason: "Duplicate nameserver '\(host)'")
                    }
                    result.append(address)
                }
            }
            return result
        }

        /// `host_routes`: each destination a CIDR without host bits that is not loopback
        /// (`validate_route_cidr`), each nexthop an address, no route twice
        /// (`validate_hostroutes`).
        public static func hostRoutes(_ routes: [(destination: String, nexthop: String)]) throws(IPAM.Error)
            -> [HostRoute]
        {
            var seen: Set<[String]> = []
            var result: [HostRoute] = []
            for route in routes {
                guard let destination = IPNetwork(route.destination) else {
                    throw .invalidAttribute(
                        attribute: "host_routes", reason: "'\(route.destination)' is not a valid CIDR")
                }
                if destination.isLoopback {
                    let reason = "'\(route.destination)' is not a routable CIDR"
                    throw .invalidAttribute(attribute: "host_routes", reason: reason)
                }
                let nexthop = try ipAddress(route.nexthop, attribute: "host_routes")
                guard seen.insert([route.destination, route.nexthop]).inserted else {
                    let shown = "{'destination': '\(route.destination)', 'nexthop': '\(route.nexthop)'}"
                    throw .invalidAttribute(attribute: "host_routes", reason: "Duplicate hostroute '\(shown)'")
                }
                result.append(HostRoute(destination: destination, nexthop: nexthop))
            }
            return result
        }

        /// `ipv6_ra_mode` or `ipv6_address_mode`: one of Neutron's three modes
        /// (`validate_values`, which names the list only as "valid_values").
        public static func ipv6Mode(_ text: String, attribute: String) throws(IPAM.Error) -> IPv6Mode {
            guard let mode = IPv6Mode(rawValue: text) else {
                throw .invalidAttribute(attribute: attribute, reason: "\(text) is not in valid_values")
            }
            return mode
        }

        /// A subnet pool's `prefixes` (`validate_subnet_list`): no duplicates as written,
        /// each `address/prefix`; host bits are allowed and cleared, as Neutron compacts
        /// the list into networks.
        public static func subnetPoolPrefixes(_ texts: [String]) throws(IPAM.Error) -> [IPNetwork] {
            var seen: Set<String> = []
            var duplicates: [String] = []
            for text in texts where !seen.insert(text).inserted && !duplicates.contains(text) {
                duplicates.append(text)
            }
            if !duplicates.isEmpty {
                let reason = "Duplicate items in the list: '\(duplicates.joined(separator: ", "))'"
                throw .invalidAttribute(attribute: "prefixes", reason: reason)
            }
            var result: [IPNetwork] = []
            for text in texts {
                let parts = text.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                    let network = IPNetwork(truncating: text)
                else { throw .invalidAttribute(attribute: "prefixes", reason: "'\(text)' is not a valid IP subnet") }
                result.append(network)
            }
            return result
        }

        /// Why a text is not an acceptable address, in validate_ip_address's words.
        enum AddressProblem: Swift.Error {
            case invalid(String)
            case notAccepted(String, recommended: IPAddress)

            var text: String {
                switch self {
                case .invalid(let data): "'\(data)' is not a valid IP address"
                case .notAccepted(let data, let address):
                    "'\(data)' is not an accepted IP address, '\(address)' is recommended"
                }
            }
        }

        static func checkIPAddress(_ text: String) -> Result<IPAddress, AddressProblem> {
            if let address = IPAddress(text) { return .success(address) }
            if !text.contains(":"), let address = IPAddress.zeroFilledIPv4(text) {
                return .failure(.notAccepted(text, recommended: address))
            }
            return .failure(.invalid(text))
        }
    }
}

extension IPNetwork {
    /// Whether the network lies inside loopback space (127.0.0.0/8, or ::1/128), as
    /// netaddr's `is_loopback`.
    public var isLoopback: Bool {
        switch version {
        case .v4: IPNetwork(address: IPAddress(ipv4: 0x7F00_0000), prefixLength: 8)?.contains(self) == true
        case .v6: prefixLength == 128 && network.value == 1
        }
    }

    /// Whether the network lies inside multicast space (224.0.0.0/4, ff00::/8), as
    /// netaddr's `is_multicast`.
    public var isMulticast: Bool {
        switch version {
        case .v4: IPNetwork(address: IPAddress(ipv4: 0xE000_0000), prefixLength: 4)?.contains(self) == true
        case .v6: IPNetwork(address: IPAddress(ipv6: UInt128(0xFF00) << 112), prefixLength: 8)?.contains(self) == true
        }
    }
}
