/// A DNS hostname as RFC 1123 allows it: labels of letters, digits and hyphens,
/// each 1–63 characters, not starting or ending with a hyphen, 253 characters in all.
/// An all-numeric dotted name is refused (it is a mistyped IPv4 address).
public struct Hostname: Hashable, Sendable, CustomStringConvertible {
    public let value: String

    public init?(_ text: some StringProtocol) {
        let name = String(text)
        guard !name.isEmpty, name.utf8.count <= 253 else { return nil }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ Hostname.allowed($0) })
            else { return nil }
        }
        if labels.allSatisfy({ $0.allSatisfy(\.isNumber) }) { return nil }
        value = name.lowercased()
    }

    private static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    public var description: String { value }
}

/// Where a node is reached: an IPv4 address or a hostname. Packstack accepts both;
/// Nimbus asks that one answer file uses one kind throughout.
public enum HostAddress: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    case ipv4(IPv4Address)
    case hostname(Hostname)

    public enum Kind: String, Sendable {
        case ipv4 = "IPv4 address"
        case hostname = "hostname"
    }

    public init?(_ text: some StringProtocol) {
        if let address = IPv4Address(text) {
            self = .ipv4(address)
        } else if let name = Hostname(text) {
            self = .hostname(name)
        } else {
            return nil
        }
    }

    public var kind: Kind {
        switch self {
        case .ipv4: .ipv4
        case .hostname: .hostname
        }
    }

    public var description: String {
        switch self {
        case .ipv4(let address): address.description
        case .hostname(let name): name.value
        }
    }

    /// Addresses sort numerically, before hostnames, which sort alphabetically.
    public static func < (lhs: HostAddress, rhs: HostAddress) -> Bool {
        switch (lhs, rhs) {
        case (.ipv4(let a), .ipv4(let b)): a < b
        case (.ipv4, .hostname): true
        case (.hostname, .ipv4): false
        case (.hostname(let a), .hostname(let b)): a.value < b.value
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let host = HostAddress(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a host: \(text)"))
        }
        self = host
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
