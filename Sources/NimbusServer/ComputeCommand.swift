import NimbusCompute
import NimbusServiceKit

/// `nimbus-server compute`: the Nova-compatible compute service.
enum ComputeService: ServedService {
    static let name = "compute"
    static let abstract = "The compute service (Nova v2.1 API): flavors and key pairs so far."

    static func serve(config: String) async throws {
        let settings = try ComputeServiceConfig.load(path: config)
        try await serve(
            buildComputeRouter(api: try settings.open()), host: settings.host, port: settings.port,
            stateDirectory: settings.stateDirectory)
    }
}
