import Foundation

/// How a plan step came out.
public enum StepOutcome: String, Sendable, Codable, Equatable {
    case changed, unchanged, failed
    /// Not run: a step it depends on failed or was not run.
    case blocked
    /// Not run: this version of Nimbus does not carry the step out yet.
    case skipped
    /// Not run: the run was interrupted (Ctrl-C) before it started.
    case interrupted

    /// Whether steps that depend on this one may run (a skipped step, one this version
    /// does not carry out yet, does not hold the others back).
    public var satisfiesDependents: Bool { self == .changed || self == .unchanged || self == .skipped }
}

public struct StepReport: Sendable, Codable, Equatable {
    public var host: String
    /// `prepare.time-sync`, …
    public var step: String
    public var summary: String
    public var outcome: StepOutcome
    /// What changed or would change; why it failed or was not run.
    public var detail: String
    public var seconds: Double
    public var resources: [ResourceResult]

    public init(
        host: String, step: String, summary: String, outcome: StepOutcome, detail: String, seconds: Double,
        resources: [ResourceResult] = []
    ) {
        self.host = host
        self.step = step
        self.summary = summary
        self.outcome = outcome
        self.detail = detail
        self.seconds = seconds
        self.resources = resources
    }
}

public struct HostReport: Sendable, Codable, Equatable {
    public var host: String
    public var hostname: String?
    public var os: String?
    public var steps: [StepReport]
    public var failed: Bool { steps.contains { $0.outcome == .failed || $0.outcome == .blocked } }
}

/// Everything a run did, as `summary.json` records it.
public struct RolloutSummary: Sendable, Codable {
    public var started: Date
    public var seconds: Double
    public var dryRun: Bool
    public var interrupted: Bool
    public var hosts: [HostReport]

    public func count(_ outcome: StepOutcome) -> Int {
        hosts.reduce(0) { $0 + $1.steps.filter { $0.outcome == outcome }.count }
    }

    public var succeeded: Bool {
        !interrupted && count(.failed) == 0 && count(.blocked) == 0
    }

    enum CodingKeys: String, CodingKey {
        case started, seconds, interrupted, hosts
        case dryRun = "dry_run"
    }
}

/// What the rollout tells its printer while it runs (from the hosts' threads).
public enum RolloutEvent: Sendable {
    /// A host is doing something (its live progress line).
    case activity(host: String, text: String)
    case step(StepReport)
    case hostDone(host: String)
}
