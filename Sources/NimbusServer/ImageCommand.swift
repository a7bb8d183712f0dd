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
            // Uploads the previous process never finished: their images go back to queued and
            // what was stored of them is removed (a store that cannot be reached is logged).
            var requeued: [String] = []
            do {
                let recovery = try await api.recoverInterruptedUploads()
                requeued = recovery.requeued
                for problem in recovery.problems {
                    logger.warning("partial image data left behind", metadata: ["problem": "\(problem)"])
                }
            } catch {
                logger.error("recovering interrupted uploads failed", metadata: ["error": "\(error)"])
            }
            logger.info(
                "image service starting",
                metadata: [
                    "bind": "\(settings.host):\(settings.port)", "state": "\(settings.stateDirectory)",
                    "backend": "\(settings.backend)", "requeued": "\(requeued)",
                ])
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
    /// `file` or `swift`: where uploads go.
    var backend: String
    /// The object storage account, when `[swift]` names a user (needed for backend swift;
    /// otherwise it keeps images stored there before readable).
    var swift: SwiftImageStore.Settings?

    static func load(path: String) throws -> ImageServiceConfig {
        let config = try ServiceConfig.load(path: path)
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:9292")
        let identityURL = try config.identityURL()
        let backend = config.string("store", "backend", default: "file")
        guard backend == "file" || backend == "swift" else {
            throw ServiceConfig.Failure.invalid(
                section: "store", key: "backend", value: backend, expected: "file or swift")
        }
        var swift: SwiftImageStore.Settings?
        if let user = config.string("swift", "user"), !user.isEmpty {
            var settings = SwiftImageStore.Settings(
                identityURL: identityURL, user: user, password: try config.require("swift", "password"),
                project: config.string("swift", "project", default: "services"))
            settings.domain = config.string("swift", "domain", default: "Default")
            settings.container = config.string("swift", "container", default: "glance")
            guard !settings.container.isEmpty, !settings.container.contains("/") else {
                throw ServiceConfig.Failure.invalid(
                    section: "swift", key: "container", value: settings.container, expected: "a name without /")
            }
            if let url = config.string("swift", "object_store_url"), !url.isEmpty { settings.objectStoreURL = url }
            settings.largeObjectSize = Int64(
                try config.int("swift", "large_object_size", default: Int(settings.largeObjectSize)))
            settings.chunkSize = Int64(
                try config.int("swift", "large_object_chunk_size", default: Int(settings.chunkSize)))
            guard settings.chunkSize > 0, settings.largeObjectSize > 0 else {
                throw ServiceConfig.Failure.invalid(
                    section: "swift", key: "large_object_chunk_size", value: String(settings.chunkSize),
                    expected: "a positive size in bytes")
            }
            swift = settings
        }
        if backend == "swift", swift == nil {
            throw ServiceConfig.Failure.invalid(
                section: "swift", key: "user", value: "", expected: "the image service's user, for backend = swift")
        }
        let cap = try config.int("image", "image_size_cap", default: 1 << 40)
        return ImageServiceConfig(
            host: bind.host, port: bind.port,
            stateDirectory: config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/image"),
            identityURL: identityURL, sizeCap: Int64(cap), backend: backend, swift: swift)
    }

    func open() throws -> ImageAPI {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let origin = identityURL.hasSuffix("/v3") ? String(identityURL.dropLast(3)) : identityURL
        var stores: [any ImageDataStore] = [try FileImageStore(directory: stateDirectory + "/images")]
        if let swift { stores.append(try SwiftImageStore(settings: swift)) }
        if backend == "swift" { stores.reverse() }
        return ImageAPI(
            store: try ImageStore(path: stateDirectory + "/image.sqlite"),
            validator: try TokenValidator(identityURL: identityURL), dataStores: stores, identityURI: origin,
            sizeCap: sizeCap)
    }
}
