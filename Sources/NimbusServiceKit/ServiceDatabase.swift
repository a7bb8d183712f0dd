import GRDB

/// How every service opens its SQLite database: WAL with `synchronous = NORMAL`, foreign
/// keys on, a 5 s busy timeout, migrated at open; `path` nil is an in-memory database
/// (tests). `concurrentReads` gives a pool whose readers never wait for the writer.
public enum ServiceDatabase {
    public static func open(path: String?, migrator: DatabaseMigrator, concurrentReads: Bool = false) throws
        -> any DatabaseWriter
    {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        let database: any DatabaseWriter
        if let path {
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL")
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
