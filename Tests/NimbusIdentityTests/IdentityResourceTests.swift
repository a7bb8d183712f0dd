import Foundation
import Hummingbird
import NimbusIdentity
import NimbusServiceKit
import Testing

@Suite("Identity API: projects, users, roles, groups and the catalog")
struct IdentityResourceTests {
    @Test("The student's flow: project create, user create with a project, role add, assignment list with names")
    func studentFlow() async throws {
        let cloud = try Cloud()
        let admin = try await cloud.token()
        // osc-lib's lookup: GET by name must 404, then ?name= finds it.
        #expect(try await cloud.send(.get, "/v3/projects/nosuch", token: admin).status == .notFound)
        let created = try await cloud.send(
            .post, "/v3/projects", token: admin,
            ["project": ["name": "class", "description": "Class project", "enabled": true, "domain_id": "default"]])
        #expect(created.status == .created, "\(created.text)")
        let project = try #require(created.json?["project"]?["id"]?.string)
        #expect(created.json?["project"]?["parent_id"] == "default")
        let duplicate = try await cloud.send(.post, "/v3/projects", token: admin, ["project": ["name": "class"]])
        #expect(duplicate.status == .conflict)
        #expect(duplicate.json?["error"]?["title"] == "Conflict")
        let user = try await cloud.send(
            .post, "/v3/users", token: admin,
            [
                "user": [
                    "name": "student", "password": "pw-student", "email": "s@example.org",
                    "default_project_id": .string(project), "enabled": true, "unknown_field": ["kept": 1],
                ]
            ])
        #expect(user.status == .created, "\(user.text)")
        #expect(user.json?["user"]?["email"] == "s@example.org")
        #expect(user.json?["user"]?["password"] == nil)
        let userID = try #require(user.json?["user"]?["id"]?.string)
        #expect(try await cloud.id("projects", "class", token: admin) == project)
        // `_member_` exists (the course notes use it) and implies member.
        let member = try await cloud.id("roles", "_member_", token: admin)
        let grant = try await cloud.send(.put, "/v3/projects/\(project)/users/\(userID)/roles/\(member)", token: admin)
        #expect(grant.status == .noContent)
        #expect(
            try await cloud.send(.head, "/v3/projects/\(project)/users/\(userID)/roles/\(member)", token: admin).status
                == .noContent)
        let assignments = try await cloud.send(
            .get, "/v3/role_assignments?scope.project.id=\(project)&include_names=True", token: admin)
        let rows = try #require(assignments.json?["role_assignments"]?.array)
        #expect(rows.count == 1)
        #expect(rows.first?["user"]?["name"] == "student")
        #expect(rows.first?["role"]?["name"] == "_member_")
        #expect(rows.first?["scope"]?["project"]?["name"] == "class")
        #expect(rows.first?["user"]?["domain"]?["name"] == "Default")
        // The student logs in, sees its project, and is refused admin actions.
        let student = try await cloud.token("student", "pw-student", project: "class")
        let mine = try await cloud.send(.get, "/v3/auth/projects", token: student)
        #expect(mine.json?["projects"]?.array?.compactMap { $0["name"]?.string } == ["class"])
        for (method, path) in [
            (HTTPRequest.Method.get, "/v3/users"), (.get, "/v3/projects"), (.get, "/v3/services"),
            (.put, "/v3/projects/\(project)/users/\(userID)/roles/\(member)"),
        ] {
            let reply = try await cloud.send(method, path, token: student)
            #expect(reply.status == .forbidden, "\(path)")
            #expect(reply.json?["error"]?["message"]?.string?.contains("identity:") == true)
        }
        #expect(try await cloud.send(.get, "/v3/users/\(userID)", token: student).status == .ok)
        #expect(try await cloud.send(.get, "/v3/projects/\(project)", token: student).status == .ok)
        // Removing the grant ends the student's project-scoped token.
        let revoke = try await cloud.send(
            .delete, "/v3/projects/\(project)/users/\(userID)/roles/\(member)", token: admin)
        #expect(revoke.status == .noContent)
        #expect(try await cloud.send(.get, "/v3/auth/projects", token: student).status == .unauthorized)
    }

    @Test("Groups: a role granted to a group reaches its members; unknown ids are 404")
    func groups() async throws {
        let cloud = try Cloud()
        let admin = try await cloud.token()
        let group = try #require(
            try await cloud.send(.post, "/v3/groups", token: admin, ["group": ["name": "students"]]).json?["group"]?[
                "id"]?.string)
        let user = try #require(
            try await cloud.send(.post, "/v3/users", token: admin, ["user": ["name": "g1", "password": "pw"]]).json?[
                "user"]?["id"]?.string)
        let demo = try await cloud.id("projects", "demo", token: admin)
        let reader = try await cloud.id("roles", "reader", token: admin)
        #expect(try await cloud.send(.put, "/v3/groups/\(group)/users/\(user)", token: admin).status == .noContent)
        #expect(
            try await cloud.send(.put, "/v3/projects/\(demo)/groups/\(group)/roles/\(reader)", token: admin).status
                == .noContent)
        let token = try await cloud.token("g1", "pw", project: "demo")
        let validated = try await cloud.send(.get, "/v3/auth/tokens", token: admin, headers: ["X-Subject-Token": token])
        #expect(validated.json?["token"]?["roles"]?.array?.compactMap { $0["name"]?.string } == ["reader"])
        let effective = try await cloud.send(
            .get, "/v3/role_assignments?effective&user.id=\(user)", token: admin)
        #expect(effective.json?["role_assignments"]?.array?.count == 1)
        let users = try await cloud.send(.get, "/v3/groups/\(group)/users", token: admin)
        #expect(users.json?["users"]?.array?.count == 1)
        #expect(try await cloud.send(.get, "/v3/groups/nosuch", token: admin).status == .notFound)
        #expect(try await cloud.send(.delete, "/v3/groups/\(group)", token: admin).status == .noContent)
        #expect(try await cloud.send(.get, "/v3/auth/projects", token: token).status == .unauthorized)
    }

    @Test("Services, endpoints and regions: create, list with filters, the per-endpoint service lookups")
    func catalog() async throws {
        let cloud = try Cloud()
        let admin = try await cloud.token()
        let services = try await cloud.send(.get, "/v3/services", token: admin)
        #expect(services.json?["services"]?.array?.count == 2)
        let endpoints = try #require(
            try await cloud.send(.get, "/v3/endpoints", token: admin).json?["endpoints"]?.array)
        #expect(endpoints.count == 4)
        for endpoint in endpoints {
            let service = try #require(endpoint["service_id"]?.string)
            #expect(try await cloud.send(.get, "/v3/services/\(service)", token: admin).status == .ok)
        }
        let image = try await cloud.send(
            .post, "/v3/services", token: admin, ["service": ["type": "image", "name": "glance", "enabled": true]])
        #expect(image.status == .created)
        let imageID = try #require(image.json?["service"]?["id"]?.string)
        let badInterface = try await cloud.send(
            .post, "/v3/endpoints", token: admin,
            ["endpoint": ["service_id": .string(imageID), "interface": "outer", "url": "http://ctl:9292"]])
        #expect(badInterface.status == .badRequest)
        let badRegion = try await cloud.send(
            .post, "/v3/endpoints", token: admin,
            [
                "endpoint": [
                    "service_id": .string(imageID), "interface": "public", "url": "http://ctl:9292",
                    "region_id": "Mars",
                ]
            ])
        #expect(badRegion.status == .notFound)
        let endpoint = try await cloud.send(
            .post, "/v3/endpoints", token: admin,
            [
                "endpoint": [
                    "service_id": .string(imageID), "interface": "public", "url": "http://ctl:9292",
                    "region_id": "RegionOne",
                ]
            ])
        #expect(endpoint.status == .created)
        let filtered = try await cloud.send(.get, "/v3/endpoints?service_id=\(imageID)", token: admin)
        #expect(filtered.json?["endpoints"]?.array?.count == 1)
        let token = try await cloud.send(.post, "/v3/auth/tokens", Cloud.passwordAuth("admin", Cloud.adminPassword))
        #expect(token.json?["token"]?["catalog"]?.array?.contains { $0["type"] == "image" } == true)
        let region = try await cloud.send(.post, "/v3/regions", token: admin, ["region": ["id": "RegionTwo"]])
        #expect(region.status == .created)
        #expect(
            try await cloud.send(.post, "/v3/regions", token: admin, ["region": ["id": "RegionTwo"]]).status
                == .conflict)
        #expect(try await cloud.send(.get, "/v3/regions/RegionTwo", token: admin).status == .ok)
        #expect(try await cloud.send(.delete, "/v3/services/\(imageID)", token: admin).status == .noContent)
        #expect(
            try await cloud.send(.get, "/v3/endpoints?service_id=\(imageID)", token: admin).json?["endpoints"] == [])
    }

    @Test("Domains, implied roles, unknown routes, and a body field of the wrong type")
    func domainsAndRules() async throws {
        let cloud = try Cloud()
        let admin = try await cloud.token()
        #expect(try await cloud.id("domains", "Default", token: admin) == "default")
        let inferences = try await cloud.send(.get, "/v3/role_inferences", token: admin)
        #expect(inferences.json?["role_inferences"]?.array?.count == 4)
        let adminRole = try await cloud.id("roles", "admin", token: admin)
        let implies = try await cloud.send(.get, "/v3/roles/\(adminRole)/implies", token: admin)
        #expect(implies.json?["role_inference"]?["implies"]?.array?.first?["name"] == "manager")
        let unknown = try await cloud.send(.get, "/v3/nothing-here", token: admin)
        #expect(unknown.status == .notFound)
        #expect(unknown.json?["error"]?["code"] == 404)
        let wrongType = try await cloud.send(
            .post, "/v3/projects", token: admin, ["project": ["name": "x", "enabled": "yes"]])
        #expect(wrongType.status == .badRequest)
        #expect(wrongType.json?["error"]?["message"]?.string?.contains("enabled") == true)
        let domain = try await cloud.send(.post, "/v3/domains", token: admin, ["domain": ["name": "Lab"]])
        let domainID = try #require(domain.json?["domain"]?["id"]?.string)
        let enabled = try await cloud.send(.delete, "/v3/domains/\(domainID)", token: admin)
        #expect(enabled.status == .forbidden)
        _ = try await cloud.send(.patch, "/v3/domains/\(domainID)", token: admin, ["domain": ["enabled": false]])
        #expect(try await cloud.send(.delete, "/v3/domains/\(domainID)", token: admin).status == .noContent)
    }

    @Test("Bootstrap again changes nothing; a new admin password is taken and the old one refused")
    func bootstrapIdempotent() async throws {
        let cloud = try Cloud()
        let spec = BootstrapSpec(
            adminPassword: Cloud.adminPassword, region: "RegionOne",
            catalog: [
                .init(
                    type: "identity", name: "keystone", description: "Identity",
                    urls: [
                        "public": "http://ctl:5000/v3", "internal": "http://ctl:5000/v3", "admin": "http://ctl:5000/v3",
                    ]),
                .init(
                    type: "block-storage", name: "cinder", description: "Block storage",
                    urls: ["public": "http://ctl:8776/v3/$(project_id)s"]),
            ], demoPassword: "demo-pw")
        let hasher = PasswordHasher(logN: 10, blockSize: 8, parallelism: 1)
        #expect(try cloud.api.store.bootstrap(spec, hasher: hasher) == [])
        var changed = spec
        changed.adminPassword = "rotated"
        #expect(try cloud.api.store.bootstrap(changed, hasher: hasher) == ["user admin: password"])
        let old = try await cloud.send(.post, "/v3/auth/tokens", Cloud.passwordAuth("admin", Cloud.adminPassword))
        #expect(old.status == .unauthorized)
        _ = try await cloud.token("admin", "rotated")

        // A service user: made in the services project with admin there, once.
        var withService = changed
        withService.serviceUsers = ["glance": "glance-pw"]
        #expect(
            try cloud.api.store.bootstrap(withService, hasher: hasher) == [
                "project services", "user glance", "role grant glance on services",
            ])
        #expect(try cloud.api.store.bootstrap(withService, hasher: hasher) == [])
        #expect(try BootstrapSpec.parse(withService.json) == withService)
        let body: JSON = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": ["user": ["name": "glance", "domain": ["id": "default"], "password": "glance-pw"]],
                ],
                "scope": ["project": ["name": "services", "domain": ["id": "default"]]],
            ]
        ]
        let login = try await cloud.send(.post, "/v3/auth/tokens", body)
        #expect(login.status == .created)
        #expect(login.json?["token"]?["roles"]?.array?.contains { $0["name"]?.string == "admin" } == true)
    }
}
