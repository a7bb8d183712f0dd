import Foundation
import NimbusPlan
import NimbusRollout

/// Prints a deploy as it happens: one line per finished step, Packstack's `[ DONE ]` /
/// `[ ERROR ]` with the step's time; on a terminal, a live line per host below them.
final class DeployPrinter: @unchecked Sendable {
    // Guarded by `lock`; events arrive from every host's thread.
    private let lock = NSLock()
    private let terminal: Bool
    private let hostWidth: Int
    private var activity: [String: String] = [:]
    private var order: [String]
    private var drawn = 0
    /// Steps not run, per host, printed as one line when the host is done.
    private var notRun: [String: [StepReport]] = [:]

    init(terminal: Bool, hosts: [String]) {
        self.terminal = terminal
        order = hosts
        hostWidth = hosts.map(\.count).max() ?? 0
    }

    private func paint(_ text: String, _ code: String) -> String {
        Console.paint(text, code, terminal: terminal)
    }

    private func emit(_ lines: [String]) {
        var out = ""
        if terminal && drawn > 0 { out += String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawn) + "\r" }
        for line in lines { out += line + "\n" }
        drawn = 0
        if terminal {
            for host in order {
                guard let text = activity[host] else { continue }
                out += paint("  \(pad(host, hostWidth))  … \(text)", "2") + "\n"
                drawn += 1
            }
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    func start(plan: Plan, dryRun: Bool, log: String) {
        let count = plan.hosts.filter { !$0.excluded }.count
        lock.withLock {
            emit([
                "Nimbus deploy\(dryRun ? " (dry run: nothing will be changed)" : ""): \(plan.layout.rawValue), \(count) host\(count == 1 ? "" : "s")",
                "Logs for this run: \(log)",
            ])
        }
    }

    func note(_ text: String) {
        lock.withLock { emit([paint(text, "33")]) }
    }

    func handle(_ event: RolloutEvent) {
        lock.withLock {
            switch event {
            case .activity(let host, let text):
                activity[host] = text
                emit([])
            case .hostDone(let host):
                activity[host] = nil
                let pending = notRun.removeValue(forKey: host) ?? []
                emit(pending.isEmpty ? [] : [collapsed(pending)])
            case .step(let report):
                switch report.outcome {
                case .skipped: return
                case .blocked, .interrupted: notRun[report.host, default: []].append(report)
                default: emit([line(report)])
                }
            }
        }
    }

    func line(_ report: StepReport) -> String {
        let status: String
        switch report.outcome {
        case .changed, .unchanged: status = paint("[ DONE ]", "32")
        case .failed: status = paint("[ ERROR ]", "31")
        case .blocked: status = paint("[ BLOCKED ]", "33")
        case .interrupted: status = paint("[ STOPPED ]", "33")
        case .skipped: status = "[ SKIP ]"
        }
        let outcome = report.outcome == .changed || report.outcome == .unchanged ? report.outcome.rawValue : ""
        let time =
            report.outcome == .blocked || report.outcome == .interrupted
            ? "" : String(format: "%5.2f s", report.seconds)
        return
            "\(pad(report.host, hostWidth))  \(pad(report.step, 24)) \(status) \(pad(outcome, 9)) \(pad(time, 7))  \(report.detail)"
    }

    /// `HOST  prepare.firewall … prepare.bridges [ BLOCKED ] (5 steps) reason`.
    func collapsed(_ reports: [StepReport]) -> String {
        guard reports.count > 1, let first = reports.first, let last = reports.last else { return line(reports[0]) }
        var merged = first
        merged.step = "\(first.step) … \(last.step.split(separator: ".").last ?? "")"
        merged.detail = "\(reports.count) steps: \(first.detail)"
        return line(merged)
    }

    func finish(_ summary: RolloutSummary, plan: Plan, log: String) {
        lock.withLock {
            activity = [:]
            var lines = [""]
            let skipped = summary.hosts.flatMap(\.steps).filter { $0.outcome == .skipped }
            let done = summary.hosts.flatMap(\.steps).filter { $0.outcome != .skipped }
            let changed = summary.count(.changed)
            let failed = summary.count(.failed)
            let changedWord = summary.dryRun ? "would change" : "changed"
            let hostCount = summary.hosts.filter { !$0.steps.isEmpty }.count
            var counts =
                "\(done.count) steps on \(hostCount) host\(hostCount == 1 ? "" : "s"): \(changed) \(changedWord), \(summary.count(.unchanged)) unchanged, \(failed) failed"
            if summary.count(.blocked) > 0 { counts += ", \(summary.count(.blocked)) not run (blocked)" }
            if summary.count(.interrupted) > 0 {
                counts += ", \(summary.count(.interrupted)) not started (interrupted)"
            }
            lines.append(counts + String(format: " in %.2f s", summary.seconds))
            if summary.dryRun { lines.append("Dry run: nothing was changed on any host.") }
            for report in summary.hosts.flatMap(\.steps) where report.outcome == .failed {
                lines.append(
                    paint("ERROR", "31")
                        + " \(report.host) \(report.step): \(report.detail)  (log: \(log)/\(RunLog.fileName(report.host)).log)"
                )
            }
            if !skipped.isEmpty {
                // Service steps are named `install.<service>`; others (packages) by themselves.
                let names = Array(
                    Set(skipped.map { $0.step.split(separator: ".").dropFirst().first.map(String.init) ?? $0.step })
                )
                .sorted()
                lines.append(
                    "Not carried out by this version: \(skipped.count) step\(skipped.count == 1 ? "" : "s") (\(names.joined(separator: ", "))); each is listed above with the reason."
                )
            }
            if summary.succeeded {
                lines.append(
                    summary.dryRun
                        ? "Dry run complete." : paint("**** Deploy completed successfully ****", "32"))
            } else if summary.interrupted {
                lines.append(
                    paint("Interrupted. Run the same command again to continue; completed steps cost nothing.", "33"))
            } else {
                lines.append(
                    paint(
                        "Deploy failed. Fix the error above and run the same command again; completed steps are not redone.",
                        "31"))
            }
            lines.append("Logs: \(log) (summary.json, one log per host)")
            emit(lines)
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
