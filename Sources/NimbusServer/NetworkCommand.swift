import NimbusNetwork
import NimbusServiceKit

/// `nimbus-server network`: the Neutron-compatible network service.
enum NetworkService: ServedService {
    static let name = "network"
    static let abstract = "The network service (Neutron v2.0 API) and its agents' channel."

    static func serve(config: String) async throws {
        let settings = try NetworkServiceConfig.load(path: config)
        try await serve(
            buildNetworkRouter(api: try settings.open()), host: settings.host, port: settings.port,
            stateDirectory: settings.stateDirectory)
    }
}
