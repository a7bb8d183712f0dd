import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NimbusIdentity
import NimbusServiceKit

/// `nimbus-server identity`: the Keystone-compatible identity service.
struct IdentityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "The identity service (Keystone v3 API).",
        subcommands: [Serve.self, Bootstrap.self, RotateKeys.self],
        defaultSubcommand: Serve.self
    )

    struct Options: ParsableArguments {
        @Option(name: .long, help: "The service's configuration file.")
        var config = "/etc/nimbus/identity.conf"
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve", abstract: "Serve the API until SIGTERM (the default).")
        @OptionGroup var options: Options

        func run() async throws {
            Memory.configureAllocator()
            let settings = try IdentityServiceConfig.load(path: options.config)
            let service = try settings.open()
            let logger = Logger(label: "nimbus.identity")
            logger.info(
                "identity service starting",
                metadata: ["bind": "\(settings.host):\(settings.port)", "state": "\(settings.stateDirectory)"])
            try await ServiceServer.run(
                buildIdentityRouter(api: service), host: settings.host, port: settings.port, logger: logger)
        }
    }

    struct Bootstrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create (or bring up to date) the domain, roles, admin, region and catalog.")
        @OptionGroup var options: Options
        @Option(name: .long, help: "The bootstrap file the deploy writes (JSON, mode 0600).")
        var spec: String
        @Flag(name: .long, help: "Change nothing; exit 0 when nothing would change, 1 otherwise.")
        var check = false

        func run() async throws {
            let settings = try IdentityServiceConfig.load(path: options.config)
            guard let data = FileManager.default.contents(atPath: spec) else {
                throw ValidationError("cannot read \(spec)")
            }
            let parsed = try BootstrapSpec.parse(try JSON.parse(Array(data)))
            let store = try settings.openStore()
            let changes = try store.bootstrap(parsed, hasher: settings.hasher, dryRun: check)
            if check {
                print(
                    changes.isEmpty
                        ? "identity: up to date" : changes.map { "identity: would \($0)" }.joined(separator: "\n"))
                if !changes.isEmpty { throw ExitCode(1) }
                return
            }
            print(
                changes.isEmpty
                    ? "identity: nothing to change" : changes.map { "identity: \($0)" }.joined(separator: "\n"))
        }
    }

    struct RotateKeys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-keys",
            abstract: "Add a new token key and drop the oldest beyond --keep; restart the services to use it.")
        @OptionGroup var options: Options
        @Option(name: .long, help: "How many keys to keep (tokens sealed with dropped keys stop working).")
        var keep = 3

        func run() async throws {
            let settings = try IdentityServiceConfig.load(path: options.config)
            try TokenKeyRepository(directory: settings.keyDirectory).rotate(keep: keep)
            print("token keys rotated in \(settings.keyDirectory)")
        }
    }
}
