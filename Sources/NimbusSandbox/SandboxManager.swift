import Foundation
import NimbusConfig
import NimbusSystem
import Synchronization

/// Brings sandboxes up and down. Every operation is idempotent and starts by finding what
/// is already there, so `up` after a crash or a host reboot picks up where things are.
public struct SandboxManager: Sendable {
    public let runner: any CommandRunner
    public let paths: SandboxPaths
    /// `templates/sandbox/` of the installation.
    public let templates: String

    public init(
        runner: any CommandRunner = HostCommandRunner(), paths: SandboxPaths = SandboxPaths(), templates: String
    ) {
        self.runner = runner
        self.paths = paths
        self.templates = templates
    }

    /// What `up` did.
    public struct UpReport: Sendable {
        public var spec: SandboxSpec
        public var nodes: [NodeStatus]
        public var answerFile: String
        public var answerFileWritten: Bool
        public var seconds: Double
    }

    /// Options of `up` that are not part of the sandbox itself.
    public struct UpOptions: Sendable {
        public var answerFile: String
        public var repositoryPackages: [String]
        public var raiseLimits: Bool
        public var bootTimeout: Double

        public init(
            answerFile: String, repositoryPackages: [String], raiseLimits: Bool = false, bootTimeout: Double = 90
        ) {
            self.answerFile = answerFile
            self.repositoryPackages = repositoryPackages
            self.raiseLimits = raiseLimits
            self.bootTimeout = bootTimeout
        }
    }

    public func up(_ requested: SandboxSpec, options: UpOptions, progress: (String) -> Void) throws(SandboxError)
        -> UpReport
    {
        let started = Date()
        let lock = try SandboxLock(root: paths.root, name: requested.name)
        defer { lock.close() }
        let spec = try reconcile(requested)
        let recipe = BaseRecipe(
            repositoryPackages: options.repositoryPackages, setupScript: try template("base-setup.sh"))
        let baseCached = FileManager.default.fileExists(atPath: "\(paths.base(recipe.hash))/complete")
        if options.raiseLimits, let limit = Requirements.inotifyLimit(),
            limit < spec.nodeCount * Requirements.inotifyPerNode + 40
        {
            let raised = max(512, spec.nodeCount * Requirements.inotifyPerNode * 2)
            try command(
                "raise fs.inotify.max_user_instances", ["sysctl", "-qw", "fs.inotify.max_user_instances=\(raised)"])
            progress("raised fs.inotify.max_user_instances from \(limit) to \(raised) (--raise-limits)")
        }
        let problems = Requirements.check(
            nodes: spec.nodeCount, needBase: !baseCached, stateRoot: paths.root, runner: runner)
        guard problems.isEmpty else { throw .requirements(problems) }

        try makeDirectory(paths.sandbox(spec.name))
        try writeJSON(spec, to: paths.spec(spec.name))
        let base = try BaseImageBuilder(runner: runner, paths: paths).ensure(
            recipe, mirror: BaseImageBuilder.hostMirror(), progress: progress)
        try ensureKeyPair(spec.name)
        try ensureBridges(spec)
        for module in ["vxlan", "bridge", "veth", "tun"] { _ = try? runner.run("modprobe", module, timeout: 10) }

        let supervisor = try template("supervise.sh")
        try write(supervisor, to: "\(paths.sandbox(spec.name))/supervise.sh")
        // Nodes are prepared and started in parallel: each boots while the next is prepared.
        progress("booting \(spec.nodeCount) node\(spec.nodeCount == 1 ? "" : "s")")
        let results = Mutex([Int: Result<String, SandboxError>]())
        let nodes = spec.nodes
        DispatchQueue.concurrentPerform(iterations: nodes.count) { index in
            let node = nodes[index]
            let result = Result { () throws(SandboxError) -> String in
                let lines = try prepare(node, spec: spec, base: base)
                if supervisorPID(spec.name, node) == nil { try start(node, spec: spec) }
                return lines
            }
            results.withLock { $0[index] = result }
        }
        var knownHosts = ""
        for index in nodes.indices {
            switch results.withLock({ $0[index] }) {
            case .success(let lines): knownHosts += lines
            case .failure(let error): throw error
            case nil: break
            }
        }
        try write(knownHosts, to: paths.knownHosts(spec.name))
        try waitForSSH(spec.nodes, timeout: options.bootTimeout, sandbox: spec.name)

        let written = try writeAnswerFile(spec, path: options.answerFile)
        return UpReport(
            spec: spec, nodes: status(spec), answerFile: options.answerFile, answerFileWritten: written,
            seconds: Date().timeIntervalSince(started))
    }

    /// The spec to bring up: the requested one, checked against a sandbox of the same name
    /// that already exists (which may grow, not shrink, and keeps its networks).
    func reconcile(_ requested: SandboxSpec) throws(SandboxError) -> SandboxSpec {
        let problems = requested.problems()
        guard problems.isEmpty else { throw .invalidSpec(problems) }
        guard let existing = try? loadSpec(requested.name) else {
            for other in paths.sandboxNames() {
                guard let spec = try? loadSpec(other) else { continue }
                if spec.managementNetwork == requested.managementNetwork
                    || spec.providerNetwork == requested.providerNetwork
                {
                    throw .conflict(
                        "sandbox '\(other)' already uses \(spec.managementNetwork) and \(spec.providerNetwork); give this one other networks (--management-network, --provider-network) or take that one down (nimbus sandbox down --name \(other) --purge)"
                    )
                }
            }
            return requested
        }
        if requested.nodeCount < existing.nodeCount {
            throw .conflict(
                "sandbox '\(existing.name)' has \(existing.nodeCount) nodes; it can grow but not shrink (nimbus sandbox down --purge, then up again)"
            )
        }
        var spec = existing
        spec.nodeCount = requested.nodeCount
        spec.layout = requested.layout
        let problemsAfter = spec.problems()
        guard problemsAfter.isEmpty else { throw .invalidSpec(problemsAfter) }
        return spec
    }

    public func loadSpec(_ name: String) throws(SandboxError) -> SandboxSpec {
        guard let data = FileManager.default.contents(atPath: paths.spec(name)) else { throw .notFound(name) }
        do { return try JSONDecoder().decode(SandboxSpec.self, from: data) } catch {
            throw .io(step: "read the sandbox", path: paths.spec(name), reason: "\(error)")
        }
    }

    func ensureKeyPair(_ name: String) throws(SandboxError) {
        let key = paths.privateKey(name)
        guard !FileManager.default.fileExists(atPath: key) else { return }
        try command(
            "make the sandbox SSH key",
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "nimbus-sandbox-\(name)", "-f", key])
    }

    func ensureBridges(_ spec: SandboxSpec) throws(SandboxError) {
        for (bridge, address, network) in [
            (spec.managementBridge, spec.hostManagementAddress, spec.managementNetwork),
            (spec.providerBridge, spec.hostProviderAddress, spec.providerNetwork),
        ] {
            if (try? runner.run("ip", "link", "show", bridge, timeout: 10))?.status != 0 {
                try command("create bridge \(bridge)", ["ip", "link", "add", bridge, "type", "bridge"])
            }
            let shown = (try? runner.run("ip", "-4", "-o", "addr", "show", "dev", bridge, timeout: 10))?.stdout ?? ""
            if !shown.contains(" \(address)/") {
                try command(
                    "address bridge \(bridge)",
                    ["ip", "addr", "add", "\(address)/\(network.prefixLength)", "dev", bridge])
            }
            try command("bring up bridge \(bridge)", ["ip", "link", "set", bridge, "up"])
        }
    }

    /// Makes the node's directories, overlay mount and first-boot files; returns its
    /// known_hosts lines.
    func prepare(_ node: SandboxNode, spec: SandboxSpec, base: BaseImage) throws(SandboxError) -> String {
        let directory = paths.node(spec.name, node.name)
        for sub in ["upper", "work", "root"] { try makeDirectory("\(directory)/\(sub)") }
        if supervisorPID(spec.name, node) == nil {
            // Leftovers of a crash: processes of the last boot, a namespace without a
            // supervisor, a stale mount.
            NodeProcesses.kill(upper: "\(directory)/upper")
            _ = try? runner.run("ip", "netns", "del", node.namespace, timeout: 10)
            if Mounts.isMountPoint("\(directory)/root") && !Mounts.isOverlay("\(directory)/root", lower: base.rootfs) {
                _ = try? runner.run("umount", "-l", "\(directory)/root", timeout: 30)
            }
        }
        if !Mounts.isMountPoint("\(directory)/root") {
            try command(
                "mount \(node.name)'s overlay",
                [
                    "mount", "-t", "overlay", "overlay", "-o",
                    "lowerdir=\(base.rootfs),upperdir=\(directory)/upper,workdir=\(directory)/work",
                    "\(directory)/root",
                ])
        }
        let hostKey = "\(directory)/ssh_host_ed25519_key"
        if !FileManager.default.fileExists(atPath: hostKey) {
            try command(
                "make \(node.name)'s host key",
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "root@\(node.name)", "-f", hostKey])
        }
        let root = "\(directory)/root"
        if !FileManager.default.fileExists(atPath: "\(root)/etc/nimbus-sandbox-node") {
            let publicKey = try read("\(paths.privateKey(spec.name)).pub")
            for (path, text) in NodeFiles.identity(of: node, spec: spec, authorizedKey: publicKey) {
                try write(text, to: root + path)
            }
            try write(try read(hostKey), to: "\(root)/etc/ssh/ssh_host_ed25519_key", mode: 0o600)
            try write(try read("\(hostKey).pub"), to: "\(root)/etc/ssh/ssh_host_ed25519_key.pub", mode: 0o644)
            try write(publicKey, to: "\(root)/root/.ssh/authorized_keys", mode: 0o600)
            chmod("\(root)/root/.ssh", 0o700)
            try write("\(spec.name)/\(node.name)\n", to: "\(root)/etc/nimbus-sandbox-node")
        }
        try write(
            NodeFiles.supervisorEnvironment(
                of: node, spec: spec, nodeDirectory: directory, repository: base.repository),
            to: "\(directory)/node.env")
        return NodeFiles.knownHosts(of: node, hostKey: try read("\(hostKey).pub"))
    }

    /// Starts the node's supervisor detached (its own session), so it outlives this process.
    func start(_ node: SandboxNode, spec: SandboxSpec) throws(SandboxError) {
        let directory = paths.node(spec.name, node.name)
        do {
            try runner.spawnDetached(["/bin/sh", "\(paths.sandbox(spec.name))/supervise.sh", "\(directory)/node.env"])
        } catch { throw .command(step: "start \(node.name)", error) }
    }

    func waitForSSH(_ nodes: [SandboxNode], timeout: Double, sandbox: String) throws(SandboxError) {
        let deadline = Date().addingTimeInterval(timeout)
        var pending = nodes
        while !pending.isEmpty {
            pending = pending.filter {
                !TCPProbe.answers(host: $0.managementAddress.description, port: 22, prefix: "SSH-", timeout: 0.5)
            }
            if pending.isEmpty { break }
            if Date() > deadline {
                let names = pending.map(\.name).joined(separator: ", ")
                throw .timeout(
                    step: "boot", seconds: Int(timeout),
                    detail:
                        "no SSH from \(names); see \(paths.node(sandbox, pending[0].name))/console.log and supervisor.log"
                )
            }
            usleep(50_000)
        }
    }

    /// Writes the answer file for the layout unless one is there (it holds the cloud's
    /// passwords once deploy ran: never overwritten). True when written.
    func writeAnswerFile(_ spec: SandboxSpec, path: String) throws(SandboxError) -> Bool {
        guard !FileManager.default.fileExists(atPath: path) else { return false }
        let overrides = NodeFiles.answerOverrides(
            spec: spec, publicKeyPath: "\(paths.privateKey(spec.name)).pub", knownHostsPath: paths.knownHosts(spec.name)
        )
        let generator = AnswerFileGenerator(localAddress: spec.hostManagementAddress.description, sshPublicKey: "")
        let text = AnswerFileGenerator.render(generator.initialValues(overrides: overrides))
        let temporary = "\(path).tmp-\(getpid())"
        guard
            FileManager.default.createFile(
                atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]),
            rename(temporary, path) == 0
        else {
            throw .io(step: "write the answer file", path: path, reason: String(cString: strerror(errno)))
        }
        return true
    }

    // MARK: Small helpers

    func template(_ name: String) throws(SandboxError) -> String { try read("\(templates)/sandbox/\(name)") }

    func command(_ step: String, _ arguments: [String], timeout: Double = 60) throws(SandboxError) {
        do { try runner.check(arguments, timeout: timeout) } catch { throw .command(step: step, error) }
    }

    func read(_ path: String) throws(SandboxError) -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .io(step: "read", path: path, reason: error.localizedDescription)
        }
    }

    func write(_ text: String, to path: String, mode: Int? = nil) throws(SandboxError) {
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            if let mode { try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path) }
        } catch { throw .io(step: "write", path: path, reason: error.localizedDescription) }
    }

    func writeJSON(_ spec: SandboxSpec, to path: String) throws(SandboxError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(spec) else { return }
        try write(String(decoding: data, as: UTF8.self) + "\n", to: path)
    }

    func makeDirectory(_ path: String) throws(SandboxError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .io(step: "create directory", path: path, reason: error.localizedDescription)
        }
    }
}
