import Foundation
import NimbusManifest
import NimbusPlan

public struct RolloutOptions: Sendable {
    /// Report what would change, change nothing.
    public var dryRun: Bool
    /// Hosts worked on at once.
    public var fanOut: Int
    /// Seconds each step may take on a host (a batch of steps gets the sum).
    public var stepTimeout: Double
    /// Seconds a host has to come back after a bridge moved its SSH address.
    public var reconnectDeadline: Double

    public init(dryRun: Bool = false, fanOut: Int = 16, stepTimeout: Double = 120, reconnectDeadline: Double = 40) {
        self.dryRun = dryRun
        self.fanOut = max(1, fanOut)
        self.stepTimeout = stepTimeout
        self.reconnectDeadline = reconnectDeadline
    }
}

/// Carries out a plan on its hosts: every host on its own thread (at most `fanOut` working at
/// once), facts first everywhere, then each host's steps in plan order. Consecutive steps
/// whose dependencies are met go to the host as one script (one round trip); a batch ends
/// after a step another host waits for, so that host can go on at once.
public final class Rollout: Sendable {
    public typealias Connect = @Sendable (_ host: String) throws(ExecutorError) -> any RemoteExecutor
    public typealias Settings = @Sendable (_ host: String, _ facts: [String: HostFacts]) -> PreparationSettings

    let plan: Plan
    let connect: Connect
    let settings: Settings
    let options: RolloutOptions
    let events: @Sendable (RolloutEvent) -> Void
    let log: RunLog?
    let board: Board
    /// The binary, templates and values for the service steps; without it they are skipped.
    let delivery: ServiceDelivery?
    /// Carries out a `provision.*` step from the deploying machine, through the cloud's
    /// APIs (the host's executor is there for the files it leaves on the host); without
    /// it those steps are skipped.
    let provision: Provision?

    /// How a provisioning step came out: `.changed`, `.unchanged` or `.failed`, and what it
    /// did (or would do, in a dry run), or why it failed.
    public typealias Provision =
        @Sendable (_ step: PlanStep, _ executor: any RemoteExecutor, _ dryRun: Bool) -> (
            outcome: StepOutcome, detail: String
        )

    public init(
        plan: Plan, options: RolloutOptions, log: RunLog?, connect: @escaping Connect,
        settings: @escaping Settings, delivery: ServiceDelivery? = nil, provision: Provision? = nil,
        events: @escaping @Sendable (RolloutEvent) -> Void = { _ in }
    ) {
        self.plan = plan
        self.delivery = delivery
        self.provision = provision
        self.options = options
        self.log = log
        self.connect = connect
        self.settings = settings
        self.events = events
        board = Board(hosts: plan.hosts.map(\.host.description))
    }

    /// Asks the run to stop: steps already sent to a host finish (every file is written to a
    /// temporary name and renamed, so none is left half-written); nothing new starts.
    public func cancel() { board.cancel() }

    public func run() -> RolloutSummary {
        let started = Date()
        let slots = DispatchSemaphore(value: options.fanOut)
        let group = DispatchGroup()
        for hostPlan in plan.hosts {
            group.enter()
            Thread.detachNewThread { [self] in
                HostRun(rollout: self, plan: hostPlan, slots: slots).run()
                group.leave()
            }
        }
        group.wait()
        let reports = plan.hosts.map { board.report(for: $0.host.description) }
        let summary = RolloutSummary(
            started: started, seconds: Date().timeIntervalSince(started), dryRun: options.dryRun,
            interrupted: board.isCancelled, hosts: reports)
        if let log {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            if let data = try? encoder.encode(summary) {
                log.write("summary.json", String(decoding: data, as: UTF8.self))
            }
        }
        return summary
    }
}

/// The shared state of a run: step outcomes, facts, reports. One lock with a condition
/// for hosts waiting on other hosts; the one audited unchecked-Sendable box of the rollout.
final class Board: @unchecked Sendable {
    private let condition = NSCondition()
    private var outcomes: [String: StepOutcome] = [:]
    private var facts: [String: HostFacts] = [:]
    private var factsPending: Set<String>
    private var reports: [String: HostReport] = [:]
    private var cancelled = false

    init(hosts: [String]) {
        factsPending = Set(hosts)
        for host in hosts { reports[host] = HostReport(host: host, steps: []) }
    }

    func cancel() {
        condition.withLock { cancelled = true }
        condition.broadcast()
    }

    var isCancelled: Bool { condition.withLock { cancelled } }

    func record(_ report: StepReport, id: String) {
        condition.withLock {
            outcomes[id] = report.outcome
            reports[report.host]?.steps.append(report)
        }
        condition.broadcast()
    }

    func factsDone(host: String, facts hostFacts: HostFacts?) {
        condition.withLock {
            factsPending.remove(host)
            if let hostFacts {
                facts[host] = hostFacts
                reports[host]?.hostname = hostFacts.hostname
                reports[host]?.os = hostFacts.osName
            }
        }
        condition.broadcast()
    }

    /// Waits until every host has reported its facts; returns them.
    func allFacts() -> [String: HostFacts] {
        condition.withLock {
            while !factsPending.isEmpty { condition.wait() }
            return facts
        }
    }

    /// Waits until each of `ids` has an outcome (or the run is cancelled); returns the first
    /// that does not let dependents run, if any.
    func wait(for ids: [String]) -> (id: String, outcome: StepOutcome)? {
        condition.withLock {
            while !cancelled && ids.contains(where: { outcomes[$0] == nil }) { condition.wait() }
            for id in ids {
                guard let outcome = outcomes[id] else { return (id, .interrupted) }
                if !outcome.satisfiesDependents { return (id, outcome) }
            }
            return nil
        }
    }

    func isDone(_ id: String) -> Bool { condition.withLock { outcomes[id]?.satisfiesDependents ?? false } }

    func report(for host: String) -> HostReport {
        condition.withLock { reports[host] } ?? HostReport(host: host, steps: [])
    }
}

/// One host's part of a run.
struct HostRun {
    let rollout: Rollout
    let plan: HostPlan
    let slots: DispatchSemaphore

    var host: String { plan.host.description }

    /// Steps of other hosts that wait for a step of this host.
    func waitedFor() -> Set<String> {
        var ids: Set<String> = []
        for other in rollout.plan.hosts where other.host != plan.host {
            for step in other.steps { ids.formUnion(step.after.filter { $0.hasPrefix("\(host):") }) }
        }
        return ids
    }

    func emit(_ event: RolloutEvent) { rollout.events(event) }

    func log(_ text: String) { rollout.log?.append(host: host, text) }

    func record(
        _ step: PlanStep, _ outcome: StepOutcome, _ detail: String, seconds: Double = 0,
        resources: [ResourceResult] = []
    ) {
        let report = StepReport(
            host: host, step: step.name, summary: step.summary, outcome: outcome, detail: detail, seconds: seconds,
            resources: resources)
        log("\(step.name): \(outcome.rawValue) \(String(format: "%.2f", seconds)) s — \(detail)")
        rollout.board.record(report, id: step.id)
        emit(.step(report))
    }

    /// Steps that will not run now.
    func recordRest(_ steps: ArraySlice<PlanStep>, _ outcome: StepOutcome, _ detail: String) {
        for step in steps { record(step, outcome, detail) }
    }

    /// What a service step needs, or why it is not carried out.
    func serviceWork(_ step: PlanStep) throws(ServiceDelivery.Failure) -> ServiceDelivery.Work {
        guard let delivery = rollout.delivery else {
            return .notYet("not carried out: this run ships no service binaries")
        }
        return try delivery.work(for: step)
    }

    /// The resources of a step that runs as a script: a preparation step, or a service
    /// step with resources; nil for the others (uploads, steps not carried out).
    func prepared(_ step: PlanStep, _ preparation: HostPreparation) throws -> PreparedStep? {
        if let kind = Self.preparationStep(step) { return try preparation.step(kind) }
        if case .resources(let prepared) = try serviceWork(step) { return prepared }
        return nil
    }

    /// `install.nimbus-server` (or `nimbus-agent`): uploaded only when the host's copy differs.
    func uploadBinary(
        _ step: PlanStep, _ binary: ServiceEntry.Binary, _ shipped: ServiceDelivery.Shipped,
        on executor: any RemoteExecutor
    ) -> Bool {
        emit(.activity(host: host, text: step.name))
        let started = Date()
        let path = binary.path
        let name = binary.rawValue
        let short = String(shipped.sha256.prefix(12))
        do {
            let current = try executor.run(
                "sha256sum \(path) 2>/dev/null | cut -d' ' -f1", input: nil, timeout: 60
            ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if current == shipped.sha256 {
                record(step, .unchanged, "\(name) \(short) in place", seconds: Date().timeIntervalSince(started))
            } else if rollout.options.dryRun {
                record(step, .changed, "would upload \(name) \(short)", seconds: Date().timeIntervalSince(started))
            } else {
                try executor.upload(shipped.data, to: path, mode: 0o755, timeout: rollout.options.stepTimeout)
                let megabytes = String(format: "%.1f", Double(shipped.data.count) / 1_048_576)
                record(
                    step, .changed, "uploaded \(name) \(short) (\(megabytes) MiB)",
                    seconds: Date().timeIntervalSince(started))
            }
            return true
        } catch {
            record(
                step, .failed, "cannot ship \(name): \(error.description)",
                seconds: Date().timeIntervalSince(started))
            return false
        }
    }

    func run() {
        defer { emit(.hostDone(host: host)) }
        let steps = plan.steps
        guard !steps.isEmpty else {
            // Excluded hosts are only named in /etc/hosts; their facts are not required.
            rollout.board.factsDone(host: host, facts: nil)
            return
        }
        slots.wait()
        var holdsSlot = true
        defer { if holdsSlot { slots.signal() } }

        // Connect and read facts: the first step of every host's plan.
        let factsStep = steps[0]
        emit(.activity(host: host, text: "connecting"))
        let started = Date()
        func factsFailed(_ detail: String, rest: String) {
            rollout.board.factsDone(host: host, facts: nil)
            record(factsStep, .failed, detail, seconds: Date().timeIntervalSince(started))
            recordRest(steps.dropFirst(), .blocked, rest)
        }
        let executor: any RemoteExecutor
        do {
            executor = try rollout.connect(host)
        } catch {
            factsFailed("cannot reach the host: \(error.description)", rest: "\(host) could not be reached")
            return
        }
        defer { executor.close() }
        log("connected in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
        emit(.activity(host: host, text: "gathering facts"))
        let facts: HostFacts
        do {
            let output = try executor.run(FactsProbe.script, input: nil, timeout: 30)
            log("facts:\n\(output.stdout)\(output.stderr)")
            facts = try FactsProbe.parse(output.stdout)
        } catch {
            let detail = (error as? ExecutorError).map { "reading facts: \($0.description)" } ?? "\(error)"
            factsFailed(detail, rest: "no facts from \(host)")
            return
        }
        rollout.board.factsDone(host: host, facts: facts)
        let factsNote =
            "\(facts.hostname): \(facts.osName), \(facts.virtualization == "none" ? "bare metal" : facts.virtualization), network by \(facts.networkStack.rawValue)"
        record(factsStep, .unchanged, factsNote, seconds: Date().timeIntervalSince(started))

        // Every host's facts are needed (names in /etc/hosts) before anything changes.
        emit(.activity(host: host, text: "waiting for the other hosts' facts"))
        slots.signal()
        holdsSlot = false
        let allFacts = rollout.board.allFacts()
        let preparation = HostPreparation(facts: facts, settings: rollout.settings(host, allFacts))
        let missingFacts = rollout.plan.hosts.filter { !$0.excluded && allFacts[$0.host.description] == nil }.map {
            $0.host.description
        }
        slots.wait()
        holdsSlot = true

        let waitedFor = waitedFor()
        var index = 1
        while index < steps.count {
            let step = steps[index]
            // Dependencies on other hosts: give the slot back while waiting.
            let external = step.after.filter { !$0.hasPrefix("\(host):") }
            if !external.isEmpty && !external.allSatisfy(rollout.board.isDone) {
                emit(.activity(host: host, text: "\(step.name): waiting for \(external.joined(separator: ", "))"))
                slots.signal()
                holdsSlot = false
                let failure = rollout.board.wait(for: external)
                slots.wait()
                holdsSlot = true
                if let failure {
                    if failure.outcome == .interrupted {
                        recordRest(steps[index...], .interrupted, "interrupted before starting")
                    } else {
                        recordRest(
                            steps[index...], .blocked,
                            "waits for \(failure.id), which \(Self.describe(failure.outcome))")
                    }
                    return
                }
            }
            if rollout.board.isCancelled {
                recordRest(steps[index...], .interrupted, "interrupted before starting")
                return
            }
            if step.kind == .provision, rollout.delivery != nil, let provision = rollout.provision {
                emit(.activity(host: host, text: step.name))
                let started = Date()
                let result = provision(step, executor, rollout.options.dryRun)
                record(step, result.outcome, result.detail, seconds: Date().timeIntervalSince(started))
                if result.outcome == .failed {
                    recordRest(steps[(index + 1)...], .blocked, "\(step.name) failed")
                    return
                }
                index += 1
                continue
            }
            if Self.preparationStep(step) == nil {
                let work: ServiceDelivery.Work
                do { work = try serviceWork(step) } catch {
                    record(step, .failed, error.description)
                    recordRest(steps[(index + 1)...], .blocked, "\(step.name) failed")
                    return
                }
                switch work {
                case .notYet(let reason):
                    record(step, .skipped, reason)
                    index += 1
                    continue
                case .uploadBinary(let binary, let shipped):
                    guard uploadBinary(step, binary, shipped, on: executor) else {
                        recordRest(steps[(index + 1)...], .blocked, "\(step.name) failed")
                        return
                    }
                    index += 1
                    continue
                case .resources:
                    break
                }
            }
            // Gather the batch: this step and the following ones that can go along.
            var batch: [(PlanStep, PreparedStep)] = []
            var cursor = index
            while cursor < steps.count {
                let candidate = steps[cursor]
                let candidateKind = Self.preparationStep(candidate)
                if cursor > index {
                    let needs = candidate.after.filter { !$0.hasPrefix("\(host):") }
                    if !needs.allSatisfy(rollout.board.isDone) { break }
                }
                var prepared: PreparedStep
                do {
                    guard let made = try self.prepared(candidate, preparation) else { break }
                    prepared = made
                    if candidateKind == .hostsFile && !missingFacts.isEmpty {
                        prepared.note =
                            "without \(missingFacts.joined(separator: ", ")), whose name is unknown until it can be reached"
                    }
                } catch {
                    if batch.isEmpty {
                        record(candidate, .failed, "\(error)")
                        recordRest(steps[(cursor + 1)...], .blocked, "\(candidate.name) failed")
                        return
                    }
                    break
                }
                batch.append((candidate, prepared))
                cursor += 1
                if waitedFor.contains(candidate.id) || !prepared.transactions.isEmpty { break }
            }
            guard runBatch(batch, on: executor, packageManager: facts.packageManager) else {
                recordRest(steps[cursor...], .blocked, "an earlier step on \(host) failed")
                return
            }
            index = cursor
        }
    }

    /// The preparation step a plan step names (`prepare.time-sync` → `.timeSync`); nil for
    /// the steps this version does not carry out.
    static func preparationStep(_ step: PlanStep) -> PreparationStep? {
        step.kind == .prepare ? PreparationStep(rawValue: String(step.name.dropFirst("prepare.".count))) : nil
    }

    static func describe(_ outcome: StepOutcome) -> String {
        switch outcome {
        case .failed: "failed"
        case .blocked: "could not run"
        case .skipped: "is not carried out yet"
        case .interrupted: "was interrupted"
        case .changed, .unchanged: "succeeded"
        }
    }

    /// Sends one batch as one script; records each step. False when a step failed.
    func runBatch(
        _ batch: [(PlanStep, PreparedStep)], on executor: any RemoteExecutor, packageManager: PackageManager
    ) -> Bool {
        let names = batch.map(\.0.name)
        emit(.activity(host: host, text: names.count == 1 ? names[0] : "\(names[0]) … \(names[names.count - 1])"))
        let resources = batch.flatMap(\.1.resources)
        let started = Date()
        var results: [ResourceResult] = []
        var times: [String: Double] = [:]
        var failure: String?
        if !resources.isEmpty {
            let script = PhaseScript(
                steps: resources, packageManager: packageManager, checkOnly: rollout.options.dryRun
            ).render()
            log(
                "sending \(names.joined(separator: ", ")) (\(resources.count) resources):\n\(RunLog.elidingPayloads(script))"
            )
            do {
                let output = try executor.run(
                    "sh -s", input: script, timeout: rollout.options.stepTimeout * Double(batch.count))
                log(
                    "exit \(output.status)\n\(output.stdout)\(output.stderr.isEmpty ? "" : "stderr:\n" + output.stderr)"
                )
                results = PhaseScript.results(from: output.stdout)
                times = PhaseScript.groupTimes(from: output.stdout)
                if output.status != 0 && !results.contains(where: { $0.outcome == .failed }) {
                    let lastLines = output.stderr.split(separator: "\n").suffix(3).joined(separator: " / ")
                    failure =
                        "the script ended with status \(output.status)" + (lastLines.isEmpty ? "" : ": \(lastLines)")
                }
            } catch {
                failure = error.description
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        var ok = true
        for (step, prepared) in batch {
            let ids = prepared.resources.map(\.id)
            let mine = results.filter { ids.contains($0.id) }
            let group = Self.preparationStep(step)?.rawValue ?? step.name
            let seconds = times[group] ?? (batch.count == 1 ? elapsed : 0)
            if !ok {
                record(step, .blocked, "an earlier step on \(host) failed")
                continue
            }
            if let failed = mine.first(where: { $0.outcome == .failed }) {
                record(step, .failed, "\(failed.id): \(failed.detail)", seconds: seconds, resources: mine)
                ok = false
            } else if mine.count < ids.count {
                record(
                    step, .failed, failure ?? "the host stopped before this step finished", seconds: seconds,
                    resources: mine)
                ok = false
            } else {
                let changed = mine.filter { $0.outcome == .changed }
                var outcome: StepOutcome = changed.isEmpty ? .unchanged : .changed
                var detail =
                    changed.isEmpty ? (prepared.note ?? "in place") : changed.map(\.detail).joined(separator: "; ")
                if let note = prepared.note, !changed.isEmpty { detail += " (\(note))" }
                let started = prepared.transactions.filter { transaction in
                    changed.contains { $0.id == transaction.resource }
                }
                if !rollout.options.dryRun && !started.isEmpty {
                    switch confirm(started.map(\.script), on: executor) {
                    case .success(let text):
                        detail += "; \(text)"
                    case .failure(let error):
                        outcome = .failed
                        detail = error.description
                        ok = false
                    }
                }
                record(step, outcome, detail, seconds: seconds, resources: mine)
            }
        }
        return ok
    }

    /// After a bridge took over the address we are connected through: reconnect within the
    /// deadline and confirm, or report that the host rolled back by itself.
    func confirm(_ scripts: [String], on executor: any RemoteExecutor) -> Result<String, ExecutorError> {
        emit(.activity(host: host, text: "reconnecting after moving its address onto the bridge"))
        let deadline = Date().addingTimeInterval(rollout.options.reconnectDeadline)
        Thread.sleep(forTimeInterval: 1.5)
        var lastError = ExecutorError("no attempt")
        while Date() < deadline {
            do {
                try executor.reconnect(timeout: 3)
                var outcomes: [String] = []
                for script in scripts {
                    let output = try executor.run("sh \(script) confirm", input: nil, timeout: 15)
                    let text = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    log("confirm \(script): \(text) \(output.stderr)")
                    guard text == "committed" else {
                        return .failure(
                            ExecutorError("the bridge transaction \(script) ended '\(text)' instead of committing"))
                    }
                    outcomes.append("reconnected and committed")
                }
                return .success(outcomes.joined(separator: "; "))
            } catch {
                lastError = error
                Thread.sleep(forTimeInterval: 1)
            }
        }
        return .failure(
            ExecutorError(
                "\(host) was not reachable again within \(Int(rollout.options.reconnectDeadline)) s after the bridge took its address (\(lastError.description)); it restores its previous network configuration by itself"
            ))
    }
}
