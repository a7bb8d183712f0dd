import Dispatch
import Foundation
import GRDB
import NimbusServiceKit
import Synchronization

/// Everything the identity service knows, read at once. Identity data is small (thousands
/// of rows, not millions) and read far more than written, so every request reads this
/// immutable snapshot from memory; a write goes to SQLite in a transaction and, in the same
/// transaction, the snapshot is read anew.
public struct IdentitySnapshot: Sendable {
    public var domains: [String: Domain] = [:]
    public var projects: [String: Project] = [:]
    public var users: [String: User] = [:]
    public var groups: [String: Group] = [:]
    public var memberships: Set<Membership> = []
    public var roles: [String: Role] = [:]
    public var implied: Set<ImpliedRole> = []
    public var assignments: [Assignment] = []
    public var regions: [String: Region] = [:]
    public var services: [String: Service] = [:]
    public var endpoints: [String: Endpoint] = [:]
    public var revoked: [String: Int64] = [:]

    /// The groups a user belongs to.
    public func groupIDs(of userID: String) -> Set<String> {
        Set(memberships.lazy.filter { $0.userID == userID }.map(\.groupID))
    }

    /// The role ids `roleIDs` imply, themselves included (admin → member → reader).
    public func expand(_ roleIDs: Set<String>) -> Set<String> {
        var result = roleIDs
        var frontier = Array(roleIDs)
        while let next = frontier.popLast() {
            for rule in implied where rule.priorRoleID == next && !result.contains(rule.impliedRoleID) {
                result.insert(rule.impliedRoleID)
                frontier.append(rule.impliedRoleID)
            }
        }
        return result
    }

    /// The roles a user holds on a target, directly or through a group, implied ones included.
    public func effectiveRoles(
        userID: String, on kind: Assignment.TargetKind, _ targetID: String
    ) -> Set<String> {
        let groups = groupIDs(of: userID)
        var direct: Set<String> = []
        for assignment in assignments where assignment.targetKind == kind && assignment.targetID == targetID {
            switch assignment.actorKind {
            case .user where assignment.actorID == userID: direct.insert(assignment.roleID)
            case .group where groups.contains(assignment.actorID): direct.insert(assignment.roleID)
            default: break
            }
        }
        return expand(direct).filter { roles[$0] != nil }
    }

    /// The projects on which a user holds any role.
    public func projectIDs(of userID: String) -> Set<String> {
        let groups = groupIDs(of: userID)
        return Set(
            assignments.lazy.filter {
                $0.targetKind == .project
                    && ($0.actorKind == .user ? $0.actorID == userID : groups.contains($0.actorID))
            }.map(\.targetID))
    }

    public func role(named name: String) -> Role? {
        roles.values.first { $0.name == name }
    }

    public func domain(named name: String) -> Domain? {
        domains.values.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }
    }
}

/// The identity service's state: SQLite (WAL) under its state directory, migrated at
/// start, and the in-memory snapshot every read uses.
public final class IdentityStore: Sendable {
    let database: any DatabaseWriter
    let current: Mutex<IdentitySnapshot>
    /// When the database was last checked for writes by another process (`nimbus-server
    /// identity bootstrap` while the service runs), and SQLite's `data_version` then.
    let outside: Mutex<(checked: UInt64, version: Int)>
    /// How often (nanoseconds) a request may look for such writes.
    static let outsideCheckInterval: UInt64 = 200_000_000

    public enum Failure: Error, CustomStringConvertible {
        case database(String)

        public var description: String {
            switch self {
            case .database(let reason): "identity database: \(reason)"
            }
        }
    }

    /// Opens (creating and migrating) the database at `path`, or an in-memory one; WAL with
    /// `synchronous = FULL`: writes are few, and an acknowledged revocation, password change
    /// or removed grant must survive a power loss.
    public init(path: String?) throws {
        database = try ServiceDatabase.open(path: path, migrator: Self.migrator, synchronous: .full)
        let (snapshot, version) = try database.read { db in
            (try Self.load(db), try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0)
        }
        current = Mutex(snapshot)
        outside = Mutex((DispatchTime.now().uptimeNanoseconds, version))
    }

    /// The snapshot as of the last write, this process's or (within 0.2 s) another's.
    public var snapshot: IdentitySnapshot {
        reloadIfWrittenElsewhere()
        return current.withLock { $0 }
    }

    /// Reads the snapshot anew when another process committed to the database since the
    /// last look; looks at most every 0.2 s.
    func reloadIfWrittenElsewhere() {
        let now = DispatchTime.now().uptimeNanoseconds
        let due = outside.withLock { state -> Bool in
            guard now &- state.checked >= Self.outsideCheckInterval else { return false }
            state.checked = now
            return true
        }
        guard due else { return }
        try? database.read { db in
            let version = try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0
            guard version != outside.withLock({ $0.version }) else { return }
            let snapshot = try Self.load(db)
            current.withLock { $0 = snapshot }
            outside.withLock { $0.version = version }
        }
    }

    /// Runs `body` in a write transaction; the snapshot is reloaded before it commits.
    @discardableResult
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try database.write { db in
            let result = try body(db)
            let snapshot = try Self.load(db)
            current.withLock { $0 = snapshot }
            return result
        }
    }

    static func load(_ db: Database) throws -> IdentitySnapshot {
        var snapshot = IdentitySnapshot()
        snapshot.domains = try Dictionary(uniqueKeysWithValues: Domain.fetchAll(db).map { ($0.id, $0) })
        snapshot.projects = try Dictionary(uniqueKeysWithValues: Project.fetchAll(db).map { ($0.id, $0) })
        snapshot.users = try Dictionary(uniqueKeysWithValues: User.fetchAll(db).map { ($0.id, $0) })
        snapshot.groups = try Dictionary(uniqueKeysWithValues: Group.fetchAll(db).map { ($0.id, $0) })
        snapshot.memberships = try Set(Membership.fetchAll(db))
        snapshot.roles = try Dictionary(uniqueKeysWithValues: Role.fetchAll(db).map { ($0.id, $0) })
        snapshot.implied = try Set(ImpliedRole.fetchAll(db))
        snapshot.assignments = try Assignment.fetchAll(db)
        snapshot.regions = try Dictionary(uniqueKeysWithValues: Region.fetchAll(db).map { ($0.id, $0) })
        snapshot.services = try Dictionary(uniqueKeysWithValues: Service.fetchAll(db).map { ($0.id, $0) })
        snapshot.endpoints = try Dictionary(uniqueKeysWithValues: Endpoint.fetchAll(db).map { ($0.id, $0) })
        snapshot.revoked = try Dictionary(
            Revocation.fetchAll(db).map { ($0.auditID, $0.expiresAt) }, uniquingKeysWith: max)
        return snapshot
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE domain (
                      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                      description TEXT NOT NULL DEFAULT '', enabled BOOLEAN NOT NULL DEFAULT 1);
                    CREATE TABLE project (
                      id TEXT PRIMARY KEY, name TEXT NOT NULL,
                      domain_id TEXT NOT NULL REFERENCES domain(id),
                      description TEXT NOT NULL DEFAULT '', enabled BOOLEAN NOT NULL DEFAULT 1,
                      parent_id TEXT, extra TEXT NOT NULL DEFAULT '{}', UNIQUE (domain_id, name));
                    CREATE TABLE user (
                      id TEXT PRIMARY KEY, name TEXT NOT NULL,
                      domain_id TEXT NOT NULL REFERENCES domain(id), password_hash TEXT,
                      enabled BOOLEAN NOT NULL DEFAULT 1, default_project_id TEXT,
                      extra TEXT NOT NULL DEFAULT '{}', tokens_valid_after INTEGER NOT NULL DEFAULT 0,
                      UNIQUE (domain_id, name));
                    CREATE TABLE "group" (
                      id TEXT PRIMARY KEY, name TEXT NOT NULL,
                      domain_id TEXT NOT NULL REFERENCES domain(id),
                      description TEXT NOT NULL DEFAULT '', UNIQUE (domain_id, name));
                    CREATE TABLE membership (
                      user_id TEXT NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                      group_id TEXT NOT NULL REFERENCES "group"(id) ON DELETE CASCADE,
                      PRIMARY KEY (user_id, group_id));
                    CREATE TABLE role (
                      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '');
                    CREATE TABLE implied_role (
                      prior_role_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
                      implied_role_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
                      PRIMARY KEY (prior_role_id, implied_role_id));
                    CREATE TABLE assignment (
                      actor_kind TEXT NOT NULL, actor_id TEXT NOT NULL,
                      target_kind TEXT NOT NULL, target_id TEXT NOT NULL,
                      role_id TEXT NOT NULL REFERENCES role(id) ON DELETE CASCADE,
                      PRIMARY KEY (actor_kind, actor_id, target_kind, target_id, role_id));
                    CREATE TABLE region (
                      id TEXT PRIMARY KEY, description TEXT NOT NULL DEFAULT '', parent_region_id TEXT);
                    CREATE TABLE service (
                      id TEXT PRIMARY KEY, type TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
                      description TEXT NOT NULL DEFAULT '', enabled BOOLEAN NOT NULL DEFAULT 1);
                    CREATE TABLE endpoint (
                      id TEXT PRIMARY KEY,
                      service_id TEXT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
                      interface TEXT NOT NULL, region_id TEXT, url TEXT NOT NULL,
                      enabled BOOLEAN NOT NULL DEFAULT 1);
                    CREATE TABLE revocation (audit_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
                    """)
        }
        return migrator
    }
}
