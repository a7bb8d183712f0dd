import Foundation

/// The record of one run under `/var/tmp/nimbus/<timestamp>/`: the plan, one log per host,
/// `summary.json`, and a `latest` link beside it. Every secret is masked before writing.
public final class RunLog: Sendable {
    public let directory: String
    private let secrets: [String]
    private let lock = NSLock()

    public static let defaultRoot = "/var/tmp/nimbus"

    /// Creates a new run directory (`YYYYmmdd-HHMMSS`, suffixed when taken) and points `latest` at it.
    public init(root: String = RunLog.defaultRoot, secrets: [String], now: Date = Date()) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let stamp = formatter.string(from: now)
        let manager = FileManager.default
        try manager.createDirectory(
            atPath: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var candidate = "\(root)/\(stamp)"
        var suffix = 2
        while true {
            do {
                try manager.createDirectory(
                    atPath: candidate, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
                break
            } catch  where manager.fileExists(atPath: candidate) {
                candidate = "\(root)/\(stamp)-\(suffix)"
                suffix += 1
            }
        }
        directory = candidate
        // Longest first, so a secret containing another is masked whole.
        self.secrets = secrets.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
        let link = "\(root)/latest"
        let temporary = "\(root)/.latest-\(getpid())"
        try? manager.removeItem(atPath: temporary)
        try manager.createSymbolicLink(
            atPath: temporary, withDestinationPath: URL(fileURLWithPath: candidate).lastPathComponent)
        guard rename(temporary, link) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    public func mask(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "********") }
    }

    /// Writes a whole file in the run directory (masked).
    public func write(_ name: String, _ text: String) {
        let path = "\(directory)/\(name)"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(mask(text).utf8), attributes: [.posixPermissions: 0o600])
    }

    /// Appends a timestamped entry to a host's log.
    public func append(host: String, _ text: String) {
        let path = "\(directory)/\(Self.fileName(host)).log"
        let stamp = ISO8601DateFormatter.string(
            from: Date(), timeZone: .current, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let entry = mask("[\(stamp)] " + text + (text.hasSuffix("\n") ? "" : "\n"))
        lock.withLock {
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data(entry.utf8))
                try? handle.close()
            } else {
                _ = FileManager.default.createFile(
                    atPath: path, contents: Data(entry.utf8), attributes: [.posixPermissions: 0o600])
            }
        }
    }

    public static func fileName(_ host: String) -> String {
        String(host.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }

    /// A script as logged: heredoc payloads (file contents) replaced by their size.
    public static func elidingPayloads(_ script: String) -> String {
        var out: [Substring] = []
        var inside: String?
        var size = 0
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            if let end = inside {
                if line == end {
                    out.append("  … \(size) bytes …")
                    out.append(line)
                    inside = nil
                } else {
                    size += line.utf8.count + 1
                }
                continue
            }
            out.append(line)
            for marker in ["NIMBUS_DATA", "NIMBUS_FILE"] where line.hasSuffix("<<'\(marker)'") {
                inside = marker
                size = 0
            }
        }
        return out.joined(separator: "\n")
    }
}
