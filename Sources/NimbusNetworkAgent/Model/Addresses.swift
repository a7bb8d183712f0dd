import Glibc

/// An IPv4 address, parsed strictly from dotted-quad text (four decimal octets, no leading
/// zeros). Named `IPv4` so it does not clash with NimbusModel's `IPv4Address` in a file that
/// imports both; it becomes that type once this module may depend on NimbusModel.
public struct IPv4: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a 32-bit number (10.0.0.1 is 0x0A00_0001).
    public let value: UInt32

    /// The address whose 32-bit value is `value`.
    public init(value: UInt32) {
        self.value = value
    }

    /// Parses `a.b.c.d`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        var octets: [UInt32] = []
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let octet = UInt32(part), octet <= 255, part.count == 1 || part.first != "0"
            else { return nil }
            octets.append(octet)
        }
        guard octets.count == 4 else { return nil }
        value = octets.reduce(0) { $0 << 8 | $1 }
    }

    /// 0.0.0.0.
    public static let any = IPv4(value: 0)

    /// Dotted-quad text.
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    /// The four octets, most significant first (as on the wire).
    public var octets: [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// With dashes for dots, as Neutron names a port's DHCP host (`host-192-168-0-10`).
    public var dashed: String { description.split(separator: ".").joined(separator: "-") }

    /// Numeric order.
    public static func < (lhs: IPv4, rhs: IPv4) -> Bool { lhs.value < rhs.value }
}

/// An IPv4 address with a prefix length: a network (`192.168.0.0/24`) or an interface
/// address (`192.168.0.254/24`), as `ip addr` and Neutron's `cidr` write them.
public struct IPv4Prefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address (of the network, or of an interface).
    public let address: IPv4
    /// 0…32.
    public let length: Int

    /// `address/length`; nil when `length` is not 0…32.
    public init?(address: IPv4, length: Int) {
        guard (0...32).contains(length) else { return nil }
        self.address = address
        self.length = length
    }

    /// Parses `a.b.c.d/n`, or a bare address as a /32.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard let first = parts.first, let address = IPv4(first) else { return nil }
        if parts.count == 1 {
            self.init(address: address, length: 32)
        } else if parts.count == 2, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let length = Int(parts[1]) {
            self.init(address: address, length: length)
        } else {
            return nil
        }
    }

    /// The mask as a number (/24 is 0xFFFF_FF00).
    public var maskValue: UInt32 { length == 0 ? 0 : UInt32.max << (32 - UInt32(length)) }
    /// The mask in dotted form (`255.255.255.0`), as dnsmasq's `--dhcp-range` takes it.
    public var netmask: IPv4 { IPv4(value: maskValue) }
    /// The network this address is in, with the same length (`192.168.0.0/24`).
    public var network: IPv4Prefix {
        IPv4Prefix(uncheckedAddress: IPv4(value: address.value & maskValue), length: length)
    }
    /// How many addresses the network holds.
    public var size: UInt64 { UInt64(1) << UInt64(32 - length) }

    /// Whether `other` lies inside this network.
    public func contains(_ other: IPv4) -> Bool { other.value & maskValue == address.value & maskValue }

    /// The same address with another length (a fixed IP on its subnet's length).
    public func with(address: IPv4) -> IPv4Prefix { IPv4Prefix(uncheckedAddress: address, length: length) }

    private init(uncheckedAddress: IPv4, length: Int) {
        address = uncheckedAddress
        self.length = length
    }

    /// `a.b.c.d/n`.
    public var description: String { "\(address)/\(length)" }

    /// By address, then length.
    public static func < (lhs: IPv4Prefix, rhs: IPv4Prefix) -> Bool {
        (lhs.address, lhs.length) < (rhs.address, rhs.length)
    }
}

/// An Ethernet address, kept in the lower-case colon form `ip` and Neutron print.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Six octets.
    public let octets: [UInt8]

    /// Parses `aa:bb:cc:dd:ee:ff` (either case); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard part.count == 2, let octet = UInt8(part, radix: 16) else { return nil }
            octets.append(octet)
        }
        self.octets = octets
    }

    /// 00:00:00:00:00:00, the key of a VXLAN device's flood entries.
    public static let zero = MACAddress(uncheckedOctets: [0, 0, 0, 0, 0, 0])
    /// ff:ff:ff:ff:ff:ff.
    public static let broadcast = MACAddress(uncheckedOctets: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])

    private init(uncheckedOctets: [UInt8]) { octets = uncheckedOctets }

    /// `aa:bb:cc:dd:ee:ff`, lower case.
    public var description: String {
        octets.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    /// By octets.
    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.octets.lexicographicallyPrecedes(rhs.octets) }
}

/// An IPv6 address, validated with inet_pton(3) and kept as text in its canonical form
/// (inet_ntop). Only security groups and the DHCP hosts file look at them.
public struct IPv6: Hashable, Sendable, CustomStringConvertible {
    /// The canonical text (`fe80::1`).
    public let description: String

    /// Parses any form inet_pton accepts (`fe80::1`); nil for anything else.
    public init?(_ text: some StringProtocol) {
        var address = in6_addr()
        guard inet_pton(AF_INET6, String(text), &address) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        description = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
