import Foundation
import Logging
import NimbusAgentKit
import NimbusServiceKit
import NimbusSystem

/// The volume agent's reconciler: makes the storage host hold the volumes the block-storage
/// API placed here, each a sparse qcow2 file (`volume-<id>.qcow2`) in the pool directory —
/// blank, a copy of another volume or of a snapshot, or an image's disk — grown when extended, with its
/// snapshots as internal qcow2 snapshots named by their ids; a volume the API no longer
/// has is deleted. Each volume's and snapshot's status is `available` or `error`, with the
/// generation applied (`generation|message`). An attached volume is exported over NBD
/// to the host that attaches it (`VolumeExports.swift`).
public actor VolumeReconciler: Reconciler {
    public struct Settings: Sendable {
        public var host: String
        /// Where the volume files are.
        public var directory: String

        /// The address the exports listen on (the management address).
        public var exportAddress: String
        /// Whether nftables limits each export to its attaching host.
        public var firewall: Bool
        /// The ports the API gives exports (the firewall drops the rest of the range).
        public var exportPorts: Range<Int>

        public init(
            host: String, directory: String, exportAddress: String = "127.0.0.1", firewall: Bool = true,
            exportPorts: Range<Int> = 10810..<11810
        ) {
            self.host = host
            self.directory = directory
            self.exportAddress = exportAddress
            self.firewall = firewall
            self.exportPorts = exportPorts
        }
    }

    let settings: Settings
    let runner: any ProcessRunning
    let logger: Logger
    /// The images volumes are made from, downloaded once per host; nil: none can be.
    let images: ImageCache?
    var statuses: [String: ResourceStatus] = [:]
    /// The volumes of this host as last sent, by id.
    var wanted: [String: JSON] = [:]
    /// The exports started, by volume.
    var exports: [String: Export] = [:]

    public init(
        settings: Settings, images: ImageCache? = nil, runner: any ProcessRunning = ProcessRunner(), logger: Logger
    ) {
        self.images = images
        self.settings = settings
        self.runner = runner
        self.logger = logger
    }

    static func key(_ kind: String, _ id: String) -> String { kind + "/" + id }

    /// The file of a volume.
    func path(_ id: String) -> String { settings.directory + "/volume-" + id + ".qcow2" }

    /// Ids the API makes (UUIDs): nothing that could leave the pool directory.
    static func safe(_ id: String) -> Bool { !id.isEmpty && id.allSatisfy { $0.isHexDigit || $0 == "-" } }

    public func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        wanted = [:]
        for item in items where item.kind == "volume" {
            if let body = item.body, body["host"]?.string == settings.host, Self.safe(item.id) {
                wanted[item.id] = body
            }
        }
        await stopStrayExports()
        // Files of volumes the API does not list are set aside in `orphans/`, not deleted: a
        // list that lost them (an API database restored from an old copy, a host renamed)
        // must not cost their data. A deleted volume's item deletes its file.
        let files = (try? FileManager.default.contentsOfDirectory(atPath: settings.directory)) ?? []
        for file in files where file.hasPrefix("volume-") {
            if file.hasSuffix(".part") {
                try? FileManager.default.removeItem(atPath: settings.directory + "/" + file)
                continue
            }
            guard file.hasSuffix(".qcow2") else { continue }
            let id = String(file.dropFirst("volume-".count).dropLast(".qcow2".count))
            if wanted[id] == nil { setAside(file) }
        }
        statuses = [:]
        // Sources before the volumes made from them.
        func copied(_ body: JSON) -> Int { body["source"]?["volume"] == nil ? 0 : 1 }
        for (id, body) in wanted.sorted(by: { (copied($0.value), $0.key) < (copied($1.value), $1.key) }) {
            await ensure(id, body)
        }
        try? await writeFirewall()
        return Array(statuses.values)
    }

    public nonisolated var pollInterval: Duration? { .seconds(2) }

    /// Between changes: an export whose daemon died (killed, crashed) is started again;
    /// the guest's NBD client reconnects to it.
    public func poll() async {
        for (id, body) in wanted.sorted(by: { $0.key < $1.key }) where Self.export(of: body) != nil {
            guard exportDaemon(id) == nil else { continue }
            logger.warning("volume export not running: starting it again", metadata: ["volume": "\(id)"])
            exports[id] = nil
            await ensure(id, body)
        }
    }

    public func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        switch item.kind {
        case "volume":
            guard let body = item.body, body["host"]?.string == settings.host, Self.safe(item.id) else {
                if wanted.removeValue(forKey: item.id) != nil {
                    await stopExport(item.id)
                    remove(item.id)
                }
                statuses[Self.key("volume", item.id)] = nil
                return nil
            }
            wanted[item.id] = body
            await ensure(item.id, body)
            return statuses[Self.key("volume", item.id)]
        case "snapshot":
            // Made with its volume's item (which names it); the status is already there.
            guard item.body != nil else {
                statuses[Self.key("snapshot", item.id)] = nil
                return nil
            }
            return statuses[Self.key("snapshot", item.id)]
        default:
            return nil
        }
    }

    public func currentStatuses() async -> [ResourceStatus]? { Array(statuses.values) }

    /// Makes the host hold volume `id` as `body` describes it; records its status and its
    /// snapshots'.
    func ensure(_ id: String, _ body: JSON) async {
        let generation = Int(body["generation"]?.int ?? 0)
        let size = UInt64(body["size"]?.int ?? 1) << 30
        let file = path(id)
        do {
            try FileManager.default.createDirectory(
                atPath: settings.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            if !FileManager.default.fileExists(atPath: file) { try await create(id, body, size: size) }
            let info = try await Self.info(file, runner: runner)
            if info.virtualSize < size {
                if exportDaemon(id) != nil { await stopExport(id) }
                try await runner.check(Command(["qemu-img", "resize", "-q", file, "\(size)"]))
                logger.info("volume extended", metadata: ["volume": "\(id)", "size": "\(size >> 30) GiB"])
            }
            try await keepSnapshots(id, body, file: file)
            try await keepExport(id, body)
            statuses[Self.key("volume", id)] = ResourceStatus(
                kind: "volume", id: id, state: "available", detail: "\(generation)|")
        } catch {
            logger.error("volume failed", metadata: ["volume": "\(id)", "error": "\(error)"])
            statuses[Self.key("volume", id)] = ResourceStatus(
                kind: "volume", id: id, state: "error", detail: "\(generation)|\(error)")
        }
    }

    /// A new volume's file: blank, or a copy of its source volume (or of one of that
    /// volume's snapshots), written under a temporary name and renamed when whole.
    func create(_ id: String, _ body: JSON, size: UInt64) async throws {
        let file = path(id)
        let partial = file + ".part"
        try? FileManager.default.removeItem(atPath: partial)
        let source = body["source"]
        if let image = source?["image"]?.string {
            guard let images else { throw VolumeError("no image service to fetch image \(image) from") }
            let base = try await images.file(of: image, from: source?["image_url"]?.string ?? "")
            try await runner.check(Command(["qemu-img", "convert", "-O", "qcow2", base, partial]))
            let info = try await Self.info(partial, runner: runner)
            if info.virtualSize < size {
                try await runner.check(Command(["qemu-img", "resize", "-q", partial, "\(size)"]))
            }
        } else if let parent = source?["volume"]?.string, Self.safe(parent) {
            var command = ["qemu-img", "convert", "-U", "-O", "qcow2"]
            if let snapshot = source?["snapshot"]?.string, Self.safe(snapshot) {
                command += ["-l", "snapshot.name=\(snapshot)"]
            }
            try await runner.check(Command(command + [path(parent), partial]))
            let info = try await Self.info(partial, runner: runner)
            if info.virtualSize < size {
                try await runner.check(Command(["qemu-img", "resize", "-q", partial, "\(size)"]))
            }
        } else {
            try await runner.check(Command(["qemu-img", "create", "-q", "-f", "qcow2", partial, "\(size)"]))
        }
        guard rename(partial, file) == 0 else { throw VolumeError("cannot rename \(partial): errno \(errno)") }
        logger.info(
            "volume made",
            metadata: ["volume": "\(id)", "size": "\(size >> 30) GiB", "source": "\(source?.text ?? "blank")"])
    }

    /// The volume's internal snapshots made and deleted to match the API's list.
    func keepSnapshots(_ id: String, _ body: JSON, file: String) async throws {
        let generation = Int(body["generation"]?.int ?? 0)
        let asked = Set((body["snapshots"]?.array ?? []).compactMap(\.string).filter(Self.safe))
        let held = try await snapshots(of: file)
        for snapshot in asked.subtracting(held).sorted() {
            do {
                // An exported volume's file is its daemon's: the daemon takes the snapshot.
                if exportDaemon(id) != nil {
                    try exportedSnapshot(id, create: true, name: snapshot)
                } else {
                    try await runner.check(Command(["qemu-img", "snapshot", "-c", snapshot, file]))
                }
                logger.info("snapshot made", metadata: ["volume": "\(id)", "snapshot": "\(snapshot)"])
                statuses[Self.key("snapshot", snapshot)] = ResourceStatus(
                    kind: "snapshot", id: snapshot, state: "available", detail: "\(generation)|")
            } catch {
                statuses[Self.key("snapshot", snapshot)] = ResourceStatus(
                    kind: "snapshot", id: snapshot, state: "error", detail: "\(generation)|\(error)")
            }
        }
        for snapshot in held.subtracting(asked).sorted() where Self.safe(snapshot) {
            if exportDaemon(id) != nil {
                try exportedSnapshot(id, create: false, name: snapshot)
            } else {
                try await runner.check(Command(["qemu-img", "snapshot", "-d", snapshot, file]))
            }
            statuses[Self.key("snapshot", snapshot)] = nil
            logger.info("snapshot deleted", metadata: ["volume": "\(id)", "snapshot": "\(snapshot)"])
        }
        for snapshot in asked.intersection(held) {
            statuses[Self.key("snapshot", snapshot)] = ResourceStatus(
                kind: "snapshot", id: snapshot, state: "available", detail: "\(generation)|")
        }
    }

    /// The names of a qcow2 file's internal snapshots (`qemu-img info`).
    func snapshots(of file: String) async throws -> Set<String> {
        let output = try await runner.check(Command(["qemu-img", "info", "--output=json", "-U", file]))
        let json = try? JSON.parse(Array(output.stdout.utf8))
        return Set((json?["snapshots"]?.array ?? []).compactMap { $0["name"]?.string })
    }

    /// Moves a volume file the API does not know into `orphans/`.
    func setAside(_ file: String) {
        let orphans = settings.directory + "/orphans"
        try? FileManager.default.createDirectory(
            atPath: orphans, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if rename(settings.directory + "/" + file, orphans + "/" + file) == 0 {
            logger.warning(
                "a volume file the API does not list was set aside", metadata: ["file": "\(orphans)/\(file)"])
        }
    }

    /// Deletes a volume's file.
    func remove(_ id: String) {
        guard Self.safe(id) else { return }
        if (try? FileManager.default.removeItem(atPath: path(id))) != nil {
            logger.info("volume deleted", metadata: ["volume": "\(id)"])
        }
        statuses[Self.key("volume", id)] = nil
    }

    struct Info {
        var virtualSize: UInt64
    }

    static func info(_ file: String, runner: any ProcessRunning) async throws -> Info {
        let output = try await runner.check(Command(["qemu-img", "info", "--output=json", "-U", file]))
        guard let json = try? JSON.parse(Array(output.stdout.utf8)), let size = json["virtual-size"]?.int else {
            throw VolumeError("cannot read qemu-img info of \(file)")
        }
        return Info(virtualSize: UInt64(size))
    }
}

/// A volume the backend could not make or change.
struct VolumeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
