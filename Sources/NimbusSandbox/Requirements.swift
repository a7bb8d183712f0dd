import Foundation
import NimbusModel
import NimbusSystem

/// What the machine needs before a sandbox can start, checked up front so a missing piece
/// is named, with the Debian package that brings it, before anything is changed.
public enum Requirements {
    /// Programs the sandbox runs, and the Debian package of each.
    static let programs: [(String, String)] = [
        ("systemd-nspawn", "systemd-container"), ("debootstrap", "debootstrap"), ("ip", "iproute2"),
        ("ssh", "openssh-client"), ("ssh-keygen", "openssh-client"), ("dpkg-scanpackages", "dpkg-dev"),
        ("setsid", "util-linux"), ("mount", "mount"), ("chroot", "coreutils"),
    ]

    /// Inotify instances one node holds (systemd, journald, networkd, dbus…), measured.
    public static let inotifyPerNode = 8

    public static func check(
        nodes: Int, needBase: Bool, stateRoot: String, runner: any CommandRunner
    ) -> [String] {
        var problems: [String] = []
        if geteuid() != 0 {
            problems.append("run as root: a sandbox makes network namespaces, bridges and mounts")
        }
        let missing = programs.filter { ProcessRunner.resolve($0.0) == nil }
        if !missing.isEmpty {
            let packages = Array(Set(missing.map(\.1))).sorted().joined(separator: " ")
            problems.append(
                "missing \(missing.map(\.0).joined(separator: ", ")): apt-get install \(packages) (make demo and make test install them)"
            )
        }
        if !filesystems().contains("overlay") {
            _ = try? runner.run("modprobe", "overlay", timeout: 10)
            if !filesystems().contains("overlay") {
                problems.append("the kernel has no overlay filesystem (modprobe overlay failed)")
            }
        }
        let needed: UInt64 = needBase ? 3 << 30 : 256 << 20
        if let free = freeBytes(near: stateRoot), free < needed {
            problems.append(
                "\(stateRoot): \(free >> 20) MiB free; a sandbox needs \(needed >> 20) MiB\(needBase ? " to build its base rootfs" : "")"
            )
        }
        if let limit = inotifyLimit(), limit < nodes * inotifyPerNode + 40 {
            problems.append(
                "fs.inotify.max_user_instances is \(limit), too few for \(nodes) nodes (about \(inotifyPerNode) each): nodes would fail to start services. Raise it: sysctl -w fs.inotify.max_user_instances=\(max(512, nodes * inotifyPerNode * 2)), or pass --raise-limits"
            )
        }
        return problems
    }

    static func filesystems() -> String {
        SystemFile.text("/proc/filesystems") ?? ""
    }

    public static func inotifyLimit() -> Int? {
        (try? String(contentsOfFile: "/proc/sys/fs/inotify/max_user_instances", encoding: .utf8))
            .flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Free bytes on the file system of `path` or its nearest existing parent.
    static func freeBytes(near path: String) -> UInt64? {
        var candidate = URL(fileURLWithPath: path)
        while !FileManager.default.fileExists(atPath: candidate.path) && candidate.path != "/" {
            candidate.deleteLastPathComponent()
        }
        var info = statvfs()
        guard statvfs(candidate.path, &info) == 0 else { return nil }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }
}
