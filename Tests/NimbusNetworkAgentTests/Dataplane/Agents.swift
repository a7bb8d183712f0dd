import Foundation
import Logging
import NimbusAgentKit
import NimbusNetworkAgent
import NimbusServiceKit
import NimbusSystem
import Synchronization

/// The agents of a lab: an L2 agent on each host (the network host serving every network),
/// the DHCP and L3 agents on the network host, fed the same items in that order, as
/// their followers would be.
struct Agents {
    let networkL2: L2Reconciler
    let compute1L2: L2Reconciler
    let compute2L2: L2Reconciler
    let dhcp: DHCPReconciler
    let l3: L3Reconciler
    /// Where the L3 agent's metadata proxies send guests' requests (`MetadataEcho`).
    let metadataPort = Int.random(in: 20000..<30000)
    static let metadataSecret = "lab-secret"

    static let logger: Logger = {
        var logger = Logger(label: "test.dataplane")
        logger.logLevel = ProcessInfo.processInfo.environment["NIMBUS_TEST_DEBUG"] == nil ? .critical : .debug
        return logger
    }()

    init(lab: Lab, runner: any ProcessRunning = ProcessRunner()) {
        let mappings = ["extnet": "br-ex"]
        func l2(_ host: String, _ tunnel: String, _ namespace: String, all: Bool = false) -> L2Reconciler {
            L2Reconciler(
                config: L2Config(
                    host: host, tunnelIP: IPv4(tunnel) ?? .any, tunnelInterface: "eth-mgmt",
                    bridgeMappings: all ? mappings : [:], servesAllNetworks: all, hostNamespace: namespace),
                runner: runner, logger: Self.logger)
        }
        networkL2 = l2("net", "10.99.0.10", lab.network, all: true)
        compute1L2 = l2("cmp1", "10.99.0.11", lab.compute1)
        compute2L2 = l2("cmp2", "10.99.0.12", lab.compute2)
        dhcp = DHCPReconciler(
            config: DHCPConfig(
                host: "net", stateDirectory: lab.directory + "/dhcp", bridgeMappings: mappings, logDHCP: true,
                hostNamespace: lab.network),
            runner: runner, logger: Self.logger)
        l3 = L3Reconciler(
            config: L3Config(
                host: "net", stateDirectory: lab.directory + "/l3", bridgeMappings: mappings,
                hostNamespace: lab.network,
                metadata: MetadataProxyConfig(url: "http://127.0.0.1:\(metadataPort)", secret: Self.metadataSecret)),
            runner: runner, logger: Self.logger)
    }

    var l2: [L2Reconciler] { [networkL2, compute1L2, compute2L2] }

    /// Every agent's statuses, keyed `agent/kind/id`.
    typealias Statuses = [String: ResourceStatus]

    static func key(_ agent: String, _ status: ResourceStatus) -> String { "\(agent)/\(status.kind)/\(status.id)" }

    func resync(_ items: [ChangeLog.Item]) async -> Statuses {
        var statuses: Statuses = [:]
        for (name, agent) in zip(["net", "cmp1", "cmp2"], l2) {
            for status in await agent.resync(items) { statuses[Self.key("l2-" + name, status)] = status }
        }
        for status in await dhcp.resync(items) { statuses[Self.key("dhcp", status)] = status }
        for status in await l3.resync(items) { statuses[Self.key("l3", status)] = status }
        return statuses
    }

    /// One change to every agent; the statuses they answer.
    @discardableResult
    func apply(_ item: ChangeLog.Item) async -> [ResourceStatus] {
        var statuses: [ResourceStatus] = []
        for agent in l2 { if let status = await agent.apply(item) { statuses.append(status) } }
        if let status = await dhcp.apply(item) { statuses.append(status) }
        if let status = await l3.apply(item) { statuses.append(status) }
        return statuses
    }

    /// What the L2 agents' periodic device scan does: plug the taps that appeared.
    func rescan() async -> [ResourceStatus] {
        var statuses: [ResourceStatus] = []
        for agent in l2 { statuses += await agent.rescan() }
        return statuses
    }
}

/// A runner that records every command it runs.
final class RecordingRunner: ProcessRunning {
    let inner = ProcessRunner()
    private let log = Mutex<[Command]>([])

    func run(_ command: Command) async throws(ProcessError) -> ProcessOutput {
        log.withLock { $0.append(command) }
        return try await inner.run(command)
    }

    var commands: [Command] { log.withLock { $0 } }

    /// The commands that change something: anything but a JSON listing or a sysctl read.
    var changes: [String] {
        commands.filter { command in
            let arguments = command.arguments
            let listing = arguments.contains("-j") && (arguments.contains("show") || arguments.contains("list"))
            let reading = arguments.contains("sysctl") && arguments.contains("-n")
            return !listing && !reading
        }.map(\.description)
    }
}

/// A stand-in for the compute service's metadata API: answers every GET with what the
/// proxy told it (instance, whether the signature holds, the guest's address, the path).
final class MetadataEcho {
    let process = Process()

    static let script = """
        import hashlib, hmac, json, sys
        from http.server import BaseHTTPRequestHandler, HTTPServer
        class Echo(BaseHTTPRequestHandler):
            def do_GET(self):
                instance = self.headers.get("X-Instance-ID", "")
                signature = hmac.new(sys.argv[2].encode(), instance.encode(), hashlib.sha256).hexdigest()
                body = json.dumps({"instance": instance, "path": self.path,
                    "signed": hmac.compare_digest(signature, self.headers.get("X-Instance-ID-Signature", "")),
                    "from": self.headers.get("X-Forwarded-For"), "router": self.headers.get("X-Neutron-Router-ID")})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())
            def log_message(self, *arguments):
                pass
        HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
        """

    init(port: Int, secret: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.script, String(port), secret]
        try process.run()
    }

    /// Kills it (Foundation's `waitUntilExit` spins off the main thread, so no wait).
    func stop() { kill(process.processIdentifier, SIGKILL) }
}
