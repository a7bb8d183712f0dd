import NimbusServiceKit

/// Address allocation for ports, over IPAM: what a port asks for, turned into fixed IPs
/// that no other port holds.
extension NetworkAPI {
    /// One entry of a port's `fixed_ips` request.
    struct FixedIPRequest {
        var subnetID: String?
        var address: String?
    }

    static func fault(_ error: IPAM.Error) -> NeutronFault {
        NeutronFault(.init(code: error.httpStatus), error.type, error.description)
    }

    /// The typed subnet IPAM works on.
    static func ipam(_ subnet: Subnet) -> IPAM.Subnet? {
        guard let cidr = IPNetwork(subnet.cidr) else { return nil }
        let pools = subnet.allocationPools.compactMap { pool -> IPRange? in
            guard let start = IPAddress(pool.start), let end = IPAddress(pool.end) else { return nil }
            return IPRange(first: start, last: end)
        }
        return IPAM.Subnet(
            id: subnet.common.id, networkID: subnet.networkID, cidr: cidr,
            gateway: subnet.gatewayIP.flatMap(IPAddress.init),
            allocationPools: pools, enableDHCP: subnet.enableDHCP,
            ipv6RAMode: subnet.ipv6RAMode.flatMap(IPAM.IPv6Mode.init),
            ipv6AddressMode: subnet.ipv6AddressMode.flatMap(IPAM.IPv6Mode.init),
            dnsNameservers: subnet.dnsNameservers.compactMap(IPAddress.init),
            hostRoutes: subnet.hostRoutes.compactMap { route in
                guard let destination = IPNetwork(route.destination), let nexthop = IPAddress(route.nexthop) else {
                    return nil
                }
                return IPAM.HostRoute(destination: destination, nexthop: nexthop)
            }, subnetPoolID: subnet.subnetpoolID)
    }

    func used(_ state: NetworkState, _ subnet: String, excluding port: String? = nil) -> IPAM.UsedAddresses {
        var addresses: [IPAddress] = []
        for candidate in state.ports.values where candidate.common.id != port {
            for ip in candidate.fixedIPs where ip.subnetID == subnet {
                if let address = IPAddress(ip.ipAddress) { addresses.append(address) }
            }
        }
        return IPAM.UsedAddresses(addresses)
    }

    /// The fixed IPs of a port on `network`: what was asked for, or Neutron's default (one
    /// address of each IP version from the first subnet with room, plus the EUI-64 address
    /// on every SLAAC or stateless IPv6 subnet). `prefer` is the lowest free address (DHCP
    /// ports) instead of a random one of the first free.
    func allocate(
        on network: String, requested: [FixedIPRequest]?, mac: MACAddress, deviceOwner: String, state: NetworkState,
        port: String? = nil, prefer: Bool = false, onlyIPv4: Bool = false
    ) throws -> [FixedIP] {
        let subnets = state.subnets(of: network).compactMap { subnet in Self.ipam(subnet).map { (subnet, $0) } }
        var result: [FixedIP] = []
        var taken: [String: IPAM.UsedAddresses] = [:]
        func usedIn(_ id: String) -> IPAM.UsedAddresses { taken[id] ?? used(state, id, excluding: port) }
        func take(_ subnet: IPAM.Subnet, _ request: IPAM.AddressRequest) throws {
            var addresses = usedIn(subnet.id)
            let address: IPAddress
            do { address = try subnet.allocate(request, used: addresses) } catch { throw Self.fault(error) }
            addresses.insert(address)
            taken[subnet.id] = addresses
            result.append(FixedIP(subnetID: subnet.id, ipAddress: address.description))
        }
        guard let requested, !requested.isEmpty else {
            if requested != nil { return [] }  // `fixed_ips: []`: no address at all.
            var versions: Set<IPVersion> = []
            for (_, subnet) in subnets where !subnet.isAutoAddress || onlyIPv4 {
                if onlyIPv4, subnet.cidr.version != .v4 { continue }
                guard !versions.contains(subnet.cidr.version) else { continue }
                let free = usedIn(subnet.id)
                if (try? subnet.allocate(prefer ? .preferNext : .any, used: free)) != nil {
                    try take(subnet, prefer ? .preferNext : .any)
                    versions.insert(subnet.cidr.version)
                }
            }
            if !onlyIPv4 {
                for (_, subnet) in subnets where subnet.isAutoAddress && !IPAM.routerPortOwners.contains(deviceOwner) {
                    try take(subnet, .eui64(mac))
                }
            }
            if result.isEmpty, !subnets.isEmpty, !subnets.allSatisfy({ onlyIPv4 && $0.1.cidr.version != .v4 }) {
                throw Self.fault(.ipAddressGenerationFailureOnNetwork(networkID: network))
            }
            return result
        }
        for entry in requested {
            var subnet: IPAM.Subnet?
            var address: IPAddress?
            if let text = entry.address {
                guard let parsed = IPAddress(text) else {
                    throw NeutronFault.badRequest(
                        "Invalid input for fixed_ips. Reason: '\(text)' is not a valid IP address.")
                }
                address = parsed
            }
            if let id = entry.subnetID {
                guard let found = subnets.first(where: { $0.1.id == id })?.1 else {
                    if state.subnets[id] != nil {
                        throw NeutronFault.badRequest(
                            "Invalid input for operation: Failed to create port on network \(network), because fixed_ips included invalid subnet \(id)."
                        )
                    }
                    throw NeutronFault.notFound(.subnet, id)
                }
                subnet = found
            } else if let address {
                subnet = subnets.first { $0.1.cidr.contains(address) }?.1
                if subnet == nil { throw Self.fault(.invalidIPForNetwork(address)) }
            } else {
                throw NeutronFault.badRequest(
                    "Invalid input for fixed_ips. Reason: Neither subnet_id nor ip_address given.")
            }
            guard let subnet else { continue }
            if let address {
                do { try subnet.checkFixedIP(address, deviceOwner: deviceOwner, macAddress: mac) } catch {
                    throw Self.fault(error)
                }
                try take(subnet, .specific(address))
            } else if subnet.isAutoAddress && !IPAM.routerInterfaceOwners.contains(deviceOwner) {
                try take(subnet, .eui64(mac))
            } else {
                try take(subnet, prefer ? .preferNext : .any)
            }
        }
        return result
    }

    /// A MAC no other port of the network has.
    func newMAC(on network: String, _ state: NetworkState) -> MACAddress {
        let taken = Set(state.ports(of: network).map(\.macAddress))
        while true {
            var generator = SeededGenerator(seed: random())
            let mac = MACAddress.random(using: &generator)
            if !taken.contains(mac.description) { return mac }
        }
    }
}

/// A generator over one seed from the API's random source (replaceable in tests).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// SplitMix64.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
