import ArgumentParser

/// `nimbus-server`: the one binary every Nimbus host runs, a subcommand per service.
public struct ServerCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nimbus-server",
        abstract: "Nimbus's bundled OpenStack-compatible services, one subcommand each.",
        version: "nimbus-server 0.5",
        subcommands: [
            IdentityCommand.self, ServiceCommand<ImageService>.self, ServiceCommand<ObjectService>.self,
            ServiceCommand<NetworkService>.self, ServiceCommand<ComputeService>.self,
            ServiceCommand<BlockStorageService>.self, HealthCommand.self,
        ]
    )

    public init() {}
}
