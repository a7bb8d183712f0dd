import Foundation
import GRDB
import Hummingbird
import NimbusServiceKit

/// Roles, implied roles, grants and role assignments.
extension IdentityAPI {
    func roleRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/roles") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_roles", snapshot: snapshot)
            let roles = filter(Array(snapshot.roles.values), request, ["name": \.name])
            return list(
                "roles", roles.sorted { $0.name < $1.name }.map { render($0, request) }, request, path: "/roles")
        }
        router.post("/v3/roles") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_role", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "role")
            let role = Role(
                id: Self.newID(), name: try body.required("name"),
                description: try body.text("description", maxLength: 65535) ?? "")
            try write("role", "Duplicate entry found with name \(role.name)") { try role.insert($0) }
            return Response.json(["role": render(role, request)], status: .created)
        }
        router.get("/v3/roles/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "get_role", snapshot: snapshot)
            return Response.json(
                ["role": render(try find(snapshot.roles, try context.parameters.require("id"), "role"), request)])
        }
        router.patch("/v3/roles/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_role", snapshot: snapshot)
            var role = try find(snapshot.roles, try context.parameters.require("id"), "role")
            let body = try member(try await self.body(request, context: context), "role")
            if let name = try body.text("name", nonEmpty: true) { role.name = name }
            if let description = try body.text("description", maxLength: 65535) { role.description = description }
            let updated = role
            try write("role", "Duplicate entry found with name \(updated.name)") { try updated.update($0) }
            return Response.json(["role": render(updated, request)])
        }
        router.delete("/v3/roles/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_role", snapshot: snapshot)
            let role = try find(snapshot.roles, try context.parameters.require("id"), "role")
            try store.write { _ = try role.delete($0) }
            return Response.empty()
        }
        impliedRoleRoutes(on: router)
        grantRoutes(on: router)
        router.get("/v3/role_assignments") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_role_assignments", snapshot: snapshot)
            return Response.json(assignments(request, snapshot: snapshot))
        }
    }

    func impliedRoleRoutes(on router: Router<ServiceContext>) {
        @Sendable func rule(_ rule: ImpliedRole, _ snapshot: IdentitySnapshot, _ request: Request) -> JSON {
            let prior = snapshot.roles[rule.priorRoleID]
            let implied = snapshot.roles[rule.impliedRoleID]
            return [
                "prior_role": [
                    "id": .string(rule.priorRoleID), "name": .optional(prior?.name),
                    "links": link(request, "/roles/\(rule.priorRoleID)"),
                ],
                "implies": [
                    "id": .string(rule.impliedRoleID), "name": .optional(implied?.name),
                    "links": link(request, "/roles/\(rule.impliedRoleID)"),
                ],
            ]
        }
        router.get("/v3/roles/:id/implies") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "list_implied_roles", snapshot: snapshot)
            let prior = try find(snapshot.roles, try context.parameters.require("id"), "role")
            let implied = snapshot.implied.filter { $0.priorRoleID == prior.id }.compactMap {
                snapshot.roles[$0.impliedRoleID]
            }
            return Response.json([
                "role_inference": [
                    "prior_role": render(prior, request),
                    "implies": .array(implied.sorted { $0.name < $1.name }.map { render($0, request) }),
                ]
            ])
        }
        for method in [HTTPRequest.Method.put, .get, .head, .delete] {
            router.on("/v3/roles/:id/implies/:implied", method: method) { request, context in
                let snapshot = store.snapshot
                _ = try admin(request, "create_implied_role", snapshot: snapshot)
                let prior = try find(snapshot.roles, try context.parameters.require("id"), "role")
                let implied = try find(snapshot.roles, try context.parameters.require("implied"), "role")
                let inference = ImpliedRole(priorRoleID: prior.id, impliedRoleID: implied.id)
                switch method {
                case .put:
                    guard prior.id != implied.id, !snapshot.expand([implied.id]).contains(prior.id) else {
                        throw IdentityFault.badRequest("Role \(implied.name) already implies \(prior.name): no cycles.")
                    }
                    try store.write { try inference.save($0) }
                    return Response.json(["role_inference": rule(inference, store.snapshot, request)], status: .created)
                case .delete:
                    guard snapshot.implied.contains(inference) else {
                        throw IdentityFault.notFound("implied role", "\(prior.id) implies \(implied.id)")
                    }
                    try store.write { _ = try inference.delete($0) }
                    return Response.empty()
                case .head:
                    guard snapshot.implied.contains(inference) else {
                        throw IdentityFault.notFound("implied role", "\(prior.id) implies \(implied.id)")
                    }
                    return Response.empty()
                default:
                    guard snapshot.implied.contains(inference) else {
                        throw IdentityFault.notFound("implied role", "\(prior.id) implies \(implied.id)")
                    }
                    return Response.json(["role_inference": rule(inference, snapshot, request)])
                }
            }
        }
        router.get("/v3/role_inferences") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_role_inference_rules", snapshot: snapshot)
            let priors = Set(snapshot.implied.map(\.priorRoleID)).compactMap { snapshot.roles[$0] }.sorted {
                $0.name < $1.name
            }
            return Response.json([
                "role_inferences": .array(
                    priors.map { prior in
                        let implied = snapshot.implied.filter { $0.priorRoleID == prior.id }
                            .compactMap { snapshot.roles[$0.impliedRoleID] }.sorted { $0.name < $1.name }
                        return [
                            "prior_role": render(prior, request),
                            "implies": .array(implied.map { render($0, request) }),
                        ]
                    }),
                "links": link(request, "/role_inferences"),
            ])
        }
    }

    /// `PUT|HEAD|GET|DELETE /v3/{projects|domains}/{id}/{users|groups}/{id}/roles/{role}`,
    /// the same under `/v3/system/{users|groups}/…`, and the lists of granted roles.
    func grantRoutes(on router: Router<ServiceContext>) {
        let targets: [(String, Assignment.TargetKind)] = [("projects", .project), ("domains", .domain)]
        let actors: [(String, Assignment.ActorKind)] = [("users", .user), ("groups", .group)]
        for (targetPath, targetKind) in targets {
            for (actorPath, actorKind) in actors {
                let prefix = "/v3/\(targetPath)/:id/\(actorPath)/:actor/roles"
                router.get(RouterPath(prefix)) { request, context in
                    try grantList(request, context, targetKind, actorKind)
                }
                for method in [HTTPRequest.Method.put, .head, .get, .delete] {
                    router.on(RouterPath(prefix + "/:role"), method: method) { request, context in
                        try grant(request, context, method, targetKind, actorKind)
                    }
                }
            }
        }
        for (actorPath, actorKind) in actors {
            let prefix = "/v3/system/\(actorPath)/:actor/roles"
            router.get(RouterPath(prefix)) { request, context in try grantList(request, context, .system, actorKind) }
            for method in [HTTPRequest.Method.put, .head, .get, .delete] {
                router.on(RouterPath(prefix + "/:role"), method: method) { request, context in
                    try grant(request, context, method, .system, actorKind)
                }
            }
        }
    }

    func grantTarget(
        _ context: ServiceContext, _ kind: Assignment.TargetKind, _ actorKind: Assignment.ActorKind,
        _ snapshot: IdentitySnapshot
    ) throws -> (target: String, actor: String) {
        let target: String
        switch kind {
        case .project: target = try find(snapshot.projects, try context.parameters.require("id"), "project").id
        case .domain: target = try find(snapshot.domains, try context.parameters.require("id"), "domain").id
        case .system: target = "all"
        }
        let actor: String
        switch actorKind {
        case .user: actor = try find(snapshot.users, try context.parameters.require("actor"), "user").id
        case .group: actor = try find(snapshot.groups, try context.parameters.require("actor"), "group").id
        }
        return (target, actor)
    }

    func grant(
        _ request: Request, _ context: ServiceContext, _ method: HTTPRequest.Method, _ kind: Assignment.TargetKind,
        _ actorKind: Assignment.ActorKind
    ) throws -> Response {
        let snapshot = store.snapshot
        _ = try admin(
            request, method == .put ? "create_grant" : method == .delete ? "revoke_grant" : "check_grant",
            snapshot: snapshot)
        let (target, actor) = try grantTarget(context, kind, actorKind, snapshot)
        let role = try find(snapshot.roles, try context.parameters.require("role"), "role")
        let assignment = Assignment(
            actorKind: actorKind, actorID: actor, targetKind: kind, targetID: target, roleID: role.id)
        let exists = snapshot.assignments.contains(assignment)
        switch method {
        case .put:
            try store.write { try assignment.save($0) }
        case .delete:
            guard exists else {
                throw IdentityFault.notFound("role assignment", "\(role.id) for \(actor) on \(target)")
            }
            try store.write { _ = try assignment.delete($0) }
        default:
            guard exists else {
                throw IdentityFault.notFound("role assignment", "\(role.id) for \(actor) on \(target)")
            }
        }
        return Response.empty()
    }

    func grantList(
        _ request: Request, _ context: ServiceContext, _ kind: Assignment.TargetKind, _ actorKind: Assignment.ActorKind
    ) throws -> Response {
        let snapshot = store.snapshot
        _ = try admin(request, "list_grants", snapshot: snapshot)
        let (target, actor) = try grantTarget(context, kind, actorKind, snapshot)
        let roles = snapshot.assignments.filter {
            $0.targetKind == kind && $0.targetID == target && $0.actorKind == actorKind && $0.actorID == actor
        }.compactMap { snapshot.roles[$0.roleID] }.sorted { $0.name < $1.name }
        return list(
            "roles", roles.map { render($0, request) }, request, path: request.uri.path.dropFirst(3).description)
    }

    /// `GET /v3/role_assignments` with Keystone's filters, `effective` (groups expanded to
    /// their users, implied roles added) and `include_names`.
    func assignments(_ request: Request, snapshot: IdentitySnapshot) -> JSON {
        var rows = snapshot.assignments
        let effective = request.query("effective") != nil
        if effective {
            var expanded: Set<Assignment> = []
            for row in rows {
                let users =
                    row.actorKind == .user
                    ? [row.actorID] : snapshot.memberships.filter { $0.groupID == row.actorID }.map(\.userID)
                for user in users {
                    for role in snapshot.expand([row.roleID]) {
                        expanded.insert(
                            Assignment(
                                actorKind: .user, actorID: user, targetKind: row.targetKind, targetID: row.targetID,
                                roleID: role))
                    }
                }
            }
            rows = Array(expanded)
        }
        if let user = request.query("user.id") { rows = rows.filter { $0.actorKind == .user && $0.actorID == user } }
        if let group = request.query("group.id") {
            rows = rows.filter { $0.actorKind == .group && $0.actorID == group }
        }
        if let project = request.query("scope.project.id") {
            rows = rows.filter { $0.targetKind == .project && $0.targetID == project }
        }
        if let domain = request.query("scope.domain.id") {
            rows = rows.filter { $0.targetKind == .domain && $0.targetID == domain }
        }
        if request.query("scope.system") != nil { rows = rows.filter { $0.targetKind == .system } }
        if let role = request.query("role.id") { rows = rows.filter { $0.roleID == role } }
        let names = ["true", "1", "yes"].contains((request.query("include_names") ?? "").lowercased())
        func named(_ id: String, _ name: String?, domain: String?) -> JSON {
            var members: [(String, JSON)] = [("id", .string(id))]
            if names {
                members.append(("name", .optional(name)))
                if let domain { members.append(("domain", domainRef(domain, snapshot))) }
            }
            return .object(members)
        }
        let items: [JSON] = rows.sorted { ($0.targetID, $0.actorID, $0.roleID) < ($1.targetID, $1.actorID, $1.roleID) }
            .map { row in
                var members: [(String, JSON)] = []
                switch row.targetKind {
                case .project:
                    let project = snapshot.projects[row.targetID]
                    members.append(
                        ("scope", ["project": named(row.targetID, project?.name, domain: project?.domainID)]))
                case .domain:
                    members.append(
                        ("scope", ["domain": named(row.targetID, snapshot.domains[row.targetID]?.name, domain: nil)]))
                case .system:
                    members.append(("scope", ["system": ["all": true]]))
                }
                switch row.actorKind {
                case .user:
                    let user = snapshot.users[row.actorID]
                    members.append(("user", named(row.actorID, user?.name, domain: user?.domainID)))
                case .group:
                    let group = snapshot.groups[row.actorID]
                    members.append(("group", named(row.actorID, group?.name, domain: group?.domainID)))
                }
                members.append(("role", named(row.roleID, snapshot.roles[row.roleID]?.name, domain: nil)))
                members.append(("links", ["assignment": .string(base(request) + "/role_assignments")]))
                return .object(members)
            }
        return [
            "role_assignments": .array(items),
            "links": ["self": .string(base(request) + "/role_assignments"), "previous": nil, "next": nil],
        ]
    }
}
