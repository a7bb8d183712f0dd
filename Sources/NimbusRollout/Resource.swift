/// What a host should look like, one piece at a time. Resources are compiled into one
/// shell script per phase (`PhaseScript`), so a phase costs one round trip per host.
public enum Resource: Sendable, Equatable {
    /// A file with exactly this content, mode and owner; rewritten (atomically) only when
    /// any of them differs.
    case file(path: String, content: String, mode: String = "0644", owner: String = "root", group: String = "root")
    /// A block between `# BEGIN NIMBUS <marker>` and `# END NIMBUS <marker>` in a file,
    /// the rest of the file left alone (appended when absent).
    case block(path: String, marker: String, content: String)
    /// Distribution packages, installed with apt-get or dnf when missing.
    case packages([String])
    /// Packages named per OS family (`debian`, `rhel`): the host's family's list, as
    /// `packages`.
    case familyPackages([String: [String]])
    /// A systemd unit's wanted state. `restartOn`: ids of resources whose change restarts it.
    case service(name: String, enabled: Bool, running: Bool, restartOn: [String] = [])
    /// A kernel parameter, set now (persist it with a `.file` in /etc/sysctl.d).
    case sysctl(key: String, value: String)
    /// A command run unless `unless` (a shell test) already succeeds.
    case command(run: String, unless: String)
    /// A check that changes nothing: `run` must succeed (a health probe); reported
    /// unchanged with `describe`, or failed with the command's last lines.
    case check(run: String, describe: String)
}

/// A resource with the id its result is reported under.
public struct ResourceStep: Sendable, Equatable {
    public var id: String
    public var resource: Resource

    public init(_ id: String, _ resource: Resource) {
        self.id = id
        self.resource = resource
    }
}

/// How a resource came out.
public enum ResourceOutcome: String, Sendable, Codable, Equatable {
    case unchanged, changed, failed
}

public struct ResourceResult: Sendable, Equatable, Codable {
    public var id: String
    public var outcome: ResourceOutcome
    /// What changed (or would change, in a dry run), or why it failed.
    public var detail: String
}

/// The package manager a host's facts chose.
public enum PackageManager: String, Sendable, Codable {
    case apt, dnf
}
