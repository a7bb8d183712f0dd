import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NimbusObject
import NimbusServiceKit

/// `nimbus-server object`: the Swift-compatible object storage service.
enum ObjectService: ServedService {
    static let name = "object"
    static let abstract = "The object storage service (Swift v1 API)."

    static func serve(config: String) async throws {
        let settings = try ObjectServiceConfig.load(path: config)
        let api = try settings.open()
        let logger = Logger(label: "nimbus.object")
        let leftovers = try api.removeLeftovers()
        logger.info(
            "object service starting",
            metadata: [
                "bind": "\(settings.host):\(settings.port)", "state": "\(settings.stateDirectory)",
                "leftovers_removed": "\(leftovers)",
            ])
        // Expired objects (X-Delete-At) are hidden at once and removed within a minute.
        let expirer = PeriodicService(name: "removing expired objects", every: .seconds(30), logger: logger) {
            _ = try api.sweepExpired()
        }
        try await ServiceServer.run(
            buildObjectRouter(api: api), host: settings.host, port: settings.port, services: [expirer],
            logger: logger)
    }
}
