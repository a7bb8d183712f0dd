import Foundation
import NimbusServiceKit

/// `/etc/nimbus/image.conf`, read once at start.
public struct ImageServiceConfig: Sendable {
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var identityURL: String
    public var sizeCap: Int64
    /// `file` or `swift`: where uploads go.
    public var backend: String
    /// The object storage account, when `[swift]` names a user (needed for backend swift;
    /// otherwise it keeps images stored there before readable).
    public var swift: SwiftImageStore.Settings?

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(ServiceConfig.Failure) -> ImageServiceConfig {
        try ImageServiceConfig(try ServiceConfig.load(path: path))
    }

    /// Checks a parsed file: every value in range, defaults for what is left out.
    public init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:9292")
        let identityURL = try config.identityURL()
        let backend = config.string("store", "backend", default: "file")
        guard backend == "file" || backend == "swift" else {
            throw .invalid(
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
                throw .invalid(
                    section: "swift", key: "container", value: settings.container, expected: "a name without /")
            }
            if let url = config.string("swift", "object_store_url"), !url.isEmpty { settings.objectStoreURL = url }
            settings.largeObjectSize = Int64(
                try config.int("swift", "large_object_size", default: Int(settings.largeObjectSize)))
            settings.chunkSize = Int64(
                try config.int("swift", "large_object_chunk_size", default: Int(settings.chunkSize)))
            guard settings.chunkSize > 0, settings.largeObjectSize > 0 else {
                throw .invalid(
                    section: "swift", key: "large_object_chunk_size", value: String(settings.chunkSize),
                    expected: "a positive size in bytes")
            }
            swift = settings
        }
        if backend == "swift", swift == nil {
            throw .invalid(
                section: "swift", key: "user", value: "", expected: "the image service's user, for backend = swift")
        }
        let cap = try config.int("image", "image_size_cap", default: 1 << 40)
        guard cap > 0 else {
            throw .invalid(
                section: "image", key: "image_size_cap", value: String(cap), expected: "a positive size in bytes")
        }
        host = bind.host
        port = bind.port
        stateDirectory = config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/image")
        self.identityURL = identityURL
        sizeCap = Int64(cap)
        self.backend = backend
        self.swift = swift
    }

    /// The service over its store and data stores (the state directory made, mode 0700).
    public func open() throws -> ImageAPI {
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
