import Foundation
import Hummingbird
import NimbusServiceKit

/// Reading the fields of a request body, with Keystone's 400s when one has the wrong type.
extension JSON {
    /// A string field; nil when absent, 400 when present and not a string (or empty and
    /// `nonEmpty`).
    func text(_ key: String, nonEmpty: Bool = false, maxLength: Int = 255) throws -> String? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let string = value.string else {
            throw IdentityFault.badRequest("'\(key)' must be a string.")
        }
        if nonEmpty && string.trimmingCharacters(in: .whitespaces).isEmpty {
            throw IdentityFault.badRequest("'\(key)' must not be empty.")
        }
        guard string.count <= maxLength else {
            throw IdentityFault.badRequest("'\(key)' is longer than \(maxLength) characters.")
        }
        return string
    }

    func required(_ key: String) throws -> String {
        guard let value = try text(key, nonEmpty: true) else {
            throw IdentityFault.badRequest("'\(key)' is a required property.")
        }
        return value
    }

    func flag(_ key: String) throws -> Bool? {
        guard let value = self[key], !value.isNull else { return nil }
        guard let bool = value.bool else { throw IdentityFault.badRequest("'\(key)' must be true or false.") }
        return bool
    }

    /// The members not in `known`, as the JSON text of an object: Keystone keeps them.
    func extras(excluding known: Set<String>, over existing: String = "{}") -> String {
        var merged = (try? JSON.parse(Array(existing.utf8)))?.members ?? []
        for (key, value) in members ?? [] where !known.contains(key) {
            merged.removeAll { $0.0 == key }
            merged.append((key, value))
        }
        return JSON.object(merged).text
    }
}

extension IdentityAPI {
    /// 404 unless the snapshot has `id`.
    func find<T>(_ items: [String: T], _ id: String, _ kind: String) throws -> T {
        guard let item = items[id] else { throw IdentityFault.notFound(kind, id) }
        return item
    }

    /// Keeps the items whose query-filtered fields match: `?name=`, `?enabled=`, … Filters
    /// a collection does not know are ignored, as Keystone does.
    func filter<T>(_ items: [T], _ request: Request, _ fields: [String: (T) -> String?]) -> [T] {
        // Keystone filters on exact values; parameters it does not know are ignored.
        let query = ListQuery(request)
        var result = items
        for (name, field) in fields {
            guard let wanted = query.value(name) else { continue }
            // `enabled=` anything but a true word means disabled, as Keystone reads it.
            let expected = name == "enabled" ? String((query.bool(name) ?? nil) ?? false) : wanted
            result = result.filter { NameMatch.exact.matches(field($0), expected) }
        }
        return result
    }
}
