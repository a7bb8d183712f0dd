/// A Linux network interface name: 1–15 bytes, no `/`, `:` or whitespace, not `.`/`..`
/// (the kernel's `dev_valid_name`, plus `:` which only old alias syntax uses).
public struct InterfaceName: Hashable, Sendable, CustomStringConvertible, Codable {
    public let value: String

    /// Why a text cannot name an interface, phrased for a person.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case tooLong(Int)
        case badCharacter(Character)
        case reserved(String)

        public var description: String {
            switch self {
            case .empty: "an interface name cannot be empty"
            case .tooLong(let count): "interface names are at most 15 bytes on Linux; this one has \(count)"
            case .badCharacter(let character):
                "interface names cannot contain '\(character.isWhitespace ? "whitespace" : String(character))'"
            case .reserved(let name): "'\(name)' cannot name an interface"
            }
        }
    }

    public static func parse(_ text: some StringProtocol) throws(ParseError) -> InterfaceName {
        let name = String(text)
        guard !name.isEmpty else { throw .empty }
        guard name.utf8.count <= 15 else { throw .tooLong(name.utf8.count) }
        if name == "." || name == ".." { throw .reserved(name) }
        if let bad = name.first(where: { $0 == "/" || $0 == ":" || $0.isWhitespace || !$0.isASCII }) {
            throw .badCharacter(bad)
        }
        return InterfaceName(unchecked: name)
    }

    public init?(_ text: some StringProtocol) {
        guard let name = try? InterfaceName.parse(text) else { return nil }
        self = name
    }

    private init(unchecked value: String) { self.value = value }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { self = try InterfaceName.parse(text) } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
