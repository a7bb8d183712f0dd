/// One `KEY=value` line as read, before its value is typed.
public struct RawEntry: Sendable, Hashable {
    public var key: String
    public var value: String
    /// 1-based; nil for a value that came from the command line, not the file.
    public var line: Int?

    public init(key: String, value: String, line: Int?) {
        self.key = key
        self.value = value
        self.line = line
    }
}

/// The lines of an answer file split into entries, without any knowledge of keys.
public struct RawAnswerFile: Sendable {
    /// Entries of the `[general]` section (and of no section, which is an error), in file order.
    public var entries: [RawEntry] = []
    /// The bytes could not be read as an answer file at all (too large, UTF-16):
    /// there is nothing to validate.
    public var unreadable = false

    /// The entry for `key`, the first if it is set twice.
    public func entry(_ key: String) -> RawEntry? { entries.first { $0.key == key } }

    /// Replaces (or adds) a key's value, as a command-line option does.
    public mutating func override(_ key: String, with value: String) {
        entries.removeAll { $0.key == key }
        entries.append(RawEntry(key: key, value: value, line: nil))
    }
}

/// Splits the bytes of an answer file into entries. It never fails and never crashes:
/// everything odd about the file — binary data, bad encodings, a missing section,
/// duplicate keys — becomes a diagnostic with its line.
public enum AnswerFileReader {
    /// Files larger than this are refused unread: an answer file is a few tens of KiB.
    public static let maximumSize = 4 << 20
    /// Past this many problems of one kind, the rest are counted, not listed.
    static let perKindLimit = 20

    public static func read(_ bytes: [UInt8]) -> (RawAnswerFile, [Diagnostic]) {
        var diagnostics = DiagnosticCollector()
        var file = RawAnswerFile()
        guard bytes.count <= maximumSize else {
            diagnostics.add(
                .error, line: nil, key: nil, kind: "size",
                "the file is \(bytes.count) bytes; an answer file is at most \(maximumSize >> 20) MiB — is this the right file?"
            )
            file.unreadable = true
            return (file, diagnostics.finish())
        }
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if body.starts(with: [0xFF, 0xFE]) || body.starts(with: [0xFE, 0xFF]) {
            diagnostics.add(
                .error, line: nil, key: nil, kind: "encoding",
                "the file is UTF-16; save it as UTF-8 (or plain ASCII) and try again")
            file.unreadable = true
            return (file, diagnostics.finish())
        }

        var section: String?
        var sawGeneral = false
        var reportedMissingSection = false
        var firstLine: [String: Int] = [:]
        var lineNumber = 0
        for rawLine in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var lineBytes = rawLine
            if lineBytes.last == UInt8(ascii: "\r") { lineBytes = lineBytes.dropLast() }
            // Comments are skipped unread: Packstack 26's own generated file has NUL bytes
            // in its comments (a "\\0" in a help text), and that file must load.
            if let first = lineBytes.first(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }),
                first == UInt8(ascii: "#") || first == UInt8(ascii: ";")
            {
                continue
            }
            if lineBytes.contains(0) {
                diagnostics.add(
                    .error, line: lineNumber, key: nil, kind: "binary",
                    "the line contains NUL bytes; this looks like binary data, not a text answer file")
                continue
            }
            guard let text = String(validating: lineBytes, as: UTF8.self) else {
                diagnostics.add(.error, line: lineNumber, key: nil, kind: "utf8", "the line is not valid UTF-8 text")
                continue
            }
            if text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
                diagnostics.add(
                    .error, line: lineNumber, key: nil, kind: "control",
                    "the line contains control characters; answer files are plain text")
                continue
            }
            let line = text.trimmed
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }

            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else {
                    diagnostics.add(
                        .error, line: lineNumber, key: nil, kind: "syntax",
                        "'\(line.clipped)' is not a section header; write [general]")
                    continue
                }
                let name = String(line.dropFirst().dropLast()).trimmed
                section = name
                if name.lowercased() == "general" {
                    if sawGeneral {
                        diagnostics.add(
                            .warning, line: lineNumber, key: nil, kind: "section",
                            "[general] appears again; its keys are read as part of the first one")
                    }
                    sawGeneral = true
                } else {
                    diagnostics.add(
                        .warning, line: lineNumber, key: nil, kind: "section",
                        "section [\(name.clipped)] is not used by Nimbus; the keys in it are ignored (all keys belong in [general])"
                    )
                }
                continue
            }

            guard let equals = line.firstIndex(of: "=") else {
                diagnostics.add(
                    .error, line: lineNumber, key: nil, kind: "syntax",
                    "'\(line.clipped)' is not KEY=value, a comment (#) or a section header")
                continue
            }
            let key = line[..<equals].trimmed.uppercased()
            let value = line[line.index(after: equals)...].trimmed
            guard !key.isEmpty,
                key.unicodeScalars.allSatisfy({
                    $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_")
                })
            else {
                diagnostics.add(
                    .error, line: lineNumber, key: nil, kind: "syntax",
                    "'\(String(line[..<equals]).trimmed.clipped)' is not a key name; keys are letters, digits and _")
                continue
            }
            switch section?.lowercased() {
            case nil:
                if !reportedMissingSection {
                    reportedMissingSection = true
                    diagnostics.add(
                        .error, line: lineNumber, key: nil, kind: "section",
                        "keys must follow a [general] section header; add [general] above this line")
                }
            case "general": break
            default: continue
            }
            if let first = firstLine[key] {
                diagnostics.add(
                    .error, line: lineNumber, key: key, kind: "duplicate",
                    "set twice, on line \(first) and line \(lineNumber); keep one of them")
                continue
            }
            firstLine[key] = lineNumber
            file.entries.append(RawEntry(key: key, value: value, line: lineNumber))
        }
        if !sawGeneral && !reportedMissingSection {
            diagnostics.add(
                .error, line: nil, key: nil, kind: "section",
                "no [general] section; an answer file starts with [general] followed by KEY=value lines")
        }
        return (file, diagnostics.finish())
    }
}

/// Collects diagnostics, keeping at most `perKindLimit` of each kind and counting the rest.
struct DiagnosticCollector {
    private var diagnostics: [Diagnostic] = []
    private var counts: [String: Int] = [:]
    private var severities: [String: Diagnostic.Severity] = [:]

    mutating func add(
        _ severity: Diagnostic.Severity, line: Int?, key: String?, kind: String, _ message: String
    ) {
        counts[kind, default: 0] += 1
        severities[kind] = min(severities[kind] ?? severity, severity)
        if counts[kind, default: 0] <= AnswerFileReader.perKindLimit {
            diagnostics.append(Diagnostic(severity, line: line, key: key, message))
        }
    }

    func finish() -> [Diagnostic] {
        var result = diagnostics
        for (kind, count) in counts.sorted(by: { $0.key < $1.key }) where count > AnswerFileReader.perKindLimit {
            result.append(
                Diagnostic(
                    severities[kind] ?? .error, line: nil, key: nil,
                    "\(count - AnswerFileReader.perKindLimit) more lines like the above (\(kind)) not shown"))
        }
        return result
    }
}

extension String {
    /// At most 60 characters, for quoting a line back to its author.
    var clipped: String { count > 60 ? prefix(57) + "..." : self }
}
