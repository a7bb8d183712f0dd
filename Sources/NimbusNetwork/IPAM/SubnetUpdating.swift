extension IPAM.Subnet {
    /// The subnet after an update, validated as Neutron's `_update_subnet_precommit`:
    ///
    /// - turning DHCP on checks the CIDR as a create would; turning it off is refused
    ///   while IPv6 modes are set ("Cannot disable enable_dhcp with ipv6 attributes set");
    /// - a new gateway must be of the subnet's version and not its IPv4 network or last
    ///   address, and may not replace a gateway a router port holds
    ///   (`gatewayPortID`, from the caller's port table: `GatewayIpInUse`);
    /// - DNS servers and host routes are checked against the limits with this subnet's ID;
    /// - new pools are checked as on create; when the gateway or the pools change, the
    ///   gateway must lie outside the pools that will be in force.
    ///
    /// Pools are not regenerated when the gateway moves, as in Neutron: moving it into
    /// a pool is a conflict until the pools are updated too.
    public func applying(_ update: IPAM.SubnetUpdate, gatewayPortID: String? = nil, limits: IPAM.Limits = IPAM.Limits())
        throws(IPAM.Error) -> IPAM.Subnet
    {
        if let enable = update.enableDHCP {
            if enable && !enableDHCP {
                try IPAM.SubnetChecks.cidr(cidr, ipVersion: ipVersion, checkDHCP: true)
            }
        }
        if let newGateway = update.gateway {
            if let address = newGateway {
                try IPAM.SubnetChecks.gateway(address, ipVersion: ipVersion, cidr: cidr)
            }
            if newGateway != gateway, let current = gateway, let portID = gatewayPortID {
                throw .gatewayIPInUse(gateway: current, portID: portID)
            }
        }
        if let servers = update.dnsNameservers {
            try IPAM.SubnetChecks.nameservers(servers, ipVersion: ipVersion, subnetID: id, limits: limits)
        }
        if let routes = update.hostRoutes {
            try IPAM.SubnetChecks.hostRoutes(routes, ipVersion: ipVersion, subnetID: id, limits: limits)
        }
        if ipVersion == .v6, update.enableDHCP == false, ipv6RAMode != nil || ipv6AddressMode != nil {
            throw .invalidInput("Cannot disable enable_dhcp with ipv6 attributes set")
        }
        var pools = allocationPools
        if let requested = update.allocationPools {
            pools = try IPAM.allocationPools(requested, in: cidr)
        }
        let newGateway = update.gateway ?? gateway
        if update.gateway != nil || update.allocationPools != nil, let newGateway {
            try IPAM.checkGateway(newGateway, outside: pools)
        }
        var updated = self
        updated.gateway = newGateway
        updated.allocationPools = pools
        updated.enableDHCP = update.enableDHCP ?? enableDHCP
        updated.dnsNameservers = update.dnsNameservers ?? dnsNameservers
        updated.hostRoutes = update.hostRoutes ?? hostRoutes
        return updated
    }
}
