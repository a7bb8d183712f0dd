import ArgumentParser
import Foundation
import NimbusConfig
import NimbusPlan
import NimbusRollout

/// `nimbus status [FILE]`: is the cloud up? Exit 0 when every check passes, 1 otherwise.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Check every host and service of a deployed cloud (what openstack-status was).",
        discussion: """
            For each host: every Nimbus unit active and enabled, time sync (chrony's offset), \
            br-ex where the answer file maps it. For the cloud: the identity API's /healthz, an \
            admin token issued and validated, each catalog endpoint reachable and answering an \
            authenticated request; then what the APIs say of their agents: compute services and \
            hypervisors, network agents, volume services and pools, each up or down. A check that \
            is down says how to fix it (the host and the command). Services this version does not \
            install yet are listed as pending, not as failures. Exit 1 when anything is down.
            """
    )

    @Argument(help: "The answer file (default: the one of the latest deploy's log).")
    var file: String?

    @OptionGroup var data: DataOptions

    @Flag(help: "Print {healthy, down, checks: [{section, host, name, state, detail, fix}]} as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Where run logs go (for the latest deploy's answer file).", valueName: "dir"))
    var logRoot = RunLog.defaultRoot

    func run() throws {
        let deployed = try Deployed.load(file: file, logRoot: logRoot, data: data)
        let report = CloudStatus(
            answers: deployed.answers, plan: deployed.plan, manifest: deployed.roles.manifest,
            connect: deployed.connect
        ).check()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            struct Output: Encodable {
                var healthy: Bool
                var down: Int
                var checks: [CloudStatus.Check]
            }
            let output = Output(
                healthy: report.healthy, down: report.checks.filter { $0.state == "down" }.count, checks: report.checks)
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print(report.text(color: Console.stdoutIsTerminal))
        }
        if !report.healthy { throw ExitCode(1) }
    }
}
