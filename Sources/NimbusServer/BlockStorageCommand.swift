import Logging
import NimbusBlockStorage
import NimbusServiceKit

/// `nimbus-server block-storage`: the Cinder-compatible block-storage API and its scheduler.
enum BlockStorageService: ServedService {
    static let name = "block-storage"
    static let abstract = "The block-storage service (Cinder v3 API) and its volume scheduler."

    static func serve(config: String) async throws {
        let settings = try BlockStorageServiceConfig.load(path: config)
        let api = try settings.open()
        let logger = Logger(label: "nimbus.\(name)")
        logger.info(
            "\(name) service starting",
            metadata: ["bind": "\(settings.host):\(settings.port)", "state": "\(settings.stateDirectory)"])
        try await ServiceServer.run(
            buildBlockStorageRouter(api: api), host: settings.host, port: settings.port, logger: logger)
    }
}
