import Foundation
import NimbusServiceKit

/// `/etc/nimbus/compute.conf`, read once at start.
public struct ComputeServiceConfig: Sendable {
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var identityURL: String
    /// Key pairs per user (Nova's `key_pairs` quota; -1 unlimited).
    public var keyPairQuota: Int
    /// The compute service's own user (`nova`), which makes ports and reads images for
    /// the servers; nil password: no servers can be made.
    public var serviceUser: String
    public var servicePassword: String?
    public var serviceProject: String
    /// The network service (`http://host:9696`) and the image service (`http://host:9292`).
    public var networkURL: String
    public var imageURL: String
    /// The block-storage service (`http://host:8776`); empty: no volumes to attach.
    public var volumeURL: String
    /// Nova's allocation ratios: how far a host's vCPUs and memory are shared out.
    public var cpuAllocationRatio: Double
    public var ramAllocationRatio: Double
    /// Where the metadata API listens; empty secret: it is not served.
    public var metadataHost: String
    public var metadataPort: Int
    /// What the routers' proxies sign instance ids with (CONFIG_NEUTRON_METADATA_PW).
    public var metadataSecret: String
    /// Every server gets a config drive (Nova's `force_config_drive`).
    public var forceConfigDrive: Bool

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(ServiceConfig.Failure) -> ComputeServiceConfig {
        try ComputeServiceConfig(try ServiceConfig.load(path: path))
    }

    /// Checks a parsed file: every value in range, defaults for what is left out.
    public init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:8774")
        host = bind.host
        port = bind.port
        stateDirectory = config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/compute")
        identityURL = try config.identityURL()
        keyPairQuota = try config.int("quota", "key_pairs", default: 100)
        guard keyPairQuota >= -1 else {
            throw .invalid(section: "quota", key: "key_pairs", value: String(keyPairQuota), expected: "-1 or more")
        }
        serviceUser = config.string("auth", "user", default: "nova")
        servicePassword = config.string("auth", "password").flatMap { $0.isEmpty ? nil : $0 }
        serviceProject = config.string("auth", "project", default: "services")
        networkURL = config.string("network", "url", default: "")
        imageURL = config.string("image", "url", default: "")
        volumeURL = config.string("volume", "url", default: "")
        cpuAllocationRatio = Double(config.string("scheduler", "cpu_allocation_ratio", default: "16")) ?? -1
        ramAllocationRatio = Double(config.string("scheduler", "ram_allocation_ratio", default: "1.5")) ?? -1
        let metadata = try config.endpoint("metadata", "bind", default: "0.0.0.0:8775")
        metadataHost = metadata.host
        metadataPort = metadata.port
        metadataSecret = config.string("metadata", "shared_secret", default: "")
        forceConfigDrive = try config.bool("metadata", "force_config_drive", default: false)
        for (key, value) in [
            ("cpu_allocation_ratio", cpuAllocationRatio), ("ram_allocation_ratio", ramAllocationRatio),
        ]
        where value <= 0 {
            throw .invalid(
                section: "scheduler", key: key, value: config.string("scheduler", key, default: ""),
                expected: "a number above 0")
        }
    }

    /// The service over its store in the state directory (made, mode 0700, when missing).
    public func open() throws -> ComputeAPI {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let origin = identityURL.hasSuffix("/v3") ? String(identityURL.dropLast(3)) : identityURL
        var peers: ComputePeers?
        if let servicePassword, !networkURL.isEmpty, !imageURL.isEmpty {
            peers = try ComputePeers(
                login: ServiceLogin(
                    .init(
                        identityURL: identityURL, user: serviceUser, password: servicePassword,
                        project: serviceProject)),
                networkURL: networkURL, imageURL: imageURL, volumeURL: volumeURL)
        }
        return ComputeAPI(
            store: try ComputeStore(
                path: stateDirectory + "/compute.sqlite", publish: ComputeState.publisher(imageURL: imageURL)),
            validator: try TokenValidator(identityURL: identityURL), identityURI: origin, keyPairQuota: keyPairQuota,
            peers: peers, forceConfigDrive: forceConfigDrive,
            scheduler: Scheduler(cpuAllocationRatio: cpuAllocationRatio, ramAllocationRatio: ramAllocationRatio))
    }
}
