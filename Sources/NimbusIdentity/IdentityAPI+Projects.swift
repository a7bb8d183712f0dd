import Foundation
import GRDB
import Hummingbird
import NimbusServiceKit

/// Domains and projects.
extension IdentityAPI {
    func domainRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/domains") { request, _ in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            var domains = Array(snapshot.domains.values)
            if !caller.isAdmin {
                // Tempest and the clients look the Default domain up by name as members too.
                domains = domains.filter { $0.id == caller.user.domainID }
            }
            domains = filter(domains, request, ["name": \.name, "enabled": { String($0.enabled) }])
            return list(
                "domains", domains.sorted { $0.name < $1.name }.map { render($0, request) }, request, path: "/domains")
        }
        router.post("/v3/domains") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_domain", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "domain")
            let domain = Domain(
                id: Self.newID(), name: try body.required("name"),
                description: try body.text("description", maxLength: 65535) ?? "",
                enabled: try body.flag("enabled") ?? true)
            try write("domain", "it is not permitted to have two domains with the same name: \(domain.name)") {
                try domain.insert($0)
            }
            return Response.json(["domain": render(domain, request)], status: .created)
        }
        router.get("/v3/domains/:id") { request, context in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let id = try context.parameters.require("id")
            guard caller.isAdmin || caller.user.domainID == id else { throw IdentityFault.forbidden("get_domain") }
            return Response.json(["domain": render(try find(snapshot.domains, id, "domain"), request)])
        }
        router.patch("/v3/domains/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_domain", snapshot: snapshot)
            var domain = try find(snapshot.domains, try context.parameters.require("id"), "domain")
            let body = try member(try await self.body(request, context: context), "domain")
            if let name = try body.text("name", nonEmpty: true) { domain.name = name }
            if let description = try body.text("description", maxLength: 65535) { domain.description = description }
            if let enabled = try body.flag("enabled") { domain.enabled = enabled }
            let updated = domain
            try write("domain", "it is not permitted to have two domains with the same name: \(updated.name)") {
                try updated.update($0)
            }
            return Response.json(["domain": render(updated, request)])
        }
        router.delete("/v3/domains/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_domain", snapshot: snapshot)
            let domain = try find(snapshot.domains, try context.parameters.require("id"), "domain")
            guard !domain.enabled else {
                throw IdentityFault(.forbidden, "Cannot delete a domain that is enabled, please disable it first.")
            }
            try store.write { db in
                try db.execute(
                    sql: "DELETE FROM assignment WHERE target_kind = 'domain' AND target_id = ?",
                    arguments: [domain.id])
                try db.execute(sql: "DELETE FROM user WHERE domain_id = ?", arguments: [domain.id])
                try db.execute(sql: "DELETE FROM \"group\" WHERE domain_id = ?", arguments: [domain.id])
                for project in snapshot.projects.values where project.domainID == domain.id {
                    try Self.deleteProject(project.id, db)
                }
                _ = try domain.delete(db)
            }
            return Response.empty()
        }
    }

    func projectRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/projects") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_projects", snapshot: snapshot)
            let projects = filter(
                Array(snapshot.projects.values), request,
                [
                    "name": \.name, "domain_id": \.domainID, "enabled": { String($0.enabled) },
                    "parent_id": { $0.parentID ?? $0.domainID },
                ])
            return list(
                "projects", projects.sorted { $0.name < $1.name }.map { render($0, request) }, request,
                path: "/projects")
        }
        router.post("/v3/projects") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_project", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "project")
            guard try body.flag("is_domain") != true else {
                throw IdentityFault.badRequest("Projects acting as domains are not supported; create a domain.")
            }
            var domainID = try body.text("domain_id") ?? "default"
            let parentID = try body.text("parent_id")
            if let parentID {
                domainID = try find(snapshot.projects, parentID, "project").domainID
            }
            guard snapshot.domains[domainID] != nil else { throw IdentityFault.notFound("domain", domainID) }
            let project = Project(
                id: Self.newID(), name: try body.required("name"), domainID: domainID,
                description: try body.text("description", maxLength: 65535) ?? "",
                enabled: try body.flag("enabled") ?? true, parentID: parentID,
                extra: body.extras(excluding: Self.projectFields))
            try write(
                "project",
                "it is not permitted to have two projects with either the same name or same id in the same domain: name is \(project.name)"
            ) { try project.insert($0) }
            return Response.json(["project": render(project, request)], status: .created)
        }
        router.get("/v3/projects/:id") { request, context in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let id = try context.parameters.require("id")
            guard caller.isAdmin || caller.projectID == id || snapshot.projectIDs(of: caller.user.id).contains(id)
            else { throw IdentityFault.forbidden("get_project") }
            return Response.json(["project": render(try find(snapshot.projects, id, "project"), request)])
        }
        router.patch("/v3/projects/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_project", snapshot: snapshot)
            var project = try find(snapshot.projects, try context.parameters.require("id"), "project")
            let body = try member(try await self.body(request, context: context), "project")
            if let name = try body.text("name", nonEmpty: true) { project.name = name }
            if let description = try body.text("description", maxLength: 65535) { project.description = description }
            if let enabled = try body.flag("enabled") { project.enabled = enabled }
            project.extra = body.extras(excluding: Self.projectFields, over: project.extra)
            let updated = project
            try write("project", "it is not permitted to have two projects with the same name in the same domain") {
                try updated.update($0)
            }
            return Response.json(["project": render(updated, request)])
        }
        router.delete("/v3/projects/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_project", snapshot: snapshot)
            let project = try find(snapshot.projects, try context.parameters.require("id"), "project")
            guard !snapshot.projects.values.contains(where: { $0.parentID == project.id }) else {
                throw IdentityFault(.forbidden, "Cannot delete project \(project.id): it has child projects.")
            }
            try store.write { try Self.deleteProject(project.id, $0) }
            return Response.empty()
        }
    }

    static let projectFields: Set<String> = [
        "id", "name", "domain_id", "description", "enabled", "parent_id", "is_domain", "links", "tags", "options",
    ]

    static func deleteProject(_ id: String, _ db: Database) throws {
        try db.execute(
            sql: "DELETE FROM assignment WHERE target_kind = 'project' AND target_id = ?", arguments: [id])
        try db.execute(sql: "UPDATE user SET default_project_id = NULL WHERE default_project_id = ?", arguments: [id])
        _ = try Project.deleteOne(db, key: id)
    }
}
