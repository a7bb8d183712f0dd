import ArgumentParser
import Foundation
import NimbusConfig
import NimbusManifest
import NimbusPlan
import NimbusRollout
import Synchronization

/// `nimbus service start|stop|restart|status [SERVICE…] [--host H]`: what Packstack's
/// `openstack-service` was, for the units Nimbus installed on the hosts of an answer file.
struct ServiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Start, stop, restart or show the Nimbus services on the hosts that run them (openstack-service).",
        discussion: """
            SERVICE is a service of roles/services.yaml (identity, compute, compute-agent, …), a \
            group — compute (nova), network (neutron), block-storage (cinder), image (glance), \
            identity (keystone), object (swift), each with its agents on every host that runs \
            them — or its OpenStack name in brackets. None: every service. --host keeps to one \
            host. Each host's units are handled with one systemctl call, the hosts in parallel; \
            each unit's state afterwards is printed. Exit 1 when a unit is not in the state asked \
            for.
            """
    )

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case start, stop, restart, status
    }

    @Argument(help: "start, stop, restart or status.")
    var action: Action

    @Argument(help: "Services or groups (default: all).")
    var services: [String] = []

    @Option(help: ArgumentHelp("Only on this host (as the answer file names it).", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("The answer file (default: the one of the latest deploy's log).", valueName: "file"))
    var answerFile: String?

    @OptionGroup var data: DataOptions

    @Option(help: ArgumentHelp("Where run logs go (for the latest deploy's answer file).", valueName: "dir"))
    var logRoot = RunLog.defaultRoot

    /// OpenStack's project names for the groups.
    static let aliases = [
        "keystone": "identity", "glance": "image", "nova": "compute", "neutron": "network", "cinder": "block-storage",
        "swift": "object", "horizon": "dashboard",
    ]

    func run() throws {
        let deployed = try Deployed.load(file: answerFile, logRoot: logRoot, data: data)
        let manifest = deployed.roles.manifest
        let installed = manifest.services.filter { !$0.planned }
        let chosen = try Self.select(services, from: installed)
        let placement = ServiceDelivery.placement(of: deployed.plan)
        var units: [String: [String]] = [:]
        for entry in chosen {
            for name in placement[entry.name] ?? [] where host == nil || host == name {
                units[name, default: []].append(String(entry.unitName.dropLast(".service".count)))
            }
        }
        if let host, !deployed.plan.hosts.contains(where: { $0.host.description == host }) {
            throw CLIError("\(host) is not a host of \(deployed.path)")
        }
        guard !units.isEmpty else {
            throw CLIError(
                "no host runs \(services.isEmpty ? "any service" : services.joined(separator: ", "))\(host.map { " on \($0)" } ?? "")"
            )
        }
        let hosts = deployed.plan.hosts.map(\.host.description).filter { units[$0] != nil }
        let unitsByHost = units
        let results = Mutex<[String: [(unit: String, state: String)]]>([:])
        let failures = Mutex<[String: String]>([:])
        let verb = action.rawValue
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let name = hosts[index]
            let list = unitsByHost[name] ?? []
            let names = list.map { "\($0).service" }.joined(separator: " ")
            var script = ""
            if action != .status { script += "systemctl \(verb) \(names) || echo \"failed $?\"\n" }
            script +=
                "for u in \(list.joined(separator: " ")); do echo \"unit $u $(systemctl is-active $u.service)\"; done\n"
            do {
                let executor = try deployed.connect(name)
                defer { executor.close() }
                let output = try executor.run("sh -s", input: script, timeout: 120)
                var states: [(String, String)] = []
                for line in output.stdout.split(separator: "\n") {
                    let fields = line.split(separator: " ").map(String.init)
                    if fields.first == "unit", fields.count >= 3 { states.append((fields[1], fields[2])) }
                    if fields.first == "failed" {
                        failures.withLock {
                            $0[name] =
                                "systemctl \(verb) failed: \(output.stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
                        }
                    }
                }
                results.withLock { $0[name] = states }
            } catch {
                failures.withLock { $0[name] = "\(error)" }
            }
        }
        var wrong = 0
        let wanted = action == .stop ? "inactive" : "active"
        let done = ["start": "started", "stop": "stopped", "restart": "restarted", "status": ""][verb] ?? verb
        for name in hosts {
            let states = results.withLock { $0[name] ?? [] }
            if let failure = failures.withLock({ $0[name] }) { print("\(name): \(failure)") }
            for (unit, state) in states {
                let ok = state == wanted
                if !ok { wrong += 1 }
                let what = done.isEmpty ? "" : "\(done), "
                print(
                    "\(name.padding(toLength: 15, withPad: " ", startingAt: 0)) \(unit.padding(toLength: 28, withPad: " ", startingAt: 0)) \(what)\(state)\(ok ? "" : "  (journalctl -u \(unit) on \(name) says why)")"
                )
            }
            if states.isEmpty && failures.withLock({ $0[name] == nil }) { wrong += 1 }
        }
        if wrong > 0 || !failures.withLock(\.isEmpty) { throw ExitCode(1) }
    }

    /// The entries named (a service, a group with its agents, or an OpenStack name); all
    /// with none.
    static func select(_ names: [String], from installed: [ServiceEntry]) throws -> [ServiceEntry] {
        guard !names.isEmpty else { return installed }
        var chosen: [ServiceEntry] = []
        for given in names {
            let name = aliases[given.lowercased()] ?? given.lowercased()
            let members = installed.filter { $0.name == name || $0.requires.contains(name) && $0.binary == .agent }
            guard !members.isEmpty else {
                let known = installed.map(\.name) + aliases.keys.sorted()
                throw CLIError("no service \(given); the services are: \(known.joined(separator: ", "))")
            }
            for entry in members where !chosen.contains(where: { $0.name == entry.name }) { chosen.append(entry) }
        }
        return chosen
    }
}

/// A deployed cloud as an answer file describes it: the file (given, or the latest
/// deploy's), its plan and the SSH connection to its hosts.
struct Deployed {
    var path: String
    var answers: AnswerFile
    var roles: RoleCatalog
    var plan: Plan
    var connect: Rollout.Connect

    static func load(file: String?, logRoot: String, data: DataOptions) throws -> Deployed {
        let path = file ?? logRoot + "/latest/answers.txt"
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIError("no answer file: give one (the file you deployed); \(path) does not exist")
        }
        let answers = try AnswerFileInput.load(path: path, overrides: [:], quiet: true)
        let roles = try data.roles()
        let plan = Planner(roles: roles).plan(answers)
        let publicKey = DeployCommand.expand(answers.text(.sshKey))
        let ssh = SSHSettings(
            privateKey: SSHSettings.privateKey(forPublicKey: publicKey),
            publicKey: nil, knownHosts: DeployCommand.expand(answers.text(.knownHosts)), acceptNewHostKeys: false,
            connectTimeout: 5, password: nil)
        return Deployed(path: path, answers: answers, roles: roles, plan: plan, connect: ssh.connector)
    }
}
