import Foundation
import NimbusServiceKit
import NimbusSystem

/// The NBD exports of the attached volumes: one `qemu-storage-daemon` per attached volume,
/// bound to the storage host's management address on the port its attachment was given,
/// with a QMP socket (in-use snapshots go through it), and an nftables table that lets
/// only the attaching host reach that port. The daemons run detached from the agent
/// (`--daemonize`, and the unit's `KillMode=process`): an agent restart leaves the guests'
/// disks alone; after a host boot the agent starts them again, and the guests' NBD
/// clients reconnect.
extension VolumeReconciler {
    /// An export as the API asks it: the attachment's port, the one address let in, and
    /// whether the guest may write.
    struct Export: Codable, Equatable {
        var attachment: String
        var port: Int
        var allow: String
        var writable: Bool

        init?(_ body: JSON) {
            guard let attachment = body["attachment"]?.string, let port = body["port"]?.int, port > 0, port < 65536,
                let allow = body["allow"]?.string, Self.address(allow)
            else { return nil }
            self.attachment = attachment
            self.port = Int(port)
            self.allow = allow
            writable = body["mode"]?.string != "ro"
        }

        /// A dotted IPv4 address (what goes into the daemon's and nft's arguments).
        static func address(_ text: String) -> Bool {
            var address = in_addr()
            return inet_pton(AF_INET, text, &address) == 1
        }
    }

    var exportsDirectory: String { settings.directory + "/exports" }
    func pidFile(_ id: String) -> String { exportsDirectory + "/" + id + ".pid" }
    func monitor(_ id: String) -> String { exportsDirectory + "/" + id + ".qmp" }

    /// The export the volume's item asks for, if any.
    static func export(of body: JSON) -> Export? { (body["exports"]?.array ?? []).lazy.compactMap(Export.init).first }

    /// The pid of the running daemon exporting volume `id`, if one runs.
    func exportDaemon(_ id: String) -> Int32? {
        guard let text = try? String(contentsOfFile: pidFile(id), encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
            let command = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))
        else { return nil }
        // A pid reused after a reboot is not ours: the daemon's command names the file.
        let words = String(decoding: command, as: UTF8.self)
        return words.contains("qemu-storage-daemon") && words.contains(path(id)) ? pid : nil
    }

    /// Makes volume `id` exported as its item asks (or not at all).
    func keepExport(_ id: String, _ body: JSON) async throws {
        let wanted = Self.export(of: body)
        let running = exportDaemon(id)
        if let wanted, running != nil, exports[id] == wanted { return }
        if running != nil || exports[id] != nil { await stopExport(id) }
        guard let wanted else { return }
        try FileManager.default.createDirectory(
            atPath: exportsDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? FileManager.default.removeItem(atPath: monitor(id))
        func option(_ text: String) -> String { text.replacingOccurrences(of: ",", with: ",,") }
        let address = settings.exportAddress
        try await runner.check(
            Command([
                "qemu-storage-daemon", "--daemonize", "--pidfile", pidFile(id),
                "--blockdev", "driver=file,node-name=file,filename=\(option(path(id)))",
                "--blockdev", "driver=qcow2,node-name=vol,file=file\(wanted.writable ? "" : ",read-only=on")",
                "--nbd-server", "addr.type=inet,addr.host=\(address),addr.port=\(wanted.port),max-connections=4",
                "--export", "type=nbd,id=export,node-name=vol,name=\(id),writable=\(wanted.writable ? "on" : "off")",
                "--chardev", "socket,id=qmp,path=\(option(monitor(id))),server=on,wait=off",
                "--monitor", "chardev=qmp",
            ]))
        exports[id] = wanted
        try await writeFirewall()
        logger.info(
            "volume exported",
            metadata: [
                "volume": "\(id)", "nbd": "\(address):\(wanted.port)", "to": "\(wanted.allow)",
                "mode": "\(wanted.writable ? "rw" : "ro")",
            ])
    }

    /// Ends volume `id`'s export: the daemon asked to quit (it flushes the file), killed when
    /// it does not within 5 s.
    func stopExport(_ id: String) async {
        if let pid = exportDaemon(id) {
            kill(pid, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(5)
            while exportDaemon(id) != nil, kill(pid, 0) == 0, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if exportDaemon(id) != nil { kill(pid, SIGKILL) }
            logger.info("volume export ended", metadata: ["volume": "\(id)"])
        }
        try? FileManager.default.removeItem(atPath: pidFile(id))
        try? FileManager.default.removeItem(atPath: monitor(id))
        if exports.removeValue(forKey: id) != nil { try? await writeFirewall() }
    }

    /// Daemons found running for volumes that are no longer exported (the API lost the
    /// attachment while the agent was away) are stopped.
    func stopStrayExports() async {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: exportsDirectory)) ?? []
        for file in files where file.hasSuffix(".pid") {
            let id = String(file.dropLast(4))
            if Self.safe(id), wanted[id].flatMap(Self.export(of:)) == nil { await stopExport(id) }
        }
    }

    /// The export ports let in from the attaching host alone; every other source dropped
    /// on the whole export range. Written whole, atomically, on every change.
    func writeFirewall() async throws {
        guard settings.firewall else { return }
        // Nothing exported: no table (nothing listens on the range).
        guard !exports.isEmpty else {
            try await runner.check(
                Command(["nft", "-f", "-"], input: "table ip nimbus_volume\ndelete table ip nimbus_volume\n"))
            return
        }
        var rules: [String] = []
        for (_, export) in exports.sorted(by: { $0.value.port < $1.value.port }) {
            rules.append("    tcp dport \(export.port) ip saddr \(export.allow) accept")
        }
        let range = settings.exportPorts
        rules.append("    tcp dport \(range.lowerBound)-\(range.upperBound - 1) drop")
        let ruleset = """
            table ip nimbus_volume
            delete table ip nimbus_volume
            table ip nimbus_volume {
              chain input {
                type filter hook input priority filter; policy accept;
            \(rules.joined(separator: "\n"))
              }
            }

            """
        try await runner.check(Command(["nft", "-f", "-"], input: ruleset))
    }

    /// A snapshot of an exported volume, made or deleted by its daemon (the file is its).
    func exportedSnapshot(_ id: String, create: Bool, name: String) throws {
        let command = create ? "blockdev-snapshot-internal-sync" : "blockdev-snapshot-delete-internal-sync"
        do {
            try QMP.execute(command, ["device": "vol", "name": .string(name)], socket: monitor(id))
        } catch {
            throw VolumeError("\(command) on the export of \(id): \(error)")
        }
    }
}
