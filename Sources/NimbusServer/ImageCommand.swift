import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NimbusImage
import NimbusServiceKit

/// `nimbus-server image`: the Glance-compatible image service.
enum ImageService: ServedService {
    static let name = "image"
    static let abstract = "The image service (Glance v2 API)."

    static func serve(config: String) async throws {
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
