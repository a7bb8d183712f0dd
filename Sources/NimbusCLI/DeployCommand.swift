import ArgumentParser
import NimbusConfig
import NimbusPlan

/// `nimbus deploy FILE`. Until the rollout engine lands it validates and shows the plan,
/// and says plainly that it changed nothing.
struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Prepare the hosts and install the cloud an answer file describes (not yet: shows the plan)."
    )

    @Argument(help: "The answer file (leave out with --allinone).")
    var file: String?

    @OptionGroup var hosts: HostOptions
    @OptionGroup var data: DataOptions

    mutating func validate() throws {
        if file == nil && !hosts.allinone && hosts.installHosts == nil {
            throw ValidationError("give an answer file, or --allinone, or --install-hosts")
        }
    }

    mutating func run() throws {
        try DeployCommand.planOnly(file: file, hosts: hosts, data: data)
    }

    static func planOnly(file: String?, hosts: HostOptions, data: DataOptions) throws {
        let overrides = try hosts.overrides(localAddress: AnswerFileInput.localAddress)
        let answers = try AnswerFileInput.load(path: file, overrides: overrides)
        let plan = Planner(roles: try data.roles()).plan(answers)
        print(plan.text(), terminator: "")
        Console.error(
            "nimbus: deploy is not implemented yet (the SSH rollout engine is the next piece of work); this is the plan it will run. No host was contacted and nothing was changed."
        )
        throw ExitCode(2)
    }
}

/// Packstack's top-level spellings, mapped onto the subcommands.
struct PackstackOptions: ParsableArguments {
    @Option(
        name: .customLong("gen-answer-file"),
        help: ArgumentHelp("Packstack spelling of: nimbus gen-answer-file FILE.", valueName: "file"))
    var genAnswerFile: String?

    @Option(
        name: .customLong("answer-file"),
        help: ArgumentHelp("Packstack spelling of: nimbus deploy FILE.", valueName: "file"))
    var answerFile: String?

    @OptionGroup var hosts: HostOptions

    func run(data: DataOptions) throws {
        if let genAnswerFile {
            guard answerFile == nil else {
                throw ValidationError("--gen-answer-file and --answer-file cannot be combined")
            }
            var command = GenAnswerFileCommand()
            command.file = genAnswerFile
            command.hosts = hosts
            try command.run()
        } else if answerFile != nil || hosts.allinone || hosts.installHosts != nil {
            try DeployCommand.planOnly(file: answerFile, hosts: hosts, data: data)
        } else {
            print(NimbusCommand.helpMessage())
        }
    }
}
