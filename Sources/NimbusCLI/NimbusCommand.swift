import ArgumentParser

/// `nimbus`: one answer file to an OpenStack-compatible cloud.
///
/// Packstack's spellings work at the top level (`nimbus --gen-answer-file=F`,
/// `--answer-file=F`, `--allinone`, `--install-hosts=A,B`, `--default-password=P`) and map
/// onto the subcommands.
public struct NimbusCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nimbus",
        abstract: "Turn one answer file into an OpenStack-compatible cloud on one to many Linux hosts.",
        discussion: """
            Main job: nimbus gen-answer-file answers.txt, edit hosts and passwords, \
            nimbus validate answers.txt, nimbus plan answers.txt, nimbus deploy answers.txt.
            Packstack's options are accepted too: --gen-answer-file=FILE, --answer-file=FILE, \
            --allinone, --install-hosts=A,B,C, --default-password=PW.
            """,
        version: "0.1.0",
        subcommands: [
            GenAnswerFileCommand.self, ValidateCommand.self, PlanCommand.self, DeployCommand.self, StatusCommand.self,
            ServiceCommand.self, DestroyCommand.self, SandboxCommand.self,
            DocsCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line, with Packstack's top-level spellings rewritten first.
    public static func main() {
        main(PackstackSpelling.rewrite(Array(CommandLine.arguments.dropFirst())))
    }
}
