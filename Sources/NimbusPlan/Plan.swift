import NimbusModel

/// What `nimbus deploy` would do: each host's roles and ordered steps with their
/// dependencies. The JSON form (`nimbus plan --json`) is stable; see docs/plan-json.md.
public struct Plan: Codable, Sendable, Equatable {
    /// Bumped only when a field changes meaning or goes away; new fields may be added.
    public var schemaVersion: Int = 1
    public var layout: Layout
    public var controller: HostAddress
    public var hosts: [HostPlan]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case layout, controller, hosts
    }

    public var stepCount: Int { hosts.reduce(0) { $0 + $1.steps.count } }

    /// The host preparation alone (`deploy --prepare-only`): every `prepare.*` step, no
    /// package, service, registration or provisioning step.
    public func preparationOnly() -> Plan {
        var plan = self
        for index in plan.hosts.indices {
            plan.hosts[index].steps = plan.hosts[index].steps.filter { $0.kind == .prepare }.map { step in
                var step = step
                step.after = step.after.filter { $0.contains(":prepare.") }
                return step
            }
        }
        return plan
    }
}

/// The node layouts of the seeds, by which roles share hosts.
public enum Layout: String, Codable, Sendable {
    /// One host does everything.
    case allInOne = "all-in-one"
    /// Controller (network, storage) + compute hosts.
    case twoNode = "two-node"
    /// Controller (storage) + network + compute hosts.
    case threeNode = "three-node"
    /// Controller + network + compute hosts + storage.
    case fourNode = "four-node"
    /// Any other assignment of roles to hosts.
    case custom
}

public struct HostPlan: Codable, Sendable, Equatable {
    public var host: HostAddress
    public var roles: [NodeRole]
    /// In EXCLUDE_SERVERS: named in /etc/hosts, otherwise untouched, no steps.
    public var excluded: Bool
    /// The Nimbus services that run here, in start order.
    public var services: [String]
    public var steps: [PlanStep]
}

public struct PlanStep: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case prepare, packages, install, health, register, provision
    }

    /// `HOST:NAME`, unique in the plan.
    public var id: String
    public var kind: Kind
    /// `prepare.time-sync`, `install.identity`, …
    public var name: String
    public var summary: String
    /// Steps (ids) that must have finished first: the previous step on the same host
    /// and any step on another host this one depends on.
    public var after: [String]
    /// For `packages` steps: package names by OS family.
    public var packages: [String: [String]]?
    /// For `install` and `health` steps: the service.
    public var service: String?
}
