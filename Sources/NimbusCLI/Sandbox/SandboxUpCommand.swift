import ArgumentParser
import Foundation
import NimbusModel
import NimbusPlan
import NimbusSandbox

/// `nimbus sandbox up --nodes N`.
struct SandboxUpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Bring up (or back) a sandbox of N nodes and write an answer file for its layout."
    )

    @Option(help: "Number of nodes (1–32). An existing sandbox may grow.")
    var nodes: Int = 1

    @Option(help: "Layout of the answer file: allinone, two, three or four (default: from --nodes).")
    var layout: SandboxLayout?

    @Option(
        name: .customLong("answer-file"),
        help: ArgumentHelp(
            "Answer file to write for the layout (kept if it exists: it holds passwords).", valueName: "file"))
    var answerFile = "sandbox-answers.txt"

    @Option(
        name: .customLong("management-network"), help: ArgumentHelp("Subnet of eth0 (management).", valueName: "cidr"))
    var managementNetwork = SandboxSpec.defaultManagement.description

    @Option(
        name: .customLong("provider-network"),
        help: ArgumentHelp("Subnet of eth1 (provider, br-ex).", valueName: "cidr"))
    var providerNetwork = SandboxSpec.defaultProvider.description

    @Flag(name: .customLong("raise-limits"), help: "Raise fs.inotify.max_user_instances when too low for N nodes.")
    var raiseLimits = false

    @OptionGroup var sandbox: SandboxOptions
    @OptionGroup var data: DataOptions

    func run() throws {
        guard let management = CIDR(managementNetwork) else {
            throw ValidationError("--management-network \(managementNetwork) is not a network like 10.251.0.0/24")
        }
        guard let provider = CIDR(providerNetwork) else {
            throw ValidationError("--provider-network \(providerNetwork) is not a network like 10.252.0.0/24")
        }
        let spec = SandboxSpec(
            name: sandbox.name, nodeCount: nodes, layout: layout, managementNetwork: management,
            providerNetwork: provider)
        let packages = try data.roles().manifest.services.flatMap { $0.packages["debian"] ?? [] }
        let options = SandboxManager.UpOptions(
            answerFile: answerFile, repositoryPackages: Array(Set(packages)).sorted(), raiseLimits: raiseLimits)
        let report: SandboxManager.UpReport
        do {
            report = try sandbox.manager().up(spec, options: options) { Console.error("==> \($0)") }
        } catch let error as SandboxError {
            throw sandboxFailure(error)
        }
        print(
            "Sandbox \(report.spec.name): \(report.spec.nodeCount) node\(report.spec.nodeCount == 1 ? "" : "s") up in \(String(format: "%.1f", report.seconds)) s"
        )
        printNodes(report.nodes)
        if report.answerFileWritten {
            print("Wrote \(report.answerFile) (\(report.spec.layout.rawValue) layout).")
        } else {
            print(
                "Kept the existing \(report.answerFile) (it holds passwords); delete it and run up again for a fresh \(report.spec.layout.rawValue)-layout file."
            )
        }
        print("Next: nimbus deploy \(report.answerFile)")
        print("Reach a node: nimbus sandbox ssh node1 [command]")
    }
}

extension SandboxLayout: ExpressibleByArgument {}
