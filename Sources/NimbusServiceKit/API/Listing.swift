import Foundation
import Hummingbird

/// A list request's query string, parsed once: paging, sorting and filters read from it.
/// Parameters a service does not know are ignored (the clients send a few of their own,
/// `is_public=None`, `deleted=False`), unless the service chooses to refuse them.
public struct ListQuery: Sendable {
    /// Every parameter in the order given, percent-decoded.
    public var parameters: [(name: String, value: String)]

    public init(_ parameters: [(name: String, value: String)]) { self.parameters = parameters }

    public init(_ request: Request) {
        self.init(query: request.uri.query ?? "")
    }

    /// Parses a raw query string as the clients send it (Python's `urlencode`): `+` is a
    /// space, then names and values are percent-decoded (`router%3Aexternal=True`).
    public init(query: String) {
        func decode(_ part: Substring) -> String {
            let spaced = part.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        self.init(
            query.split(separator: "&").filter { !$0.isEmpty }.map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
            })
    }

    /// The first value of `name`.
    public func value(_ name: String) -> String? { parameters.first { $0.name == name }?.value }

    /// Every value of a repeatable parameter (`tag=a&tag=b`).
    public func values(_ name: String) -> [String] { parameters.filter { $0.name == name }.map(\.value) }

    /// The parameters among `known`, each with all its values; the rest are left out.
    public func filters(_ known: Set<String>) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (name, value) in parameters where known.contains(name) { result[name, default: []].append(value) }
        return result
    }

    /// The names not among `known`, in order, once each (for a service that refuses them).
    public func unknown(_ known: Set<String>) -> [String] {
        var seen = Set<String>()
        return parameters.map(\.name).filter { !known.contains($0) && seen.insert($0).inserted }
    }

    /// A boolean filter as the services spell it (`true`/`false`, `1`/`0`, any case); nil
    /// when absent, `.some(nil)` when present but not a boolean.
    public func bool(_ name: String) -> Bool?? {
        guard let text = value(name) else { return nil }
        switch text.lowercased() {
        case "true", "1", "yes", "on": return .some(true)
        case "false", "0", "no", "off": return .some(false)
        default: return .some(nil)
        }
    }

    /// The href of the page after (or before) this one: the same path and parameters with
    /// `marker` (and `limit`, and Neutron's `page_reverse`) replaced.
    public func link(path: String, marker: String, limit: Int?, reverse: Bool? = nil) -> String {
        var kept = parameters.filter { !["marker", "limit", "page_reverse"].contains($0.name) }
        if let limit { kept.append(("limit", String(limit))) }
        kept.append(("marker", marker))
        if let reverse, reverse { kept.append(("page_reverse", "True")) }
        return path + "?" + kept.map { "\(Self.escape($0.name))=\(Self.escape($0.value))" }.joined(separator: "&")
    }

    static let unreserved = CharacterSet.urlQueryAllowed.subtracting(["&", "=", "+", "#", "?"])

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}

/// `limit` and `marker` of a list request.
public struct PageRequest: Sendable, Equatable {
    /// How many items at most; nil for all of them.
    public var limit: Int?
    /// The id of the item the page starts after.
    public var marker: String?
    /// Neutron's `page_reverse`: the page before the marker, in the same order.
    public var reverse: Bool

    public init(limit: Int? = nil, marker: String? = nil, reverse: Bool = false) {
        self.limit = limit
        self.marker = marker
        self.reverse = reverse
    }

    /// Why a paging parameter is refused; each service words it in its own fault.
    public enum Failure: Error, Equatable {
        /// `limit` is not a whole number ≥ 0 (the value as given).
        case badLimit(String)
        /// No item in the listing has the marker's id.
        case markerNotFound(String)
    }

    /// Reads `limit`, `marker` and `page_reverse`: a missing limit is `defaultLimit`, a
    /// larger one is lowered to `maxLimit` (as Nova, Cinder and Glance do).
    public init(_ query: ListQuery, defaultLimit: Int? = nil, maxLimit: Int? = nil) throws(Failure) {
        var limit = defaultLimit
        if let text = query.value("limit") {
            guard let number = Int(text), number >= 0 else { throw .badLimit(text) }
            limit = number
        }
        if let maxLimit, let given = limit { limit = min(given, maxLimit) }
        self.init(
            limit: limit, marker: query.value("marker"),
            reverse: query.bool("page_reverse").flatMap { $0 } ?? false)
    }
}

/// One page of a sorted listing.
public struct Page<Element> {
    public var items: [Element]
    /// Whether items follow the page (in listing order): the answer links to the next one.
    public var hasMore: Bool
    /// Whether items come before the page: Neutron links to the previous one.
    public var hasLess: Bool
}

extension Collection {
    /// The page `request` asks for out of an already sorted collection, the marker found by
    /// `id`: the items after it (before it with `reverse`), at most `limit` of them.
    public func page(_ request: PageRequest, id: (Element) -> String) throws(PageRequest.Failure) -> Page<Element> {
        let all = Array(self)
        var start = 0
        var end = all.count
        if let marker = request.marker {
            guard let index = all.firstIndex(where: { id($0) == marker }) else { throw .markerNotFound(marker) }
            if request.reverse { end = index } else { start = index + 1 }
        }
        if let limit = request.limit {
            if request.reverse { start = Swift.max(start, end - limit) } else { end = Swift.min(end, start + limit) }
        }
        return Page(items: Array(all[start..<end]), hasMore: end < all.count, hasLess: start > 0)
    }
}

/// How a service matches a `name` filter: Keystone, Neutron, Cinder and Glance exactly;
/// Nova as a regular expression searched anywhere in the name.
public enum NameMatch: Sendable {
    case exact
    case pattern

    /// Whether `name` passes the filter `wanted` (nil means no filter). A pattern that is
    /// not a valid expression matches as a literal substring.
    public func matches(_ name: String?, _ wanted: String?) -> Bool {
        guard let wanted else { return true }
        guard let name else { return false }
        switch self {
        case .exact: return name == wanted
        case .pattern:
            if let regex = try? Regex(wanted) { return (try? regex.firstMatch(in: name)) != nil }
            return name.contains(wanted)
        }
    }
}
