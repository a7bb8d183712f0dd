import ArgumentParser

/// `nimbus-agent`: the host agents, one subcommand each; shipped only to hosts whose
/// services name it, so an identity host never needs what an agent links.
public struct AgentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nimbus-agent",
        abstract: "Nimbus's host agents, one subcommand each.",
        version: "nimbus-agent 0.1",
        subcommands: [
            NetworkAgentCommand.self, NetworkGatewayCommand.self, ComputeAgentCommand.self, VolumeAgentCommand.self,
        ]
    )

    public init() {}
}
