/// The default roles Keystone creates imply each other: `admin` → `member` (and `manager`)
/// → `reader`. Services check the weakest role an action needs.
public enum ProjectRole: Sendable {
    case reader, member
}

/// The checks OpenStack's default policies are made of, over a caller and the project that
/// owns the resource (nil for resources no project owns).
public enum PolicyRule: Sendable, Equatable {
    /// Anyone the identity service vouched for.
    case authenticated
    /// The cloud admin only (`role:admin`).
    case admin
    /// The admin, or a caller whose token is scoped to the owning project with at least
    /// this role (`project_reader_api`, `project_member_api`).
    case project(ProjectRole)
    /// The admin, or any caller scoped to the owning project whatever its roles (the legacy
    /// `admin_or_owner`).
    case adminOrOwner

    /// Whether `caller` passes this rule for a resource of `owner`.
    public func allows(_ caller: Caller, owner: String?) -> Bool {
        switch self {
        case .authenticated: return true
        case .admin: return caller.isAdmin
        case .adminOrOwner: return caller.isAdmin || caller.owns(owner)
        case .project(let role): return caller.isAdmin || (caller.has(role) && caller.owns(owner))
        }
    }
}

extension Caller {
    /// Holds `role` directly or through a role implying it.
    public func has(_ role: ProjectRole) -> Bool {
        switch role {
        case .member: return canWrite
        case .reader: return canWrite || roles.contains("reader")
        }
    }

    /// The token is scoped to `project` (never true for a resource without an owner).
    public func owns(_ project: String?) -> Bool {
        guard let project, let projectID else { return false }
        return project == projectID
    }
}
