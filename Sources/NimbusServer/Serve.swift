import ArgumentParser
import Hummingbird
import Logging
import NimbusServiceKit

/// A service `nimbus-server` serves: its name (the subcommand, and `/etc/nimbus/<name>.conf`)
/// and what starting it takes once the allocator is set.
protocol ServedService {
    static var name: String { get }
    static var abstract: String { get }
    /// Reads `config`, opens the service's state and serves until SIGTERM.
    static func serve(config: String) async throws
}

/// `nimbus-server <service> [serve]`: one service's command with its `serve` subcommand.
struct ServiceCommand<Service: ServedService>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Service.name, abstract: Service.abstract, subcommands: [Serve<Service>.self],
            defaultSubcommand: Serve<Service>.self)
    }
}

/// `serve`: the service until SIGTERM.
struct Serve<Service: ServedService>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "serve", abstract: "Serve the API until SIGTERM (the default).")
    }

    @Option(name: .long, help: "The service's configuration file.")
    var config = "/etc/nimbus/\(Service.name).conf"

    func run() async throws {
        Memory.configureAllocator()
        try await Service.serve(config: config)
    }
}

extension ServedService {
    /// Serves `router` at `host:port` until SIGTERM, saying so in the log (`nimbus.<name>`).
    static func serve(
        _ router: Hummingbird.Router<ServiceContext>, host: String, port: Int, stateDirectory: String
    ) async throws {
        let logger = Logger(label: "nimbus.\(name)")
        logger.info(
            "\(name) service starting", metadata: ["bind": "\(host):\(port)", "state": "\(stateDirectory)"])
        try await ServiceServer.run(router, host: host, port: port, logger: logger)
    }
}
