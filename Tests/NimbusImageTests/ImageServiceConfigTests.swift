import NimbusServiceKit
import Testing

@testable import NimbusImage

@Suite("Image service configuration")
struct ImageServiceConfigTests {
    let auth = "[auth]\nidentity_url = http://10.0.0.5:5000/v3\n"

    @Test("The file backend needs only the identity URL")
    func fileBackend() throws {
        let config = try ImageServiceConfig(try ServiceConfig.parse(auth))
        #expect(config.backend == "file")
        #expect(config.port == 9292)
        #expect(config.swift == nil)
        #expect(config.sizeCap == 1 << 40)
    }

    @Test("The swift backend reads the service's account and its large-object sizes")
    func swiftBackend() throws {
        let text =
            auth + """
                [store]
                backend = swift
                [swift]
                user = glance
                password = secret
                container = images
                large_object_size = 1000
                large_object_chunk_size = 100
                """
        let config = try ImageServiceConfig(try ServiceConfig.parse(text))
        #expect(config.backend == "swift")
        #expect(config.swift?.user == "glance")
        #expect(config.swift?.project == "services")
        #expect(config.swift?.container == "images")
        #expect(config.swift?.chunkSize == 100)
        #expect(config.swift?.identityURL == "http://10.0.0.5:5000/v3")
    }

    @Test(
        "A backend it does not know, swift without a user or password, or a bad container is refused, naming the key",
        arguments: [
            ("[store]\nbackend = ceph", "backend"), ("[store]\nbackend = swift", "user"),
            ("[swift]\nuser = glance", "password"), ("[swift]\nuser = g\npassword = p\ncontainer = a/b", "container"),
            ("[swift]\nuser = g\npassword = p\nlarge_object_chunk_size = 0", "large_object_chunk_size"),
            ("[image]\nimage_size_cap = -1", "image_size_cap"),
        ])
    func refused(text: String, key: String) {
        #expect {
            _ = try ImageServiceConfig(try ServiceConfig.parse(auth + text))
        } throws: { error in
            "\(error)".contains(key)
        }
    }
}
