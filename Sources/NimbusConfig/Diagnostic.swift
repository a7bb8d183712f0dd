/// One problem found in an answer file, rendered as `FILE:LINE: KEY: message`.
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable, Comparable {
        /// The file cannot be used as it is; `validate` exits 1.
        case error
        /// Probably a mistake, but Nimbus can go on.
        case warning
        /// Information: what Nimbus does with a value it reads differently from Packstack.
        case note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    /// 1-based line number, or nil when the problem is about the file as a whole.
    public var line: Int?
    public var key: String?
    public var message: String

    public init(_ severity: Severity, line: Int?, key: String?, _ message: String) {
        self.severity = severity
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String { rendered(file: nil) }

    /// `FILE:LINE: KEY: severity: message`, leaving out what is unknown. Errors carry no
    /// severity word, so the common case reads like a compiler's.
    public func rendered(file: String?) -> String {
        var parts: [String] = []
        if let file {
            parts.append(line.map { "\(file):\($0)" } ?? file)
        } else if let line {
            parts.append("line \(line)")
        }
        if let key { parts.append(key) }
        let text = severity == .error ? message : "\(severity.rawValue): \(message)"
        return (parts + [text]).joined(separator: ": ")
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Ordered by line (file-wide ones last), then severity, then key.
    public func sortedForDisplay() -> [Diagnostic] {
        enumerated().sorted { a, b in
            let (la, lb) = (a.element.line ?? .max, b.element.line ?? .max)
            if la != lb { return la < lb }
            if a.element.severity != b.element.severity { return a.element.severity < b.element.severity }
            return a.offset < b.offset
        }.map(\.element)
    }
}
