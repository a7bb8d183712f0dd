import Foundation
import GRDB
import Hummingbird
import NimbusServiceKit

/// Users, groups and group membership.
extension IdentityAPI {
    static let userFields: Set<String> = [
        "id", "name", "domain_id", "password", "enabled", "default_project_id", "links", "options",
        "password_expires_at", "federated",
    ]

    func hash(_ password: String) async throws -> String {
        let hasher = settings.hasher
        return try await kdfPool.runIfActive { try hasher.hash(password) }
    }

    func userRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/users") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_users", snapshot: snapshot)
            let users = filter(
                Array(snapshot.users.values), request,
                ["name": \.name, "domain_id": \.domainID, "enabled": { String($0.enabled) }])
            return list(
                "users", users.sorted { $0.name < $1.name }.map { render($0, request) }, request, path: "/users")
        }
        router.post("/v3/users") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_user", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "user")
            let domainID = try body.text("domain_id") ?? "default"
            guard snapshot.domains[domainID] != nil else { throw IdentityFault.notFound("domain", domainID) }
            let defaultProject = try body.text("default_project_id")
            if let defaultProject { _ = try find(snapshot.projects, defaultProject, "project") }
            var passwordHash: String?
            if let password = try body.text("password", maxLength: 4096) { passwordHash = try await hash(password) }
            let user = User(
                id: Self.newID(), name: try body.required("name"), domainID: domainID,
                passwordHash: passwordHash, enabled: try body.flag("enabled") ?? true,
                defaultProjectID: defaultProject, extra: body.extras(excluding: Self.userFields), tokensValidAfter: 0)
            try write("user", "Duplicate entry found with name \(user.name) at domain ID \(domainID)") {
                try user.insert($0)
            }
            return Response.json(["user": render(user, request)], status: .created)
        }
        router.get("/v3/users/:id") { request, context in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let id = try context.parameters.require("id")
            guard caller.isAdmin || caller.user.id == id else { throw IdentityFault.forbidden("get_user") }
            return Response.json(["user": render(try find(snapshot.users, id, "user"), request)])
        }
        router.patch("/v3/users/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_user", snapshot: snapshot)
            var user = try find(snapshot.users, try context.parameters.require("id"), "user")
            let body = try member(try await self.body(request, context: context), "user")
            if let name = try body.text("name", nonEmpty: true) { user.name = name }
            if let enabled = try body.flag("enabled") {
                if user.enabled && !enabled { user.tokensValidAfter = nowMillis() }
                user.enabled = enabled
            }
            if body["default_project_id"] != nil {
                user.defaultProjectID = try body.text("default_project_id")
                if let project = user.defaultProjectID { _ = try find(snapshot.projects, project, "project") }
            }
            if let password = try body.text("password", maxLength: 4096) {
                user.passwordHash = try await hash(password)
                user.tokensValidAfter = nowMillis()
            }
            user.extra = body.extras(excluding: Self.userFields, over: user.extra)
            let updated = user
            try write("user", "Duplicate entry found with name \(updated.name) at domain ID \(updated.domainID)") {
                try updated.update($0)
            }
            return Response.json(["user": render(updated, request)])
        }
        router.delete("/v3/users/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_user", snapshot: snapshot)
            let user = try find(snapshot.users, try context.parameters.require("id"), "user")
            try store.write { db in
                try db.execute(
                    sql: "DELETE FROM assignment WHERE actor_kind = 'user' AND actor_id = ?", arguments: [user.id])
                _ = try user.delete(db)
            }
            return Response.empty()
        }
        router.post("/v3/users/:id/password") { request, context in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            var user = try find(snapshot.users, try context.parameters.require("id"), "user")
            guard caller.user.id == user.id else { throw IdentityFault.forbidden("change_password") }
            let body = try member(try await self.body(request, context: context), "user")
            let original = try body.required("original_password")
            let password = try body.required("password")
            let stored = user.passwordHash ?? ""
            let matches = try await kdfPool.runIfActive {
                (try? PasswordHasher.verify(original, against: stored)) ?? false
            }
            guard matches else { throw IdentityFault.unauthorized(base(request)) }
            user.passwordHash = try await hash(password)
            user.tokensValidAfter = nowMillis()
            let updated = user
            try store.write { try updated.update($0) }
            return Response.empty()
        }
        router.get("/v3/users/:id/projects") { request, context in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let user = try find(snapshot.users, try context.parameters.require("id"), "user")
            guard caller.isAdmin || caller.user.id == user.id else {
                throw IdentityFault.forbidden("list_user_projects")
            }
            let projects = filter(
                snapshot.projectIDs(of: user.id).compactMap { snapshot.projects[$0] }, request,
                ["name": \.name, "domain_id": \.domainID, "enabled": { String($0.enabled) }])
            return list(
                "projects", projects.sorted { $0.name < $1.name }.map { render($0, request) }, request,
                path: "/users/\(user.id)/projects")
        }
        router.get("/v3/users/:id/groups") { request, context in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let user = try find(snapshot.users, try context.parameters.require("id"), "user")
            guard caller.isAdmin || caller.user.id == user.id else {
                throw IdentityFault.forbidden("list_groups_for_user")
            }
            let groups = snapshot.groupIDs(of: user.id).compactMap { snapshot.groups[$0] }.sorted { $0.name < $1.name }
            return list("groups", groups.map { render($0, request) }, request, path: "/users/\(user.id)/groups")
        }
    }

    func groupRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/groups") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_groups", snapshot: snapshot)
            let groups = filter(Array(snapshot.groups.values), request, ["name": \.name, "domain_id": \.domainID])
            return list(
                "groups", groups.sorted { $0.name < $1.name }.map { render($0, request) }, request, path: "/groups")
        }
        router.post("/v3/groups") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_group", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "group")
            let domainID = try body.text("domain_id") ?? "default"
            guard snapshot.domains[domainID] != nil else { throw IdentityFault.notFound("domain", domainID) }
            let group = Group(
                id: Self.newID(), name: try body.required("name"), domainID: domainID,
                description: try body.text("description", maxLength: 65535) ?? "")
            try write("group", "Duplicate entry found with name \(group.name) at domain ID \(domainID)") {
                try group.insert($0)
            }
            return Response.json(["group": render(group, request)], status: .created)
        }
        router.get("/v3/groups/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "get_group", snapshot: snapshot)
            return Response.json(
                ["group": render(try find(snapshot.groups, try context.parameters.require("id"), "group"), request)])
        }
        router.patch("/v3/groups/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_group", snapshot: snapshot)
            var group = try find(snapshot.groups, try context.parameters.require("id"), "group")
            let body = try member(try await self.body(request, context: context), "group")
            if let name = try body.text("name", nonEmpty: true) { group.name = name }
            if let description = try body.text("description", maxLength: 65535) { group.description = description }
            let updated = group
            try write("group", "Duplicate entry found with name \(updated.name)") { try updated.update($0) }
            return Response.json(["group": render(updated, request)])
        }
        router.delete("/v3/groups/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_group", snapshot: snapshot)
            let group = try find(snapshot.groups, try context.parameters.require("id"), "group")
            try store.write { db in
                try db.execute(
                    sql: "DELETE FROM assignment WHERE actor_kind = 'group' AND actor_id = ?", arguments: [group.id])
                _ = try group.delete(db)
            }
            return Response.empty()
        }
        router.get("/v3/groups/:id/users") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "list_users_in_group", snapshot: snapshot)
            let group = try find(snapshot.groups, try context.parameters.require("id"), "group")
            let users = snapshot.memberships.filter { $0.groupID == group.id }.compactMap { snapshot.users[$0.userID] }
            return list(
                "users", users.sorted { $0.name < $1.name }.map { render($0, request) }, request,
                path: "/groups/\(group.id)/users")
        }
        for method in [HTTPRequest.Method.put, .head, .get, .delete] {
            router.on("/v3/groups/:id/users/:user", method: method) { request, context in
                let snapshot = store.snapshot
                _ = try admin(request, "add_user_to_group", snapshot: snapshot)
                let group = try find(snapshot.groups, try context.parameters.require("id"), "group")
                let user = try find(snapshot.users, try context.parameters.require("user"), "user")
                let membership = Membership(userID: user.id, groupID: group.id)
                switch method {
                case .put:
                    try store.write { try membership.save($0) }
                case .delete:
                    guard snapshot.memberships.contains(membership) else {
                        throw IdentityFault(.notFound, "User \(user.id) is not a member of group \(group.id).")
                    }
                    try store.write { _ = try membership.delete($0) }
                default:
                    guard snapshot.memberships.contains(membership) else {
                        throw IdentityFault(.notFound, "User \(user.id) is not a member of group \(group.id).")
                    }
                }
                return Response.empty()
            }
        }
    }
}
