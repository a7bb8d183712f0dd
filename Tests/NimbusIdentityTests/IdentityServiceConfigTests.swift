import NimbusServiceKit
import Testing

@testable import NimbusIdentity

@Suite("Identity service configuration")
struct IdentityServiceConfigTests {
    @Test("An empty file gives the defaults the deploy relies on")
    func defaults() throws {
        let config = try IdentityServiceConfig(try ServiceConfig.parse(""))
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 5000)
        #expect(config.stateDirectory == "/var/lib/nimbus/identity")
        #expect(config.keyDirectory == "/etc/nimbus/token-keys")
        #expect(config.tokenExpiration == 3600)
        #expect(config.publicURL == nil)
    }

    @Test("What the deploy writes is read back")
    func written() throws {
        let text = """
            [DEFAULT]
            bind = 10.0.0.5:5001
            state_dir = /srv/identity
            public_url = http://10.0.0.5:5001
            [token]
            expiration = 7200
            key_dir = /srv/keys
            [password]
            scrypt_log_n = 12
            """
        let config = try IdentityServiceConfig(try ServiceConfig.parse(text))
        #expect(config.host == "10.0.0.5")
        #expect(config.port == 5001)
        #expect(config.tokenExpiration == 7200)
        #expect(config.hasher.logN == 12)
        #expect(config.publicURL == "http://10.0.0.5:5001")
    }

    @Test(
        "Values out of range are refused, naming the key",
        arguments: [
            ("[token]\nexpiration = 10", "expiration"), ("[token]\nexpiration = soon", "expiration"),
            ("[password]\nscrypt_log_n = 30", "scrypt_log_n"), ("[DEFAULT]\nbind = nowhere", "bind"),
        ])
    func refused(text: String, key: String) {
        #expect {
            _ = try IdentityServiceConfig(try ServiceConfig.parse(text))
        } throws: { error in
            "\(error)".contains(key)
        }
    }
}
