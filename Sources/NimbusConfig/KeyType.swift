import NimbusModel

/// The type of an answer-file value. Each type parses text into a `ConfigValue` once,
/// at the edge, and says what is allowed when the text does not fit.
public enum KeyType: Sendable, Hashable {
    /// An IPv4 address or a hostname.
    case host
    /// Comma-separated hosts.
    case hostList
    /// An IPv4 network, `a.b.c.d/n`.
    case cidr
    /// `y` or `n` (Packstack's `True`/`False`, `yes`/`no` too).
    case bool
    case integer(ClosedRange<Int>)
    case decimal(ClosedRange<Double>)
    /// A size with an optional K/M/G/T suffix.
    case size
    /// A file path; `~` stands for the deploying user's home.
    case path
    case text
    /// A secret: never printed, masked in logs.
    case password
    /// One of the listed words.
    case choice([String])
    /// Comma-separated words from the list.
    case choiceList([String])
    /// Comma-separated `physnet:bridge`.
    case bridgeMappings
    /// Comma-separated `bridge:interface`.
    case bridgeInterfaces
    /// A Linux interface name.
    case interface
    /// Comma-separated `min:max` VXLAN ID ranges.
    case vniRanges
    /// An e-mail address.
    case email
    /// Packstack's allocation pools: `["start=A,end=B", …]`, or `[]` for the whole range.
    case allocationPools

    /// How the type reads in the generated file and the docs.
    public var summary: String {
        switch self {
        case .host: "IPv4 address or hostname"
        case .hostList: "comma-separated IPv4 addresses or hostnames"
        case .cidr: "IPv4 network in CIDR notation"
        case .bool: "y or n"
        case .integer(let range): "integer from \(range.lowerBound) to \(range.upperBound)"
        case .decimal(let range): "number from \(range.lowerBound) to \(range.upperBound)"
        case .size: "size with a K, M, G or T suffix"
        case .path: "file path"
        case .text: "text"
        case .password: "password"
        case .choice(let words): "one of " + words.joined(separator: ", ")
        case .choiceList(let words): "comma-separated, from " + words.joined(separator: ", ")
        case .bridgeMappings: "comma-separated PHYSNET:BRIDGE"
        case .bridgeInterfaces: "comma-separated BRIDGE:INTERFACE"
        case .interface: "Linux interface name"
        case .vniRanges: "comma-separated MIN:MAX VXLAN ID ranges"
        case .email: "e-mail address"
        case .allocationPools: "[\"start=IP,end=IP\", …] (Packstack's list), or [] for the whole range"
        }
    }

    public var isSecret: Bool { self == .password }
}

/// A parsed answer-file value.
public enum ConfigValue: Sendable, Hashable {
    case host(HostAddress)
    case hosts([HostAddress])
    case cidr(CIDR)
    case bool(Bool)
    case integer(Int)
    case decimal(Double)
    case size(ByteSize)
    case text(String)
    case words([String])
    case bridgeMappings([BridgeMapping])
    case bridgeInterfaces([BridgeInterface])
    case interface(InterfaceName)
    case vniRanges([VNIRange])
    /// An empty value where the type allows one.
    case empty
}

extension KeyType {
    /// Parses `text` (already trimmed). Throws a message that says what is wrong and what
    /// is allowed; an empty text is `.empty` here, and the caller decides if that is fine.
    func parse(_ text: String) throws(ValueError) -> ConfigValue {
        if text.isEmpty { return .empty }
        switch self {
        case .host:
            return .host(try Self.host(text))
        case .hostList:
            var hosts: [HostAddress] = []
            for item in try Self.list(text) { hosts.append(try Self.host(item)) }
            return .hosts(hosts)
        case .cidr:
            do { return .cidr(try CIDR.parse(text)) } catch {
                throw ValueError("'\(text)': \(error.description)")
            }
        case .bool:
            switch text.lowercased() {
            case "y", "yes", "true": return .bool(true)
            case "n", "no", "false": return .bool(false)
            default: throw ValueError("'\(text)' is not y or n")
            }
        case .integer(let range):
            guard let number = Int(text), range.contains(number) else {
                throw ValueError("'\(text)' is not an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return .integer(number)
        case .decimal(let range):
            guard text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(text),
                range.contains(number)
            else {
                throw ValueError("'\(text)' is not a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return .decimal(number)
        case .size:
            guard let size = ByteSize(text), size.bytes > 0 else {
                throw ValueError("'\(text)' is not a size; write a number with K, M, G or T, e.g. 20G")
            }
            return .size(size)
        case .path:
            guard text.first == "/" || text.hasPrefix("~/") || text == "~" else {
                throw ValueError("'\(text)' is not an absolute path; start it with / or ~/")
            }
            return .text(text)
        case .text, .password:
            return .text(text)
        case .email:
            let parts = text.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !text.contains(where: \.isWhitespace)
            else { throw ValueError("'\(text)' is not an e-mail address like root@localhost") }
            return .text(text)
        case .choice(let words):
            guard words.contains(text.lowercased()) else {
                throw ValueError("'\(text)' is not one of: \(words.joined(separator: ", "))")
            }
            return .words([text.lowercased()])
        case .choiceList(let words):
            let items = try Self.list(text).map { $0.lowercased() }
            if let bad = items.first(where: { !words.contains($0) }) {
                throw ValueError("'\(bad)' is not one of: \(words.joined(separator: ", "))")
            }
            return .words(items)
        case .bridgeMappings:
            var mappings: [BridgeMapping] = []
            for item in try Self.list(text) {
                do { mappings.append(try BridgeMapping.parse(item)) } catch { throw ValueError(error.description) }
            }
            return .bridgeMappings(mappings)
        case .bridgeInterfaces:
            var pairs: [BridgeInterface] = []
            for item in try Self.list(text) {
                do { pairs.append(try BridgeInterface.parse(item)) } catch { throw ValueError(error.description) }
            }
            return .bridgeInterfaces(pairs)
        case .interface:
            do { return .interface(try InterfaceName.parse(text)) } catch {
                throw ValueError("'\(text)': \(error.description)")
            }
        case .allocationPools:
            _ = try AllocationPool.parseList(text)
            return .text(text)
        case .vniRanges:
            var ranges: [VNIRange] = []
            for item in try Self.list(text) {
                guard let range = VNIRange(item) else {
                    throw ValueError("'\(item)' is not a range MIN:MAX with 1 ≤ MIN ≤ MAX ≤ \(VNIRange.maximum)")
                }
                ranges.append(range)
            }
            return .vniRanges(ranges)
        }
    }

    private static func host(_ text: String) throws(ValueError) -> HostAddress {
        guard let host = HostAddress(text) else {
            if text.split(separator: ".").count == 4, text.allSatisfy({ $0.isNumber || $0 == "." }) {
                throw ValueError("'\(text)' is not a valid IPv4 address (four numbers 0–255, no leading zeros)")
            }
            throw ValueError("'\(text)' is neither an IPv4 address nor a hostname")
        }
        return host
    }

    /// Splits on commas, trimming spaces; an empty item (`a,,b` or a trailing comma) is an error.
    private static func list(_ text: String) throws(ValueError) -> [String] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed }
        if items.contains(where: \.isEmpty) {
            throw ValueError("'\(text)' has an empty item; separate items with single commas")
        }
        return items
    }
}

/// A value that does not fit its key's type; `message` says what is wrong and allowed.
public struct ValueError: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmed: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
