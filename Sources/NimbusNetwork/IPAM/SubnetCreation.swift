extension IPAM {
    /// Validates a subnet create request and completes it as Neutron does, returning the
    /// subnet to store. The steps and their order follow `_create_subnet_precommit`,
    /// `_validate_subnet`, `IpamPluggableBackend.allocate_subnet`, the subnet request
    /// objects, `SubnetAllocator` and `_save_subnet`:
    ///
    /// 1. `cidr` with `prefixlen`, or neither without a pool, is a bad request; so are
    ///    allocation pools on a request that leaves the CIDR to a pool.
    /// 2. The CIDR's version, DHCP-ability, the gateway, DNS servers, host routes and
    ///    IPv6 modes are checked.
    /// 3. With a CIDR, the default gateway is picked (`defaultGateway`), pools are
    ///    generated or checked, and the gateway must lie outside them; the gateway may
    ///    not be the IPv4 network or last address (which catches a /31's default).
    /// 4. With a pool, the CIDR is allocated from it (or checked to be free in it).
    /// 5. The CIDR may not be /0 nor overlap another subnet of the network, and subnets
    ///    of one version on a network must share their pool.
    ///
    /// IPv6 prefix delegation and address scopes are not handled.
    public static func createSubnet(
        _ request: SubnetRequest, id: String, networkID: String, existing: [Subnet], pool: PoolState? = nil,
        limits: Limits = Limits()
    ) throws(IPAM.Error) -> Subnet {
        if request.cidr != nil && request.prefixLength != nil {
            throw .badRequest(resource: "subnets", message: "cidr and prefixlen must not be supplied together")
        }
        if pool == nil && request.cidr == nil {
            throw .badRequest(resource: "subnets", message: "a subnetpool must be specified in the absence of a cidr")
        }
        if pool != nil && request.cidr == nil && request.allocationPools != nil {
            throw .badRequest(
                resource: "subnets", message: "allocation_pools allowed only for specific subnet requests.")
        }
        try validate(request, limits: limits)
        if let pool, pool.pool.ipVersion != request.ipVersion {
            let message = "Cannot allocate IPv\(request.ipVersion) subnet from IPv\(pool.pool.ipVersion) subnet pool"
            throw .badRequest(resource: "subnets", message: message)
        }
        let (cidr, gateway, pools) = try addressing(of: request, pool: pool)
        try checkNetwork(cidr: cidr, networkID: networkID, existing: existing, poolID: pool?.pool.id)
        return Subnet(
            id: id, networkID: networkID, cidr: cidr, gateway: gateway, allocationPools: pools.sorted(),
            enableDHCP: request.enableDHCP, ipv6RAMode: request.ipv6RAMode, ipv6AddressMode: request.ipv6AddressMode,
            dnsNameservers: request.dnsNameservers, hostRoutes: request.hostRoutes, subnetPoolID: pool?.pool.id)
    }

    /// `_validate_subnet` for a create.
    private static func validate(_ request: SubnetRequest, limits: Limits) throws(IPAM.Error) {
        if let cidr = request.cidr {
            try SubnetChecks.cidr(cidr, ipVersion: request.ipVersion, checkDHCP: request.enableDHCP)
        }
        if case .address(let gateway) = request.gateway {
            try SubnetChecks.gateway(gateway, ipVersion: request.ipVersion, cidr: request.cidr)
        }
        try SubnetChecks.nameservers(
            request.dnsNameservers, ipVersion: request.ipVersion, subnetID: nil, limits: limits)
        try SubnetChecks.hostRoutes(request.hostRoutes, ipVersion: request.ipVersion, subnetID: nil, limits: limits)
        try SubnetChecks.modes(
            ra: request.ipv6RAMode, address: request.ipv6AddressMode, ipVersion: request.ipVersion,
            enableDHCP: request.enableDHCP, cidr: request.cidr)
    }

    /// The CIDR, gateway and pools of the new subnet.
    private static func addressing(of request: SubnetRequest, pool: PoolState?) throws(IPAM.Error)
        -> (IPNetwork, IPAddress?, [IPRange])
    {
        if let cidr = request.cidr {
            let gateway: IPAddress? =
                switch request.gateway {
                case .automatic: defaultGateway(for: cidr)
                case .none: nil
                case .address(let address): address
                }
            var pools = defaultAllocationPools(cidr: cidr, gateway: gateway)
            if let requested = request.allocationPools, !requested.isEmpty {
                pools = try allocationPools(requested, in: cidr)
                if let gateway { try checkGateway(gateway, outside: pools) }
            }
            try checkGatewayNotReserved(gateway, in: cidr)
            if let pool { _ = try pool.pool.allocate(.specific(cidr), from: pool) }
            return (cidr, gateway, pools)
        }
        guard let pool else {
            throw .badRequest(resource: "subnets", message: "a subnetpool must be specified in the absence of a cidr")
        }
        let length = request.prefixLength ?? pool.pool.defaultPrefixLength
        if case .address(let gateway) = request.gateway {
            // A gateway without a CIDR asks for the pool block around the gateway.
            guard let cidr = IPNetwork(address: gateway, prefixLength: length) else {
                throw .maxPrefixSubnetAllocationError(prefixLength: length, maxPrefixLength: pool.pool.maxPrefixLength)
            }
            try checkGatewayNotReserved(gateway, in: cidr)
            let allocated = try pool.pool.allocate(.specific(cidr), from: pool)
            return (allocated, gateway, defaultAllocationPools(cidr: allocated, gateway: gateway))
        }
        let cidr = try pool.pool.allocate(.any(prefixLength: length), from: pool)
        let gateway = request.gateway == .none ? nil : defaultPoolSubnetGateway(for: cidr)
        try checkGatewayNotReserved(gateway, in: cidr)
        return (cidr, gateway, defaultAllocationPools(cidr: cidr, gateway: gateway))
    }

    /// `SubnetRequest._validate_gateway_ip_in_subnet`, which answers 409.
    private static func checkGatewayNotReserved(_ gateway: IPAddress?, in cidr: IPNetwork) throws(IPAM.Error) {
        guard let gateway, isReservedGateway(gateway, in: cidr) else { return }
        throw .ipamValueInvalid("Gateway IP \(gateway) cannot be the network or broadcast IP address \(cidr)")
    }

    /// `_validate_subnet_cidr` and `_validate_network_subnetpools` (without address
    /// scopes): no /0, no overlap with the network's subnets, one pool per version.
    public static func checkNetwork(cidr: IPNetwork, networkID: String, existing: [Subnet], poolID: String?)
        throws(IPAM.Error)
    {
        if cidr.prefixLength == 0 { throw .invalidInput("0 is not allowed as CIDR prefix length") }
        for subnet in existing where subnet.cidr.overlaps(cidr) {
            throw .invalidInput(
                "Requested subnet with cidr: \(cidr) for network: \(networkID) overlaps with another subnet")
        }
        for subnet in existing where subnet.ipVersion == cidr.version {
            let affine = poolID == nil ? subnet.subnetPoolID == nil : subnet.subnetPoolID == poolID
            if !affine { throw .networkSubnetPoolAffinityError }
        }
    }
}
