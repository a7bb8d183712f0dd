import Foundation
import NimbusModel
import NimbusSystem

/// A node's state as the host sees it.
public struct NodeStatus: Sendable, Codable, Equatable {
    public var name: String
    public var managementAddress: String
    public var providerAddress: String
    /// The supervisor and its systemd-nspawn run.
    public var running: Bool
    /// The node's sshd answers on its management address.
    public var sshAnswers: Bool
}

extension SandboxManager {
    /// The supervisor's PID when it is alive and really that node's supervisor.
    func supervisorPID(_ sandbox: String, _ node: SandboxNode) -> pid_t? {
        let directory = paths.node(sandbox, node.name)
        guard let text = try? String(contentsOfFile: "\(directory)/supervisor.pid", encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            let commandLine = SystemFile.read("/proc/\(pid)/cmdline")
        else { return nil }
        let arguments = String(decoding: commandLine, as: UTF8.self)
        return arguments.contains("supervise.sh") && arguments.contains("\(directory)/node.env") ? pid : nil
    }

    public func status(_ spec: SandboxSpec) -> [NodeStatus] {
        spec.nodes.map { node in
            NodeStatus(
                name: node.name, managementAddress: node.managementAddress.description,
                providerAddress: node.providerAddress.description, running: supervisorPID(spec.name, node) != nil,
                sshAnswers: TCPProbe.answers(host: node.managementAddress.description, port: 22, prefix: "SSH-"))
        }
    }

    public func node(_ sandbox: String, named name: String) throws(SandboxError) -> (SandboxSpec, SandboxNode) {
        let spec = try loadSpec(sandbox)
        guard let node = spec.nodes.first(where: { $0.name == name || $0.managementAddress.description == name })
        else { throw .unknownNode(sandbox: sandbox, node: name, known: spec.nodes.map(\.name)) }
        return (spec, node)
    }

    /// The `ssh` command line that reaches a node as root, host key checked.
    public func sshArguments(_ spec: SandboxSpec, _ node: SandboxNode, command: [String]) -> [String] {
        [
            "ssh", "-i", paths.privateKey(spec.name), "-o", "UserKnownHostsFile=\(paths.knownHosts(spec.name))",
            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            "-o", "LogLevel=ERROR", "root@\(node.managementAddress)",
        ] + command
    }

    /// Reboots a node from inside: its systemd gets SIGRTMIN+5 (what `systemctl reboot`
    /// asks of it, without depending on the node's sshd answering in time), stops its units
    /// and exits; its supervisor starts it again. Returns when SSH answers again.
    public func reboot(_ sandbox: String, node name: String, timeout: Double = 60) throws(SandboxError) -> Double {
        let (spec, node) = try node(sandbox, named: name)
        guard let supervisor = supervisorPID(sandbox, node) else {
            throw .conflict("\(node.name) is not running; nimbus sandbox up --name \(sandbox) starts it")
        }
        let started = Date()
        let directory = paths.node(sandbox, node.name)
        let nspawnPIDFile = "\(directory)/nspawn.pid"
        let before = (try? String(contentsOfFile: nspawnPIDFile, encoding: .utf8)) ?? ""
        if let initPID = NodeProcesses.initPID(upper: "\(directory)/upper") {
            kill(initPID, __libc_current_sigrtmin() + 5)
        } else {
            _ = try? runner.run(sshArguments(spec, node, command: ["systemctl", "reboot"]), input: nil, timeout: 15)
        }
        // The node is back when its supervisor runs a new systemd-nspawn and sshd answers.
        let deadline = started.addingTimeInterval(timeout)
        var stopped: Date?
        while Date() < deadline {
            let now = (try? String(contentsOfFile: nspawnPIDFile, encoding: .utf8)) ?? ""
            if !now.isEmpty && now != before {
                stopped = stopped ?? Date()
                if TCPProbe.answers(
                    host: node.managementAddress.description, port: 22, prefix: "SSH-", timeout: 0.5)
                {
                    return Date().timeIntervalSince(started)
                }
            }
            if kill(supervisor, 0) != 0 {
                throw .conflict("\(node.name)'s supervisor stopped during the reboot; see \(directory)/supervisor.log")
            }
            usleep(50_000)
        }
        // Which half did not end, with the console's last lines (overwritten at each boot).
        let phase =
            stopped.map { "it stopped after \(Int($0.timeIntervalSince(started))) s but its sshd does not answer" }
            ?? "it has not stopped"
        let console = (try? String(contentsOfFile: "\(directory)/console.log", encoding: .utf8)) ?? ""
        let tail = console.split(separator: "\n").suffix(12).joined(separator: "\n")
        throw .timeout(
            step: "reboot \(node.name)", seconds: Int(timeout),
            detail: "\(phase); \(directory)/console.log ends:\n\(tail)")
    }

    /// Stops every node (clean poweroff), removes namespaces, veths, mounts and bridges.
    /// `purge` also deletes the sandbox's disks, and the cached base once no sandbox is left.
    public func down(_ sandbox: String, purge: Bool, progress: (String) -> Void) throws(SandboxError) {
        let lock = try SandboxLock(root: paths.root, name: sandbox)
        defer { lock.close() }
        let spec: SandboxSpec
        do { spec = try loadSpec(sandbox) } catch {
            guard purge, FileManager.default.fileExists(atPath: paths.sandbox(sandbox)) else { throw error }
            spec = SandboxSpec(name: sandbox, nodeCount: SandboxSpec.maximumNodes)
        }
        stopSupervisors(spec.name, spec.nodes)
        for node in spec.nodes {
            NodeProcesses.kill(upper: "\(paths.node(spec.name, node.name))/upper")
            _ = try? runner.run("ip", "netns", "del", node.namespace, timeout: 10)
            for veth in [node.managementVeth, node.providerVeth] {
                _ = try? runner.run("ip", "link", "del", veth, timeout: 10)
            }
            for mount in Mounts.under("\(paths.node(spec.name, node.name))/root") {
                if (try? runner.run("umount", mount, timeout: 30))?.status != 0 {
                    _ = try? runner.run("umount", "-l", mount, timeout: 30)
                }
            }
        }
        for bridge in [spec.managementBridge, spec.providerBridge] {
            _ = try? runner.run("ip", "link", "del", bridge, timeout: 10)
        }
        progress("stopped \(spec.name): nodes powered off, namespaces, veths, mounts and bridges removed")
        guard purge else { return }
        try command(
            "delete sandbox \(spec.name)", ["rm", "-rf", "--one-file-system", paths.sandbox(spec.name)], timeout: 300)
        if paths.sandboxNames().isEmpty {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: paths.root)) ?? []
            for entry in entries where entry.hasPrefix("base-") || entry.hasPrefix(".base-") {
                try command(
                    "delete the cached base", ["rm", "-rf", "--one-file-system", "\(paths.root)/\(entry)"], timeout: 300
                )
            }
            try? FileManager.default.removeItem(atPath: paths.root)
        }
        progress("purged \(spec.name): its disks\(paths.sandboxNames().isEmpty ? " and the cached base" : "") deleted")
    }

    /// SIGTERM to every supervisor, each of which powers its node off; SIGKILL to what
    /// is still there after 30 s.
    func stopSupervisors(_ sandbox: String, _ nodes: [SandboxNode]) {
        let running = nodes.compactMap { node in supervisorPID(sandbox, node).map { (node, $0) } }
        for (_, pid) in running { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(30)
        while running.contains(where: { kill($0.1, 0) == 0 }) && Date() < deadline { usleep(50_000) }
        for (node, pid) in running where kill(pid, 0) == 0 {
            let nspawn = (try? String(contentsOfFile: "\(paths.node(sandbox, node.name))/nspawn.pid", encoding: .utf8))
                .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if let nspawn { kill(nspawn, SIGKILL) }
            kill(pid, SIGKILL)
        }
    }
}

/// Processes that run inside a node, found by the overlay mounted as their root
/// (`/proc/PID/root` reads `/` inside nspawn's mount namespace, so it cannot tell).
enum NodeProcesses {
    /// PIDs whose root file system is the overlay with upper directory `upper`.
    static func find(upper: String) -> [pid_t] {
        let needle = "upperdir=\(upper),"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry), pid != getpid(),
                let data = SystemFile.read("/proc/\(entry)/mountinfo")
            else { return nil }
            let text = String(decoding: data, as: UTF8.self)
            let root = text.split(separator: "\n").first { $0.split(separator: " ").dropFirst(4).first == "/" }
            return root?.contains(needle) == true ? pid : nil
        }
    }

    /// The node's systemd, PID 1 in its PID namespace.
    static func initPID(upper: String) -> pid_t? {
        find(upper: upper).first { pid in
            guard let data = SystemFile.read("/proc/\(pid)/status") else { return false }
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("NSpid:") }
            let ids = line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst() ?? []
            return ids.count > 1 && ids.last == "1"
        }
    }

    /// Kills what still runs in a node whose systemd-nspawn died (a crash, a SIGKILL):
    /// its systemd would otherwise keep running beside the next boot of the same disk.
    static func kill(upper: String) {
        let pids = find(upper: upper)
        guard !pids.isEmpty else { return }
        for pid in pids { Glibc.kill(pid, SIGKILL) }
        let deadline = Date().addingTimeInterval(5)
        while !find(upper: upper).isEmpty && Date() < deadline { usleep(20_000) }
    }
}
