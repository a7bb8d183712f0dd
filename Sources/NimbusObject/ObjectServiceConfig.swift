import Foundation
import NimbusServiceKit

/// `/etc/nimbus/object.conf`, read once at start.
public struct ObjectServiceConfig: Sendable {
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var identityURL: String
    public var maxFileSize: Int64

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(ServiceConfig.Failure) -> ObjectServiceConfig {
        try ObjectServiceConfig(try ServiceConfig.load(path: path))
    }

    /// Checks a parsed file: every value in range, defaults for what is left out.
    public init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:8080")
        let maxFileSize = try config.int("swift", "max_file_size", default: 5 << 30)
        guard maxFileSize > 0 else {
            throw .invalid(
                section: "swift", key: "max_file_size", value: String(maxFileSize), expected: "a positive size in bytes"
            )
        }
        host = bind.host
        port = bind.port
        stateDirectory = config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/object")
        identityURL = try config.identityURL()
        self.maxFileSize = Int64(maxFileSize)
    }

    /// The service over its store in the state directory (made, mode 0700, when missing).
    public func open() throws -> ObjectAPI {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var limits = ObjectAPI.Limits()
        limits.maxFileSize = maxFileSize
        return try ObjectAPI(
            store: try ObjectStore(path: stateDirectory + "/object.sqlite"),
            validator: try TokenValidator(identityURL: identityURL), dataDirectory: stateDirectory, limits: limits)
    }
}
