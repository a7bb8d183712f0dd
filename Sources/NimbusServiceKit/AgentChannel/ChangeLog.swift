import Foundation
import GRDB
import ServiceLifecycle
import Synchronization

/// The desired state an API hands its agents, with a revision per change: every write of a
/// resource the agents follow (`put`, `delete`) gets the next revision of one counter, in
/// the same transaction as the API's own rows, so an agent that has seen revision R has
/// seen every change up to R. Deletions stay as tombstones until `compact` drops those at
/// or below a revision; a watch from before that answers `tooOld`, and the agent lists
/// everything again. The revision survives a restart of the API (it is in its database).
public final class ChangeLog: Sendable {
    /// A resource as the agents see it.
    public struct Item: Sendable, Equatable {
        public var kind: String
        public var id: String
        public var revision: Int64
        /// nil: deleted (a tombstone, in a watch).
        public var body: JSON?

        public init(kind: String, id: String, revision: Int64, body: JSON?) {
            self.kind = kind
            self.id = id
            self.revision = revision
            self.body = body
        }
    }

    /// A watch from a revision that compaction already passed.
    public struct TooOld: Error, Equatable {
        public var since: Int64
        public var oldest: Int64
    }

    let database: any DatabaseWriter
    let notifier = RevisionNotifier()

    /// The tables the log keeps; add to the service's migrator.
    public static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("channel-v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE channel_resource (
                        kind TEXT NOT NULL, id TEXT NOT NULL, revision INTEGER NOT NULL UNIQUE,
                        body TEXT, PRIMARY KEY (kind, id));
                    CREATE TABLE channel_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT INTO channel_meta VALUES ('revision', 0), ('compacted', 0);
                    CREATE TABLE channel_agent (
                        host TEXT NOT NULL, type TEXT NOT NULL, started_at REAL NOT NULL,
                        heartbeat_at REAL NOT NULL, revision INTEGER NOT NULL, PRIMARY KEY (host, type));
                    CREATE TABLE channel_status (
                        kind TEXT NOT NULL, id TEXT NOT NULL, host TEXT NOT NULL, type TEXT NOT NULL,
                        state TEXT NOT NULL, detail TEXT NOT NULL, revision INTEGER NOT NULL,
                        PRIMARY KEY (kind, id, host, type));
                    """)
        }
        // What an agent says of itself (Neutron's `configurations`: its tunnel address, the
        // bridges it serves): kept with the agent and published to the other agents.
        migrator.registerMigration("channel-v2-configuration") { db in
            try db.execute(sql: "ALTER TABLE channel_agent ADD COLUMN configuration TEXT NOT NULL DEFAULT '{}'")
        }
    }

    public init(database: any DatabaseWriter) throws {
        self.database = database
        let current = try database.read { db in try Self.meta(db, "revision") }
        notifier.start(at: current)
    }

    static func meta(_ db: Database, _ key: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM channel_meta WHERE key = ?", arguments: [key]) ?? 0
    }

    static func next(_ db: Database) throws -> Int64 {
        let revision = try meta(db, "revision") + 1
        try db.execute(sql: "UPDATE channel_meta SET value = ? WHERE key = 'revision'", arguments: [revision])
        return revision
    }

    /// Records `body` as resource `kind`/`id`, inside the caller's write transaction.
    /// Call `committed()` after the transaction to wake the watchers.
    @discardableResult
    public static func put(_ db: Database, kind: String, id: String, body: JSON) throws -> Int64 {
        let revision = try next(db)
        try db.execute(
            sql: """
                INSERT INTO channel_resource (kind, id, revision, body) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, id) DO UPDATE SET revision = excluded.revision, body = excluded.body
                """, arguments: [kind, id, revision, body.text])
        return revision
    }

    /// Records the deletion of `kind`/`id` (a tombstone); nil when the log never had it.
    @discardableResult
    public static func delete(_ db: Database, kind: String, id: String) throws -> Int64? {
        guard
            try Int64.fetchOne(
                db, sql: "SELECT revision FROM channel_resource WHERE kind = ? AND id = ? AND body IS NOT NULL",
                arguments: [kind, id]) != nil
        else { return nil }
        let revision = try next(db)
        try db.execute(
            sql: "UPDATE channel_resource SET revision = ?, body = NULL WHERE kind = ? AND id = ?",
            arguments: [revision, kind, id])
        return revision
    }

    /// A write transaction whose changes the watchers learn of once it committed.
    @discardableResult
    public func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) throws -> T {
        let (result, revision) = try database.write { db in (try body(db), try Self.meta(db, "revision")) }
        notifier.advance(to: revision)
        return result
    }

    /// Wakes the watchers after a transaction that used `put`/`delete` committed.
    public func committed() {
        if let revision = try? database.read({ db in try Self.meta(db, "revision") }) { notifier.advance(to: revision) }
    }

    /// The current revision and every live resource (of `kind`, if given).
    public func list(kind: String? = nil) throws -> (revision: Int64, items: [Item]) {
        try database.read { db in
            let revision = try Self.meta(db, "revision")
            var sql = "SELECT kind, id, revision, body FROM channel_resource WHERE body IS NOT NULL"
            var arguments: StatementArguments = []
            if let kind {
                sql += " AND kind = ?"
                arguments = [kind]
            }
            let items = try Row.fetchAll(db, sql: sql + " ORDER BY revision", arguments: arguments).map(Self.item)
            return (revision, items)
        }
    }

    /// Every change after `since`, oldest first (deletions as items without a body), and
    /// the revision they bring the caller to.
    public func changes(since: Int64, limit: Int = 1000) throws -> (revision: Int64, items: [Item]) {
        let result: Result<(Int64, [Item]), TooOld> = try database.read { db in
            let compacted = try Self.meta(db, "compacted")
            guard since >= compacted else { return .failure(TooOld(since: since, oldest: compacted)) }
            let items = try Row.fetchAll(
                db,
                sql:
                    "SELECT kind, id, revision, body FROM channel_resource WHERE revision > ? ORDER BY revision LIMIT ?",
                arguments: [since, limit]
            ).map(Self.item)
            let revision = items.count == limit ? (items.last?.revision ?? since) : try Self.meta(db, "revision")
            return .success((revision, items))
        }
        return try result.get()
    }

    /// Waits until the log passes `revision`, `timeout` ends or the service shuts down;
    /// true when the log passed it.
    public func wait(after revision: Int64, timeout: Duration) async -> Bool {
        await notifier.wait(after: revision, timeout: timeout)
    }

    /// Drops the tombstones at or below `revision`; a watch from before it must list again.
    public func compact(through revision: Int64) throws {
        try database.write { db in
            let current = try Self.meta(db, "revision")
            let target = min(revision, current)
            try db.execute(
                sql: "DELETE FROM channel_resource WHERE body IS NULL AND revision <= ?", arguments: [target])
            try db.execute(
                sql: "UPDATE channel_meta SET value = max(value, ?) WHERE key = 'compacted'", arguments: [target])
        }
    }

    static func item(_ row: Row) -> Item {
        let text: String? = row["body"]
        return Item(
            kind: row["kind"], id: row["id"], revision: row["revision"],
            body: text.flatMap { try? JSON.parse(Array($0.utf8)) })
    }
}

/// Wakes the watches waiting for a revision past theirs.
final class RevisionNotifier: Sendable {
    private struct State {
        var revision: Int64 = 0
        var waiters: [UUID: (after: Int64, continuation: CheckedContinuation<Bool, Never>)] = [:]
    }

    private let state = Mutex(State())

    func start(at revision: Int64) { state.withLock { $0.revision = revision } }

    func advance(to revision: Int64) {
        let woken = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            guard revision > state.revision else { return [] }
            state.revision = revision
            let ready = state.waiters.filter { $0.value.after < revision }
            for key in ready.keys { state.waiters[key] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume(returning: true) }
    }

    func wait(after revision: Int64, timeout: Duration) async -> Bool {
        let id = UUID()
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let now = self.state.withLock { state -> Bool in
                        if state.revision > revision { return true }
                        state.waiters[id] = (revision, continuation)
                        return false
                    }
                    if now { continuation.resume(returning: true) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            // A service shutting down ends its watches at once: the server drains the
            // requests under way, and a watch held open would keep it running until
            // systemd kills it (a reboot waited for that).
            group.addTask {
                try? await gracefulShutdown()
                return false
            }
            let first = await group.next() ?? false
            // Whoever lost: a timed-out waiter is resumed (false) and removed.
            if let waiting = self.state.withLock({ $0.waiters.removeValue(forKey: id) }) {
                waiting.continuation.resume(returning: false)
            }
            group.cancelAll()
            return first
        }
    }
}
