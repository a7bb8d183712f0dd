import Hummingbird
import Logging
import NimbusCompute
import NimbusServiceKit
import ServiceLifecycle

/// `nimbus-server compute`: the Nova-compatible compute service, and beside it, when a
/// shared secret is set, its metadata API for the routers' proxies.
enum ComputeService: ServedService {
    static let name = "compute"
    static let abstract = "The compute service (Nova v2.1 API) and its metadata API."

    static func serve(config: String) async throws {
        let settings = try ComputeServiceConfig.load(path: config)
        let api = try settings.open()
        let logger = Logger(label: "nimbus.\(name)")
        // Attaches and detaches carried on as the agents report them.
        var services: [any Service] = [
            PeriodicService(name: "finishing volume attachments", every: .seconds(1), logger: logger) {
                await api.finishVolumeChanges()
            }
        ]
        if !settings.metadataSecret.isEmpty {
            let metadata = buildMetadataRouter(api: MetadataAPI(compute: api, secret: settings.metadataSecret))
            services.append(
                Application(
                    router: metadata, server: ServiceServer.http1,
                    configuration: .init(
                        address: .hostname(settings.metadataHost, port: settings.metadataPort), serverName: nil),
                    logger: logger))
        }
        logger.info(
            "\(name) service starting",
            metadata: [
                "bind": "\(settings.host):\(settings.port)", "state": "\(settings.stateDirectory)",
                "metadata":
                    "\(settings.metadataSecret.isEmpty ? "off" : "\(settings.metadataHost):\(settings.metadataPort)")",
            ])
        try await ServiceServer.run(
            buildComputeRouter(api: api), host: settings.host, port: settings.port, services: services, logger: logger)
    }
}
