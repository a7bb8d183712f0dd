extension IPAM {
    /// What a port asks of a subnet, as Neutron's `AddressRequestFactory` builds it.
    public enum AddressRequest: Hashable, Sendable {
        /// Any free pool address (`AnyAddressRequest`): the reference driver picks at
        /// random among the first `randomWindow` free addresses of the first pool that
        /// has any, so concurrent creates rarely collide.
        case any
        /// The lowest free pool address (`PreferNextAddressRequest`), which Neutron uses
        /// for DHCP and distributed (metadata) ports.
        case preferNext
        /// This address, pool or not (`SpecificAddressRequest`).
        case specific(IPAddress)
        /// The EUI-64 address of the MAC on an IPv6 SLAAC or stateless subnet
        /// (`AutomaticAddressRequest`).
        case eui64(MACAddress)
    }

    /// How many free addresses `.any` picks among: `MAX_WIN` of Neutron's DB IPAM driver.
    public static let randomWindow: UInt128 = 1000

    /// The device owners of router ports (`ROUTER_PORT_OWNERS`), which may take an IPv6
    /// subnet's first address.
    public static let routerPortOwners: Set<String> = routerInterfaceOwners.union([
        "network:router_centralized_snat", "network:router_gateway",
    ])

    /// The device owners of router interfaces (`ROUTER_INTERFACE_OWNERS`), which may take
    /// any address of an automatic-address subnet.
    public static let routerInterfaceOwners: Set<String> = [
        "network:router_interface", "network:ha_router_replicated_interface", "network:router_interface_distributed",
    ]

    /// Whether an address may be a port's fixed IP on the subnet, as
    /// `neutron.ipam.utils.check_subnet_ip`: inside it and, for IPv4, neither its
    /// network nor its broadcast address (so on a /31 the upper address is allowed and on
    /// a /32 none); for IPv6, the first (subnet-router anycast) address only for router
    /// ports or when the owner is unknown (an empty `deviceOwner`).
    public static func isValidFixedIP(_ address: IPAddress, in cidr: IPNetwork, deviceOwner: String = "") -> Bool {
        guard cidr.contains(address) else { return false }
        switch cidr.version {
        case .v4: return address != cidr.network && address != cidr.broadcast
        case .v6: return deviceOwner.isEmpty || routerPortOwners.contains(deviceOwner) || address != cidr.network
        }
    }
}

extension IPAM.Subnet {
    /// Allocates an address as Neutron's DB IPAM driver (`NeutronDbSubnet.allocate`):
    /// a specific or EUI-64 address must not be used (`IpAddressAlreadyAllocated`) and
    /// must be valid on the subnet; otherwise pools are tried lowest first and the first
    /// with a free address gives `.preferNext` its lowest, `.any` a random one of its
    /// first `IPAM.randomWindow` free ones, drawn from `generator`. Costs O(pools · log
    /// used). Throws `IpAddressGenerationFailure` when every pool is full.
    public func allocate(
        _ request: IPAM.AddressRequest, used: IPAM.UsedAddresses, using generator: inout some RandomNumberGenerator
    ) throws(IPAM.Error) -> IPAddress {
        switch request {
        case .specific(let address):
            try verify(address, used: used)
            return address
        case .eui64(let mac):
            let address = try eui64Address(for: mac)
            try verify(address, used: used)
            return address
        case .any, .preferNext:
            for pool in allocationPools.sorted() {
                let free = used.freeCount(in: pool)
                guard free > 0 else { continue }
                let offset =
                    request == .preferNext ? 0 : UInt128.random(in: 0..<min(free, IPAM.randomWindow), using: &generator)
                if let address = used.free(at: offset, in: pool) { return address }
            }
            throw .ipAddressGenerationFailure(subnetID: id)
        }
    }

    /// `allocate(_:used:using:)` with the system's random generator.
    public func allocate(_ request: IPAM.AddressRequest, used: IPAM.UsedAddresses) throws(IPAM.Error) -> IPAddress {
        var generator = SystemRandomNumberGenerator()
        return try allocate(request, used: used, using: &generator)
    }

    /// `NeutronDbSubnet._verify_ip`: unused first, then inside the subnet and not its
    /// IPv4 network or broadcast address.
    private func verify(_ address: IPAddress, used: IPAM.UsedAddresses) throws(IPAM.Error) {
        if used.contains(address) { throw .ipAddressAlreadyAllocated(address, subnetID: id) }
        if !IPAM.isValidFixedIP(address, in: cidr) { throw .ipNotInSubnet(address, subnetID: id) }
    }

    /// The port API's checks of a requested fixed IP on this subnet, made before IPAM
    /// allocates it (`_get_subnet_for_fixed_ip`, `_test_fixed_ips_for_port`): the address
    /// must be valid for the port's owner (`InvalidIpForSubnet`), and on an automatic
    /// address subnet a port that is not a router interface may only ask for its own
    /// EUI-64 address (`AllocationOnAutoAddressSubnet`). Whether the caller may name an
    /// address at all, or one outside the pools, is policy: Neutron lets admins and
    /// network owners do both.
    public func checkFixedIP(_ address: IPAddress, deviceOwner: String, macAddress: MACAddress) throws(IPAM.Error) {
        guard IPAM.isValidFixedIP(address, in: cidr, deviceOwner: deviceOwner) else {
            throw .invalidIPForSubnet(address)
        }
        if isAutoAddress && !IPAM.routerInterfaceOwners.contains(deviceOwner) {
            guard (try? eui64Address(for: macAddress)) == address else {
                throw .allocationOnAutoAddressSubnet(address, subnetID: id)
            }
        }
    }

    /// The EUI-64 address of a MAC on this subnet (`get_ipv6_addr_by_EUI64`).
    public func eui64Address(for mac: MACAddress) throws(IPAM.Error) -> IPAddress {
        try IPAddress.eui64(prefix: cidr, mac: mac)
    }
}
