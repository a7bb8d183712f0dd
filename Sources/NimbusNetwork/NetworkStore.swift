import Foundation
import GRDB
import NimbusServiceKit
import Synchronization

/// Keeps `NetworkState` in SQLite (one row per resource, its JSON encoding) and publishes
/// what agents follow to the change log in the same transaction. Writes run one at a time
/// on a copy of the state; the copy replaces the state only once its rows are committed, so
/// a failed write changes nothing.
public final class NetworkStore: Sendable {
    let database: any DatabaseWriter
    public let log: ChangeLog
    let current: Mutex<NetworkState>
    /// Held for a whole write, from reading the state to replacing it: a write that read
    /// the state before another's replacement would otherwise put back what that one
    /// changed (a deleted port seen again).
    let writer = Mutex(())
    /// What agents are sent for a changed resource (nil: nothing); set by the API, which
    /// renders resources.
    let publish: @Sendable (NetworkState, ResourceKind, String) -> (kind: String, body: JSON?)?

    /// - Parameter path: the database file; nil keeps it in memory (tests).
    public init(
        path: String?,
        publish: @escaping @Sendable (NetworkState, ResourceKind, String) -> (kind: String, body: JSON?)? = AgentView
            .publish
    ) throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("resources") { db in
            try db.execute(
                sql:
                    "CREATE TABLE resource (kind TEXT NOT NULL, id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (kind, id))"
            )
        }
        ChangeLog.register(in: &migrator)
        // Synchronous FULL: an acknowledged allocation (an address, a VNI) must not come
        // undone after a power loss, or it would be handed out twice.
        database = try ServiceDatabase.open(path: path, migrator: migrator, synchronous: .full)
        log = try ChangeLog(database: database)
        self.publish = publish
        current = Mutex(try Self.load(database))
    }

    static func load(_ database: any DatabaseWriter) throws -> NetworkState {
        let decoder = JSONDecoder()
        var state = NetworkState()
        try database.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT kind, id, body FROM resource") {
                let kind: String = row["kind"]
                let id: String = row["id"]
                let body: Data = row["body"]
                switch kind {
                case "network": state.networks[id] = try decoder.decode(Network.self, from: body)
                case "subnet": state.subnets[id] = try decoder.decode(Subnet.self, from: body)
                case "subnetpool": state.subnetPools[id] = try decoder.decode(SubnetPool.self, from: body)
                case "port": state.ports[id] = try decoder.decode(Port.self, from: body)
                case "router": state.routers[id] = try decoder.decode(Router.self, from: body)
                case "floatingip": state.floatingIPs[id] = try decoder.decode(FloatingIP.self, from: body)
                case "security_group": state.securityGroups[id] = try decoder.decode(SecurityGroup.self, from: body)
                case "security_group_rule": state.rules[id] = try decoder.decode(SecurityGroupRule.self, from: body)
                case "quota": state.quotas[id] = try decoder.decode(Quota.self, from: body)
                default: continue
                }
            }
        }
        return state
    }

    /// The state as it is now.
    public var snapshot: NetworkState { current.withLock { $0 } }

    /// One write: `body` changes a copy of the state and names what it touched; the touched
    /// resources are saved (or deleted, when gone from the copy) and published, then the
    /// copy becomes the state. A throw leaves everything as it was.
    public func write<T: Sendable>(_ body: (inout Transaction) throws -> T) throws -> T {
        try writer.withLock { _ in try commit(body) }
    }

    private func commit<T: Sendable>(_ body: (inout Transaction) throws -> T) throws -> T {
        let result = try database.write { db -> (T, NetworkState) in
            var transaction = Transaction(state: current.withLock { $0 })
            let value = try body(&transaction)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let touched = transaction.touched.sorted { ($0.kind.rawValue, $0.id) < ($1.kind.rawValue, $1.id) }
            for (kind, id) in touched.map({ ($0.kind, $0.id) }) {
                if let data = try transaction.state.encoded(kind, id, encoder) {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO resource (kind, id, body) VALUES (?, ?, ?)",
                        arguments: [kind.rawValue, id, data])
                } else {
                    try db.execute(
                        sql: "DELETE FROM resource WHERE kind = ? AND id = ?", arguments: [kind.rawValue, id])
                }
                if let item = publish(transaction.state, kind, id) {
                    if let body = item.body {
                        _ = try ChangeLog.put(db, kind: item.kind, id: id, body: body)
                    } else {
                        _ = try ChangeLog.delete(db, kind: item.kind, id: id)
                    }
                }
            }
            for project in transaction.touchedQuotas {
                if let quota = transaction.state.quotas[project] {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO resource (kind, id, body) VALUES ('quota', ?, ?)",
                        arguments: [project, try encoder.encode(quota)])
                } else {
                    try db.execute(sql: "DELETE FROM resource WHERE kind = 'quota' AND id = ?", arguments: [project])
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
        public var state: NetworkState
        var touched: Set<Touched> = []
        var touchedQuotas: Set<String> = []

        struct Touched: Hashable {
            var kind: ResourceKind
            var id: String
        }

        /// Marks a resource as changed (or deleted, when it is gone from `state`).
        public mutating func touch(_ kind: ResourceKind, _ id: String) { touched.insert(Touched(kind: kind, id: id)) }

        public mutating func touchQuota(_ project: String) { touchedQuotas.insert(project) }
    }
}

extension NetworkState {
    func encoded(_ kind: ResourceKind, _ id: String, _ encoder: JSONEncoder) throws -> Data? {
        switch kind {
        case .network: try networks[id].map(encoder.encode)
        case .subnet: try subnets[id].map(encoder.encode)
        case .subnetpool: try subnetPools[id].map(encoder.encode)
        case .port: try ports[id].map(encoder.encode)
        case .router: try routers[id].map(encoder.encode)
        case .floatingip: try floatingIPs[id].map(encoder.encode)
        case .securityGroup: try securityGroups[id].map(encoder.encode)
        case .securityGroupRule: try rules[id].map(encoder.encode)
        }
    }
}
