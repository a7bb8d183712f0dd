import NimbusServiceKit

/// A request's attributes for one resource, read with Neutron's conversions and messages;
/// `finish` refuses what was not read (`Unrecognized attribute(s) 'x'`) or may not be set.
struct Attributes {
    let kind: ResourceKind
    let members: [(String, JSON)]
    private(set) var read: Set<String> = []

    init(kind: ResourceKind, members: [(String, JSON)]) {
        self.kind = kind
        self.members = members
    }

    /// Whether the key is present (even as null).
    func has(_ key: String) -> Bool { members.contains { $0.0 == key } }

    /// A boolean's value without reading it (nil when absent or not a boolean).
    func peekBool(_ key: String) -> Bool? {
        var copy = self
        return (try? copy.bool(key)) ?? nil
    }

    mutating func value(_ key: String) -> JSON? {
        read.insert(key)
        return members.first { $0.0 == key }?.1
    }

    static func invalid(_ key: String, _ reason: String) -> NeutronFault {
        NeutronFault.badRequest("Invalid input for \(key). Reason: \(reason).")
    }

    /// A string (null is nil), at most `maxLength` characters.
    mutating func string(_ key: String, maxLength: Int = 255) throws -> String? {
        guard let value = value(key), !value.isNull else { return nil }
        guard let text = value.string else { throw Self.invalid(key, "'\(value.text)' is not a valid string") }
        guard text.count <= maxLength else {
            throw Self.invalid(key, "'\(text)' exceeds maximum length of \(maxLength)")
        }
        return text
    }

    /// Neutron's `convert_to_boolean`: true/false, 1/0, and their strings.
    mutating func bool(_ key: String) throws -> Bool? {
        guard let value = value(key), !value.isNull else { return nil }
        switch value {
        case .bool(let flag): return flag
        case .int(0): return false
        case .int(1): return true
        case .string(let text):
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: break
            }
        default: break
        }
        throw NeutronFault.invalidInput("'\(value.string ?? value.text)' cannot be converted to boolean")
    }

    /// A whole number (or its string), as `convert_to_int`.
    mutating func int(_ key: String) throws -> Int? {
        guard let value = value(key), !value.isNull else { return nil }
        if let number = value.int { return Int(number) }
        if let text = value.string, let number = Int(text) { return number }
        throw NeutronFault.invalidInput("'\(value.string ?? value.text)' is not an integer")
    }

    /// A list of strings.
    mutating func strings(_ key: String) throws -> [String]? {
        guard let value = value(key), !value.isNull else { return nil }
        guard let list = value.array else { throw Self.invalid(key, "'\(value.text)' is not a list") }
        return try list.map { item in
            guard let text = item.string else { throw Self.invalid(key, "'\(item.text)' is not a valid string") }
            return text
        }
    }

    /// A list of objects.
    mutating func objects(_ key: String) throws -> [JSON]? {
        guard let value = value(key), !value.isNull else { return nil }
        guard let list = value.array, list.allSatisfy({ $0.members != nil }) else {
            throw Self.invalid(key, "Invalid data format for \(key): '\(value.text)'")
        }
        return list
    }

    /// A required attribute's presence.
    func require(_ key: String) throws {
        guard has(key) else {
            throw NeutronFault.badRequest("Failed to parse request. Required attribute '\(key)' not specified")
        }
    }

    /// Refuses every attribute not read: those in `readOnly` may not be set by this method
    /// (`POST` or `PUT`), the rest are unknown.
    func finish(method: String, readOnly: Set<String> = []) throws {
        let fixed: Set = ["id", "status", "created_at", "updated_at", "revision_number", "tags"]
        let left = members.map(\.0).filter { !read.contains($0) }
        if let key = left.first(where: { readOnly.contains($0) || fixed.contains($0) }) {
            if method == "PUT" { throw NeutronFault.badRequest("Cannot update read-only attribute \(key)") }
            throw NeutronFault.badRequest("Attribute '\(key)' not allowed in POST")
        }
        guard left.isEmpty else {
            throw NeutronFault.badRequest("Unrecognized attribute(s) '\(left.joined(separator: ", "))'")
        }
    }
}
