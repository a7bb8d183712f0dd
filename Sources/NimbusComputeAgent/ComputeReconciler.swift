import Foundation
import Libvirt
import Logging
import NimbusAgentKit
import NimbusGuestData
import NimbusServiceKit
import NimbusSystem

/// The compute agent's reconciler: makes libvirt hold the instances the compute API placed
/// on this host. An instance gets its disk (a qcow2 overlay on the cached image), its
/// config drive and its domain; then it is kept in the power state asked for, rebooted when
/// asked, and removed (domain, disk, drive) when the API no longer has it. Each instance's
/// status is `ACTIVE`, `SHUTOFF` or `ERROR`, with the generation of the server it applied
/// (`generation|message`).
public actor ComputeReconciler: Reconciler {
    /// What the reconciler needs of the host.
    public struct Settings: Sendable {
        public var host: String
        public var virtType: DomainSpec.VirtType
        public var instancesDirectory: String
        /// How long a guest gets to shut down before it is powered off.
        public var shutdownTimeout: Duration

        public init(
            host: String, virtType: DomainSpec.VirtType, instancesDirectory: String,
            shutdownTimeout: Duration = .seconds(10)
        ) {
            self.host = host
            self.virtType = virtType
            self.instancesDirectory = instancesDirectory
            self.shutdownTimeout = shutdownTimeout
        }
    }

    let settings: Settings
    let libvirt: Libvirt.Connection
    let images: ImageCache
    let runner: any ProcessRunning
    let logger: Logger
    /// The last status of each instance of this host.
    var statuses: [String: ResourceStatus] = [:]
    /// The instances of this host as last sent, by id.
    var wanted: [String: JSON] = [:]
    /// Sends a report to the API (the console's tail); nil: none sent.
    let report: (@Sendable (_ kind: String, _ id: String, _ body: JSON) async -> Bool)?
    /// The size and change time of each console when last reported.
    var consoles: [String: String] = [:]
    /// When each instance in ERROR was last tried again.
    var retried: [String: ContinuousClock.Instant] = [:]
    /// Each volume attachment's status, with its instance (`InstanceVolumes.swift`).
    var volumeStatuses: [String: (instance: String, status: ResourceStatus)] = [:]
    /// How much of a console's end is reported.
    static let consoleTail: UInt64 = 64 << 10

    public init(
        settings: Settings, libvirt: Libvirt.Connection, images: ImageCache,
        runner: any ProcessRunning = ProcessRunner(),
        report: (@Sendable (_ kind: String, _ id: String, _ body: JSON) async -> Bool)? = nil, logger: Logger
    ) {
        self.report = report
        self.settings = settings
        self.libvirt = libvirt
        self.images = images
        self.runner = runner
        self.logger = logger
    }

    public nonisolated var pollInterval: Duration? { .seconds(2) }

    public func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        wanted = [:]
        // After a restart of either side, every console is sent again.
        consoles = [:]
        for item in items where item.kind == "instance" {
            if let body = item.body, body["host"]?.string == settings.host { wanted[item.id] = body }
        }
        // Domains of instances the API no longer places here go first.
        for domain in (try? libvirt.domains()) ?? [] where domain.name.hasPrefix("instance-") {
            if wanted[domain.uuid] == nil { remove(domain.uuid) }
        }
        statuses = statuses.filter { wanted[$0.key] != nil }
        volumeStatuses = volumeStatuses.filter { wanted[$0.value.instance] != nil }
        for (id, body) in wanted.sorted(by: { $0.key < $1.key }) { await ensure(id, body) }
        return Array(statuses.values)
    }

    public func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        guard item.kind == "instance" else { return nil }
        guard let body = item.body, body["host"]?.string == settings.host else {
            if wanted.removeValue(forKey: item.id) != nil || (try? libvirt.domain(uuid: item.id)) != nil {
                remove(item.id)
            }
            statuses[item.id] = nil
            return nil
        }
        wanted[item.id] = body
        await ensure(item.id, body)
        return statuses[item.id]
    }

    public func currentStatuses() async -> [ResourceStatus]? {
        Array(statuses.values) + volumeStatuses.values.map(\.status)
    }

    /// Between changes: a guest that powered itself off, or a domain that went away; the
    /// consoles that grew.
    public func poll() async {
        await reportConsoles()
        for (id, body) in wanted {
            let generation = Int(body["generation"]?.int ?? 0)
            guard let previous = statuses[id] else { continue }
            if previous.state == "ERROR" {
                // A domain that is defined but failed (libvirt still starting after a host
                // boot, a bridge not there yet) is tried again every 30 s.
                let now = ContinuousClock.now
                if (try? libvirt.domain(uuid: id)) != nil, retried[id].map({ now - $0 >= .seconds(30) }) ?? true {
                    retried[id] = now
                    await ensure(id, body)
                }
                continue
            }
            retried[id] = nil
            let state = (try? libvirt.state(uuid: id)) ?? .noState
            let now = Self.status(of: state, power: body["power"]?.string)
            if now != previous.state {
                statuses[id] = ResourceStatus(kind: "instance", id: id, state: now, detail: "\(generation)|")
            }
        }
    }

    /// Sends the tail of each console that changed since it was last sent.
    func reportConsoles() async {
        guard let report else { return }
        for id in wanted.keys.sorted() {
            let path = settings.instancesDirectory + "/" + id + "/console.log"
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let stamp = "\(info.st_size)/\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            guard consoles[id] != stamp, let file = FileHandle(forReadingAtPath: path) else { continue }
            let size = UInt64(info.st_size)
            let start = size > Self.consoleTail ? size - Self.consoleTail : 0
            try? file.seek(toOffset: start)
            let data = (try? file.read(upToCount: Int(Self.consoleTail))) ?? Data()
            try? file.close()
            var text = String(decoding: data, as: UTF8.self)
            // A tail cut mid-line starts at the next line.
            if start > 0, let newline = text.firstIndex(of: "\n") { text = String(text[text.index(after: newline)...]) }
            if await report("console", id, ["output": .string(text)]) { consoles[id] = stamp }
        }
    }

    /// The status of a domain in `state` whose server asked for `power`: a pause or a
    /// managed save asked for shows as such; one not asked for (a snapshot's pause) is ACTIVE.
    static func status(of state: Libvirt.State, power: String? = nil) -> String {
        switch state {
        case .paused where power == "paused": "PAUSED"
        case .shutoff where power == "suspended": "SUSPENDED"
        case .running, .blocked, .paused, .suspended: "ACTIVE"
        case .shutoff, .shutdown, .crashed: "SHUTOFF"
        case .noState: "ERROR"
        }
    }

    /// Makes the host hold instance `id` as `body` describes it; records its status.
    func ensure(_ id: String, _ body: JSON) async {
        let generation = Int(body["generation"]?.int ?? 0)
        do {
            let directory = settings.instancesDirectory + "/" + id
            if try libvirt.domain(uuid: id) == nil {
                try await build(id, body, in: directory)
            }
            var state = try await power(id, body, in: directory)
            if body["snapshot"]?["image_id"]?.string != nil {
                await snapshot(id, body, in: directory)
                state = try libvirt.state(uuid: id)
            }
            await keepVolumes(id, body)
            statuses[id] = ResourceStatus(
                kind: "instance", id: id, state: Self.status(of: state, power: body["power"]?.string),
                detail: "\(generation)|")
        } catch {
            logger.error("instance failed", metadata: ["instance": "\(id)", "error": "\(error)"])
            statuses[id] = ResourceStatus(kind: "instance", id: id, state: "ERROR", detail: "\(generation)|\(error)")
            await abandonSnapshot(id, body)
        }
    }

    /// A snapshot asked of an instance that failed: its image is deleted (not left queued),
    /// once.
    func abandonSnapshot(_ id: String, _ body: JSON) async {
        guard let image = body["snapshot"]?["image_id"]?.string, !image.isEmpty, !image.contains("/"),
            !image.hasPrefix(".")
        else { return }
        let marker = settings.instancesDirectory + "/" + id + "/snapshot-" + image
        guard !FileManager.default.fileExists(atPath: marker) else { return }
        logger.error("snapshot abandoned: the instance failed", metadata: ["instance": "\(id)", "image": "\(image)"])
        await images.delete(image, at: body["image_url"]?.string ?? "")
        _ = FileManager.default.createFile(atPath: marker, contents: nil)
    }

    /// Uploads the instance's disk to the image the API made for a snapshot, once: the
    /// guest is paused while `qemu-img` copies its disk whole (QEMU flushes its disks when
    /// it pauses), resumed, and the copy uploaded. A snapshot that fails leaves the
    /// instance as it was and the image deleted, as Nova does.
    func snapshot(_ id: String, _ body: JSON, in directory: String) async {
        guard let image = body["snapshot"]?["image_id"]?.string, !image.isEmpty, !image.contains("/"),
            !image.hasPrefix(".")
        else { return }
        let marker = directory + "/snapshot-" + image
        guard !FileManager.default.fileExists(atPath: marker) else { return }
        let copy = marker + ".qcow2"
        let imageURL = body["image_url"]?.string ?? ""
        defer {
            try? FileManager.default.removeItem(atPath: copy)
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
        }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let paused = (try? libvirt.state(uuid: id)) == .running
            if paused { try libvirt.perform(.suspend, uuid: id) }
            do {
                try await runner.check(
                    Command(["qemu-img", "convert", "-U", "-O", "qcow2", directory + "/disk", copy]))
            } catch {
                if paused { try? libvirt.perform(.resume, uuid: id) }
                throw error
            }
            if paused { try libvirt.perform(.resume, uuid: id) }
            try await images.upload(copy, to: image, at: imageURL)
            logger.info(
                "snapshot uploaded",
                metadata: ["instance": "\(id)", "image": "\(image)", "took": "\(clock.now - started)"])
        } catch {
            logger.error("snapshot failed", metadata: ["instance": "\(id)", "image": "\(image)", "error": "\(error)"])
            await images.delete(image, at: imageURL)
        }
    }

    /// The disk, the config drive and the domain of a new instance.
    func build(_ id: String, _ body: JSON, in directory: String) async throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let disk = directory + "/disk"
        if !FileManager.default.fileExists(atPath: disk) {
            let base = try await images.file(
                of: body["image_id"]?.string ?? "", from: body["image_url"]?.string ?? "")
            try await InstanceDisk.createOverlay(
                on: base, at: disk, sizeGiB: Int(body["disk_gb"]?.int ?? 0), runner: runner)
        }
        // Without a config drive the guest reads the same documents from the metadata
        // service (169.254.169.254, through its router).
        var drive: String?
        if body["config_drive"]?.bool ?? true {
            drive = directory + "/disk.config"
            try await InstanceMetadata(id: id, body: body).writeConfigDrive(
                to: directory + "/disk.config", runner: runner)
        }
        let ports = body["ports"]?.array ?? []
        let spec = DomainSpec(
            uuid: id, name: body["instance_name"]?.string ?? "instance-\(id.prefix(8))",
            title: body["name"]?.string ?? id, memoryMiB: Int(body["memory_mb"]?.int ?? 64),
            vcpus: Int(body["vcpus"]?.int ?? 1), virtType: settings.virtType, disk: disk, configDrive: drive,
            interfaces: ports.map {
                DomainSpec.Interface(
                    portID: $0["id"]?.string ?? "", mac: $0["mac"]?.string ?? "", mtu: Int($0["mtu"]?.int ?? 1450))
            },
            consoleLog: directory + "/console.log")
        _ = try libvirt.define(xml: DomainXML.render(spec))
        // A new domain counts as rebooted as often as asked so far.
        try? String(body["reboots"]?.int ?? 0).write(toFile: directory + "/reboots", atomically: true, encoding: .utf8)
        logger.info("instance defined", metadata: ["instance": "\(id)", "name": "\(spec.name)"])
    }

    /// Puts the domain in the power state asked for (and reboots it when a reboot was asked
    /// since the last one applied); its state after.
    func power(_ id: String, _ body: JSON, in directory: String) async throws -> Libvirt.State {
        var state = try libvirt.state(uuid: id)
        let running = state == .running || state == .blocked || state == .paused
        let asked = body["power"]?.string ?? "running"
        // Suspended: the guest's memory saved by libvirt, the domain off until resumed
        // (a start restores it).
        if asked == "suspended" {
            guard running else { return state }
            try libvirt.perform(.managedSave, uuid: id)
            return try libvirt.state(uuid: id)
        }
        if asked == "stopped" {
            guard running else { return state }
            try? libvirt.perform(.shutdown, uuid: id)
            let deadline = ContinuousClock.now + settings.shutdownTimeout
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
                state = try libvirt.state(uuid: id)
                if state == .shutoff { return state }
            }
            try libvirt.perform(.destroy, uuid: id)
            return try libvirt.state(uuid: id)
        }
        let reboots = Int(body["reboots"]?.int ?? 0)
        let done =
            (try? String(contentsOfFile: directory + "/reboots", encoding: .utf8)).flatMap {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            } ?? 0
        if !running {
            try libvirt.perform(.start, uuid: id)
        } else if reboots > done {
            if body["reboot_type"]?.string == "HARD" {
                try libvirt.perform(.destroy, uuid: id)
                try libvirt.perform(.start, uuid: id)
            } else {
                try libvirt.perform(.reboot, uuid: id)
            }
        }
        if reboots != done {
            try? String(reboots).write(toFile: directory + "/reboots", atomically: true, encoding: .utf8)
        }
        // Paused: the vCPUs stopped, the guest in memory.
        state = try libvirt.state(uuid: id)
        if asked == "paused", state == .running || state == .blocked {
            try libvirt.perform(.suspend, uuid: id)
        } else if asked != "paused", state == .paused {
            try libvirt.perform(.resume, uuid: id)
        }
        return try libvirt.state(uuid: id)
    }

    /// Powers off and undefines the domain and removes its files.
    func remove(_ id: String) {
        volumeStatuses = volumeStatuses.filter { $0.value.instance != id }
        if let domain = try? libvirt.domain(uuid: id) {
            if domain.state != .shutoff { try? libvirt.perform(.destroy, uuid: id) }
            try? libvirt.perform(.undefine, uuid: id)
            logger.info("instance removed", metadata: ["instance": "\(id)", "name": "\(domain.name)"])
        }
        guard !id.isEmpty, !id.contains("/"), !id.hasPrefix(".") else { return }
        try? FileManager.default.removeItem(atPath: settings.instancesDirectory + "/" + id)
    }
}
