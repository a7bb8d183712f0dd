import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NimbusImage
import NimbusServiceKit

/// `nimbus-server image`: the Glance-compatible image service.
struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "The image service (Glance v2 API).",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Serve the API until SIGTERM (the default).")
        @Option(name: .long, help: "The service's configuration file.")
        var config = "/etc/nimbus/image.conf"

        func run() async throws {
            Memory.configureAllocator()
            let settings = try ImageServiceConfig.load(path: config)
            let api = try settings.open()
            let logger = Logger(label: "nimbus.image")
            logger.info(
                "image service starting",
                metadata: ["bind": "\(settings.host):\(settings.port)", "state": "\(settings.stateDirectory)"])
            try await ServiceServer.run(
                buildImageRouter(api: api), host: settings.host, port: settings.port, logger: logger)
        }
    }
}

/// `/etc/nimbus/image.conf`, read once at start.
struct ImageServiceConfig {
    var host: String
    var port: Int
    var stateDirectory: String
    var identityURL: String
    var sizeCap: Int64

    static func load(path: String) throws -> ImageServiceConfig {
        let config = try ServiceConfig.load(path: path)
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:9292")
        let identityURL = try config.identityURL()
        let backend = config.string("store", "backend", default: "file")
        guard backend == "file" else {
            throw ServiceConfig.Failure.invalid(
                section: "store", key: "backend", value: backend, expected: "file (the only store so far)")
        }
        let cap = try config.int("image", "image_size_cap", default: 1 << 40)
        return ImageServiceConfig(
            host: bind.host, port: bind.port,
            stateDirectory: config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/image"),
            identityURL: identityURL, sizeCap: Int64(cap))
    }

    func open() throws -> ImageAPI {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let origin = identityURL.hasSuffix("/v3") ? String(identityURL.dropLast(3)) : identityURL
        return try ImageAPI(
            store: try ImageStore(path: stateDirectory + "/image.sqlite"),
            validator: try TokenValidator(identityURL: identityURL), dataDirectory: stateDirectory + "/images",
            identityURI: origin, sizeCap: sizeCap)
    }
}
