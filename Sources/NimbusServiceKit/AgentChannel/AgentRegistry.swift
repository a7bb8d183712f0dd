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

    /// Records a heartbeat and the statuses it carries (`kind`/`id` → status).
    public func heartbeat(
        host: String, type: String, startedAt: Date, revision: Int64,
        statuses: [(kind: String, id: String, state: String, detail: String)]
    ) throws {
        let time = now().timeIntervalSince1970
        try database.write { db in
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
            // Statuses of resources that no longer exist go with them.
            try db.execute(
                sql: """
                    DELETE FROM channel_status WHERE NOT EXISTS (SELECT 1 FROM channel_resource r
                        WHERE r.kind = channel_status.kind AND r.id = channel_status.id AND r.body IS NOT NULL)
                    """)
        }
    }

    public func agents() throws -> [Agent] {
        let limit = now().timeIntervalSince1970 - downTime
        return try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM channel_agent ORDER BY type, host").map { row in
                let heartbeat: Double = row["heartbeat_at"]
                return Agent(
                    host: row["host"], type: row["type"], startedAt: Date(timeIntervalSince1970: row["started_at"]),
                    heartbeatAt: Date(timeIntervalSince1970: heartbeat), revision: row["revision"],
                    alive: heartbeat >= limit)
            }
        }
    }

    /// What the agents reported of `kind`/`id`.
    public func statuses(kind: String, id: String) throws -> [Status] {
        try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM channel_status WHERE kind = ? AND id = ? ORDER BY host, type",
                arguments: [kind, id]
            ).map {
                Status(
                    host: $0["host"], type: $0["type"], state: $0["state"], detail: $0["detail"],
                    revision: $0["revision"])
            }
        }
    }

    /// Forgets an agent (`network agent delete`).
    public func remove(host: String, type: String) throws -> Bool {
        try database.write { db in
            try db.execute(sql: "DELETE FROM channel_status WHERE host = ? AND type = ?", arguments: [host, type])
            try db.execute(sql: "DELETE FROM channel_agent WHERE host = ? AND type = ?", arguments: [host, type])
            return db.changesCount > 0
        }
    }
}
