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
    }

    /// The service over its store in the state directory (made, mode 0700, when missing).
    public func open() throws -> ComputeAPI {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let origin = identityURL.hasSuffix("/v3") ? String(identityURL.dropLast(3)) : identityURL
        return ComputeAPI(
            store: try ComputeStore(path: stateDirectory + "/compute.sqlite"),
            validator: try TokenValidator(identityURL: identityURL), identityURI: origin, keyPairQuota: keyPairQuota)
    }
}
