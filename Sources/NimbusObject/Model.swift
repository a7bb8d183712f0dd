import Foundation
import GRDB
import NimbusServiceKit

/// Headers stored with an account, container or object, by their canonical names
/// (`X-Object-Meta-Color`, `Content-Disposition`, `X-Container-Read`, …).
public typealias Metadata = [String: String]

extension Metadata {
    init(json text: String) {
        self.init()
        for (key, value) in (try? JSON.parse(Array(text.utf8)))?.members ?? [] {
            if let value = value.string { self[key] = value }
        }
    }

    var json: String { JSON.object(sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }).text }
}

/// An account's own row: only its metadata (counts are summed from its containers).
/// Accounts exist implicitly: a project's account answers before anything is stored in it.
struct AccountRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "account"
    var name: String
    var createdAt: Int64
    var metadata: String

    enum CodingKeys: String, CodingKey {
        case name, metadata
        case createdAt = "created_at"
    }
}

/// A container, with the object count and bytes kept up to date by every object write.
struct ContainerRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "container"
    var account: String
    var name: String
    /// Microseconds since 1970.
    var createdAt: Int64
    var updatedAt: Int64
    var metadata: String
    var objectCount: Int64
    var bytesUsed: Int64

    enum CodingKeys: String, CodingKey {
        case account, name, metadata
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case objectCount = "object_count"
        case bytesUsed = "bytes_used"
    }

    var meta: Metadata {
        get { Metadata(json: metadata) }
        set { metadata = newValue.json }
    }
}

/// An object: where its bytes are (`file`, nil for an empty object), what they hash to and
/// the headers it was stored with. A static large object keeps its segment list in `slo`.
struct ObjectRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "object"
    var account: String
    var container: String
    var name: String
    var file: String?
    var size: Int64
    var etag: String
    var contentType: String
    /// Microseconds since 1970.
    var timestamp: Int64
    var metadata: String
    /// Seconds since 1970 after which the object is gone (`X-Delete-At`).
    var deleteAt: Int64?
    /// The manifest of a static large object: JSON array of its segments.
    var slo: String?

    enum CodingKeys: String, CodingKey {
        case account, container, name, file, size, etag, timestamp, metadata, slo
        case contentType = "content_type"
        case deleteAt = "delete_at"
    }

    var meta: Metadata {
        get { Metadata(json: metadata) }
        set { metadata = newValue.json }
    }
}

/// The object service's index: SQLite in WAL mode (readers never wait for the writer),
/// migrated at open, `synchronous = FULL` (a replaced or deleted object's file is unlinked
/// right after its commit, which must therefore be on disk first). Object data lives in
/// files beside it; the index says which.
public final class ObjectStore: Sendable {
    let database: any DatabaseWriter

    /// `path` nil: an in-memory index (tests).
    public init(path: String?) throws {
        database = try ServiceDatabase.open(
            path: path, migrator: Self.migrator, synchronous: .full, concurrentReads: true)
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T { try database.read(body) }

    @discardableResult
    func write<T>(_ body: (Database) throws -> T) throws -> T { try database.write(body) }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE account (
                      name TEXT PRIMARY KEY, created_at INTEGER NOT NULL, metadata TEXT NOT NULL DEFAULT '{}'
                    ) WITHOUT ROWID;
                    CREATE TABLE container (
                      account TEXT NOT NULL, name TEXT NOT NULL, created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL, metadata TEXT NOT NULL DEFAULT '{}',
                      object_count INTEGER NOT NULL DEFAULT 0, bytes_used INTEGER NOT NULL DEFAULT 0,
                      PRIMARY KEY (account, name)
                    ) WITHOUT ROWID;
                    CREATE TABLE object (
                      account TEXT NOT NULL, container TEXT NOT NULL, name TEXT NOT NULL, file TEXT,
                      size INTEGER NOT NULL, etag TEXT NOT NULL, content_type TEXT NOT NULL,
                      timestamp INTEGER NOT NULL, metadata TEXT NOT NULL DEFAULT '{}', delete_at INTEGER,
                      slo TEXT,
                      PRIMARY KEY (account, container, name)
                    ) WITHOUT ROWID;
                    CREATE INDEX object_expiry ON object(delete_at) WHERE delete_at IS NOT NULL;
                    """)
        }
        return migrator
    }
}
