import Foundation
import Hummingbird
import NimbusIdentity
import NimbusServiceKit
import Testing

@Suite("Identity API: discovery and tokens")
struct IdentityTokenTests {
    @Test("GET / answers 300 with the v3 version and a Location; GET /v3 answers 200")
    func discovery() async throws {
        let cloud = try Cloud()
        let root = try await cloud.send(.get, "/")
        #expect(root.status == .multipleChoices)
        #expect(root.header("Location") == "http://nimbus.test:5000/v3/")
        #expect(root.json?["versions"]?["values"]?.array?.first?["id"] == "v3.14")
        let v3 = try await cloud.send(.get, "/v3")
        #expect(v3.status == .ok)
        #expect(v3.json?["version"]?["status"] == "stable")
        #expect(v3.json?["version"]?["media-types"]?.array?.count == 1)
        #expect(try await cloud.send(.get, "/healthz").status == .ok)
    }

    @Test("A password token carries every field the clients need, and the catalog both region keys")
    func passwordToken() async throws {
        let cloud = try Cloud()
        let reply = try await cloud.send(.post, "/v3/auth/tokens", Cloud.passwordAuth("admin", Cloud.adminPassword))
        #expect(reply.status == .created)
        let token = try #require(reply.header("X-Subject-Token"))
        #expect(token.hasPrefix("n1"))
        let body = try #require(reply.json?["token"])
        #expect(body["methods"] == ["password"])
        #expect(body["user"]?["name"] == "admin")
        #expect(body["user"]?["id"]?.string?.count == 32)
        #expect(body["user"]?["domain"]?["name"] == "Default")
        #expect(body["user"]?["password_expires_at"] == .null)
        #expect(body["project"]?["name"] == "admin")
        #expect(body["project"]?["domain"]?["id"] == "default")
        #expect(body["is_domain"] == false)
        #expect(body["expires_at"]?.string?.hasSuffix(".000000Z") == true)
        #expect(body["audit_ids"]?.array?.count == 1)
        let roles = Set(body["roles"]?.array?.compactMap { $0["name"]?.string } ?? [])
        #expect(roles == ["admin", "manager", "member", "reader"])
        let catalog = try #require(body["catalog"]?.array)
        let identity = try #require(catalog.first { $0["type"] == "identity" })
        #expect(identity["name"] == "keystone")
        #expect(identity["endpoints"]?.array?.count == 3)
        for endpoint in identity["endpoints"]?.array ?? [] {
            #expect(endpoint["region_id"] == "RegionOne" && endpoint["region"] == "RegionOne")
            #expect(endpoint["url"] == "http://ctl:5000/v3")
        }
        let projectID = try #require(body["project"]?["id"]?.string)
        let volume = try #require(catalog.first { $0["type"] == "block-storage" })
        #expect(volume["endpoints"]?.array?.first?["url"] == .string("http://ctl:8776/v3/\(projectID)"))
        let noCatalog = try await cloud.send(
            .post, "/v3/auth/tokens?nocatalog", Cloud.passwordAuth("admin", Cloud.adminPassword))
        #expect(noCatalog.json?["token"]?["catalog"] == nil)
    }

    @Test(
        "A wrong password, an unknown user, a missing or forged token: 401 with WWW-Authenticate",
        arguments: [("admin", "wrong"), ("nobody", "x")])
    func refusals(user: String, password: String) async throws {
        let cloud = try Cloud()
        let reply = try await cloud.send(.post, "/v3/auth/tokens", Cloud.passwordAuth(user, password))
        #expect(reply.status == .unauthorized)
        #expect(reply.header("WWW-Authenticate") == "Keystone uri=\"http://nimbus.test:5000/v3\"")
        #expect(reply.json?["error"]?["code"] == 401)
        #expect(reply.json?["error"]?["title"] == "Unauthorized")
        #expect(reply.header("Content-Type") == "application/json")
        #expect(try await cloud.send(.get, "/v3/users").status == .unauthorized)
        #expect(try await cloud.send(.get, "/v3/users", token: "n1AAAA").status == .unauthorized)
    }

    @Test("Bad bodies are 400 with a message saying what is wrong")
    func badBodies() async throws {
        let cloud = try Cloud()
        for body in ["{", "[]", "{\"auth\": 3}", "{\"auth\": {\"identity\": {\"methods\": []}}}"] {
            let reply = try await cloud.client.send(
                .post, "/v3/auth/tokens", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
            #expect(reply.status == .badRequest, "\(body): \(reply.text)")
            #expect(reply.json?["error"]?["message"]?.string?.isEmpty == false)
        }
    }

    @Test("Token rescoping, unscoped logins landing in the default project, validation, HEAD and revocation")
    func validateAndRevoke() async throws {
        let cloud = try Cloud()
        let admin = try await cloud.token()
        // Unscoped: the user's default project.
        let unscoped = try await cloud.send(
            .post, "/v3/auth/tokens", Cloud.passwordAuth("demo", "demo-pw", project: nil))
        #expect(unscoped.json?["token"]?["project"]?["name"] == "demo")
        // Rescope by the token method to the project by id.
        let demoToken = try #require(unscoped.header("X-Subject-Token"))
        let demoProject = try #require(unscoped.json?["token"]?["project"]?["id"]?.string)
        let rescoped = try await cloud.send(
            .post, "/v3/auth/tokens",
            [
                "auth": [
                    "identity": ["methods": ["token"], "token": ["id": .string(demoToken)]],
                    "scope": ["project": ["id": .string(demoProject)]],
                ]
            ])
        #expect(rescoped.status == .created)
        #expect(
            rescoped.json?["token"]?["methods"] == ["token", "password"]
                || rescoped.json?["token"]?["methods"] == ["password", "token"])
        // The demo user has no role on admin: no token for it.
        let denied = try await cloud.send(
            .post, "/v3/auth/tokens",
            [
                "auth": [
                    "identity": ["methods": ["token"], "token": ["id": .string(demoToken)]],
                    "scope": ["project": ["name": "admin", "domain": ["id": "default"]]],
                ]
            ])
        #expect(denied.status == .unauthorized)
        // Validate, HEAD, own token validation by a member.
        let valid = try await cloud.send(.get, "/v3/auth/tokens", token: admin, headers: ["X-Subject-Token": demoToken])
        #expect(valid.status == .ok)
        #expect(valid.header("X-Subject-Token") == demoToken)
        #expect(valid.json?["token"]?["user"]?["name"] == "demo")
        let head = try await cloud.send(.head, "/v3/auth/tokens", token: admin, headers: ["X-Subject-Token": demoToken])
        #expect(head.status == .ok && head.body.isEmpty)
        let own = try await cloud.send(
            .get, "/v3/auth/tokens", token: demoToken, headers: ["X-Subject-Token": demoToken])
        #expect(own.status == .ok)
        let other = try await cloud.send(.get, "/v3/auth/tokens", token: demoToken, headers: ["X-Subject-Token": admin])
        #expect(other.status == .forbidden)
        // Revoke: the token and the ones rescoped from it are gone.
        let revoke = try await cloud.send(
            .delete, "/v3/auth/tokens", token: admin, headers: ["X-Subject-Token": demoToken])
        #expect(revoke.status == .noContent)
        let gone = try await cloud.send(.get, "/v3/auth/tokens", token: admin, headers: ["X-Subject-Token": demoToken])
        #expect(gone.status == .notFound)
        let rescopedToken = try #require(rescoped.header("X-Subject-Token"))
        #expect(try await cloud.send(.get, "/v3/auth/projects", token: rescopedToken).status == .unauthorized)
    }

    @Test("A password change or a disabled user ends the user's tokens")
    func passwordChange() async throws {
        let cloud = try Cloud()
        let admin = try await cloud.token()
        let demo = try await cloud.token("demo", "demo-pw", project: "demo")
        let demoID = try await cloud.id("users", "demo", token: admin)
        try await Task.sleep(for: .milliseconds(5))
        let change = try await cloud.send(
            .post, "/v3/users/\(demoID)/password", token: demo,
            ["user": ["original_password": "demo-pw", "password": "new-pw"]])
        #expect(change.status == .noContent, "\(change.text)")
        #expect(try await cloud.send(.get, "/v3/auth/projects", token: demo).status == .unauthorized)
        let fresh = try await cloud.token("demo", "new-pw", project: "demo")
        #expect(try await cloud.send(.get, "/v3/auth/projects", token: fresh).status == .ok)
        try await Task.sleep(for: .milliseconds(5))
        let disable = try await cloud.send(.patch, "/v3/users/\(demoID)", token: admin, ["user": ["enabled": false]])
        #expect(disable.json?["user"]?["enabled"] == false)
        #expect(try await cloud.send(.get, "/v3/auth/projects", token: fresh).status == .unauthorized)
        let login = try await cloud.send(
            .post, "/v3/auth/tokens", Cloud.passwordAuth("demo", "new-pw", project: "demo"))
        #expect(login.status == .unauthorized)
    }
}
