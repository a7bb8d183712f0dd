import Foundation
import NimbusConfig
import NimbusPlan
import Testing

@testable import NimbusRollout

/// What the fake hosts were sent, in order across all hosts.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(host: String, what: String, script: String)] = []

    func add(_ host: String, _ what: String, _ script: String = "") {
        lock.withLock { entries.append((host, what, script)) }
    }

    var all: [(host: String, what: String, script: String)] { lock.withLock { entries } }
    func scripts(_ host: String) -> [String] { all.filter { $0.host == host && $0.what == "script-end" }.map(\.script) }
}

/// A host that answers the facts probe from a fixture and "applies" phase scripts by
/// reporting each resource unchanged, or failed where told to.
final class FakeExecutor: RemoteExecutor {
    let host: String
    let facts: String
    let failing: [String: String]
    let recorder: Recorder

    init(host: String, facts: String, failing: [String: String], recorder: Recorder) {
        self.host = host
        self.facts = facts
        self.failing = failing
        self.recorder = recorder
    }

    func run(_ command: String, input: String?, timeout: Double) throws(ExecutorError) -> ExecutionOutput {
        if command == FactsProbe.script {
            recorder.add(host, "facts")
            return ExecutionOutput(status: 0, stdout: facts, stderr: "")
        }
        let script = input ?? ""
        recorder.add(host, "script-start", script)
        Thread.sleep(forTimeInterval: 0.01)
        var out = ""
        var status: Int32 = 0
        for line in script.split(separator: "\n") where line.hasPrefix("# ") && !line.dropFirst(2).contains(" ") {
            let id = String(line.dropFirst(2))
            if let message = failing[id] {
                out += "NIMBUS-RESULT \(id) failed \(message)\n"
                status = 1
                break
            }
            out += "NIMBUS-RESULT \(id) unchanged in place\n"
        }
        recorder.add(host, "script-end", script)
        return ExecutionOutput(status: status, stdout: out, stderr: "")
    }

    func upload(_ data: Data, to path: String, mode: Int32, timeout: Double) throws(ExecutorError) {
        recorder.add(host, "upload", path)
    }

    func reconnect(timeout: Double) throws(ExecutorError) {}
    func close() {}
}

@Suite("Rollout engine (fake hosts)")
struct RolloutTests {
    static let answerText = """
        [general]
        CONFIG_CONTROLLER_HOST=10.0.0.1
        CONFIG_NETWORK_HOSTS=10.0.0.2
        CONFIG_COMPUTE_HOSTS=10.0.0.3
        CONFIG_STORAGE_HOST=10.0.0.4
        CONFIG_SSH_KEY=/root/.ssh/id_ed25519.pub
        CONFIG_DEFAULT_PASSWORD=secret-password
        CONFIG_NEUTRON_OVS_BRIDGE_IFACES=br-ex:eth1

        """

    let recorder = Recorder()
    let answers: AnswerFile
    let plan: Plan
    let factsText: String

    init() throws {
        let result = AnswerFileLoader.load(bytes: Array(Self.answerText.utf8))
        answers = try #require(result.file, "\(result.diagnostics)")
        let roles = try RoleCatalog.load(
            directory: testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("roles").path)
        plan = Planner(roles: roles).plan(answers)
        factsText = try String(
            contentsOf: testsDirectory.appendingPathComponent("Fixtures/facts/debian12-nspawn.txt"), encoding: .utf8)
    }

    func run(
        dryRun: Bool = false, fanOut: Int = 16, unreachable: Set<String> = [],
        failing: [String: [String: String]] = [:],
        cancelFirst: Bool = false
    ) -> RolloutSummary {
        let recorder = recorder
        let factsText = factsText
        let answers = answers
        let rollout = Rollout(
            plan: plan, options: RolloutOptions(dryRun: dryRun, fanOut: fanOut), log: nil,
            connect: { host throws(ExecutorError) in
                if unreachable.contains(host) {
                    throw ExecutorError("cannot connect to \(host):22: no answer within 10 s")
                }
                return FakeExecutor(
                    host: host, facts: factsText.replacingOccurrences(of: "\nnode3\n", with: "\nhost-\(host)\n"),
                    failing: failing[host] ?? [:], recorder: recorder)
            },
            settings: { host, facts in PreparationSettings.from(answers, host: host, facts: facts) })
        if cancelFirst { rollout.cancel() }
        return rollout.run()
    }

    func outcome(_ summary: RolloutSummary, _ host: String, _ step: String) -> StepOutcome? {
        summary.hosts.first { $0.host == host }?.steps.first { $0.step == step }?.outcome
    }

    @Test("Facts, then one script per batch: the controller splits after the step others wait for")
    func batching() {
        let summary = run()
        #expect(summary.succeeded)
        #expect(recorder.all.filter { $0.what == "facts" }.count == 4)
        #expect(recorder.scripts("10.0.0.1").count == 2)
        for host in ["10.0.0.2", "10.0.0.3", "10.0.0.4"] { #expect(recorder.scripts(host).count == 1) }
        #expect(summary.count(.failed) == 0)
        #expect(summary.count(.skipped) > 0)
        #expect(outcome(summary, "10.0.0.2", "prepare.bridges") == .unchanged)
        #expect(outcome(summary, "10.0.0.3", "prepare.bridges") == nil)
    }

    @Test("Other hosts' time sync starts only after the controller's finished")
    func crossHostOrder() {
        _ = run(fanOut: 1)
        let entries = recorder.all
        let controllerFirstEnd = entries.firstIndex { $0.host == "10.0.0.1" && $0.what == "script-end" }
        let othersFirstStart = entries.firstIndex { $0.host != "10.0.0.1" && $0.what == "script-start" }
        #expect(controllerFirstEnd != nil && othersFirstStart != nil)
        #expect(controllerFirstEnd! < othersFirstStart!)
        // All facts are in before anything is changed anywhere (names for /etc/hosts).
        let lastFacts = entries.lastIndex { $0.what == "facts" }!
        let firstScript = entries.firstIndex { $0.what == "script-start" }!
        #expect(lastFacts < firstScript)
    }

    @Test("An unreachable compute host fails alone; the others finish, /etc/hosts without it")
    func unreachableHost() {
        let summary = run(unreachable: ["10.0.0.3"])
        #expect(!summary.succeeded)
        let failed = summary.hosts.flatMap(\.steps).filter { $0.outcome == .failed }
        #expect(failed.count == 1)
        #expect(failed.first?.host == "10.0.0.3")
        #expect(failed.first?.detail.contains("cannot connect to 10.0.0.3:22") == true)
        for host in ["10.0.0.1", "10.0.0.2", "10.0.0.4"] {
            #expect(summary.hosts.first { $0.host == host }?.failed == false)
        }
        let hostsStep = summary.hosts.first { $0.host == "10.0.0.1" }?.steps.first { $0.step == "prepare.hosts-file" }
        #expect(hostsStep?.detail.contains("without 10.0.0.3") == true)
    }

    @Test("An unreachable controller blocks the steps that wait for it")
    func unreachableController() {
        let summary = run(unreachable: ["10.0.0.1"])
        #expect(outcome(summary, "10.0.0.3", "prepare.time-sync") == .blocked)
        let detail = summary.hosts.first { $0.host == "10.0.0.3" }?.steps.first { $0.step == "prepare.time-sync" }?
            .detail
        #expect(detail?.contains("10.0.0.1:prepare.time-sync") == true)
    }

    @Test("A failing resource stops its host with the command's own error")
    func failingStep() {
        let summary = run(failing: ["10.0.0.2": ["sysctl/file": "cannot write /etc/sysctl.d/90-nimbus.conf"]])
        #expect(outcome(summary, "10.0.0.2", "prepare.sysctl") == .failed)
        #expect(outcome(summary, "10.0.0.2", "prepare.bridges") == .blocked)
        let report = summary.hosts.first { $0.host == "10.0.0.2" }?.steps.first { $0.step == "prepare.sysctl" }
        #expect(report?.detail.contains("cannot write /etc/sysctl.d/90-nimbus.conf") == true)
        // The controller is prepared; only its step waiting for the failed host cannot run.
        let controller = summary.hosts.first { $0.host == "10.0.0.1" }?.steps ?? []
        #expect(controller.filter { $0.step.hasPrefix("prepare.") }.allSatisfy { $0.outcome == .unchanged })
        #expect(controller.filter { $0.outcome == .blocked }.map(\.step) == ["provision.demo"])
    }

    @Test("A dry run sends only check-mode scripts")
    func dryRun() {
        let summary = run(dryRun: true)
        #expect(summary.dryRun)
        let scripts = recorder.all.filter { $0.what == "script-start" }.map(\.script)
        #expect(!scripts.isEmpty)
        #expect(scripts.allSatisfy { $0.contains("\nCHECK=1\n") })
    }

    @Test("Interrupted before the first change: nothing is sent, every step says so")
    func interrupted() {
        let summary = run(cancelFirst: true)
        #expect(summary.interrupted)
        #expect(recorder.all.filter { $0.what == "script-start" }.isEmpty)
        #expect(outcome(summary, "10.0.0.1", "prepare.time-sync") == .interrupted)
    }

    @Test("Secrets never reach the run log")
    func masking() throws {
        let root = NSTemporaryDirectory() + "runlog-\(UUID().uuidString)"
        let log = try RunLog(root: root, secrets: ["secret-password", "ab"])
        log.append(host: "10.0.0.1", "password=secret-password and ab")
        let text = try String(contentsOfFile: "\(log.directory)/10.0.0.1.log", encoding: .utf8)
        #expect(!text.contains("secret-password"))
        #expect(text.contains("********"))
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/latest")
                == URL(fileURLWithPath: log.directory).lastPathComponent)
        try FileManager.default.removeItem(atPath: root)
    }
}
