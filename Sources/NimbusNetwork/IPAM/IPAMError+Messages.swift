extension IPAM.Error {
    /// Neutron's message for the error, word for word (its `message` templates in
    /// neutron_lib/exceptions, neutron/ipam/exceptions.py and the API's attribute check),
    /// double full stops included where Neutron's templates produce them.
    public var description: String {
        switch self {
        case .invalidAttribute(let attribute, let reason):
            "Invalid input for \(attribute). Reason: \(reason)."
        case .invalidInput(let message):
            "Invalid input for operation: \(message)."
        case .badRequest(let resource, let message):
            "Bad \(resource) request: \(message)."
        case .invalidAllocationPool(let pool):
            "The allocation pool \(pool) is not valid."
        case .outOfBoundsAllocationPool(let pool, let cidr):
            "The allocation pool \(pool) spans beyond the subnet cidr \(cidr)."
        case .overlappingAllocationPools(let first, let second, let cidr):
            "Found overlapping allocation pools: \(first) \(second) for subnet \(cidr)."
        case .gatewayConflictWithAllocationPools(let gateway, let pool):
            "Gateway ip \(gateway) conflicts with allocation pool \(pool)."
        case .ipamValueInvalid(let message):
            message
        case .gatewayIPInUse(let gateway, let portID):
            "Current gateway ip \(gateway) already in use by port \(portID). Unable to update."
        case .dnsNameserversExhausted(let subnetID, let quota):
            "Unable to complete operation for \(subnetID ?? "new subnet"). "
                + "The number of DNS nameservers exceeds the limit \(quota)."
        case .hostRoutesExhausted(let subnetID, let quota):
            "Unable to complete operation for \(subnetID ?? "new subnet"). "
                + "The number of host routes exceeds the limit \(quota)."
        case .invalidIPForSubnet(let address):
            "IP address \(address) is not a valid IP for the specified subnet."
        case .invalidIPForNetwork(let address):
            "IP address \(address) is not a valid IP for any of the subnets on the specified network."
        case .ipNotInSubnet(let address, let subnetID):
            "IP address \(address) does not belong to subnet \(subnetID)"
        case .ipAddressAlreadyAllocated(let address, let subnetID):
            "IP address \(address) already allocated in subnet \(subnetID)"
        case .allocationOnAutoAddressSubnet(let address, let subnetID):
            "IPv6 address \(address) cannot be directly assigned to a port on subnet \(subnetID) "
                + "as the subnet is configured for automatic addresses"
        case .ipAddressGenerationFailure(let subnetID):
            "No more IP addresses available for subnet \(subnetID)."
        case .ipAddressGenerationFailureOnNetwork(let networkID):
            "No more IP addresses available on network \(networkID)."
        case .addressCalculationFailure(let addressType, let reason):
            "Unable to calculate \(addressType) address because of:\(reason)"
        case .networkSubnetPoolAffinityError:
            "Subnets hosted on the same network must be allocated from the same subnet pool."
        case .emptySubnetPoolPrefixList:
            "Empty subnet pool prefix list."
        case .prefixVersionMismatch:
            "Cannot mix IPv4 and IPv6 prefixes in a subnet pool."
        case .unsupportedMinSubnetPoolPrefix(let prefix, let version):
            "Prefix '\(prefix)' not supported in IPv\(version) pool."
        case .illegalSubnetPoolPrefixBounds(let prefixType, let prefixLength, let baseType, let baseLength):
            "Illegal prefix bounds: \(prefixType)=\(prefixLength), \(baseType)=\(baseLength)."
        case .illegalSubnetPoolPrefixUpdate(let message):
            "Illegal update to prefixes: \(message)."
        case .minPrefixSubnetAllocationError(let prefixLength, let minimum):
            "Unable to allocate subnet with prefix length \(prefixLength), minimum allowed prefix is \(minimum)."
        case .maxPrefixSubnetAllocationError(let prefixLength, let maximum):
            "Unable to allocate subnet with prefix length \(prefixLength), maximum allowed prefix is \(maximum)."
        case .subnetAllocationError(let reason):
            "Failed to allocate subnet: \(reason)."
        case .subnetPoolQuotaExceeded:
            "Per-project subnet pool prefix quota exceeded."
        }
    }
}
