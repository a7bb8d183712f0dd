/// An IPv4 or IPv6 network in CIDR notation, always held by its network address
/// (`10.0.0.0/24`, `2001:db8::/64`).
///
/// Parsing comes in two strengths, because Neutron has both: `init?(_:)` refuses set host
/// bits, as Neutron's host route and route-CIDR validators do ("'10.0.0.5/24' is not a
/// valid CIDR"); `init?(truncating:)` clears them, as Neutron's subnet create does
/// (`10.0.0.5/24` is accepted and stored as `10.0.0.0/24`).
public struct IPNetwork: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The network address: the first address, host bits all zero.
    public let network: IPAddress
    /// The prefix length, 0...32 for IPv4 and 0...128 for IPv6.
    public let prefixLength: Int

    /// The network of `prefixLength` that `address` lies in (host bits cleared); nil when
    /// the prefix length does not fit the version.
    public init?(address: IPAddress, prefixLength: Int) {
        guard (0...address.version.bitWidth).contains(prefixLength) else { return nil }
        self.prefixLength = prefixLength
        let mask = IPNetwork.mask(version: address.version, prefixLength: prefixLength)
        network = IPAddress(version: address.version, value: address.value & mask) ?? address
    }

    /// Parses `address/prefix` strictly: the prefix must be given as a number and no host
    /// bit may be set.
    public init?(_ text: some StringProtocol) {
        guard let (address, prefix) = IPNetwork.split(text, defaultingPrefix: false),
            let network = IPNetwork(address: address, prefixLength: prefix), network.network == address
        else { return nil }
        self = network
    }

    /// Parses a subnet CIDR the way Neutron's subnet create reads one: host bits are
    /// cleared, a missing prefix means a single address (`/32` or `/128`, as netaddr
    /// reads it), and an IPv4 prefix may be written as a contiguous netmask.
    public init?(truncating text: some StringProtocol) {
        guard let (address, prefix) = IPNetwork.split(text, defaultingPrefix: true),
            let network = IPNetwork(address: address, prefixLength: prefix)
        else { return nil }
        self = network
    }

    private static func split(_ text: some StringProtocol, defaultingPrefix: Bool) -> (IPAddress, Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard let address = parts.first.flatMap({ IPAddress($0) }) else { return nil }
        if parts.count == 1 { return defaultingPrefix ? (address, address.version.bitWidth) : nil }
        guard parts.count == 2 else { return nil }
        let prefix = parts[1]
        if prefix.count <= 3, prefix.allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(prefix) {
            return (address, length)
        }
        guard defaultingPrefix, address.version == .v4, let netmask = IPAddress(prefix), netmask.version == .v4 else {
            return nil
        }
        let ones = netmask.value.nonzeroBitCount
        guard netmask.value == mask(version: .v4, prefixLength: ones) else { return nil }
        return (address, ones)
    }

    /// The network mask of a prefix length as a number.
    static func mask(version: IPVersion, prefixLength: Int) -> UInt128 {
        let hostBits = version.bitWidth - prefixLength
        return hostBits >= version.bitWidth ? 0 : (version.maxValue >> hostBits) << hostBits
    }

    /// IPv4 or IPv6.
    public var version: IPVersion { network.version }

    /// The first address: the network address itself.
    public var first: IPAddress { network }

    /// The last address: all host bits set (the broadcast address in IPv4).
    public var last: IPAddress { network.with(value: network.value | hostMask) }

    /// The IPv4 broadcast address, nil for IPv6 and for `/31` and `/32`, as netaddr's
    /// `IPNetwork.broadcast`.
    public var broadcast: IPAddress? {
        version == .v4 && prefixLength <= 30 ? last : nil
    }

    /// The number of addresses, network and broadcast included; `::/0` (2^128) reports
    /// `UInt128.max`.
    public var size: UInt128 { hostMask == .max ? .max : hostMask + 1 }

    private var hostMask: UInt128 { ~IPNetwork.mask(version: version, prefixLength: prefixLength) & version.maxValue }

    /// Whether the address lies in the network (an address of the other version never does).
    public func contains(_ address: IPAddress) -> Bool {
        address.version == version && address.value & ~hostMask == network.value
    }

    /// Whether `other` lies wholly inside this network, as netaddr's `other in self`.
    public func contains(_ other: IPNetwork) -> Bool {
        other.version == version && other.prefixLength >= prefixLength && contains(other.network)
    }

    /// Whether the two networks share any address.
    public func overlaps(_ other: IPNetwork) -> Bool { contains(other) || other.contains(self) }

    /// The addresses of the network as a range.
    public var range: IPRange { IPRange(uncheckedFirst: first, last: last) }

    public static func < (lhs: IPNetwork, rhs: IPNetwork) -> Bool {
        (lhs.network, lhs.prefixLength) < (rhs.network, rhs.prefixLength)
    }

    /// `address/prefix`, the address in canonical form.
    public var description: String { "\(network)/\(prefixLength)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let network = IPNetwork(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a valid CIDR"))
        }
        self = network
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
