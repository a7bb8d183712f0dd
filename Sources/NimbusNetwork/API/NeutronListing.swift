import Hummingbird
import NimbusServiceKit

/// Neutron's list semantics over rendered resources: a filter per attribute (repeat a
/// parameter for any of several values), tag filters, `sort_key`/`sort_dir`, `limit`,
/// `marker`, `page_reverse` with `<collection>_links`, and `fields`. Parameters that
/// name no attribute are ignored.
struct NeutronListing {
    var query: ListQuery
    var collection: String
    var path: String
    /// The kind listed, for a marker's typed 404.
    var kind: ResourceKind? = nil

    static let control: Set = [
        "fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "tags", "tags-any", "not-tags",
        "not-tags-any",
    ]

    /// - Parameters:
    ///   - sorted: whether to order the items (as asked, else by creation).
    ///   - caseInsensitive: filters compared without regard to case.
    func respond(_ items: [JSON], sorted: Bool = true, caseInsensitive: Set<String> = []) throws -> Response {
        let filters = self.filters
        var selected = items.filter { matches($0, filters: filters, caseInsensitive: caseInsensitive) }
        if sorted { selected.sort(by: try order()) }
        var paging: PageRequest
        do { paging = try PageRequest(query) } catch {
            throw NeutronFault.badRequest(
                "Bad limit request: Limit must be an integer 0 or greater and not '\(query.value("limit") ?? "")'.")
        }
        // `limit=0` is no paging at all, as in Neutron.
        if paging.limit == 0 { paging.limit = nil }
        let page: Page<JSON>
        do { page = try selected.page(paging, id: { $0["id"]?.string ?? "" }) } catch {
            let marker = paging.marker ?? ""
            if let kind { throw NeutronFault(.notFound, kind.notFoundType, kind.notFoundMessage(marker)) }
            throw NeutronFault(.notFound, "HTTPNotFound", "Marker \(marker) could not be found.")
        }
        let fields = self.fields
        var body: [(String, JSON)] = [(collection, .array(page.items.map { project($0, fields: fields) }))]
        if let limit = paging.limit, limit > 0 {
            // Neutron's rule (api_common.get_pagination_links): a full page links on, and
            // every page but a short backward one links back.
            var links: [JSON] = []
            let short = page.items.count < limit
            if !(short && !paging.reverse), let last = page.items.last?["id"]?.string {
                links.append(["rel": "next", "href": .string(query.link(path: path, marker: last, limit: limit))])
            }
            if !(short && paging.reverse), let first = page.items.first?["id"]?.string {
                links.append(
                    [
                        "rel": "previous",
                        "href": .string(query.link(path: path, marker: first, limit: limit, reverse: true)),
                    ])
            }
            if !links.isEmpty { body.append((collection + "_links", .array(links))) }
        }
        return Response.json(.object(body))
    }

    /// The one resource, with `fields` applied.
    func project(_ item: JSON) -> JSON { project(item, fields: fields) }

    /// The `fields` asked for (repeated or comma-separated); empty: all of them.
    var fields: Set<String> {
        Set(query.values("fields").flatMap { $0.split(separator: ",").map(String.init) })
    }

    func project(_ item: JSON, fields: Set<String>) -> JSON {
        guard !fields.isEmpty, case .object(let members) = item else { return item }
        return .object(members.filter { fields.contains($0.0) })
    }

    /// The attribute filters of the query, each with all its values.
    var filters: [String: [String]] {
        var wanted: [String: [String]] = [:]
        for (name, value) in query.parameters where !Self.control.contains(name) {
            wanted[name, default: []].append(value)
        }
        return wanted
    }

    func matches(_ item: JSON, filters: [String: [String]], caseInsensitive: Set<String> = []) -> Bool {
        for (name, values) in filters {
            if name == "fixed_ips" {
                guard Self.fixedIPsMatch(item["fixed_ips"], values) else { return false }
                continue
            }
            // An attribute the resource does not have is not a filter (Neutron without
            // filter validation ignores it).
            guard let value = item[name] else { continue }
            if case .array(let list) = value {
                guard values.contains(where: { wanted in list.contains { Self.text($0) == wanted } }) else {
                    return false
                }
                continue
            }
            if caseInsensitive.contains(name) {
                guard values.contains(where: { Self.text(value).lowercased() == $0.lowercased() }) else { return false }
                continue
            }
            guard values.contains(where: { Self.equal(value, $0) }) else { return false }
        }
        let tags = Set((item["tags"]?.array ?? []).compactMap(\.string))
        func list(_ name: String) -> [Set<String>] {
            query.values(name).map { Set($0.split(separator: ",").map(String.init)) }
        }
        for all in list("tags") where !all.isSubset(of: tags) { return false }
        for any in list("tags-any") where any.isDisjoint(with: tags) { return false }
        for all in list("not-tags") where all.isSubset(of: tags) && !all.isEmpty { return false }
        for any in list("not-tags-any") where !any.isDisjoint(with: tags) { return false }
        return true
    }

    /// `fixed_ips=ip_address=10.0.0.3` and `fixed_ips=subnet_id=…`.
    static func fixedIPsMatch(_ value: JSON?, _ filters: [String]) -> Bool {
        let entries = value?.array ?? []
        for filter in filters {
            let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            let key = parts[0] == "ip_address_substr" ? "ip_address" : parts[0]
            let found = entries.contains { entry in
                guard let have = entry[key]?.string else { return false }
                return parts[0] == "ip_address_substr" ? have.contains(parts[1]) : have == parts[1]
            }
            if !found { return false }
        }
        return true
    }

    static func text(_ value: JSON) -> String {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .bool(let flag): flag ? "True" : "False"
        case .double(let number): String(number)
        case .null: ""
        default: value.text
        }
    }

    static func equal(_ value: JSON, _ wanted: String) -> Bool {
        switch value {
        case .bool(let flag):
            switch wanted.lowercased() {
            case "true", "1": return flag
            case "false", "0": return !flag
            default: return false
            }
        case .null: return wanted.isEmpty || wanted.lowercased() == "none"
        default: return text(value) == wanted
        }
    }

    /// The sort the request asks for, the id last so pages are stable.
    func order() throws -> (JSON, JSON) -> Bool {
        let keys = query.values("sort_key")
        let directions = query.values("sort_dir")
        guard directions.count <= keys.count else {
            throw NeutronFault.badRequest("The number of sort_keys and sort_dirs must be same")
        }
        var sorts: [(String, Bool)] = []
        for (index, key) in keys.enumerated() {
            let direction = index < directions.count ? directions[index].lowercased() : "asc"
            guard direction == "asc" || direction == "desc" else {
                throw NeutronFault.badRequest("Sort direction '\(direction)' is not supported. Use 'asc' or 'desc'.")
            }
            sorts.append((key, direction == "asc"))
        }
        if sorts.isEmpty { sorts = [("created_at", true)] }
        sorts.append(("id", true))
        return { left, right in
            for (key, ascending) in sorts {
                let a = left[key] ?? .null
                let b = right[key] ?? .null
                if Self.same(a, b) { continue }
                return ascending ? Self.less(a, b) : Self.less(b, a)
            }
            return false
        }
    }

    static func same(_ a: JSON, _ b: JSON) -> Bool { text(a) == text(b) && a.isNull == b.isNull }

    static func less(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.null, _): return true
        case (_, .null): return false
        case (.int(let x), .int(let y)): return x < y
        case (.bool(let x), .bool(let y)): return !x && y
        default: return text(a) < text(b)
        }
    }
}
