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
            admin token issued and validated, each catalog endpoint reachable. Services this \
            version does not install yet are listed as pending, not as failures.
            """
    )

    @Argument(help: "The answer file (default: the one of the latest deploy's log).")
    var file: String?

    @OptionGroup var data: DataOptions

    @Flag(help: "Print the checks as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Where run logs go (for the latest deploy's answer file).", valueName: "dir"))
    var logRoot = RunLog.defaultRoot

    func run() throws {
        let path = file ?? logRoot + "/latest/answers.txt"
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIError("no answer file: give one (nimbus status FILE); \(path) does not exist")
        }
        let answers = try AnswerFileInput.load(path: path, overrides: [:], quiet: true)
        let roles = try data.roles()
        let plan = Planner(roles: roles).plan(answers)
        let publicKey = DeployCommand.expand(answers.text(.sshKey))
        let ssh = SSHSettings(
            privateKey: SSHSettings.privateKey(forPublicKey: publicKey),
            publicKey: nil, knownHosts: DeployCommand.expand(answers.text(.knownHosts)), acceptNewHostKeys: false,
            connectTimeout: 5, password: nil)
        let report = CloudStatus(
            answers: answers, plan: plan, manifest: roles.manifest,
            connect: ssh.connector
        ).check()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report.checks), as: UTF8.self))
        } else {
            print(report.text(color: Console.stdoutIsTerminal))
        }
        if !report.healthy { throw ExitCode(1) }
    }
}
