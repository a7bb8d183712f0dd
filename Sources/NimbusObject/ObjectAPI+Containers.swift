import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NimbusServiceKit

extension ObjectAPI {
    // MARK: Account

    struct AccountStats {
        var containers: Int64 = 0
        var objects: Int64 = 0
        var bytes: Int64 = 0
        var record: AccountRecord?
    }

    func accountStats(_ db: Database, _ account: String) throws -> AccountStats {
        var stats = AccountStats()
        if let row = try Row.fetchOne(
            db,
            sql:
                "SELECT COUNT(*), COALESCE(SUM(object_count), 0), COALESCE(SUM(bytes_used), 0) FROM container WHERE account = ?",
            arguments: [account])
        {
            stats.containers = row[0]
            stats.objects = row[1]
            stats.bytes = row[2]
        }
        stats.record = try AccountRecord.fetchOne(db, key: account)
        return stats
    }

    func accountRequest(_ request: Request, _ target: Target, _ access: Access) async throws -> Response {
        switch request.method {
        case .head, .get:
            guard access.canRead else { throw access.refusal }
            let query = try ListingQuery(request, maxLimit: limits.listingLimit)
            let (stats, entries) = try store.read { db in
                let stats = try accountStats(db, target.account)
                guard request.method == .get else { return (stats, [ListingQuery.Entry<ContainerRecord>]()) }
                let entries = try query.collect { conditions, count in
                    try ContainerRecord.fetchAll(
                        db,
                        sql: "SELECT * FROM container WHERE account = ?"
                            + conditions.map { " AND " + $0.0 }.joined() + " ORDER BY name"
                            + (query.reverse ? " DESC" : "") + " LIMIT ?",
                        arguments: StatementArguments([target.account] + conditions.map(\.1) + [String(count)])
                    ).map { ($0.name, $0) }
                }
                return (stats, entries)
            }
            var headers = accountHeaders(stats, access)
            headers[.contentType] = query.contentType
            if request.method == .head { return Self.answer(.noContent, headers: headers) }
            if entries.isEmpty, query.format == .plain { return Self.answer(.noContent, headers: headers) }
            let body = query.render(
                entries, root: ("account", target.account),
                json: { name, container in
                    [
                        "name": .string(name), "count": .int(container.objectCount),
                        "bytes": .int(container.bytesUsed),
                        "last_modified": .string(Self.listingTime(container.updatedAt)),
                    ]
                },
                xml: { name, container in
                    [
                        ("name", name), ("count", String(container.objectCount)),
                        ("bytes", String(container.bytesUsed)),
                        ("last_modified", Self.listingTime(container.updatedAt)),
                    ]
                })
            return Self.answer(.ok, headers: headers, body: body)
        case .post:
            guard access.isOwner else { throw access.refusal }
            var changes = try metadataHeaders(request, prefix: "X-Account-Meta-")
            // Quotas (Swift's account_quotas: the older X-Account-Meta-Quota-Bytes and the
            // X-Account-Quota-Bytes/-Count of 2.34) are the reseller admin's to set.
            for header in ["X-Account-Quota-Bytes", "X-Account-Quota-Count"] {
                if let value = request.header(header) {
                    changes[header] = value
                } else if request.header("X-Remove-" + header.dropFirst(2)) != nil {
                    changes[header] = Self.removal
                }
            }
            for key in ["X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes", "X-Account-Quota-Count"] {
                guard let quota = changes[key] else { continue }
                guard access.isReseller else { throw SwiftFault.forbidden }
                guard quota == Self.removal || quota.isEmpty || Int64(quota).map({ $0 >= 0 }) == true else {
                    throw SwiftFault.badRequest("Invalid \(key.hasSuffix("Count") ? "count" : "bytes") quota.")
                }
            }
            try store.write { db in
                let now = clock()
                var record =
                    try AccountRecord.fetchOne(db, key: target.account)
                    ?? AccountRecord(name: target.account, createdAt: now, metadata: "{}")
                record.metadata = try merged(Metadata(json: record.metadata), changes, prefix: "X-Account-Meta-").json
                try record.save(db)
            }
            return Self.answer(.noContent)
        case .put, .delete:
            guard access.isOwner else { throw access.refusal }
            throw SwiftFault(.methodNotAllowed, "The method is not allowed for this resource.")
        default:
            throw SwiftFault(.methodNotAllowed, "The method is not allowed for this resource.")
        }
    }

    func accountHeaders(_ stats: AccountStats, _ access: Access) -> HTTPFields {
        var headers = HTTPFields()
        let created = stats.record?.createdAt ?? clock()
        headers[.xAccountContainerCount] = String(stats.containers)
        headers[.xAccountObjectCount] = String(stats.objects)
        headers[.xAccountBytesUsed] = String(stats.bytes)
        headers[.xTimestamp] = Self.xTimestamp(created)
        headers[.xPutTimestamp] = Self.xTimestamp(created)
        if stats.containers > 0 {
            headers[.xAccountPolicyContainerCount] = String(stats.containers)
            headers[.xAccountPolicyObjectCount] = String(stats.objects)
            headers[.xAccountPolicyBytesUsed] = String(stats.bytes)
        }
        for (key, value) in Metadata(json: stats.record?.metadata ?? "{}") {
            if let name = HTTPField.Name(key) { headers[name] = value }
        }
        headers[.acceptRanges] = "bytes"
        return headers
    }

    // MARK: Container

    func containerRecord(_ target: Target) throws -> ContainerRecord? {
        try store.read { db in
            try ContainerRecord.fetchOne(db, key: ["account": target.account, "name": try target.containerName()])
        }
    }

    func containerRequest(_ request: Request, _ target: Target, _ access: Access) async throws -> Response {
        let name = try target.containerName()
        switch request.method {
        case .head, .get:
            let container = try containerRecord(target)
            let acl = container?.meta["X-Container-Read"]
            guard access.canRead || access.named(in: acl) || ACL.allowsListing(acl) else { throw access.refusal }
            guard let container else { throw SwiftFault.notFound }
            let query = try ListingQuery(request, maxLimit: limits.listingLimit)
            var headers = containerHeaders(container, access)
            headers[.contentType] = query.contentType
            if request.method == .head { return Self.answer(.noContent, headers: headers) }
            let now = clock() / 1_000_000
            let entries = try store.read { db in
                try query.collect { conditions, count in
                    try ObjectRecord.fetchAll(
                        db,
                        sql: "SELECT * FROM object WHERE account = ? AND container = ?"
                            + " AND (delete_at IS NULL OR delete_at > ?)"
                            + conditions.map { " AND " + $0.0 }.joined() + " ORDER BY name"
                            + (query.reverse ? " DESC" : "") + " LIMIT ?",
                        arguments: StatementArguments(
                            [target.account, name, String(now)] + conditions.map(\.1) + [String(count)])
                    ).map { ($0.name, $0) }
                }
            }
            if entries.isEmpty, query.format == .plain { return Self.answer(.noContent, headers: headers) }
            let body = query.render(
                entries, root: ("container", name),
                json: { name, object in
                    var members: [(String, JSON)] = [
                        ("hash", .string(object.etag)), ("last_modified", .string(Self.listingTime(object.timestamp))),
                        ("bytes", .int(object.size)), ("name", .string(name)),
                        ("content_type", .string(object.contentType)),
                    ]
                    if object.slo != nil { members.append(("slo_etag", .string("\"\(object.etag)\""))) }
                    return .object(members)
                },
                xml: { name, object in
                    [
                        ("name", name), ("hash", object.etag), ("bytes", String(object.size)),
                        ("content_type", object.contentType), ("last_modified", Self.listingTime(object.timestamp)),
                    ]
                })
            return Self.answer(.ok, headers: headers, body: body)
        case .put:
            guard access.isOwner else { throw access.refusal }
            guard name.utf8.count <= limits.maxContainerNameLength else {
                throw SwiftFault.badRequest(
                    "Container name length of \(name.utf8.count) longer than \(limits.maxContainerNameLength)")
            }
            let changes = try containerChanges(request)
            let created = try store.write { db -> Bool in
                let now = clock()
                if var existing = try ContainerRecord.fetchOne(db, key: ["account": target.account, "name": name]) {
                    existing.meta = try merged(existing.meta, changes, prefix: "X-Container-Meta-")
                    existing.updatedAt = now
                    try existing.update(db)
                    return false
                }
                let record = ContainerRecord(
                    account: target.account, name: name, createdAt: now, updatedAt: now,
                    metadata: try merged([:], changes, prefix: "X-Container-Meta-").json, objectCount: 0, bytesUsed: 0)
                try record.insert(db)
                return true
            }
            return Self.answer(created ? .created : .accepted)
        case .post:
            guard access.isOwner else { throw access.refusal }
            let changes = try containerChanges(request)
            try store.write { db in
                guard var existing = try ContainerRecord.fetchOne(db, key: ["account": target.account, "name": name])
                else { throw SwiftFault.notFound }
                existing.meta = try merged(existing.meta, changes, prefix: "X-Container-Meta-")
                existing.updatedAt = clock()
                try existing.update(db)
            }
            return Self.answer(.noContent)
        case .delete:
            guard access.isOwner else { throw access.refusal }
            let now = clock() / 1_000_000
            let files = try store.write { db -> [String] in
                guard try ContainerRecord.fetchOne(db, key: ["account": target.account, "name": name]) != nil else {
                    throw SwiftFault.notFound
                }
                let live = try Bool.fetchOne(
                    db,
                    sql:
                        "SELECT EXISTS (SELECT 1 FROM object WHERE account = ? AND container = ? AND (delete_at IS NULL OR delete_at > ?))",
                    arguments: [target.account, name, now])
                guard live != true else { throw SwiftFault.conflict }
                // Only expired objects are left: they go with the container.
                let files = try String.fetchAll(
                    db, sql: "SELECT file FROM object WHERE account = ? AND container = ? AND file IS NOT NULL",
                    arguments: [target.account, name])
                try db.execute(
                    sql: "DELETE FROM object WHERE account = ? AND container = ?", arguments: [target.account, name])
                try db.execute(
                    sql: "DELETE FROM container WHERE account = ? AND name = ?", arguments: [target.account, name])
                return files
            }
            for file in files { unlink(objectPath(file)) }
            return Self.answer(.noContent)
        default:
            throw SwiftFault(.methodNotAllowed, "The method is not allowed for this resource.")
        }
    }

    /// A container PUT or POST's metadata, ACLs and quotas, checked.
    func containerChanges(_ request: Request) throws -> Metadata {
        var changes = try metadataHeaders(request, prefix: "X-Container-Meta-")
        for (header, read) in [("X-Container-Read", true), ("X-Container-Write", false)] {
            if let value = request.header(header) {
                changes[header] = try ACL.clean(value, read: read)
            } else if request.header("X-Remove-" + header.dropFirst(2)) != nil {
                changes[header] = ""
            }
        }
        for (key, label) in [("X-Container-Meta-Quota-Bytes", "bytes"), ("X-Container-Meta-Quota-Count", "count")] {
            if let value = changes[key], !value.isEmpty, Int64(value).map({ $0 >= 0 }) != true {
                throw SwiftFault.badRequest("Invalid \(label) quota.")
            }
        }
        return changes
    }

    func containerHeaders(_ container: ContainerRecord, _ access: Access) -> HTTPFields {
        var headers = HTTPFields()
        headers[.xContainerObjectCount] = String(container.objectCount)
        headers[.xContainerBytesUsed] = String(container.bytesUsed)
        headers[.xTimestamp] = Self.xTimestamp(container.createdAt)
        headers[.xPutTimestamp] = Self.xTimestamp(container.updatedAt)
        headers[.lastModified] = Self.lastModified(container.updatedAt)
        headers[.xStoragePolicy] = "Policy-0"
        headers[.acceptRanges] = "bytes"
        for (key, value) in container.meta {
            // The ACLs are the owner's business.
            if key.hasPrefix("X-Container-Meta-") || access.isOwner, let name = HTTPField.Name(key) {
                headers[name] = value
            }
        }
        return headers
    }
}
