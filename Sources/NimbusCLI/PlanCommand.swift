import ArgumentParser
import Foundation
import NimbusConfig
import NimbusPlan

/// `nimbus plan FILE`: the roles of every host and each step, touching nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show which host gets which role and every step deploy would run, touching no host."
    )

    @Argument(help: "The answer file (leave out with --allinone).")
    var file: String?

    @Flag(help: "Print the plan as JSON (stable; see docs/plan-json.md).")
    var json = false

    @OptionGroup var hosts: HostOptions
    @OptionGroup var data: DataOptions

    mutating func validate() throws {
        if file == nil && !hosts.allinone && hosts.installHosts == nil {
            throw ValidationError("give an answer file, or --allinone, or --install-hosts")
        }
    }

    mutating func run() throws {
        let overrides = try hosts.overrides(localAddress: AnswerFileInput.localAddress)
        let answers = try AnswerFileInput.load(path: file, overrides: overrides, quiet: json)
        let plan = Planner(roles: try data.roles()).plan(answers)
        print(json ? try plan.json() : plan.text(), terminator: "")
    }
}
