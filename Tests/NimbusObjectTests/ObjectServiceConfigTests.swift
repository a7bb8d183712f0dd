import NimbusServiceKit
import Testing

@testable import NimbusObject

@Suite("Object service configuration")
struct ObjectServiceConfigTests {
    @Test("The deploy's file is read back, with defaults for the rest")
    func written() throws {
        let config = try ObjectServiceConfig(
            try ServiceConfig.parse("[DEFAULT]\nbind = 10.0.0.5:8080\n[auth]\nidentity_url = http://10.0.0.5:5000/v3\n")
        )
        #expect(config.host == "10.0.0.5")
        #expect(config.port == 8080)
        #expect(config.identityURL == "http://10.0.0.5:5000/v3")
        #expect(config.stateDirectory == "/var/lib/nimbus/object")
        #expect(config.maxFileSize == 5 << 30)
    }

    @Test(
        "A missing identity URL or a bad size is refused, naming the key",
        arguments: [
            ("[DEFAULT]\nbind = 0.0.0.0:8080", "identity_url"),
            ("[auth]\nidentity_url = ftp://x\n", "identity_url"),
            ("[auth]\nidentity_url = http://x:5000/v3\n[swift]\nmax_file_size = 0", "max_file_size"),
            ("[auth]\nidentity_url = http://x:5000/v3\n[DEFAULT]\nbind = 0.0.0.0:99999", "bind"),
        ])
    func refused(text: String, key: String) {
        #expect {
            _ = try ObjectServiceConfig(try ServiceConfig.parse(text))
        } throws: { error in
            "\(error)".contains(key)
        }
    }
}
