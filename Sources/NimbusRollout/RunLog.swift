import Foundation

/// The record of one run under `/var/tmp/nimbus/<timestamp>/`: the plan, one log per host,
/// `summary.json`, and a `latest` link beside it. Every secret is masked before writing.
///
/// The root is shared ground (`/var/tmp` is writable by everyone), so it is used only when
/// it is a directory of the user running nimbus that nobody else can write; a root readable
/// by others is made private (0700). Run directories are made 0700 and files 0600.
public final class RunLog: Sendable {
    public let directory: String
    private let secrets: [String]
    private let lock = NSLock()

    public static let defaultRoot = "/var/tmp/nimbus"

    /// Why the run log cannot be made.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// The root or a run directory is not safely ours: owned by another user, writable
        /// by others, or not a directory.
        case unsafe(path: String, reason: String)
        /// A system call failed (`call` and its errno).
        case system(path: String, call: String, errno: Int32)

        public var description: String {
            switch self {
            case .unsafe(let path, let reason):
                "\(path) \(reason); remove it (or pass another --log-root) and deploy again"
            case .system(let path, let call, let errno):
                "\(path): \(call) failed: \(String(cString: strerror(errno)))"
            }
        }
    }

    /// Creates a new run directory (`YYYYmmdd-HHMMSS`, suffixed when taken) and points `latest` at it.
    public init(root: String = RunLog.defaultRoot, secrets: [String], now: Date = Date()) throws(RunLog.Error) {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let stamp = formatter.string(from: now)
        try Self.makePrivateRoot(root)
        var candidate = "\(root)/\(stamp)"
        var suffix = 2
        // mkdir refuses a path that exists, so a run directory is always a new one of ours.
        while mkdir(candidate, 0o700) != 0 {
            guard errno == EEXIST else { throw .system(path: candidate, call: "mkdir", errno: errno) }
            candidate = "\(root)/\(stamp)-\(suffix)"
            suffix += 1
        }
        try Self.checkPrivate(candidate, tighten: false)
        directory = candidate
        // Longest first, so a secret containing another is masked whole.
        self.secrets = secrets.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
        let link = "\(root)/latest"
        let temporary = "\(root)/.latest-\(getpid())"
        unlink(temporary)
        guard symlink(URL(fileURLWithPath: candidate).lastPathComponent, temporary) == 0 else {
            throw .system(path: temporary, call: "symlink", errno: errno)
        }
        guard rename(temporary, link) == 0 else {
            let error = errno
            unlink(temporary)
            throw .system(path: link, call: "rename", errno: error)
        }
    }

    /// Makes the root (0700) unless it exists, then checks it is a private directory of ours.
    static func makePrivateRoot(_ root: String) throws(RunLog.Error) {
        // Missing parents as `mkdir -p` makes them.
        var parent = root.hasPrefix("/") ? "" : "."
        for component in root.split(separator: "/").dropLast() {
            parent += "/" + component
            if mkdir(parent, 0o755) != 0 && errno != EEXIST {
                throw .system(path: parent, call: "mkdir", errno: errno)
            }
        }
        if mkdir(root, 0o700) != 0 && errno != EEXIST { throw .system(path: root, call: "mkdir", errno: errno) }
        try checkPrivate(root, tighten: true)
    }

    /// Refuses `path` unless it is a directory (or a link of ours to one) owned by this
    /// process's effective user that neither its group nor others can write; `tighten`
    /// takes away the group's and others' remaining read and search bits.
    static func checkPrivate(_ path: String, tighten: Bool) throws(RunLog.Error) {
        let me = geteuid()
        var info = stat()
        guard lstat(path, &info) == 0 else { throw .system(path: path, call: "lstat", errno: errno) }
        if info.st_mode & S_IFMT == S_IFLNK {
            guard info.st_uid == me else {
                throw .unsafe(
                    path: path, reason: "is a symbolic link owned by \(user(info.st_uid)), not by \(user(me))")
            }
            guard stat(path, &info) == 0 else { throw .system(path: path, call: "stat", errno: errno) }
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .unsafe(path: path, reason: "is not a directory") }
        guard info.st_uid == me else {
            throw .unsafe(
                path: path,
                reason:
                    "is owned by \(user(info.st_uid)), not by \(user(me)) who runs nimbus: whoever made it could read the logs"
            )
        }
        let mode = info.st_mode & 0o7777
        guard mode & 0o022 == 0 else {
            throw .unsafe(
                path: path,
                reason:
                    "is writable by \(mode & 0o002 != 0 ? "everyone" : "its group") (mode \(String(mode, radix: 8)))")
        }
        guard mode & 0o077 != 0 else { return }
        guard tighten else {
            throw .unsafe(path: path, reason: "is readable by others (mode \(String(mode, radix: 8)))")
        }
        guard chmod(path, mode & ~0o077) == 0 else { throw .system(path: path, call: "chmod", errno: errno) }
    }

    /// `uid 65534 (nobody)`.
    static func user(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid) else { return "uid \(uid)" }
        return "uid \(uid) (\(String(cString: entry.pointee.pw_name)))"
    }

    public func mask(_ text: String) -> String {
        secrets.reduce(text) { $0.replacingOccurrences(of: $1, with: "********") }
    }

    /// Writes a whole file in the run directory (masked).
    public func write(_ name: String, _ text: String) {
        let path = "\(directory)/\(name)"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(mask(text).utf8), attributes: [.posixPermissions: 0o600])
    }

    /// Appends a timestamped entry to a host's log.
    public func append(host: String, _ text: String) {
        let path = "\(directory)/\(Self.fileName(host)).log"
        let stamp = ISO8601DateFormatter.string(
            from: Date(), timeZone: .current, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let entry = mask("[\(stamp)] " + text + (text.hasSuffix("\n") ? "" : "\n"))
        lock.withLock {
            if let handle = FileHandle(forWritingAtPath: path) {
                handle.seekToEndOfFile()
                handle.write(Data(entry.utf8))
                try? handle.close()
            } else {
                _ = FileManager.default.createFile(
                    atPath: path, contents: Data(entry.utf8), attributes: [.posixPermissions: 0o600])
            }
        }
    }

    public static func fileName(_ host: String) -> String {
        String(host.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }

    /// A script as logged: heredoc payloads (file contents) replaced by their size.
    public static func elidingPayloads(_ script: String) -> String {
        var out: [Substring] = []
        var inside: String?
        var size = 0
        for line in script.split(separator: "\n", omittingEmptySubsequences: false) {
            if let end = inside {
                if line == end {
                    out.append("  … \(size) bytes …")
                    out.append(line)
                    inside = nil
                } else {
                    size += line.utf8.count + 1
                }
                continue
            }
            out.append(line)
            for marker in ["NIMBUS_DATA", "NIMBUS_FILE"] where line.hasSuffix("<<'\(marker)'") {
                inside = marker
                size = 0
            }
        }
        return out.joined(separator: "\n")
    }
}
