import Crypto
import Foundation
import Hummingbird
import NimbusIdentity
import NimbusServiceKit
import Testing

/// The identity service in-process for the other services' router tests: bootstrapped with
/// an admin and a demo project, and a `TokenValidator` that asks its router (no fake).
public struct TestIdentity: Sendable {
    public typealias Client = InProcessClient<RouterResponder<ServiceContext>>
    public let client: Client
    public let store: IdentityStore
    public let validator: TokenValidator
    /// The identity router, to serve over loopback when a service must call it over HTTP.
    public let responder: RouterResponder<ServiceContext>
    /// A cheap hasher: the tests log in often.
    public static let hasher = PasswordHasher(logN: 10, blockSize: 8, parallelism: 1)

    public init(catalog: [BootstrapSpec.CatalogEntry]) throws {
        let store = try IdentityStore(path: nil)
        let hasher = Self.hasher
        try store.bootstrap(
            BootstrapSpec(adminPassword: "admin-pw", region: "RegionOne", catalog: catalog, demoPassword: "demo-pw"),
            hasher: hasher)
        let api = IdentityAPI(
            store: store, keys: TokenKeyRing(keys: [.init(id: 1, key: SymmetricKey(size: .bits256))]),
            settings: IdentitySettings(tokenExpiration: 3600, hasher: hasher))
        responder = buildIdentityRouter(api: api).buildResponder()
        let client = Client(responder: responder)
        self.client = client
        self.store = store
        validator = TokenValidator(cacheSeconds: 0) { token in
            let reply = try await client.send(
                .get, "/v3/auth/tokens?nocatalog", headers: ["X-Auth-Token": token, "X-Subject-Token": token])
            return (Int(reply.status.code), reply.body)
        }
    }

    /// A project-scoped token for a password login.
    public func token(_ user: String, _ password: String, project: String) async throws -> String {
        let body: JSON = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": [
                        "user": ["name": .string(user), "domain": ["name": "Default"], "password": .string(password)]
                    ],
                ],
                "scope": ["project": ["name": .string(project), "domain": ["name": "Default"]]],
            ]
        ]
        let reply = try await client.send(
            .post, "/v3/auth/tokens", headers: ["Content-Type": "application/json"], body: body.bytes)
        return try #require(reply.header("X-Subject-Token"), "\(reply.text)")
    }

    public func admin() async throws -> String { try await token("admin", "admin-pw", project: "admin") }
    public func demo() async throws -> String { try await token("demo", "demo-pw", project: "demo") }

    /// A project id by name.
    public func projectID(_ name: String) async throws -> String {
        let reply = try await client.send(
            .get, "/v3/projects?name=\(name)", headers: ["X-Auth-Token": try await admin()])
        return try #require(reply.json?["projects"]?.array?.first?["id"]?.string)
    }

    /// Sends an admin request to the identity API (JSON body).
    public func adminSend(_ method: HTTPRequest.Method, _ path: String, json: JSON? = nil) async throws -> Client.Reply
    {
        var headers = ["X-Auth-Token": try await admin()]
        if json != nil { headers["Content-Type"] = "application/json" }
        return try await client.send(method, path, headers: headers, body: json?.bytes)
    }
}
