import Foundation
import Glibc

/// Starting a program that outlives this process (the sandbox's node supervisors).
public enum Daemon {
    /// Starts `arguments[0]` (looked up in PATH) in a session of its own with standard
    /// input and output on /dev/null and no other descriptor inherited, and returns without
    /// waiting (posix_spawn(3)). A pipe to the child, as a collecting runner keeps, would
    /// hold this process waiting for as long as the daemon lives.
    public static func spawn(_ arguments: [String]) throws(ProcessError) {
        guard let program = arguments.first, let path = ProcessRunner.resolve(program) else {
            throw .notFound(arguments.first ?? "")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        closeOnExec()
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, spawnSetSID)
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard result == 0 else { throw .cannotStart(program, reason: String(cString: strerror(result))) }
    }

    /// glibc's POSIX_SPAWN_SETSID (spawn.h; a GNU extension Swift's Glibc module leaves out).
    static let spawnSetSID: Int16 = 0x80

    /// Marks every descriptor above 2 close-on-exec, so no child started after this
    /// inherits one (glibc's posix_spawn_file_actions_addclosefrom_np is not imported).
    static func closeOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for entry in entries {
            guard let descriptor = Int32(entry), descriptor > 2 else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
    }
}
