import Foundation
import NimbusServiceKit

/// `/etc/nimbus/block-storage.conf`, read once at start.
public struct BlockStorageServiceConfig: Sendable {
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var identityURL: String
    /// The zone of the storage hosts (Cinder's `storage_availability_zone`).
    public var zone: String
    /// The image service (`http://host:9292`) volumes are made from; empty: none.
    public var imageURL: String

    public static func load(path: String) throws(ServiceConfig.Failure) -> BlockStorageServiceConfig {
        try BlockStorageServiceConfig(try ServiceConfig.load(path: path))
    }

    public init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:8776")
        host = bind.host
        port = bind.port
        stateDirectory = config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/block-storage")
        identityURL = try config.identityURL()
        zone = config.string("DEFAULT", "storage_availability_zone", default: "nova")
        imageURL = config.string("image", "url", default: "")
        guard !zone.isEmpty, !zone.contains(":") else {
            throw .invalid(
                section: "DEFAULT", key: "storage_availability_zone", value: zone, expected: "a name without ':'")
        }
    }

    /// The service over its store in the state directory (made, mode 0700, when missing).
    public func open() throws -> BlockStorageAPI {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let origin = identityURL.hasSuffix("/v3") ? String(identityURL.dropLast(3)) : identityURL
        return try BlockStorageAPI(
            store: try BlockStorageStore(
                path: stateDirectory + "/block-storage.sqlite", publish: BlockStorageState.publisher(imageURL: imageURL)
            ),
            validator: try TokenValidator(identityURL: identityURL), identityURI: origin, zone: zone, imageURL: imageURL
        )
    }
}
