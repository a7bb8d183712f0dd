import ArgumentParser
import Foundation
import NimbusConfig
import NimbusManifest
import NimbusPlan
import NimbusRollout
import Synchronization

/// `nimbus deploy FILE`: connects to every host of the answer file and carries out the plan.
struct DeployCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Prepare every host of an answer file and install the Nimbus services on it.",
        discussion: """
            Hosts are worked on in parallel over SSH, each step reported as it finishes. Every run \
            is logged under /var/tmp/nimbus/<timestamp>/ (per-host logs, the plan, summary.json; \
            'latest' points at the newest). A second run changes nothing and says '0 changed'. \
            The nimbus-server binary is shipped to each host that needs it (only when its checksum \
            differs), each service gets /etc/nimbus/<service>.conf and a systemd unit, is started \
            and health-checked; the identity service is bootstrapped and keystonerc_admin written \
            beside the answer file and in root's home on the controller. The run ends with \
            'nimbus status'. Services other than identity are skipped until they land.
            """
    )

    @Argument(help: "The answer file (leave out with --allinone).")
    var file: String?

    @OptionGroup var hosts: HostOptions
    @OptionGroup var data: DataOptions

    @Flag(help: "Connect and report what would change, changing nothing.")
    var dryRun = false

    @Flag(
        help:
            "Only prepare the hosts (time sync, firewall, SELinux, NetworkManager, /etc/hosts, sysctls, bridges); install no service. A later deploy installs them."
    )
    var prepareOnly = false

    @Flag(help: "Trust and record the key of a host not yet in known_hosts (a changed key is always refused).")
    var acceptNewHostKeys = false

    @Flag(
        help:
            "Ask for root's password when a host refuses the key, then install the key there ($NIMBUS_ROOT_PASSWORD answers without asking)."
    )
    var askPassword = false

    @Option(help: ArgumentHelp("Hosts worked on at once.", valueName: "n"))
    var fanOut = 16

    @Option(help: ArgumentHelp("Seconds each step may take on a host.", valueName: "seconds"))
    var stepTimeout = 120.0

    @Option(help: ArgumentHelp("Seconds to wait for a host's SSH port.", valueName: "seconds"))
    var connectTimeout = 10.0

    @Option(help: ArgumentHelp("Where run logs go.", valueName: "dir"))
    var logRoot = RunLog.defaultRoot

    @Option(
        help: ArgumentHelp(
            "The nimbus-server binary to ship (default: $NIMBUS_SERVER_BINARY, or built from this source tree).",
            valueName: "path"))
    var serverBinary: String?

    mutating func validate() throws {
        if file == nil && !hosts.allinone && hosts.installHosts == nil {
            throw ValidationError("give an answer file, or --allinone, or --install-hosts")
        }
        guard fanOut >= 1 else { throw ValidationError("--fan-out must be at least 1") }
        guard stepTimeout > 0, connectTimeout > 0 else { throw ValidationError("timeouts must be positive") }
    }

    mutating func run() throws {
        let overrides = try hosts.overrides(localAddress: AnswerFileInput.localAddress)
        let answers = try AnswerFileInput.load(path: file, overrides: overrides, quiet: true)
        let roles = try data.roles()
        var plan = Planner(roles: roles).plan(answers)
        if prepareOnly { plan = plan.preparationOnly() }
        let ssh = try sshSettings(answers)

        let secrets = KeyCatalogue.all.filter { $0.type.isSecret }.map { answers.text($0) }
        let log: RunLog
        do { log = try RunLog(root: logRoot, secrets: secrets) } catch {
            throw CLIError("cannot create the run log under \(logRoot): \(error)")
        }
        log.write("plan.txt", plan.text())
        log.write("plan.json", (try? plan.json()) ?? "")
        if let file { log.write("answers.txt", (try? String(contentsOfFile: file, encoding: .utf8)) ?? "") }

        let delivery = try self.delivery(plan: plan, roles: roles, answers: answers)
        let directory = URL(fileURLWithPath: file ?? FileManager.default.currentDirectoryPath + "/x")
            .deletingLastPathComponent()
        let provisioner = delivery.map {
            CloudProvisioner(
                answers: answers, delivery: $0, demoRCPath: directory.appendingPathComponent("keystonerc_demo").path,
                bundledImage: Self.bundledGuestImage())
        }
        let printer = DeployPrinter(terminal: Console.stdoutIsTerminal, hosts: plan.hosts.map(\.host.description))
        let options = RolloutOptions(dryRun: dryRun, fanOut: fanOut, stepTimeout: stepTimeout)
        let rollout = Rollout(
            plan: plan, options: options, log: log,
            connect: ssh.connector,
            settings: { host, facts in PreparationSettings.from(answers, host: host, facts: facts) },
            delivery: delivery, provision: provisioner.map(\.provision),
            events: { printer.handle($0) })
        printer.start(plan: plan, dryRun: dryRun, log: log.directory)
        let interrupt = Interrupt {
            printer.note("Interrupted: the steps already sent finish; nothing new starts (Ctrl-C again to quit now).")
            rollout.cancel()
        }
        let summary = rollout.run()
        interrupt.stop()
        printer.finish(summary, plan: plan, log: log.directory)
        if summary.interrupted { throw ExitCode(130) }
        if !summary.succeeded { throw ExitCode(1) }
        guard !dryRun, let delivery else {
            if prepareOnly && summary.succeeded {
                print("\nThe hosts are prepared. Install the services with: nimbus deploy \(file ?? "--allinone")")
            }
            return
        }
        let rcPath = directory.appendingPathComponent("keystonerc_admin").path
        guard
            FileManager.default.createFile(
                atPath: rcPath, contents: Data(delivery.keystonerc().utf8), attributes: [.posixPermissions: 0o600])
        else { throw CLIError("cannot write \(rcPath)") }
        let status = CloudStatus(answers: answers, plan: plan, manifest: roles.manifest, connect: ssh.connector)
        var report = status.check()
        // Agents started a moment ago may not have sent their first heartbeat yet.
        let settled = Date().addingTimeInterval(20)
        while !report.healthy && Date() < settled {
            Thread.sleep(forTimeInterval: 2)
            report = status.check()
        }
        let provisioned = plan.hosts.flatMap(\.steps).contains { $0.name == "provision.demo" }
        let demoNote =
            provisioned
            ? "\n * The demo project's credentials are in \(directory.appendingPathComponent("keystonerc_demo").path) (and /root/keystonerc_demo); its instances log in as \(DemoSpec(answers).sshUser)."
            : ""
        print("")
        print(report.text(color: Console.stdoutIsTerminal))
        print(
            """

             **** Installation completed successfully ******

            Additional information:
             * File \(rcPath) has been created; source it to use the cloud:
                 source \(rcPath) && openstack token issue
             * A copy is in /root/keystonerc_admin on the controller (\(answers.controller)).\(demoNote)
             * Check the cloud at any time with: nimbus status \(file ?? "")
             * The installation log is in \(log.directory)
            """)
        if !report.healthy { throw ExitCode(1) }
    }

    /// The binaries, manifest and templates the service steps need, when the plan has any.
    func delivery(plan: Plan, roles: RoleCatalog, answers: AnswerFile) throws -> ServiceDelivery? {
        let names = Set(plan.hosts.flatMap(\.steps).map(\.name))
        let needed = ServiceEntry.Binary.allCases.filter { names.contains("install.\($0.rawValue)") }
        guard !needed.isEmpty else { return nil }
        var binaries: [ServiceEntry.Binary: ServiceDelivery.Shipped] = [:]
        for binary in needed {
            let loaded = try ServerBinary.load(binary, explicit: binary == .server ? serverBinary : nil)
            binaries[binary] = ServiceDelivery.Shipped(data: loaded.data, sha256: loaded.sha256)
        }
        guard let directory = DataDirectory.locate("templates") else {
            throw CLIError("cannot find the templates directory (set NIMBUS_TEMPLATES_DIR)")
        }
        var templates: [String: String] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in files where name.hasSuffix(".conf") || name.hasSuffix(".service") {
            templates[name] = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        return ServiceDelivery(
            binaries: binaries, templates: templates, manifest: roles.manifest, manifestText: roles.manifest.source,
            answers: answers, placement: ServiceDelivery.placement(of: plan))
    }

    func sshSettings(_ answers: AnswerFile) throws -> SSHSettings {
        let publicKey = Self.expand(answers.text(.sshKey))
        let privateKey = SSHSettings.privateKey(forPublicKey: publicKey)
        let needsSSH = answers.allHosts.contains { !LocalExecutor.isLocal($0.description) }
        if needsSSH && !FileManager.default.isReadableFile(atPath: privateKey) {
            throw CLIError(
                "CONFIG_SSH_KEY=\(answers.text(.sshKey)): the private key \(privateKey) is missing or unreadable (make one with ssh-keygen -t ed25519); nothing was changed"
            )
        }
        let password: (@Sendable (String, Bool) -> String?)? = askPassword ? PasswordPrompt().ask : nil
        return SSHSettings(
            privateKey: privateKey,
            publicKey: try? String(contentsOfFile: publicKey, encoding: .utf8),
            knownHosts: Self.expand(answers.text(.knownHosts)), acceptNewHostKeys: acceptNewHostKeys,
            connectTimeout: connectTimeout, password: password)
    }

    /// The guest image demo provisioning uploads: `$NIMBUS_GUEST_IMAGE`, or what
    /// `make guest-image` built in this source tree.
    static func bundledGuestImage(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let given = environment["NIMBUS_GUEST_IMAGE"], !given.isEmpty { return given }
        return ServerBinary.packageRoot().map { $0 + "/.build/guest-image/nimbus-guest.qcow2" }
    }

    static func expand(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return home + path.dropFirst()
    }
}

/// Ctrl-C: the first asks the run to stop gracefully, the second quits at once.
final class Interrupt {
    private let source: any DispatchSourceSignal

    init(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = Mutex(0)
        source.setEventHandler {
            let times = count.withLock {
                $0 += 1
                return $0
            }
            if times == 1 { handler() } else { exit(130) }
        }
        source.resume()
        self.source = source
    }

    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// Asks for a password on the terminal without echo: once for all hosts, again for a host
/// that refuses it.
final class PasswordPrompt: Sendable {
    /// The password given for every host; held while asking, so prompts never interleave.
    private let remembered = Mutex<String?>(nil)

    func ask(host: String, retry: Bool) -> String? {
        remembered.withLock { remembered in
            if !retry, let known = remembered { return known }
            // For unattended runs, as sshpass's SSHPASS: taken once, never asked again.
            if let given = ProcessInfo.processInfo.environment["NIMBUS_ROOT_PASSWORD"] { return retry ? nil : given }
            let prompt = retry ? "root@\(host)'s password: " : "root password (for every host that refuses the key): "
            guard let password = Self.read(prompt: prompt) else { return nil }
            if !retry { remembered = password }
            return password
        }
    }

    static func read(prompt: String) -> String? {
        let tty = open("/dev/tty", O_RDWR)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        _ = prompt.withCString { write(tty, $0, strlen($0)) }
        var saved = termios()
        tcgetattr(tty, &saved)
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(tty, TCSAFLUSH, &silent)
        defer {
            tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while Glibc.read(tty, &byte, 1) == 1 && byte != 10 { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
