import Foundation
import NimbusIdentity
import NimbusServiceKit

/// `/etc/nimbus/identity.conf`, read once at start.
struct IdentityServiceConfig {
    var host: String
    var port: Int
    var stateDirectory: String
    var keyDirectory: String
    var publicURL: String?
    var tokenExpiration: Int64
    var hasher: PasswordHasher

    static func load(path: String) throws -> IdentityServiceConfig {
        let config = try ServiceConfig.load(path: path)
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
        return IdentityServiceConfig(
            host: bind.host, port: bind.port,
            stateDirectory: config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/identity"),
            keyDirectory: config.string("token", "key_dir", default: "/etc/nimbus/token-keys"),
            publicURL: config.string("DEFAULT", "public_url"), tokenExpiration: Int64(expiration),
            hasher: PasswordHasher(logN: logN, blockSize: 8, parallelism: 1))
    }

    func openStore() throws -> IdentityStore {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return try IdentityStore(path: stateDirectory + "/identity.sqlite")
    }

    func open() throws -> IdentityAPI {
        IdentityAPI(
            store: try openStore(), keys: try TokenKeyRepository(directory: keyDirectory).load(),
            settings: IdentitySettings(tokenExpiration: tokenExpiration, hasher: hasher, publicURL: publicURL))
    }
}
