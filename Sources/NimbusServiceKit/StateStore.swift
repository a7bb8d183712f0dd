import Foundation
import GRDB
import Synchronization

/// A service's state held in memory as one value and kept in SQLite as one row per
/// resource (its JSON encoding), for services whose state is small enough to keep whole
/// (network, compute). `State` says how rows become state and back.
public protocol StoredState: Sendable {
    init()
    /// Takes one stored row into the state (rows of unknown kinds are ignored).
    mutating func load(kind: String, id: String, body: Data, decoder: JSONDecoder) throws
    /// The row of a resource, or nil when the state no longer holds it.
    func row(kind: String, id: String, encoder: JSONEncoder) throws -> Data?
}

/// Keeps a `StoredState` in SQLite and publishes what agents follow to the change log in the
/// same transaction. Writes run one at a time on a copy of the state; the copy replaces the
/// state only once its rows are committed, so a failed write changes nothing.
public final class StateStore<State: StoredState>: Sendable {
    /// The database, for what a service keeps beside its resources (the agents' registry).
    public let database: any DatabaseWriter
    public let log: ChangeLog
    let current: Mutex<State>
    /// Held for a whole write, from reading the state to replacing it: a write that read
    /// the state before another's replacement would otherwise put back what that one
    /// changed (a deleted port seen again).
    let writer = Mutex(())
    /// What agents are sent for a changed resource (nil: nothing): the change log's kind and
    /// body (nil body: deleted).
    let publish: @Sendable (State, _ kind: String, _ id: String) -> (kind: String, body: JSON?)?

    /// - Parameters:
    ///   - path: the database file; nil keeps it in memory (tests).
    ///   - synchronous: `.full` where an acknowledged allocation (an address, a VNI) must
    ///     not come undone after a power loss.
    public init(
        path: String?, synchronous: ServiceDatabase.Synchronous = .full,
        publish: @escaping @Sendable (State, _ kind: String, _ id: String) -> (kind: String, body: JSON?)? = {
            _, _, _ in nil
        }
    ) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("resources") { db in
            try db.execute(
                sql:
                    "CREATE TABLE resource (kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, id))"
            )
        }
        ChangeLog.register(in: &migrator)
        database = try ServiceDatabase.open(path: path, migrator: migrator, synchronous: synchronous)
        log = try ChangeLog(database: database)
        self.publish = publish
        current = Mutex(try Self.load(database))
    }

    static func load(_ database: any DatabaseWriter) throws -> State {
        let decoder = JSONDecoder()
        var state = State()
        try database.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT kind, id, body FROM resource") {
                try state.load(kind: row["kind"], id: row["id"], body: row["body"], decoder: decoder)
            }
        }
        return state
    }

    /// The state as it is now.
    public var snapshot: State { current.withLock { $0 } }

    /// One write: `body` changes a copy of the state and names what it touched; the touched
    /// resources are saved (or deleted, when gone from the copy) and published, then the
    /// copy becomes the state. A throw leaves everything as it was.
    public func write<T: Sendable>(_ body: (inout Transaction) throws -> T) throws -> T {
        try writer.withLock { _ in try commit(body) }
    }

    private func commit<T: Sendable>(_ body: (inout Transaction) throws -> T) throws -> T {
        let result = try database.write { db -> (T, State) in
            var transaction = Transaction(state: current.withLock { $0 })
            let value = try body(&transaction)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            for touched in transaction.touched.sorted(by: { ($0.kind, $0.id) < ($1.kind, $1.id) }) {
                if let data = try transaction.state.row(kind: touched.kind, id: touched.id, encoder: encoder) {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO resource (kind, id, body) VALUES (?, ?, ?)",
                        arguments: [touched.kind, touched.id, data])
                } else {
                    try db.execute(
                        sql: "DELETE FROM resource WHERE kind = ? AND id = ?", arguments: [touched.kind, touched.id])
                }
                if let item = publish(transaction.state, touched.kind, touched.id) {
                    if let body = item.body {
                        _ = try ChangeLog.put(db, kind: item.kind, id: touched.id, body: body)
                    } else {
                        _ = try ChangeLog.delete(db, kind: item.kind, id: touched.id)
                    }
                }
            }
            return (value, transaction.state)
        }
        current.withLock { $0 = result.1 }
        log.committed()
        return result.0
    }

    /// A write in progress: the state to change and what was touched.
    public struct Transaction {
        public var state: State
        var touched: Set<Touched> = []

        struct Touched: Hashable {
            var kind: String
            var id: String
        }

        /// Marks a resource as changed (or deleted, when it is gone from `state`).
        public mutating func touch(kind: String, id: String) { touched.insert(Touched(kind: kind, id: id)) }
    }
}
