import Foundation
import GRDB

/// What an API knows of its agents: each agent's heartbeats (so `network agent list` and
/// `compute service list` can say `up`/`down`, `:-)`/`XXX`) and the status it last
/// reported per resource.
public final class AgentRegistry: Sendable {
    /// One agent as an API lists it.
    public struct Agent: Sendable, Equatable {
        public var host: String
        /// What it does (`network-agent`, `compute-agent`, …).
        public var type: String
        public var startedAt: Date
        public var heartbeatAt: Date
        /// The channel revision it had applied at its last heartbeat.
        public var revision: Int64
        public var alive: Bool
        /// What the agent said of itself in its last heartbeat (`{}` when nothing).
        public var configuration: JSON = [:]
    }

    /// A resource's state as an agent reported it (`active`, `error`, …).
    public struct Status: Sendable, Equatable {
        public var host: String
        public var type: String
        public var state: String
        public var detail: String
        public var revision: Int64

        public init(host: String, type: String, state: String, detail: String, revision: Int64) {
            self.host = host
            self.type = type
            self.state = state
            self.detail = detail
            self.revision = revision
        }
    }

    let database: any DatabaseWriter
    /// An agent is down after this long without a heartbeat (Neutron's agent_down_time).
    public let downTime: Double
    let now: @Sendable () -> Date

    public init(database: any DatabaseWriter, downTime: Double = 75, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.downTime = downTime
        self.now = now
    }

    /// The kind under which agents' configurations are published on the channel (id
    /// `type/host`), so an agent learns its peers (the L2 agents' tunnel addresses).
    public static let agentKind = "agent"

    /// Records a heartbeat and the statuses it carries (`kind`/`id` → status). A changed
    /// `configuration` is published as item `agent`/`type/host`; the answer says whether
    /// it was (the caller then wakes the watchers with `ChangeLog.committed()`).
    @discardableResult
    public func heartbeat(
        host: String, type: String, startedAt: Date, revision: Int64,
        statuses: [(kind: String, id: String, state: String, detail: String)], configuration: JSON? = nil
    ) throws -> Bool {
        let time = now().timeIntervalSince1970
        return try database.write { db in
            let before = try String.fetchOne(
                db, sql: "SELECT configuration FROM channel_agent WHERE host = ? AND type = ?", arguments: [host, type])
            try db.execute(
                sql: """
                    INSERT INTO channel_agent (host, type, started_at, heartbeat_at, revision) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (host, type) DO UPDATE SET started_at = excluded.started_at,
                        heartbeat_at = excluded.heartbeat_at, revision = excluded.revision
                    """, arguments: [host, type, startedAt.timeIntervalSince1970, time, revision])
            for status in statuses {
                try db.execute(
                    sql: """
                        INSERT INTO channel_status (kind, id, host, type, state, detail, revision) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (kind, id, host, type) DO UPDATE SET state = excluded.state,
                            detail = excluded.detail, revision = excluded.revision
                        """, arguments: [status.kind, status.id, host, type, status.state, status.detail, revision])
            }
            // Statuses of resources that no longer exist go with them; a status of a part of
            // a resource (id `resource/part`, any kind: an instance's volume attachment)
            // lives as long as that resource.
            try db.execute(
                sql: """
                    DELETE FROM channel_status WHERE NOT EXISTS (SELECT 1 FROM channel_resource r
                        WHERE r.body IS NOT NULL AND ((r.kind = channel_status.kind AND r.id = channel_status.id)
                            OR (instr(channel_status.id, '/') > 1
                                AND r.id = substr(channel_status.id, 1, instr(channel_status.id, '/') - 1))))
                    """)
            guard let configuration, configuration.text != before else { return false }
            try db.execute(
                sql: "UPDATE channel_agent SET configuration = ? WHERE host = ? AND type = ?",
                arguments: [configuration.text, host, type])
            try ChangeLog.put(
                db, kind: Self.agentKind, id: "\(type)/\(host)",
                body: ["host": .string(host), "type": .string(type), "configuration": configuration])
            return true
        }
    }

    public func agents() throws -> [Agent] {
        let limit = now().timeIntervalSince1970 - downTime
        return try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM channel_agent ORDER BY type, host").map { row in
                let heartbeat: Double = row["heartbeat_at"]
                let text: String = row["configuration"]
                return Agent(
                    host: row["host"], type: row["type"], startedAt: Date(timeIntervalSince1970: row["started_at"]),
                    heartbeatAt: Date(timeIntervalSince1970: heartbeat), revision: row["revision"],
                    alive: heartbeat >= limit, configuration: (try? JSON.parse(Array(text.utf8))) ?? [:])
            }
        }
    }

    /// What the agents reported of `kind`/`id`.
    public func statuses(kind: String, id: String) throws -> [Status] {
        try statuses(kind: kind, id: Optional(id)).map(\.status)
    }

    /// The newest report (highest revision) on every resource of `kind`, by id; none when
    /// the database cannot be read.
    public func newestStatuses(kind: String) -> [String: Status] {
        var newest: [String: Status] = [:]
        for (id, status) in (try? statuses(kind: kind, id: nil)) ?? [] {
            if newest[id].map({ $0.revision < status.revision }) ?? true { newest[id] = status }
        }
        return newest
    }

    /// What the agents reported of every resource of `kind` (or of one, `id`): each
    /// status with the resource's id.
    public func statuses(kind: String, id: String?) throws -> [(id: String, status: Status)] {
        try database.read { db in
            let rows =
                if let id {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM channel_status WHERE kind = ? AND id = ? ORDER BY host, type",
                        arguments: [kind, id])
                } else {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM channel_status WHERE kind = ? ORDER BY id, host, type",
                        arguments: [kind])
                }
            return rows.map { row in
                (
                    row["id"],
                    Status(
                        host: row["host"], type: row["type"], state: row["state"], detail: row["detail"],
                        revision: row["revision"])
                )
            }
        }
    }

    /// Forgets an agent (`network agent delete`).
    public func remove(host: String, type: String) throws -> Bool {
        try database.write { db in
            try db.execute(sql: "DELETE FROM channel_status WHERE host = ? AND type = ?", arguments: [host, type])
            try db.execute(sql: "DELETE FROM channel_agent WHERE host = ? AND type = ?", arguments: [host, type])
            let removed = db.changesCount > 0
            try ChangeLog.delete(db, kind: Self.agentKind, id: "\(type)/\(host)")
            return removed
        }
    }
}
