/// An IPv4 network in CIDR notation (`10.0.0.0/24`). The address must be the
/// network address itself: `10.0.0.5/24` is refused, since it usually hides a typo.
public struct CIDR: Hashable, Sendable, CustomStringConvertible, Codable {
    public let network: IPv4Address
    public let prefixLength: Int

    /// Why a text is not a CIDR, phrased for a person.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case missingPrefix
        case badAddress(String)
        case badPrefix(String)
        case hostBitsSet(suggested: String)

        public var description: String {
            switch self {
            case .missingPrefix: "expected ADDRESS/PREFIX, e.g. 172.24.4.0/24"
            case .badAddress(let text): "'\(text)' is not an IPv4 address"
            case .badPrefix(let text): "prefix length '\(text)' must be a number from 0 to 32"
            case .hostBitsSet(let suggested): "host bits are set; the network is \(suggested)"
            }
        }
    }

    public init(network: IPv4Address, prefixLength: Int) {
        precondition((0...32).contains(prefixLength))
        self.prefixLength = prefixLength
        self.network = IPv4Address(value: network.value & CIDR.mask(prefixLength))
    }

    /// Parses `a.b.c.d/n`, throwing a `ParseError` that says what is wrong.
    public static func parse(_ text: some StringProtocol) throws(ParseError) -> CIDR {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .missingPrefix }
        guard let address = IPv4Address(parts[0]) else { throw .badAddress(String(parts[0])) }
        guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].count <= 2,
            let prefix = Int(parts[1]), (0...32).contains(prefix)
        else { throw .badPrefix(String(parts[1])) }
        let cidr = CIDR(network: address, prefixLength: prefix)
        guard cidr.network == address else { throw .hostBitsSet(suggested: cidr.description) }
        return cidr
    }

    public init?(_ text: some StringProtocol) {
        guard let cidr = try? CIDR.parse(text) else { return nil }
        self = cidr
    }

    static func mask(_ prefix: Int) -> UInt32 {
        prefix == 0 ? 0 : UInt32.max << (32 - UInt32(prefix))
    }

    public var mask: IPv4Address { IPv4Address(value: CIDR.mask(prefixLength)) }

    /// Addresses in the network, network and broadcast address included.
    public var size: UInt64 { UInt64(1) << UInt64(32 - prefixLength) }

    public func contains(_ address: IPv4Address) -> Bool {
        address.value & CIDR.mask(prefixLength) == network.value
    }

    public var description: String { "\(network)/\(prefixLength)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try CIDR.parse(text)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
