import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NimbusNetwork
import NimbusServiceKit

/// `nimbus-server network`: the Neutron-compatible network service.
struct NetworkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "The network service (Neutron v2.0 API) and its agents' channel.",
        subcommands: [Serve.self],
        defaultSubcommand: Serve.self
    )

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Serve the API until SIGTERM (the default).")
        @Option(name: .long, help: "The service's configuration file.")
        var config = "/etc/nimbus/network.conf"

        func run() async throws {
            Memory.configureAllocator()
            let settings = try NetworkServiceConfig.load(path: config)
            let api = try settings.open()
            let logger = Logger(label: "nimbus.network")
            logger.info(
                "network service starting",
                metadata: ["bind": "\(settings.host):\(settings.port)", "state": "\(settings.stateDirectory)"])
            try await ServiceServer.run(
                buildNetworkRouter(api: api), host: settings.host, port: settings.port, logger: logger)
        }
    }
}
