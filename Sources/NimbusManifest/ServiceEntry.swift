/// One service of the manifest. `nimbus-<name>.service` runs `<binary> <name>` with
/// `/etc/nimbus/<name>.conf`.
public struct ServiceEntry: Sendable, Decodable, Equatable {
    public var name: String
    public var summary: String
    /// Which of the shipped binaries runs it.
    public var binary: Binary
    /// The TCP port of its API; none for agents.
    public var port: Int?
    /// How the deploy and `nimbus status` tell that it works.
    public var health: HealthKind
    /// What it registers in the identity catalog.
    public var catalog: [CatalogEntry]
    /// The config template (`templates/<config>`), rendered to `/etc/nimbus/<name>.conf`.
    public var config: String?
    /// The unit template (`templates/<unit>`).
    public var unit: String
    /// The unprivileged system user it runs as; none: root, limited to `capabilities`.
    public var user: String?
    /// Exactly the Linux capabilities it keeps (agents); empty for API services.
    public var capabilities: [Capability]
    /// Its state (databases, data), owned by `user`.
    public var stateDirectory: String
    /// More directories it owns (token keys), made before it starts.
    public var directories: [OwnedDirectory]
    /// The identity user it logs in as (to other services, or as an agent to its API).
    public var serviceUser: ServiceUser?
    /// Distribution packages by OS family (`debian`, `rhel`).
    public var packages: [String: [String]]
    /// A condition on the answer file: `KEY` (a y/n key that must be y) or `KEY=value`.
    public var when: String?
    /// Services that must be healthy (wherever they run) before this one is installed.
    public var requires: [String]
    /// Template values taken from the answer file: template name → key.
    public var values: [String: AnswerValue]
    /// Commands run once before the first start (made keys), each skipped when `unless` holds.
    public var setup: [SetupCommand]
    /// It holds the catalog: bootstrapped right after its health check.
    public var registersCatalog: Bool
    /// Not carried out by this version yet: planned and reported, never installed.
    public var planned: Bool

    public var unitName: String { "nimbus-\(name).service" }
    public var configPath: String { "/etc/nimbus/\(name).conf" }

    public enum Binary: String, Sendable, Decodable, Equatable, CaseIterable {
        /// API services (`nimbus-server`): delivered to every host that runs one.
        case server = "nimbus-server"
        /// Host agents (`nimbus-agent`): delivered only to hosts that run an agent.
        case agent = "nimbus-agent"

        /// Where the deploy installs it.
        public var path: String { "/usr/local/bin/\(rawValue)" }
    }

    public enum HealthKind: String, Sendable, Decodable, Equatable {
        /// `GET /healthz` on its port answers 200.
        case http
        /// Its unit is active.
        case unit
        /// Its unit is active and its API has seen a heartbeat from it.
        case heartbeat
    }

    enum CodingKeys: String, CodingKey {
        case name, summary, binary, port, health, catalog, config, unit, user, capabilities, directories, packages,
            when, requires, values, setup, planned
        case stateDirectory = "state_dir"
        case serviceUser = "service_user"
        case registersCatalog = "registers_catalog"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        summary = try c.decode(String.self, forKey: .summary)
        binary = try c.decodeIfPresent(Binary.self, forKey: .binary) ?? .server
        port = try c.decodeIfPresent(Int.self, forKey: .port)
        health = try c.decodeIfPresent(HealthKind.self, forKey: .health) ?? (port == nil ? .unit : .http)
        catalog = try c.decodeIfPresent([CatalogEntry].self, forKey: .catalog) ?? []
        config = try c.decodeIfPresent(String.self, forKey: .config)
        unit = try c.decodeIfPresent(String.self, forKey: .unit) ?? "nimbus-api.service"
        user = try c.decodeIfPresent(String.self, forKey: .user)
        capabilities = try c.decodeIfPresent([Capability].self, forKey: .capabilities) ?? []
        stateDirectory = try c.decodeIfPresent(String.self, forKey: .stateDirectory) ?? "/var/lib/nimbus/\(name)"
        directories = try c.decodeIfPresent([OwnedDirectory].self, forKey: .directories) ?? []
        serviceUser = try c.decodeIfPresent(ServiceUser.self, forKey: .serviceUser)
        packages = try c.decodeIfPresent([String: [String]].self, forKey: .packages) ?? [:]
        when = try c.decodeIfPresent(String.self, forKey: .when)
        requires = try c.decodeIfPresent([String].self, forKey: .requires) ?? []
        values = try c.decodeIfPresent([String: AnswerValue].self, forKey: .values) ?? [:]
        setup = try c.decodeIfPresent([SetupCommand].self, forKey: .setup) ?? []
        registersCatalog = try c.decodeIfPresent(Bool.self, forKey: .registersCatalog) ?? false
        planned = try c.decodeIfPresent(Bool.self, forKey: .planned) ?? false
    }
}

/// A catalog registration: `url` is a template over `host` (where the service runs) and
/// `port`, e.g. `http://{{host}}:{{port}}/v1/AUTH_$(project_id)s`.
public struct CatalogEntry: Sendable, Decodable, Equatable {
    public var type: String
    /// The OpenStack service name (`keystone`, `glance`).
    public var name: String
    public var description: String
    public var url: String
    /// A path under `url` that answers 200 to an authenticated GET with the admin token
    /// and needs the service's own state (`nimbus status`).
    public var probe: String?
}

/// A Linux capability (`CAP_NET_ADMIN`).
public struct Capability: RawRepresentable, Sendable, Decodable, Equatable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    var isWellFormed: Bool {
        rawValue.hasPrefix("CAP_") && rawValue.count > 4
            && rawValue.dropFirst(4).allSatisfy { $0.isUppercase || $0 == "_" || $0.isNumber }
    }
}

public struct OwnedDirectory: Sendable, Decodable, Equatable {
    public var path: String
    public var mode: String
}

/// The identity user a service logs in as: made by the bootstrap in the `services`
/// project with `roles` there, its password from the answer file.
public struct ServiceUser: Sendable, Decodable, Equatable {
    public var name: String
    /// The answer-file key of its password (`CONFIG_GLANCE_KS_PW`).
    public var password: String
    public var roles: [String]

    enum CodingKeys: String, CodingKey { case name, password, roles }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        password = try c.decode(String.self, forKey: .password)
        roles = try c.decodeIfPresent([String].self, forKey: .roles) ?? ["admin"]
    }
}

/// A template value read from the answer file: the key, and what an empty value means.
public struct AnswerValue: Sendable, Decodable, Equatable {
    public var key: String
    public var `default`: String?
}

/// A command run on the host before the service first starts (`run` and `unless` are
/// templates like the config), as the service's user when it has one.
public struct SetupCommand: Sendable, Decodable, Equatable {
    public var id: String
    public var run: String
    public var unless: String
}
