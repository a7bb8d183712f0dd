import Foundation
import GRDB
import NimbusServiceKit

/// One image: Glance's core attributes as columns, free-form properties (anything a client
/// adds, such as `owner_specified.openstack.md5`) as a JSON object of strings.
public struct Image: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "image"
    public var id: String
    public var name: String?
    public var status: String
    public var visibility: String
    public var protected: Bool
    public var osHidden: Bool
    public var owner: String?
    public var diskFormat: String?
    public var containerFormat: String?
    public var minDisk: Int
    public var minRAM: Int
    public var size: Int64?
    public var virtualSize: Int64?
    public var checksum: String?
    public var osHashAlgo: String?
    public var osHashValue: String?
    /// JSON array of strings.
    public var tags: String
    /// JSON object of strings.
    public var properties: String
    /// Milliseconds since 1970 (ordering; shown to the second).
    public var createdAt: Int64
    public var updatedAt: Int64
    /// The data store holding the image's data (`file`, `swift`); nil until data is stored.
    public var store: String?

    enum CodingKeys: String, CodingKey {
        case id, name, status, visibility, protected, owner, size, checksum, tags, properties, store
        case osHidden = "os_hidden"
        case diskFormat = "disk_format"
        case containerFormat = "container_format"
        case minDisk = "min_disk"
        case minRAM = "min_ram"
        case virtualSize = "virtual_size"
        case osHashAlgo = "os_hash_algo"
        case osHashValue = "os_hash_value"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    var tagList: [String] {
        get { (try? JSON.parse(Array(tags.utf8)))?.array?.compactMap(\.string) ?? [] }
        set { tags = JSON.array(newValue.map(JSON.string)).text }
    }

    var propertyList: [(String, String)] {
        get {
            guard case .object(let members) = (try? JSON.parse(Array(properties.utf8))) ?? .object([]) else {
                return []
            }
            return members.compactMap { key, value in value.string.map { (key, $0) } }
        }
        set { properties = JSON.object(newValue.map { ($0.0, .string($0.1)) }).text }
    }
}

/// A project an image is shared with, and whether it took the image up.
public struct ImageMember: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "member"
    public var imageID: String
    public var memberID: String
    public var status: String
    public var createdAt: Int64
    public var updatedAt: Int64

    enum CodingKeys: String, CodingKey {
        case status
        case imageID = "image_id"
        case memberID = "member_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// The image service's database: SQLite in WAL mode, migrated at open, `synchronous = FULL`
/// (a deleted image's data goes right after its commit, which must therefore be on disk first).
public final class ImageStore: Sendable {
    let database: any DatabaseWriter

    public init(path: String?) throws {
        database = try ServiceDatabase.open(path: path, migrator: Self.migrator, synchronous: .full)
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T { try database.read(body) }

    @discardableResult
    public func write<T>(_ body: (Database) throws -> T) throws -> T { try database.write(body) }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE image (
                      id TEXT PRIMARY KEY, name TEXT, status TEXT NOT NULL, visibility TEXT NOT NULL,
                      protected BOOLEAN NOT NULL DEFAULT 0, os_hidden BOOLEAN NOT NULL DEFAULT 0, owner TEXT,
                      disk_format TEXT, container_format TEXT, min_disk INTEGER NOT NULL DEFAULT 0,
                      min_ram INTEGER NOT NULL DEFAULT 0, size INTEGER, virtual_size INTEGER, checksum TEXT,
                      os_hash_algo TEXT, os_hash_value TEXT, tags TEXT NOT NULL DEFAULT '[]',
                      properties TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL);
                    CREATE INDEX image_owner ON image(owner);
                    CREATE TABLE member (
                      image_id TEXT NOT NULL REFERENCES image(id) ON DELETE CASCADE, member_id TEXT NOT NULL,
                      status TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                      PRIMARY KEY (image_id, member_id));
                    CREATE INDEX member_member ON member(member_id);
                    """)
        }
        // Where each image's data is (images stored before this were files).
        migrator.registerMigration("v2-store") { db in
            try db.execute(
                sql: """
                    ALTER TABLE image ADD COLUMN store TEXT;
                    UPDATE image SET store = 'file' WHERE size IS NOT NULL;
                    """)
        }
        // The metadata definitions catalog, with the resource types Glance seeds.
        migrator.registerMigration("v3-metadefs") { db in
            try db.execute(
                sql: """
                    CREATE TABLE metadef_namespace (
                      namespace TEXT PRIMARY KEY, display_name TEXT, description TEXT, visibility TEXT NOT NULL,
                      protected BOOLEAN NOT NULL DEFAULT 0, owner TEXT, created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL);
                    CREATE TABLE metadef_resource_type (
                      name TEXT PRIMARY KEY, protected BOOLEAN NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL);
                    CREATE TABLE metadef_association (
                      namespace TEXT NOT NULL REFERENCES metadef_namespace(namespace)
                        ON DELETE CASCADE ON UPDATE CASCADE,
                      name TEXT NOT NULL REFERENCES metadef_resource_type(name), prefix TEXT,
                      properties_target TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                      PRIMARY KEY (namespace, name));
                    CREATE TABLE metadef_object (
                      namespace TEXT NOT NULL REFERENCES metadef_namespace(namespace)
                        ON DELETE CASCADE ON UPDATE CASCADE,
                      name TEXT NOT NULL, description TEXT, required TEXT NOT NULL DEFAULT '[]',
                      properties TEXT NOT NULL DEFAULT '{}', created_at INTEGER NOT NULL,
                      updated_at INTEGER NOT NULL, PRIMARY KEY (namespace, name));
                    CREATE TABLE metadef_property (
                      namespace TEXT NOT NULL REFERENCES metadef_namespace(namespace)
                        ON DELETE CASCADE ON UPDATE CASCADE,
                      name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (namespace, name));
                    CREATE TABLE metadef_tag (
                      namespace TEXT NOT NULL REFERENCES metadef_namespace(namespace)
                        ON DELETE CASCADE ON UPDATE CASCADE,
                      name TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
                      PRIMARY KEY (namespace, name));
                    """)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for name in ImageAPI.standardResourceTypes {
                try db.execute(
                    sql:
                        "INSERT INTO metadef_resource_type (name, protected, created_at, updated_at) VALUES (?, 1, ?, ?)",
                    arguments: [name, now, now])
            }
        }
        return migrator
    }
}
