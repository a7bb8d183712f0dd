/// A 48-bit Ethernet (EUI-48) address, printed as Neutron stores port MACs:
/// lowercase, colon separated, two digits an octet (`fa:16:3e:4f:00:0a`).
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The address as a number in the low 48 bits.
    public let value: UInt64

    /// The base Neutron generates port MACs from by default (`base_mac` in neutron.conf).
    public static let neutronBase = MACAddress(value: 0xFA16_3E00_0000)

    /// The address with the 48-bit `value`; higher bits are dropped.
    public init(value: UInt64) {
        self.value = value & 0xFFFF_FFFF_FFFF
    }

    /// The address of six octets, most significant first.
    public init(octets: [UInt8]) {
        self.init(value: octets.prefix(6).reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// Parses any format netaddr's `valid_mac` accepts: six groups of one or two hex
    /// digits separated by `:` or `-`; three groups of one to four separated by `:`, `-`
    /// or `.` (Cisco); two groups of five or six separated by `:` or `-` (PostgreSQL);
    /// or eleven or twelve bare hex digits. Case does not matter.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        for separator in [":", "-", "."] where text.contains(separator) {
            let groups = text.split(separator: Character(separator), omittingEmptySubsequences: false)
            let digits: ClosedRange<Int>?
            switch (groups.count, separator) {
            case (6, ":"), (6, "-"): digits = 1...2
            case (3, _): digits = 1...4
            case (2, ":"), (2, "-"): digits = 5...6
            default: digits = nil
            }
            guard let digits, let value = MACAddress.combine(groups, digits: digits, bits: 48 / groups.count) else {
                return nil
            }
            self.init(value: value)
            return
        }
        guard text.count == 11 || text.count == 12,
            let value = MACAddress.combine([Substring(text)], digits: 11...12, bits: 48)
        else { return nil }
        self.init(value: value)
    }

    private static func combine(_ groups: [Substring], digits: ClosedRange<Int>, bits: Int) -> UInt64? {
        var value: UInt64 = 0
        for group in groups {
            guard digits.contains(group.count), group.allSatisfy(\.isHexDigit), group.allSatisfy(\.isASCII),
                let number = UInt64(group, radix: 16)
            else { return nil }
            value = value << UInt64(bits) | number
        }
        return value
    }

    /// The six octets, most significant first.
    public var octets: [UInt8] { (0..<6).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * (5 - $0))) } }

    /// Whether Neutron accepts the address for a port: not all zeros, not broadcast
    /// (`constants.INVALID_MAC_ADDRESSES`).
    public var isValidForPort: Bool { value != 0 && value != 0xFFFF_FFFF_FFFF }

    /// A random address on `base`, as `neutron_lib.utils.net.get_random_mac`: the first
    /// three octets of the base are kept, the fourth too when it is not zero, the rest
    /// are random bytes from `generator`. Uniqueness on the network is the caller's to
    /// check (Neutron retries on `MacAddressInUse`).
    public static func random(base: MACAddress = neutronBase, using generator: inout some RandomNumberGenerator)
        -> MACAddress
    {
        var octets = base.octets
        let keepFourth = octets[3] != 0
        for index in 3..<6 {
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            if index != 3 || !keepFourth { octets[index] = byte }
        }
        return MACAddress(octets: octets)
    }

    /// A random address on `base` from the system's generator.
    public static func random(base: MACAddress = neutronBase) -> MACAddress {
        var generator = SystemRandomNumberGenerator()
        return random(base: base, using: &generator)
    }

    /// The modified EUI-64 interface identifier (RFC 4291 appendix A) before the
    /// universal/local bit is flipped: the MAC with `ff:fe` in its middle, as netaddr's
    /// `EUI.eui64()`.
    public var eui64: UInt64 {
        (value >> 24) << 40 | 0xFF_FE00_0000 | (value & 0xFF_FFFF)
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.value < rhs.value }

    /// `aa:bb:cc:dd:ee:ff`, lowercase.
    public var description: String {
        octets.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: ":")
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = MACAddress(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a valid MAC address"))
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
