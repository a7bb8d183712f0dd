import Foundation
import Logging
import NimbusServiceKit
import NimbusSystem

/// Runs the agents' commands (`ip`, `bridge`, `nft`, `sysctl`, `conntrack`, `dnsmasq`)
/// through a `ProcessRunning`, each in its namespace, and reads the host's state back as
/// JSON. `hostNamespace` is where "the host" is: nil for the agent's own namespace (a real
/// host), a name when tests simulate several hosts as namespaces on one machine.
///
/// `ip` and `bridge` take the namespace as `-n NAME`; other programs run under
/// `nsenter --net=/run/netns/NAME`, which, unlike `ip netns exec`, gives them no private
/// mount namespace. Namespaces are added and deleted from the agent's own context only.
/// Everything is async on the runner: nothing here blocks a thread of the pool.
public struct HostExecutor: Sendable {
    /// What runs the processes.
    public let runner: any ProcessRunning
    /// The host's namespace; nil: the agent's own.
    public let hostNamespace: String?
    let logger: Logger
    /// Each command's time limit, in seconds.
    let timeout: Double

    /// An executor for the host in `hostNamespace` (nil: the agent's own namespace).
    public init(runner: any ProcessRunning, hostNamespace: String?, logger: Logger, timeout: Double = 20) {
        self.runner = runner
        self.hostNamespace = hostNamespace
        self.logger = logger
        self.timeout = timeout
    }

    /// The namespace a scope names; nil: the agent's own.
    func namespace(_ scope: HostCommand.Scope) -> String? {
        switch scope {
        case .host: hostNamespace
        case .namespace(let name): name
        case .agent: nil
        }
    }

    /// The process to run for `command`.
    public func process(_ command: HostCommand) -> Command {
        var arguments = command.arguments
        if let namespace = namespace(command.scope), let program = arguments.first {
            if program == "ip" || program == "bridge" {
                arguments.insert(contentsOf: ["-n", namespace], at: 1)
            } else {
                arguments = ["nsenter", "--net=/run/netns/\(namespace)", "--"] + arguments
            }
        }
        return Command(arguments, input: command.input, timeout: timeout, graceSeconds: 2)
    }

    /// Runs one command; its standard output. A failing `mayFail` command is logged and
    /// answers "".
    @discardableResult
    public func run(_ command: HostCommand) async throws(DataplaneError) -> String {
        let process = process(command)
        let output: ProcessOutput
        do {
            output = try await runner.run(process)
        } catch {
            throw .cannotRun(command: process.description, reason: "\(error)")
        }
        guard output.succeeded else {
            let stderr = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
            if command.mayFail {
                logger.debug("command failed, as it may", metadata: ["command": "\(process)", "stderr": "\(stderr)"])
                return ""
            }
            throw .commandFailed(command: process.description, status: output.status, stderr: stderr)
        }
        if !command.isReadOnly { logger.debug("ran", metadata: ["command": "\(command)"]) }
        return output.stdout
    }

    /// Runs commands in order, stopping at the first failure.
    public func run(_ commands: [HostCommand]) async throws(DataplaneError) {
        for command in commands { try await run(command) }
    }

    func json(_ command: HostCommand) async throws(DataplaneError) -> JSON {
        let text = try await run(command)
        if text.allSatisfy(\.isWhitespace) { return [] }
        do {
            return try JSON.parse(Array(text.utf8))
        } catch {
            throw .unreadableOutput(command: process(command).description, reason: error.description)
        }
    }
}

extension HostExecutor {
    /// The devices in `scope` with their details (`ip -d -j link show`).
    public func links(_ scope: HostCommand.Scope = .host) async throws(DataplaneError) -> [String: Link] {
        Link.parse(try await json(.ip(scope, "-d", "-j", "link", "show")))
    }

    /// The devices in `scope` with their IPv4 addresses (`ip -d -j addr show`).
    public func addresses(_ scope: HostCommand.Scope) async throws(DataplaneError) -> [String: Link] {
        Link.parse(try await json(.ip(scope, "-d", "-j", "addr", "show")))
    }

    /// The remote entries of a VXLAN device's forwarding database.
    public func fdb(device: String) async throws(DataplaneError) -> [FDBEntry] {
        FDBEntry.parse(try await json(.bridge(.host, "-j", "fdb", "show", "dev", device)))
    }

    /// The IPv4 routes of the main table in `scope`.
    public func routes(_ scope: HostCommand.Scope) async throws(DataplaneError) -> [Route] {
        Route.parse(try await json(.ip(scope, "-j", "-4", "route", "show")))
    }

    /// The nftables ruleset in `scope`.
    public func ruleset(_ scope: HostCommand.Scope = .host) async throws(DataplaneError) -> NftRuleset {
        NftRuleset(json: try await json(HostCommand(scope, ["nft", "-j", "list", "ruleset"])))
    }

    /// The named network namespaces (`ip -j netns list`), which are global.
    public func namespaces() async throws(DataplaneError) -> Set<String> {
        Set((try await json(.ip(.agent, "-j", "netns", "list"))).array?.compactMap { $0["name"]?.string } ?? [])
    }

    /// The values of sysctl `keys` in `scope`, in order; a key the kernel lacks fails.
    public func sysctl(_ keys: [String], in scope: HostCommand.Scope) async throws(DataplaneError) -> [String] {
        let output = try await run(HostCommand(scope, ["sysctl", "-n"] + keys))
        return output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
