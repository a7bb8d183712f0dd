import ArgumentParser
import Foundation
import NimbusModel
import NimbusSandbox

/// `nimbus sandbox …`: real multi-node hosts on this machine.
struct SandboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Real Debian hosts on this machine (systemd-nspawn nodes in network namespaces) to deploy onto.",
        subcommands: [
            SandboxUpCommand.self, SandboxDownCommand.self, SandboxListCommand.self, SandboxStatusCommand.self,
            SandboxSSHCommand.self, SandboxRebootCommand.self,
        ]
    )
}

/// Which sandbox, and where sandboxes keep their state.
struct SandboxOptions: ParsableArguments {
    @Option(help: "The sandbox's name (1–8 lower-case letters and digits).")
    var name = SandboxSpec.defaultName

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("Where sandboxes and the cached base live.", valueName: "dir"))
    var stateDirectory = ProcessInfo.processInfo.environment["NIMBUS_SANDBOX_DIR"] ?? SandboxPaths.defaultRoot

    func manager() throws -> SandboxManager {
        guard let templates = DataDirectory.locate("templates") else {
            throw CLIError("cannot find the templates/ directory; set NIMBUS_TEMPLATES_DIR")
        }
        return SandboxManager(paths: SandboxPaths(root: stateDirectory), templates: templates)
    }
}

extension NodeStatus {
    var line: String {
        let state = running ? (sshAnswers ? "running" : "booting") : "stopped"
        return
            "\(name.rightPadded(to: 7)) \(managementAddress.rightPadded(to: 15)) \(providerAddress.rightPadded(to: 15)) \(state)"
    }
}

func printNodes(_ nodes: [NodeStatus]) {
    print("NODE    MANAGEMENT      PROVIDER        STATE")
    for node in nodes { print(node.line) }
}

func sandboxFailure(_ error: SandboxError) -> CLIError { CLIError(error.description) }

extension String {
    fileprivate func rightPadded(to width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - count))
    }
}
