import Mustache
import Synchronization

/// Config, unit and command templates: Mustache (`{{name}}`, `{{#flag}}…{{/flag}}`,
/// `{{^flag}}…{{/flag}}`, dotted names), rendered as plain text (nothing is HTML-escaped).
/// A name that no value answers is an error, never an empty string, so a typo in a
/// template cannot install a config with a hole in it.
public enum Template {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// Renders `text` (called `name` in errors) over `values`: strings, booleans, and
    /// nested `[String: Any]` dictionaries for dotted names.
    public static func render(_ text: String, name: String, values: [String: any Sendable]) throws(Failure) -> String {
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw Failure("templates/\(name): \(error)")
        }
        let root = StrictValues(values)
        let out = template.render(root)
        if let missing = root.missing.first {
            throw Failure("templates/\(name): no value for {{\(missing)}}")
        }
        return out
    }
}

/// The outermost context: records every name asked of it that it lacks (a name looked up
/// in an inner section's context first reaches here only when no inner context has it).
final class StrictValues: MustacheParent, Sendable {
    let values: [String: any Sendable]
    private let misses = Mutex<[String]>([])

    init(_ values: [String: any Sendable]) { self.values = values }

    func child(named name: String) -> Any? {
        if let value = values[name] { return value }
        misses.withLock { $0.append(name) }
        return nil
    }

    var missing: [String] { misses.withLock { $0 } }
}
