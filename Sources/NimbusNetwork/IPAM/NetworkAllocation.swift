extension IPAddress {
    /// The SLAAC address of a MAC under an IPv6 prefix, computed exactly as oslo.utils'
    /// `netutils.get_ipv6_addr_by_EUI64` (which Neutron's `AutomaticAddressRequest`
    /// calls): `(prefix.first + eui64(mac)) ^ (1 << 57)`, flipping the universal/local
    /// bit. On a /64 that is the prefix followed by the modified EUI-64 identifier.
    public static func eui64(prefix: IPNetwork, mac: MACAddress) throws(IPAM.Error) -> IPAddress {
        guard prefix.version == .v6 else {
            throw .addressCalculationFailure(
                addressType: "eui-64", reason: "Unable to generate IP address by EUI64 for IPv4 prefix")
        }
        let (sum, overflow) = prefix.first.value.addingReportingOverflow(UInt128(mac.eui64))
        guard !overflow else {
            throw .addressCalculationFailure(
                addressType: "eui-64",
                reason: "Bad prefix or mac format for generating IPv6 address by EUI-64: \(prefix), \(mac):")
        }
        return IPAddress(ipv6: sum ^ (UInt128(1) << 57))
    }
}

extension IPAM {
    /// The subnet a fixed IP given without a subnet belongs to: the first of the network's
    /// subnets where it is valid for the port's owner (`_get_subnet_for_fixed_ip`), else
    /// `InvalidIpForNetwork`. With no subnet at all: "IP allocation requires subnets for
    /// network".
    public static func subnet(forFixedIP address: IPAddress, among subnets: [Subnet], deviceOwner: String)
        throws(IPAM.Error) -> Subnet
    {
        if subnets.isEmpty { throw .invalidInput("IP allocation requires subnets for network") }
        guard let subnet = subnets.first(where: { isValidFixedIP(address, in: $0.cidr, deviceOwner: deviceOwner) })
        else { throw .invalidIPForNetwork(address) }
        return subnet
    }

    /// Allocates from the first of `subnets` that has room, as Neutron's
    /// `IpamSubnetGroup.allocate` tries a port's candidate subnets of one version in
    /// turn; when all are full, the network-level `IpAddressGenerationFailure`.
    /// `used` maps subnet IDs to their used addresses (missing means none).
    public static func allocate(
        _ request: AddressRequest, fromAnyOf subnets: [Subnet], networkID: String, used: [String: UsedAddresses],
        using generator: inout some RandomNumberGenerator
    ) throws(IPAM.Error) -> (address: IPAddress, subnet: Subnet) {
        for subnet in subnets {
            do {
                let address = try subnet.allocate(request, used: used[subnet.id] ?? [], using: &generator)
                return (address, subnet)
            } catch .ipAddressGenerationFailure {
                continue
            }
        }
        throw .ipAddressGenerationFailureOnNetwork(networkID: networkID)
    }
}
