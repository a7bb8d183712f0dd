import Foundation
import Glibc
import NimbusSystem

/// A network's dnsmasq, found by its pid file and checked in /proc: alive, not a zombie,
/// and its command line names the network (which also guards against a reused pid). It is
/// started by the agent through `nsenter` and daemonizes; it outlives an agent restart
/// (`KillMode=process`), and is reloaded with SIGHUP, never restarted, when only its files
/// change.
enum Dnsmasq {
    /// The running process: its pid and arguments (after the program name).
    struct Process: Equatable {
        var pid: pid_t
        var arguments: [String]
    }

    /// The dnsmasq serving `networkID` from `directory`, if it runs.
    static func running(directory: String, networkID: String) -> Process? {
        guard let text = SystemFile.text(directory + "/" + DHCPPlan.Server.pidFile),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0
        else { return nil }
        return process(pid, networkID: networkID)
    }

    /// Process `pid` if it is a live dnsmasq of `networkID`.
    static func process(_ pid: pid_t, networkID: String) -> Process? {
        guard let bytes = SystemFile.read("/proc/\(pid)/cmdline"), !bytes.isEmpty,
            let status = SystemFile.text("/proc/\(pid)/status")
        else { return nil }
        let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        let zombie = status.split(separator: "\n").contains { $0.hasPrefix("State:") && $0.contains("Z") }
        guard !zombie, let program = arguments.first, program.hasSuffix("dnsmasq"),
            arguments.contains(where: { $0.contains(networkID) })
        else { return nil }
        // The command line ends in a NUL, which leaves an empty last field.
        let trimmed = arguments.last == "" ? arguments.dropLast() : arguments[...]
        return Process(pid: pid, arguments: Array(trimmed.dropFirst()))
    }

    /// Tells dnsmasq to read its hosts and options files again.
    static func reload(_ process: Process, networkID: String) throws(DataplaneError) {
        guard kill(process.pid, SIGHUP) == 0 else {
            throw .dnsmasq(
                network: networkID, reason: "SIGHUP to \(process.pid) failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Stops dnsmasq: SIGTERM, then SIGKILL after 3 s; returns once the process is gone (a
    /// process still exiting would make a new one's start fail).
    static func stop(_ process: Process, networkID: String) async throws(DataplaneError) {
        kill(process.pid, SIGTERM)
        for attempt in 0..<200 {
            guard Self.process(process.pid, networkID: networkID) != nil else { return }
            if attempt == 150 { kill(process.pid, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        throw .dnsmasq(network: networkID, reason: "process \(process.pid) did not end after SIGTERM and SIGKILL")
    }
}

/// Writing the agents' state files: atomically (a temporary file renamed over), readable by
/// everyone (dnsmasq reads its files as `nobody` after start-up), only when the content
/// changed.
enum StateFile {
    /// Writes `content` to `path` unless it holds that already; whether it wrote.
    static func write(_ content: String, to path: String) throws(DataplaneError) -> Bool {
        if SystemFile.text(path) == content { return false }
        let temporary = path + ".new"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data(content.utf8), attributes: [.posixPermissions: 0o644])
        else { throw .stateFile(path: temporary, reason: "cannot be written") }
        guard rename(temporary, path) == 0 else {
            throw .stateFile(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// Creates `path` and its parents (mode 0755) if missing.
    static func directory(_ path: String) throws(DataplaneError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        } catch {
            throw .stateFile(path: path, reason: "cannot create the directory: \(error.localizedDescription)")
        }
    }

    /// The names of the subdirectories of `path` that are resource ids: what the agent made.
    static func owned(in path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter(BodyReader.isSafeID).sorted()
    }

    /// Removes a directory the agent made, with its files.
    static func remove(_ path: String) throws(DataplaneError) {
        guard FileManager.default.fileExists(atPath: path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw .stateFile(path: path, reason: "cannot be removed: \(error.localizedDescription)")
        }
    }
}
