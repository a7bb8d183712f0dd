import Foundation
import NimbusServiceKit

/// Cinder's list order: `sort=key[:dir],…` or `sort_key`/`sort_dir` (newest first by
/// default, the id breaking ties), and its `limit` and `offset` checks, shared by the
/// volume and snapshot lists.
extension BlockStorageAPI {
    /// A sort field's value: text or a number, compared as Cinder's database would.
    enum SortValue: Comparable {
        case number(Int64)
        case text(String)
    }

    /// The keys and directions asked for (each `true` when ascending), checked against
    /// the keys the resource has.
    static func sortOrder(_ query: ListQuery, keys: Set<String>) throws -> [(key: String, ascending: Bool)] {
        var order: [(key: String, ascending: Bool)] = []
        func direction(_ text: String?) throws -> Bool {
            switch text?.lowercased() {
            case nil, "desc": return false
            case "asc": return true
            default: throw VolumeFault.invalidInput("Unknown sort direction, must be 'desc' or 'asc'.")
            }
        }
        if let sort = query.value("sort") {
            for part in sort.split(separator: ",") {
                let pieces = part.split(separator: ":", maxSplits: 1).map {
                    String($0).trimmingCharacters(in: .whitespaces)
                }
                order.append((pieces[0], try direction(pieces.count > 1 ? pieces[1] : nil)))
            }
        } else if let key = query.value("sort_key") {
            order.append((key, try direction(query.value("sort_dir"))))
        } else if query.value("sort_dir") != nil {
            order.append(("created_at", try direction(query.value("sort_dir"))))
        }
        for entry in order where !keys.contains(entry.key) {
            throw VolumeFault.invalidInput("Invalid sort key \(entry.key)")
        }
        if !order.contains(where: { $0.key == "created_at" }) { order.append(("created_at", false)) }
        if !order.contains(where: { $0.key == "id" }) { order.append(("id", false)) }
        return order
    }

    /// `items` in `order`, each field read by `value`.
    static func sorted<T>(
        _ items: [T], _ order: [(key: String, ascending: Bool)], _ value: (T, String) -> SortValue
    ) -> [T] {
        items.sorted { left, right in
            for (key, ascending) in order {
                let a = value(left, key)
                let b = value(right, key)
                if a != b { return ascending ? a < b : a > b }
            }
            return false
        }
    }

    /// `limit` (0 or more; at most 1000) and `offset` (0 or more), or Cinder's 400.
    static func page(_ query: ListQuery) throws -> (limit: Int, offset: Int) {
        var limit = 1000
        if let text = query.value("limit") {
            guard let value = Int(text) else { throw VolumeFault.badRequest("limit param must be an integer") }
            guard value >= 0 else { throw VolumeFault.badRequest("limit param must be positive") }
            limit = min(value, 1000)
        }
        var offset = 0
        if let text = query.value("offset") {
            guard let value = Int(text), value >= 0 else {
                throw VolumeFault.badRequest("offset param must be a non-negative integer")
            }
            offset = value
        }
        return (limit, offset)
    }
}
