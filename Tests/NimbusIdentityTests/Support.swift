import Crypto
import Foundation
import Hummingbird
import NimbusIdentity
import NimbusServiceKit
import Testing

/// An identity service in-process: SQLite in memory, a fresh key ring, the router under
/// test, bootstrapped the way a deploy does it; passwords at a low scrypt cost for speed.
struct Cloud {
    let api: IdentityAPI
    let client: InProcessClient<RouterResponder<ServiceContext>>
    static let adminPassword = "s3cret-admin"

    init(demo: Bool = true) throws {
        let store = try IdentityStore(path: nil)
        let hasher = PasswordHasher(logN: 10, blockSize: 8, parallelism: 1)
        try store.bootstrap(
            BootstrapSpec(
                adminPassword: Self.adminPassword, region: "RegionOne",
                catalog: [
                    .init(
                        type: "identity", name: "keystone", description: "Identity",
                        urls: [
                            "public": "http://ctl:5000/v3", "internal": "http://ctl:5000/v3",
                            "admin": "http://ctl:5000/v3",
                        ]),
                    .init(
                        type: "block-storage", name: "cinder", description: "Block storage",
                        urls: ["public": "http://ctl:8776/v3/$(project_id)s"]),
                ], demoPassword: demo ? "demo-pw" : nil),
            hasher: hasher)
        api = IdentityAPI(
            store: store, keys: TokenKeyRing(keys: [.init(id: 1, key: SymmetricKey(size: .bits256))]),
            settings: IdentitySettings(tokenExpiration: 3600, hasher: hasher))
        client = InProcessClient(responder: buildIdentityRouter(api: api).buildResponder())
    }

    func send(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, headers: [String: String] = [:],
        _ body: JSON? = nil
    ) async throws -> InProcessClient<RouterResponder<ServiceContext>>.Reply {
        var headers = headers
        if let token { headers["X-Auth-Token"] = token }
        if body != nil { headers["Content-Type"] = "application/json" }
        return try await client.send(method, path, headers: headers, body: body?.bytes)
    }

    static func passwordAuth(_ user: String, _ password: String, project: String? = "admin") -> JSON {
        var auth: [(String, JSON)] = [
            (
                "identity",
                [
                    "methods": ["password"],
                    "password": [
                        "user": ["name": .string(user), "domain": ["name": "Default"], "password": .string(password)]
                    ],
                ]
            )
        ]
        if let project {
            auth.append(("scope", ["project": ["name": .string(project), "domain": ["name": "Default"]]]))
        }
        return ["auth": .object(auth)]
    }

    /// A token for `user`, scoped to `project`; fails the test when none is issued.
    func token(_ user: String = "admin", _ password: String = adminPassword, project: String? = "admin") async throws
        -> String
    {
        let reply = try await send(.post, "/v3/auth/tokens", Self.passwordAuth(user, password, project: project))
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply.header("X-Subject-Token"))
    }

    /// The id of the one item of `collection` named `name` (through `?name=`).
    func id(_ collection: String, _ name: String, token: String) async throws -> String {
        let reply = try await send(.get, "/v3/\(collection)?name=\(name)", token: token)
        let items = try #require(reply.json?[collection]?.array)
        #expect(items.count == 1, "\(reply.text)")
        return try #require(items.first?["id"]?.string)
    }
}
