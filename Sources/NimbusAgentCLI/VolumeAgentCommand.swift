import ArgumentParser
import Foundation
import Logging
import NimbusAgentKit
import NimbusServiceKit
import NimbusVolumeAgent

/// `nimbus-agent volume`: the volume backend of a storage host (Cinder's `cinder-volume`).
/// It tells the block-storage API the pool's size in its heartbeats and follows the API's
/// channel: the volumes placed on this host become qcow2 files in the pool directory, and
/// the attached ones are exported over NBD to the hosts attaching them.
struct VolumeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume", abstract: "The volume backend: a qcow2 file per volume, snapshots inside it.")

    @Option(name: .long, help: "The agent's configuration file.")
    var config = "/etc/nimbus/volume.conf"

    func run() async throws {
        let settings = try VolumeAgentSettings.load(path: config)
        let logger = Logger(label: "nimbus.volume")
        try FileManager.default.createDirectory(
            atPath: settings.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Its own login for the image downloads (the channel's is the runner's).
        let images = ImageCache(
            directory: settings.basics.stateDirectory + "/images", login: try ServiceLogin(settings.basics.credentials))
        let reconciler = VolumeReconciler(
            settings: .init(
                host: settings.basics.host, directory: settings.directory, exportAddress: settings.exportAddress,
                firewall: settings.firewall),
            images: images, logger: logger)
        try await AgentRunner.run(
            basics: settings.basics, reconciler: reconciler, state: "volume-state.json",
            heartbeats: [
                (
                    "volume",
                    [
                        "total_capacity_gb": .int(Int64(settings.capacityGiB)), "backend": "nimbus",
                        "export_host": .string(settings.exportAddress), "protocol": "nbd",
                    ]
                )
            ],
            logger: logger)
    }
}

/// `/etc/nimbus/volume.conf`.
struct VolumeAgentSettings: Sendable {
    var basics: AgentBasics
    /// The pool: where the volume files go, and how many GiB of volumes it takes
    /// (CONFIG_CINDER_VOLUMES_SIZE).
    var directory: String
    var capacityGiB: Int
    /// The address the attached volumes are exported on (the management address), and
    /// whether nftables lets only each attaching host reach its export.
    var exportAddress: String
    var firewall: Bool

    static func load(path: String) throws -> VolumeAgentSettings {
        try VolumeAgentSettings(try ServiceConfig.load(path: path))
    }

    init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        basics = try AgentBasics(config, defaultState: "/var/lib/nimbus/volume", api: "block-storage")
        directory = config.string("pool", "directory", default: basics.stateDirectory + "/volumes")
        let size = config.string("pool", "size", default: "20G")
        guard let capacity = Self.gibibytes(size), capacity > 0 else {
            throw .invalid(section: "pool", key: "size", value: size, expected: "a size such as 20G or 512M")
        }
        capacityGiB = capacity
        exportAddress = config.string("export", "address", default: "127.0.0.1")
        var address = in_addr()
        guard inet_pton(AF_INET, exportAddress, &address) == 1 else {
            throw .invalid(section: "export", key: "address", value: exportAddress, expected: "an IPv4 address")
        }
        firewall = try config.bool("export", "firewall", default: true)
    }

    /// `20G`, `1T`, `512M` (rounded down to whole GiB, at least 1 when above 0) → GiB.
    static func gibibytes(_ text: String) -> Int? {
        let units: [Character: Double] = ["K": 1.0 / 1_048_576, "M": 1.0 / 1024, "G": 1, "T": 1024]
        guard let last = text.uppercased().last else { return nil }
        let (digits, factor) = units[last].map { (text.dropLast(), $0) } ?? (Substring(text), 1.0 / 1_073_741_824)
        guard let value = Double(digits), value > 0 else { return nil }
        return max(1, Int(value * factor))
    }
}
