/// A size as Packstack writes it: a number with an optional `K`, `M`, `G` or `T`
/// suffix (binary multiples), e.g. `20G`. A bare number is bytes.
public struct ByteSize: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let bytes: UInt64
    private let text: String

    public init?(_ text: some StringProtocol) {
        var digits = Substring(text)
        var multiplier: UInt64 = 1
        if let last = digits.last, let shift = ByteSize.shifts[Character(last.uppercased())] {
            multiplier = 1 << shift
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = UInt64(digits)
        else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        self.bytes = bytes
        self.text = String(text).uppercased()
    }

    private static let shifts: [Character: UInt64] = ["K": 10, "M": 20, "G": 30, "T": 40]

    public var description: String { text }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    public static func == (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let size = ByteSize(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a size: \(text)"))
        }
        self = size
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}
