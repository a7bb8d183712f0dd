import ArgumentParser
import Foundation
import NimbusSandbox

/// `nimbus sandbox down [--purge]`.
struct SandboxDownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract:
            "Power the nodes off and remove their namespaces, veths, mounts and bridges (--purge: and their disks)."
    )

    @Flag(help: "Also delete the nodes' disks, and the cached base when no sandbox is left.")
    var purge = false

    @OptionGroup var sandbox: SandboxOptions

    func run() throws {
        do { try sandbox.manager().down(sandbox.name, purge: purge) { print($0) } } catch let error as SandboxError {
            throw sandboxFailure(error)
        }
    }
}

/// `nimbus sandbox list`.
struct SandboxListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List sandboxes and their nodes.")

    @OptionGroup var sandbox: SandboxOptions

    func run() throws {
        let manager = try sandbox.manager()
        let names = manager.paths.sandboxNames()
        if names.isEmpty { print("no sandboxes (nimbus sandbox up --nodes N makes one)") }
        for name in names {
            guard let spec = try? manager.loadSpec(name) else { continue }
            print(
                "\(name): \(spec.nodeCount) nodes, \(spec.layout.rawValue) layout, \(spec.managementNetwork) + \(spec.providerNetwork)"
            )
            printNodes(manager.status(spec))
        }
    }
}

/// `nimbus sandbox status`: exit 1 unless every node runs and answers SSH.
struct SandboxStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each node's state; exit 1 unless all run and answer SSH.")

    @Flag(help: "Print JSON.")
    var json = false

    @OptionGroup var sandbox: SandboxOptions

    func run() throws {
        let manager = try sandbox.manager()
        let spec: SandboxSpec
        do { spec = try manager.loadSpec(sandbox.name) } catch { throw sandboxFailure(error) }
        let nodes = manager.status(spec)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(nodes), as: UTF8.self))
        } else {
            printNodes(nodes)
        }
        if !nodes.allSatisfy({ $0.running && $0.sshAnswers }) { throw ExitCode(1) }
    }
}

/// `nimbus sandbox ssh NODE [CMD…]`: replaces this process with ssh.
struct SandboxSSHCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ssh", abstract: "Open a root shell on a node, or run a command there (host key checked).")

    @Argument(help: "node1, node2, … or its management address.")
    var node: String

    @Argument(parsing: .captureForPassthrough, help: "Command to run on the node.")
    var command: [String] = []

    @OptionGroup var sandbox: SandboxOptions

    func run() throws {
        let manager = try sandbox.manager()
        let found: (SandboxSpec, SandboxNode)
        do { found = try manager.node(sandbox.name, named: node) } catch { throw sandboxFailure(error) }
        var arguments = manager.sshArguments(found.0, found.1, command: command)
        if command.isEmpty, let index = arguments.firstIndex(of: "BatchMode=yes") { arguments[index] = "BatchMode=no" }
        if isatty(STDIN_FILENO) == 1 && command.isEmpty { arguments.insert("-t", at: 1) }
        let cArguments = arguments.map { strdup($0) } + [nil]
        execvp("ssh", cArguments)
        throw CLIError("cannot run ssh: \(String(cString: strerror(errno))) (apt-get install openssh-client)")
    }
}

/// `nimbus sandbox reboot NODE`.
struct SandboxRebootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reboot", abstract: "Reboot a node from inside and wait until SSH answers again.")

    @Argument(help: "node1, node2, …")
    var node: String

    @Option(help: "Seconds to wait for SSH to answer again.")
    var timeout: Double = 60

    @OptionGroup var sandbox: SandboxOptions

    func run() throws {
        do {
            let seconds = try sandbox.manager().reboot(sandbox.name, node: node, timeout: timeout)
            print("\(node) rebooted; SSH answers again after \(String(format: "%.1f", seconds)) s")
        } catch let error as SandboxError {
            throw sandboxFailure(error)
        }
    }
}
