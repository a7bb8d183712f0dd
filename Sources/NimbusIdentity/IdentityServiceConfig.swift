import Foundation
import NimbusServiceKit

/// `/etc/nimbus/identity.conf`, read once at start.
public struct IdentityServiceConfig: Sendable {
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var keyDirectory: String
    public var publicURL: String?
    public var tokenExpiration: Int64
    public var hasher: PasswordHasher

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(ServiceConfig.Failure) -> IdentityServiceConfig {
        try IdentityServiceConfig(try ServiceConfig.load(path: path))
    }

    /// Checks a parsed file: every value in range, defaults for what is left out.
    public init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:5000")
        let expiration = try config.int("token", "expiration", default: 3600)
        guard (60...86400 * 7).contains(expiration) else {
            throw ServiceConfig.Failure.invalid(
                section: "token", key: "expiration", value: String(expiration), expected: "60 to 604800 seconds")
        }
        let logN = try config.int("password", "scrypt_log_n", default: PasswordHasher.standard.logN)
        guard (10...20).contains(logN) else {
            throw ServiceConfig.Failure.invalid(
                section: "password", key: "scrypt_log_n", value: String(logN), expected: "10 to 20")
        }
        host = bind.host
        port = bind.port
        stateDirectory = config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/identity")
        keyDirectory = config.string("token", "key_dir", default: "/etc/nimbus/token-keys")
        publicURL = config.string("DEFAULT", "public_url")
        tokenExpiration = Int64(expiration)
        hasher = PasswordHasher(logN: logN, blockSize: 8, parallelism: 1)
    }

    /// The store in the state directory, made (mode 0700) when missing.
    public func openStore() throws -> IdentityStore {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return try IdentityStore(path: stateDirectory + "/identity.sqlite")
    }

    /// The service over its store and token keys.
    public func open() throws -> IdentityAPI {
        IdentityAPI(
            store: try openStore(), keys: try TokenKeyRepository(directory: keyDirectory).load(),
            settings: IdentitySettings(tokenExpiration: tokenExpiration, hasher: hasher, publicURL: publicURL))
    }
}
