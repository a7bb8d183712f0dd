import GRDB
import NimbusServiceKit

/// The identity service's entities, each one row of its table. Attributes Keystone keeps
/// as free-form "extra" (a user's email, anything a client adds) live in `extra`, a JSON
/// object, and are echoed back.
public struct Domain: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "domain"
    public var id: String
    public var name: String
    public var description: String
    public var enabled: Bool
}

public struct Project: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "project"
    public var id: String
    public var name: String
    public var domainID: String
    public var description: String
    public var enabled: Bool
    public var parentID: String?
    public var extra: String

    enum CodingKeys: String, CodingKey {
        case id, name, description, enabled, extra
        case domainID = "domain_id"
        case parentID = "parent_id"
    }
}

public struct User: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "user"
    public var id: String
    public var name: String
    public var domainID: String
    public var passwordHash: String?
    public var enabled: Bool
    public var defaultProjectID: String?
    public var extra: String
    /// Tokens issued before this moment (milliseconds since 1970) are no longer valid: a
    /// password change, a disable.
    public var tokensValidAfter: Int64

    enum CodingKeys: String, CodingKey {
        case id, name, enabled, extra
        case domainID = "domain_id"
        case passwordHash = "password_hash"
        case defaultProjectID = "default_project_id"
        case tokensValidAfter = "tokens_valid_after"
    }
}

public struct Group: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "group"
    public var id: String
    public var name: String
    public var domainID: String
    public var description: String

    enum CodingKeys: String, CodingKey {
        case id, name, description
        case domainID = "domain_id"
    }
}

public struct Membership: Codable, Sendable, Equatable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "membership"
    public var userID: String
    public var groupID: String

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case groupID = "group_id"
    }
}

public struct Role: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "role"
    public var id: String
    public var name: String
    public var description: String
}

public struct ImpliedRole: Codable, Sendable, Equatable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "implied_role"
    public var priorRoleID: String
    public var impliedRoleID: String

    enum CodingKeys: String, CodingKey {
        case priorRoleID = "prior_role_id"
        case impliedRoleID = "implied_role_id"
    }
}

/// A role granted to a user or a group on a project, a domain or the whole system.
public struct Assignment: Codable, Sendable, Equatable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "assignment"

    public enum ActorKind: String, Codable, Sendable { case user, group }
    public enum TargetKind: String, Codable, Sendable { case project, domain, system }

    public var actorKind: ActorKind
    public var actorID: String
    public var targetKind: TargetKind
    /// The project or domain id; `all` for the system.
    public var targetID: String
    public var roleID: String

    enum CodingKeys: String, CodingKey {
        case actorKind = "actor_kind"
        case actorID = "actor_id"
        case targetKind = "target_kind"
        case targetID = "target_id"
        case roleID = "role_id"
    }
}

public struct Region: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "region"
    public var id: String
    public var description: String
    public var parentRegionID: String?

    enum CodingKeys: String, CodingKey {
        case id, description
        case parentRegionID = "parent_region_id"
    }
}

public struct Service: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "service"
    public var id: String
    public var type: String
    public var name: String
    public var description: String
    public var enabled: Bool
}

public struct Endpoint: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "endpoint"
    public var id: String
    public var serviceID: String
    public var interface: String
    public var regionID: String?
    public var url: String
    public var enabled: Bool

    enum CodingKeys: String, CodingKey {
        case id, interface, url, enabled
        case serviceID = "service_id"
        case regionID = "region_id"
    }
}

/// A revoked token (and every token rescoped from it), by audit id, kept until it would
/// have expired anyway.
public struct Revocation: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "revocation"
    public var auditID: String
    public var expiresAt: Int64

    enum CodingKeys: String, CodingKey {
        case auditID = "audit_id"
        case expiresAt = "expires_at"
    }
}
