import GRDB

/// How every service opens its SQLite database: WAL, foreign keys on, a 5 s busy timeout,
/// migrated at open, at the `synchronous` level its store chooses; `path` nil is an
/// in-memory database (tests). `concurrentReads` gives a pool whose readers never wait for
/// the writer.
public enum ServiceDatabase {
    /// SQLite's `PRAGMA synchronous` in WAL mode: when a commit is on disk.
    public enum Synchronous: String, Sendable {
        /// The WAL is fsynced only at checkpoints: a commit survives a crash of the process,
        /// but a power loss may roll back the last commits (never corrupting the database).
        case normal = "NORMAL"
        /// The WAL is fsynced at every commit: once a write returns, it survives a power
        /// loss. The file-backed stores need it because they unlink a data file right after
        /// the commit that stops naming it; were that commit rolled back by a power loss
        /// while the unlink survived, the row would name a file that is gone. The identity
        /// store needs it because an acknowledged revocation, password change or removed
        /// grant must not come undone.
        case full = "FULL"
    }

    public static func open(
        path: String?, migrator: DatabaseMigrator, synchronous: Synchronous, concurrentReads: Bool = false
    ) throws -> any DatabaseWriter {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let database: any DatabaseWriter
        if let path {
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = \(synchronous.rawValue)")
            }
            database =
                concurrentReads
                ? try DatabasePool(path: path, configuration: configuration)
                : try DatabaseQueue(path: path, configuration: configuration)
        } else {
            database = try DatabaseQueue(configuration: configuration)
        }
        try migrator.migrate(database)
        return database
    }
}

extension String {
    /// The text with `&`, `<` and `>` escaped, for an HTML or XML body.
    public var htmlEscaped: String {
        replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
