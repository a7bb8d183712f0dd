import NimbusModel

/// The version of an IP address or network, as Neutron's `ip_version` attribute (4 or 6).
public enum IPVersion: Int, Sendable, Hashable, Comparable, Codable, CaseIterable, CustomStringConvertible {
    case v4 = 4
    case v6 = 6

    /// Bits in an address of this version: 32 or 128.
    public var bitWidth: Int { self == .v4 ? 32 : 128 }

    /// The largest address value of this version.
    public var maxValue: UInt128 { self == .v4 ? UInt128(UInt32.max) : .max }

    public static func < (lhs: IPVersion, rhs: IPVersion) -> Bool { lhs.rawValue < rhs.rawValue }

    /// `4` or `6`, as Neutron prints it in messages.
    public var description: String { String(rawValue) }
}

/// An IPv4 or IPv6 address held as a number, the way netaddr's `IPAddress` is.
///
/// Addresses order by version first, then value (all IPv4 before all IPv6), as netaddr
/// sorts them. Text is parsed strictly and printed canonically: dotted quad for IPv4,
/// RFC 5952 for IPv6 (see `IPAddress+Text.swift`).
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// Whether this is an IPv4 or an IPv6 address.
    public let version: IPVersion
    /// The address as a number; at most `UInt32.max` for IPv4.
    public let value: UInt128

    /// An address of `version` with the numeric `value`; nil when the value does not fit.
    public init?(version: IPVersion, value: UInt128) {
        guard value <= version.maxValue else { return nil }
        self.version = version
        self.value = value
    }

    /// The IPv4 address with the 32-bit value (10.0.0.1 is 0x0A00_0001).
    public init(ipv4 value: UInt32) {
        version = .v4
        self.value = UInt128(value)
    }

    /// The IPv6 address with the 128-bit value.
    public init(ipv6 value: UInt128) {
        version = .v6
        self.value = value
    }

    /// The same address as the model's `IPv4Address`.
    public init(_ address: IPv4Address) {
        self.init(ipv4: address.value)
    }

    /// This address as the model's `IPv4Address`, when it is IPv4.
    public var ipv4: IPv4Address? {
        version == .v4 ? IPv4Address(value: UInt32(truncatingIfNeeded: value)) : nil
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.version, lhs.value) < (rhs.version, rhs.value)
    }

    /// The address `offset` places further on (or back, when negative); nil past either
    /// end of the version's address space, where netaddr raises an error.
    public func advanced(by offset: Int) -> IPAddress? {
        let magnitude = UInt128(offset.magnitude)
        if offset >= 0 {
            let (sum, overflow) = value.addingReportingOverflow(magnitude)
            return overflow ? nil : IPAddress(version: version, value: sum)
        }
        return value >= magnitude ? IPAddress(version: version, value: value - magnitude) : nil
    }

    /// `address + offset`, nil past the end of the address space.
    public static func + (address: IPAddress, offset: Int) -> IPAddress? { address.advanced(by: offset) }

    /// `address - offset`, nil before the start of the address space.
    public static func - (address: IPAddress, offset: Int) -> IPAddress? {
        offset == .min ? nil : address.advanced(by: -offset)
    }

    /// How many addresses lie from `self` up to `other` (nil when `other` is lower or of
    /// another version).
    public func distance(to other: IPAddress) -> UInt128? {
        guard other.version == version, other.value >= value else { return nil }
        return other.value - value
    }

    /// The address with `value` of the same version, for arithmetic known to stay in range.
    func with(value newValue: UInt128) -> IPAddress {
        IPAddress(version: version, value: newValue) ?? self
    }

    /// Whether the address is an EUI-64 interface identifier built from a MAC address,
    /// as Neutron's `ipv6_utils.is_eui64_address`: IPv6 with `ff:fe` in bits 24–39.
    public var isEUI64: Bool {
        version == .v6 && (value & 0xFF_FF00_0000) == 0xFF_FE00_0000
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a valid IP address"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
