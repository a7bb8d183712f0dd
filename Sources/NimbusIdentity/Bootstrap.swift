import Foundation
import GRDB
import NimbusServiceKit

/// What `nimbus-server identity bootstrap` makes sure exists, from a JSON file the deploy
/// writes (mode 0600, it holds passwords): the Default domain, the roles with their
/// implications, the admin project and user, the region, every service of the catalog with
/// its endpoints, and the demo project and user when asked. Running it again changes only
/// what differs (a new admin password, a moved endpoint).
public struct BootstrapSpec: Sendable, Equatable {
    public struct CatalogEntry: Sendable, Equatable {
        public var type: String
        public var name: String
        public var description: String
        /// interface (`public`, `internal`, `admin`) → URL; `$(project_id)s` is kept as is.
        public var urls: [String: String]

        public init(type: String, name: String, description: String, urls: [String: String]) {
            self.type = type
            self.name = name
            self.description = description
            self.urls = urls
        }
    }

    public var adminUser: String
    public var adminPassword: String
    public var region: String
    public var catalog: [CatalogEntry]
    /// The demo project and user (`demo` / password), when the answer file provisions them.
    public var demoPassword: String?
    /// The services' own users (name → password), members of the `services` project with
    /// the admin role there, as Packstack makes them (`glance`, which keeps images in object
    /// storage under that project's account).
    public var serviceUsers: [String: String]

    public init(
        adminUser: String = "admin", adminPassword: String, region: String, catalog: [CatalogEntry],
        demoPassword: String? = nil, serviceUsers: [String: String] = [:]
    ) {
        self.adminUser = adminUser
        self.adminPassword = adminPassword
        self.region = region
        self.catalog = catalog
        self.demoPassword = demoPassword
        self.serviceUsers = serviceUsers
    }

    public enum Failure: Error, CustomStringConvertible {
        case invalid(String)

        public var description: String {
            switch self {
            case .invalid(let reason): "bootstrap file: \(reason)"
            }
        }
    }

    public var json: JSON {
        [
            "admin_user": .string(adminUser), "admin_password": .string(adminPassword), "region": .string(region),
            "demo_password": .optional(demoPassword),
            "service_users": .object(serviceUsers.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }),
            "catalog": .array(
                catalog.map { entry in
                    [
                        "type": .string(entry.type), "name": .string(entry.name),
                        "description": .string(entry.description),
                        "urls": .object(entry.urls.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }),
                    ]
                }),
        ]
    }

    public static func parse(_ json: JSON) throws(Failure) -> BootstrapSpec {
        guard let password = json["admin_password"]?.string, !password.isEmpty else {
            throw .invalid("admin_password is required")
        }
        guard let region = json["region"]?.string, !region.isEmpty else { throw .invalid("region is required") }
        var catalog: [CatalogEntry] = []
        for item in json["catalog"]?.array ?? [] {
            guard let type = item["type"]?.string, let name = item["name"]?.string,
                let urls = item["urls"]?.members
            else { throw .invalid("every catalog entry needs type, name and urls") }
            var map: [String: String] = [:]
            for (interface, url) in urls {
                guard let url = url.string else { throw .invalid("\(type): the \(interface) URL is not a string") }
                map[interface] = url
            }
            catalog.append(.init(type: type, name: name, description: item["description"]?.string ?? "", urls: map))
        }
        var serviceUsers: [String: String] = [:]
        for (name, password) in json["service_users"]?.members ?? [] {
            guard !name.isEmpty, let password = password.string, !password.isEmpty else {
                throw .invalid("service user '\(name)' needs a password")
            }
            serviceUsers[name] = password
        }
        return BootstrapSpec(
            adminUser: json["admin_user"]?.string ?? "admin", adminPassword: password, region: region, catalog: catalog,
            demoPassword: json["demo_password"]?.string, serviceUsers: serviceUsers)
    }
}

extension IdentityStore {
    /// The roles every cloud has, each implying the next (admin → manager → member → reader).
    /// `_member_` (the old name of member, which the course notes and older clients use)
    /// implies member. `SwiftOperator` and `ResellerAdmin` are the object storage service's
    /// (an operator of a project's account; any account), as Packstack creates them.
    static let standardRoles = [
        "admin", "manager", "member", "reader", "service", "_member_", "SwiftOperator", "ResellerAdmin",
    ]

    /// Brings the store to `spec`; returns what it changed, one line each.
    @discardableResult
    public func bootstrap(_ spec: BootstrapSpec, hasher: PasswordHasher = .standard, dryRun: Bool = false) throws
        -> [String]
    {
        var changes: [String] = []
        do {
            try apply(spec, hasher: hasher, dryRun: dryRun, changes: &changes)
        } catch is DryRunRollback {}
        return changes
    }

    private struct DryRunRollback: Error {}

    private func apply(_ spec: BootstrapSpec, hasher: PasswordHasher, dryRun: Bool, changes: inout [String]) throws {
        let adminHash = try hasher.hash(spec.adminPassword)
        let demoHash = try spec.demoPassword.map { try hasher.hash($0) }
        let serviceHashes = try spec.serviceUsers.mapValues { try hasher.hash($0) }
        try write { db in
            let snapshot = try Self.load(db)
            if snapshot.domains["default"] == nil {
                try Domain(id: "default", name: "Default", description: "The default domain", enabled: true).insert(db)
                changes.append("domain Default")
            }
            var roleIDs: [String: String] = [:]
            for name in Self.standardRoles {
                if let role = snapshot.role(named: name) {
                    roleIDs[name] = role.id
                } else {
                    let role = Role(id: IdentityAPI.newID(), name: name, description: "")
                    try role.insert(db)
                    roleIDs[name] = role.id
                    changes.append("role \(name)")
                }
            }
            for (prior, implied) in [
                ("admin", "manager"), ("manager", "member"), ("member", "reader"), ("_member_", "member"),
            ] {
                if let prior = roleIDs[prior], let implied = roleIDs[implied] {
                    let rule = ImpliedRole(priorRoleID: prior, impliedRoleID: implied)
                    if !snapshot.implied.contains(rule) { try rule.insert(db) }
                }
            }
            let admin = try ensure(
                project: "admin", user: spec.adminUser, password: spec.adminPassword, hash: adminHash,
                role: roleIDs["admin"], snapshot: snapshot, db: db, changes: &changes)
            // The admin holds admin on the system as well, as Keystone's bootstrap grants.
            if let role = roleIDs["admin"] {
                let system = Assignment(
                    actorKind: .user, actorID: admin, targetKind: .system, targetID: "all", roleID: role)
                if !snapshot.assignments.contains(system) { try system.insert(db) }
            }
            if let demoPassword = spec.demoPassword, let demoHash {
                _ = try ensure(
                    project: "demo", user: "demo", password: demoPassword, hash: demoHash, role: roleIDs["member"],
                    snapshot: snapshot, db: db, changes: &changes)
            }
            for (name, password) in spec.serviceUsers.sorted(by: { $0.key < $1.key }) {
                _ = try ensure(
                    project: "services", user: name, password: password, hash: serviceHashes[name] ?? "",
                    role: roleIDs["admin"], snapshot: snapshot, db: db, changes: &changes)
            }
            if snapshot.regions[spec.region] == nil {
                try Region(id: spec.region, description: "", parentRegionID: nil).insert(db)
                changes.append("region \(spec.region)")
            }
            for entry in spec.catalog {
                var service = snapshot.services.values.first { $0.type == entry.type }
                if service == nil {
                    let created = Service(
                        id: IdentityAPI.newID(), type: entry.type, name: entry.name, description: entry.description,
                        enabled: true)
                    try created.insert(db)
                    service = created
                    changes.append("service \(entry.type)")
                }
                guard let service else { continue }
                for (interface, url) in entry.urls.sorted(by: { $0.key < $1.key }) {
                    let existing = snapshot.endpoints.values.first {
                        $0.serviceID == service.id && $0.interface == interface && $0.regionID == spec.region
                    }
                    if var existing {
                        if existing.url != url {
                            existing.url = url
                            try existing.update(db)
                            changes.append("endpoint \(entry.type) \(interface) → \(url)")
                        }
                    } else {
                        try Endpoint(
                            id: IdentityAPI.newID(), serviceID: service.id, interface: interface,
                            regionID: spec.region, url: url, enabled: true
                        ).insert(db)
                        changes.append("endpoint \(entry.type) \(interface)")
                    }
                }
            }
            // A check leaves the database as it was: the transaction rolls back.
            if dryRun { throw DryRunRollback() }
        }
    }

    /// A project, a user whose default it is with `password`, and `role` for the one on the
    /// other; returns the user's id.
    private func ensure(
        project name: String, user userName: String, password: String, hash: String, role: String?,
        snapshot: IdentitySnapshot, db: Database, changes: inout [String]
    ) throws -> String {
        // From the database, not the snapshot: an earlier call may have made it.
        var project = try Project.filter(sql: "name = ? AND domain_id = 'default'", arguments: [name]).fetchOne(db)
        if project == nil {
            let created = Project(
                id: IdentityAPI.newID(), name: name, domainID: "default", description: "Bootstrap project",
                enabled: true, parentID: nil, extra: "{}")
            try created.insert(db)
            project = created
            changes.append("project \(name)")
        }
        guard let project else { return "" }
        var user = snapshot.users.values.first { $0.name == userName && $0.domainID == "default" }
        if var existing = user {
            let current = existing.passwordHash.flatMap { try? PasswordHasher.verify(password, against: $0) } ?? false
            if !current || !existing.enabled {
                existing.passwordHash = hash
                existing.enabled = true
                existing.tokensValidAfter = Int64(Date().timeIntervalSince1970 * 1000)
                try existing.update(db)
                changes.append("user \(userName): password")
            }
        } else {
            let created = User(
                id: IdentityAPI.newID(), name: userName, domainID: "default", passwordHash: hash, enabled: true,
                defaultProjectID: project.id, extra: "{}", tokensValidAfter: 0)
            try created.insert(db)
            user = created
            changes.append("user \(userName)")
        }
        guard let user, let role else { return user?.id ?? "" }
        let grant = Assignment(
            actorKind: .user, actorID: user.id, targetKind: .project, targetID: project.id, roleID: role)
        if !snapshot.assignments.contains(grant) {
            try grant.insert(db)
            changes.append("role grant \(userName) on \(name)")
        }
        return user.id
    }
}
