/// IP address management as Neutron does it: subnet defaults and validation, address
/// allocation, subnet pools. Pure values, no I/O: callers pass in what is stored and
/// store what comes back.
public enum IPAM {}

extension IPAM {
    /// Every way an IPAM request fails, each with Neutron's exception type, HTTP status
    /// and message text, so the API can answer `{"NeutronError": {"type": error.type,
    /// "message": error.description, "detail": ""}}` with `error.httpStatus`.
    public enum Error: Swift.Error, Hashable, Sendable, CustomStringConvertible {
        /// An attribute failed the API's validator (type `HTTPBadRequest`, 400):
        /// "Invalid input for cidr. Reason: ...".
        case invalidAttribute(attribute: String, reason: String)
        /// `InvalidInput` (400): "Invalid input for operation: ...".
        case invalidInput(String)
        /// `BadRequest` (400): "Bad subnets request: ...".
        case badRequest(resource: String, message: String)
        /// `InvalidAllocationPool` (400); `pool` as Neutron prints it.
        case invalidAllocationPool(pool: String)
        /// `OutOfBoundsAllocationPool` (400).
        case outOfBoundsAllocationPool(pool: IPRange, subnetCIDR: IPNetwork)
        /// `OverlappingAllocationPools` (409).
        case overlappingAllocationPools(IPRange, IPRange, subnetCIDR: IPNetwork)
        /// `GatewayConflictWithAllocationPools` (409).
        case gatewayConflictWithAllocationPools(gateway: IPAddress, pool: IPRange)
        /// `IpamValueInvalid` (409), raised by Neutron's subnet request objects.
        case ipamValueInvalid(String)
        /// `GatewayIpInUse` (409): a router port holds the gateway being changed.
        case gatewayIPInUse(gateway: IPAddress, portID: String)
        /// `DNSNameServersExhausted` (400); `subnetID` nil for a subnet being created.
        case dnsNameserversExhausted(subnetID: String?, quota: Int)
        /// `HostRoutesExhausted` (400); `subnetID` nil for a subnet being created.
        case hostRoutesExhausted(subnetID: String?, quota: Int)
        /// `InvalidIpForSubnet` from neutron-lib (400), the port API's check.
        case invalidIPForSubnet(IPAddress)
        /// `InvalidIpForNetwork` (400): no subnet of the network takes the address.
        case invalidIPForNetwork(IPAddress)
        /// `InvalidIpForSubnet` from neutron.ipam (400), the IPAM driver's check.
        case ipNotInSubnet(IPAddress, subnetID: String)
        /// `IpAddressAlreadyAllocated` (409).
        case ipAddressAlreadyAllocated(IPAddress, subnetID: String)
        /// `AllocationOnAutoAddressSubnet` (400): a fixed IPv6 address on a SLAAC or
        /// DHCPv6-stateless subnet that is not the port's EUI-64 address.
        case allocationOnAutoAddressSubnet(IPAddress, subnetID: String)
        /// `IpAddressGenerationFailure` from neutron.ipam (409): one subnet is full.
        case ipAddressGenerationFailure(subnetID: String)
        /// `IpAddressGenerationFailure` from neutron-lib (409): every subnet is full.
        case ipAddressGenerationFailureOnNetwork(networkID: String)
        /// `AddressCalculationFailure` (500), e.g. EUI-64 of an IPv4 prefix.
        case addressCalculationFailure(addressType: String, reason: String)
        /// `NetworkSubnetPoolAffinityError` (400).
        case networkSubnetPoolAffinityError
        /// `EmptySubnetPoolPrefixList` (400).
        case emptySubnetPoolPrefixList
        /// `PrefixVersionMismatch` (400).
        case prefixVersionMismatch
        /// `UnsupportedMinSubnetPoolPrefix` (400).
        case unsupportedMinSubnetPoolPrefix(prefix: Int, version: Int)
        /// `IllegalSubnetPoolPrefixBounds` (400), e.g. `min_prefixlen=30, max_prefixlen=24`.
        case illegalSubnetPoolPrefixBounds(prefixType: String, prefixLength: Int, baseType: String, baseLength: Int)
        /// `IllegalSubnetPoolPrefixUpdate` (400).
        case illegalSubnetPoolPrefixUpdate(String)
        /// `MinPrefixSubnetAllocationError` (400).
        case minPrefixSubnetAllocationError(prefixLength: Int, minPrefixLength: Int)
        /// `MaxPrefixSubnetAllocationError` (400).
        case maxPrefixSubnetAllocationError(prefixLength: Int, maxPrefixLength: Int)
        /// `SubnetAllocationError`: a plain `NeutronException`, so Neutron answers 500.
        case subnetAllocationError(reason: String)
        /// `SubnetPoolQuotaExceeded` (an `OverQuota`, 409).
        case subnetPoolQuotaExceeded

        /// The Neutron exception class name, for the fault body's `type`.
        public var type: String {
            switch self {
            case .invalidAttribute: "HTTPBadRequest"
            case .invalidInput: "InvalidInput"
            case .badRequest: "BadRequest"
            case .invalidAllocationPool: "InvalidAllocationPool"
            case .outOfBoundsAllocationPool: "OutOfBoundsAllocationPool"
            case .overlappingAllocationPools: "OverlappingAllocationPools"
            case .gatewayConflictWithAllocationPools: "GatewayConflictWithAllocationPools"
            case .ipamValueInvalid: "IpamValueInvalid"
            case .gatewayIPInUse: "GatewayIpInUse"
            case .dnsNameserversExhausted: "DNSNameServersExhausted"
            case .hostRoutesExhausted: "HostRoutesExhausted"
            case .invalidIPForSubnet, .ipNotInSubnet: "InvalidIpForSubnet"
            case .invalidIPForNetwork: "InvalidIpForNetwork"
            case .ipAddressAlreadyAllocated: "IpAddressAlreadyAllocated"
            case .allocationOnAutoAddressSubnet: "AllocationOnAutoAddressSubnet"
            case .ipAddressGenerationFailure, .ipAddressGenerationFailureOnNetwork: "IpAddressGenerationFailure"
            case .addressCalculationFailure: "AddressCalculationFailure"
            case .networkSubnetPoolAffinityError: "NetworkSubnetPoolAffinityError"
            case .emptySubnetPoolPrefixList: "EmptySubnetPoolPrefixList"
            case .prefixVersionMismatch: "PrefixVersionMismatch"
            case .unsupportedMinSubnetPoolPrefix: "UnsupportedMinSubnetPoolPrefix"
            case .illegalSubnetPoolPrefixBounds: "IllegalSubnetPoolPrefixBounds"
            case .illegalSubnetPoolPrefixUpdate: "IllegalSubnetPoolPrefixUpdate"
            case .minPrefixSubnetAllocationError: "MinPrefixSubnetAllocationError"
            case .maxPrefixSubnetAllocationError: "MaxPrefixSubnetAllocationError"
            case .subnetAllocationError: "SubnetAllocationError"
            case .subnetPoolQuotaExceeded: "SubnetPoolQuotaExceeded"
            }
        }

        /// The HTTP status Neutron's fault map gives the exception: 400 for `BadRequest`,
        /// 409 for `Conflict` and `InUse`, 500 for a bare `NeutronException`.
        public var httpStatus: Int {
            switch self {
            case .overlappingAllocationPools, .gatewayConflictWithAllocationPools, .ipamValueInvalid, .gatewayIPInUse,
                .ipAddressAlreadyAllocated, .ipAddressGenerationFailure, .ipAddressGenerationFailureOnNetwork,
                .subnetPoolQuotaExceeded:
                409
            case .addressCalculationFailure, .subnetAllocationError: 500
            default: 400
            }
        }
    }
}
