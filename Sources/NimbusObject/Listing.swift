import Foundation
import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// The listing parameters of an account or container GET: `limit`, `marker`, `end_marker`,
/// `prefix`, `delimiter`, `reverse`, and the answer's format.
struct ListingQuery {
    enum Format { case plain, json, xml }

    var limit: Int
    var marker: String?
    var endMarker: String?
    var prefix: String
    var delimiter: String?
    var reverse: Bool
    var format: Format

    init(_ request: Request, maxLimit: Int) throws {
        limit = maxLimit
        if let text = request.query("limit") {
            guard let value = Int(text), value >= 0 else {
                throw SwiftFault(.preconditionFailed, "Value of limit must be a positive integer")
            }
            guard value <= maxLimit else { throw SwiftFault(.preconditionFailed, "Maximum limit is \(maxLimit)") }
            limit = value
        }
        marker = request.query("marker").flatMap { $0.isEmpty ? nil : $0 }
        endMarker = request.query("end_marker").flatMap { $0.isEmpty ? nil : $0 }
        prefix = request.query("prefix") ?? ""
        delimiter = request.query("delimiter").flatMap { $0.isEmpty ? nil : $0 }
        if let delimiter, delimiter.count != 1 {
            throw SwiftFault(.preconditionFailed, "Bad delimiter")
        }
        reverse = ObjectAPI.isTrue(request.query("reverse"))
        switch request.query("format")?.lowercased() {
        case "json": format = .json
        case "xml": format = .xml
        case "plain", "txt", "text": format = .plain
        case nil:
            let accept = request.header("Accept")?.lowercased() ?? ""
            format =
                accept.contains("application/json")
                ? .json
                : accept.contains("application/xml") || accept.contains("text/xml") ? .xml : .plain
        case let other?:
            throw SwiftFault(.badRequest, "Invalid format \(other); use json, xml or plain")
        }
    }

    var contentType: String {
        switch format {
        case .plain: "text/plain; charset=utf-8"
        case .json: "application/json; charset=utf-8"
        case .xml: "application/xml; charset=utf-8"
        }
    }

    enum Entry<Item> {
        case item(String, Item)
        case subdir(String)
    }

    /// The entries in order, pseudo-directories folded into `subdir`s. `fetch` answers up to
    /// `count` rows (name and item) meeting every condition (`name > ?`, …), in name order
    /// (descending for `reverse`).
    func collect<Item>(
        _ fetch: (_ conditions: [(String, String)], _ count: Int) throws -> [(String, Item)]
    ) throws -> [Entry<Item>] {
        var entries: [Entry<Item>] = []
        // Bounds that narrow as the listing goes: (SQL, value).
        var lower: [(String, String)] = []
        var upper: [(String, String)] = []
        if !prefix.isEmpty {
            lower.append(("name >= ?", prefix))
            if let after = Self.successor(prefix) { upper.append(("name < ?", after)) }
        }
        if reverse {
            if let marker { upper.append(("name < ?", marker)) }
            if let endMarker { lower.append(("name > ?", endMarker)) }
        } else {
            if let marker { lower.append(("name > ?", marker)) }
            if let endMarker { upper.append(("name < ?", endMarker)) }
        }
        var cursor: (String, String)?
        outer: while entries.count < limit {
            let rows = try fetch(lower + upper + (cursor.map { [$0] } ?? []), limit - entries.count)
            if rows.isEmpty { break }
            for (name, item) in rows {
                if let delimiter, let range = name.dropFirst(prefix.count).range(of: delimiter) {
                    let subdir = String(name[..<range.upperBound])
                    entries.append(.subdir(subdir))
                    if reverse {
                        cursor = ("name < ?", subdir)
                    } else if let after = Self.successor(subdir) {
                        cursor = ("name >= ?", after)
                    } else {
                        break outer
                    }
                    continue outer
                }
                entries.append(.item(name, item))
                cursor = (reverse ? "name < ?" : "name > ?", name)
            }
        }
        return entries
    }

    /// The least string greater than every string starting with `text` (its last character
    /// incremented), nil if there is none.
    static func successor(_ text: String) -> String? {
        var scalars = Array(text.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var result = String.UnicodeScalarView()
                result.append(contentsOf: scalars)
                return String(result)
            }
        }
        return nil
    }

    /// The answer body: one name a line, a JSON array, or Swift's XML.
    func render<Item>(
        _ entries: [Entry<Item>], root: (String, String), json: (String, Item) -> JSON,
        xml: (String, Item) -> [(String, String)]
    ) -> [UInt8] {
        switch format {
        case .plain:
            var out = ""
            for entry in entries {
                switch entry {
                case .item(let name, _): out += name + "\n"
                case .subdir(let name): out += name + "\n"
                }
            }
            return Array(out.utf8)
        case .json:
            return JSON.array(
                entries.map { entry in
                    switch entry {
                    case .item(let name, let item): json(name, item)
                    case .subdir(let name): ["subdir": .string(name)]
                    }
                }
            ).bytes
        case .xml:
            var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(root.0) name=\"\(Self.escape(root.1))\">"
            for entry in entries {
                switch entry {
                case .item(let name, let item):
                    let element = root.0 == "account" ? "container" : "object"
                    out += "<\(element)>"
                    for (key, value) in xml(name, item) { out += "<\(key)>\(Self.escape(value))</\(key)>" }
                    out += "</\(element)>"
                case .subdir(let name):
                    out += "<subdir name=\"\(Self.escape(name))\"><name>\(Self.escape(name))</name></subdir>"
                }
            }
            return Array((out + "</\(root.0)>").utf8)
        }
    }

    static func escape(_ text: String) -> String { text.htmlEscaped.replacingOccurrences(of: "\"", with: "&quot;") }
}
