import Foundation

/// A service's configuration file, `/etc/nimbus/<service>.conf`, in the INI form every
/// OpenStack service uses: `[section]` headers, `key = value` lines, `#` and `;` comments.
public struct ServiceConfig: Sendable, Equatable {
    public private(set) var sections: [String: [String: String]]

    public init(sections: [String: [String: String]] = [:]) { self.sections = sections }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case malformed(path: String, line: Int, text: String)
        case invalid(section: String, key: String, value: String, expected: String)
        case missing(section: String, key: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
            case .malformed(let path, let line, let text):
                "\(path):\(line): expected '[section]' or 'key = value', found '\(text)'"
            case .invalid(let section, let key, let value, let expected):
                "[\(section)] \(key) = \(value): expected \(expected)"
            case .missing(let section, let key): "[\(section)] \(key) is required"
            }
        }
    }

    public static func load(path: String) throws(Failure) -> ServiceConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "config") throws(Failure) -> ServiceConfig {
        var config = ServiceConfig()
        var section = "DEFAULT"
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                section = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw .malformed(path: path, line: number + 1, text: line)
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else { throw .malformed(path: path, line: number + 1, text: line) }
            config.sections[section, default: [:]][key] = value
        }
        return config
    }

    public func string(_ section: String, _ key: String) -> String? { sections[section]?[key] }

    public func string(_ section: String, _ key: String, default value: String) -> String {
        string(section, key) ?? value
    }

    public func require(_ section: String, _ key: String) throws(Failure) -> String {
        guard let value = string(section, key), !value.isEmpty else { throw .missing(section: section, key: key) }
        return value
    }

    public func int(_ section: String, _ key: String, default value: Int) throws(Failure) -> Int {
        guard let text = string(section, key) else { return value }
        guard let number = Int(text) else {
            throw .invalid(section: section, key: key, value: text, expected: "a whole number")
        }
        return number
    }

    public func bool(_ section: String, _ key: String, default value: Bool) throws(Failure) -> Bool {
        guard let text = string(section, key) else { return value }
        switch text.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw .invalid(section: section, key: key, value: text, expected: "true or false")
        }
    }

    /// `host:port` (`0.0.0.0:5000`, `[::]:5000`).
    /// `[auth] identity_url`: the identity service that vouches for tokens (http:// only).
    public func identityURL() throws(Failure) -> String {
        guard let url = string("auth", "identity_url"), url.hasPrefix("http://") else {
            throw Failure.invalid(
                section: "auth", key: "identity_url", value: string("auth", "identity_url") ?? "",
                expected: "the identity service's http:// URL")
        }
        return url
    }

    public func endpoint(_ section: String, _ key: String, default value: String) throws(Failure) -> (
        host: String, port: Int
    ) {
        let text = string(section, key) ?? value
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (1...65535).contains(port)
        else { throw .invalid(section: section, key: key, value: text, expected: "host:port") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
