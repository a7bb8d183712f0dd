import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOPosix
import NimbusServiceKit

/// How the identity service behaves: token lifetime, password cost, where it is reached.
public struct IdentitySettings: Sendable {
    /// Token lifetime in seconds (Keystone's `[token] expiration`, default one hour).
    public var tokenExpiration: Int64
    /// The cost new password hashes are made with.
    public var hasher: PasswordHasher
    /// The public identity URL (`http://controller:5000/v3`), for 401s and links; when nil,
    /// the request's own Host header is used.
    public var publicURL: String?

    public init(tokenExpiration: Int64 = 3600, hasher: PasswordHasher = .standard, publicURL: String? = nil) {
        self.tokenExpiration = tokenExpiration
        self.hasher = hasher
        self.publicURL = publicURL
    }
}

/// The Keystone v3 API over an `IdentityStore`. `routes(on:)` adds every route to a router;
/// `buildIdentityRouter` makes the whole router the service and its tests use.
public struct IdentityAPI: Sendable {
    public let store: IdentityStore
    public let keys: TokenKeyRing
    public let settings: IdentitySettings
    /// Seconds since 1970, with a fraction.
    let clock: @Sendable () -> Double
    /// Password derivations run here, off the request threads, two at a time at most
    /// (each takes 16 MiB at the standard cost).
    let kdfPool: NIOThreadPool

    public init(
        store: IdentityStore, keys: TokenKeyRing, settings: IdentitySettings = .init(),
        kdfPool: NIOThreadPool = .singleton,
        clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.store = store
        self.keys = keys
        self.settings = settings
        self.kdfPool = kdfPool
        self.clock = clock
    }

    /// Whole seconds since 1970 (expiry).
    func now() -> Int64 { Int64(clock()) }

    /// Milliseconds since 1970 (issue times, revocation by time).
    func nowMillis() -> Int64 { Int64(clock() * 1000) }

    /// The identity URL a request reached, ending in `/v3`.
    func base(_ request: Request) -> String {
        settings.publicURL ?? (request.origin + "/v3")
    }

    /// A new 32-hex-digit id.
    static func newID() -> String {
        UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    /// The request's JSON body, or 400 saying why not.
    func body(_ request: Request, context: ServiceContext) async throws -> JSON {
        var request = request
        let buffer: [UInt8]
        do {
            buffer = Array(buffer: try await request.collectBody(upTo: context.maxUploadSize))
        } catch {
            throw IdentityFault(.contentTooLarge, "The request body is larger than 1 MiB.")
        }
        do { return try JSON.parse(buffer) } catch { throw IdentityFault(.badRequest, error.description) }
    }

    /// The object under `key` of a body (`{"project": {…}}`), or 400.
    func member(_ body: JSON, _ key: String) throws -> JSON {
        guard let value = body[key], value.members != nil else {
            throw IdentityFault.badRequest("'\(key)' is a required property and must be an object.")
        }
        return value
    }

    /// Runs a store write, turning a uniqueness violation into Keystone's 409.
    func write<T>(_ kind: String, _ detail: @autoclosure () -> String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try store.write(body)
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        {
            throw IdentityFault.conflict(kind, detail())
        }
    }
}

/// Builds the identity service's router: every Keystone route, `/healthz`, and Keystone's
/// fault bodies for errors and unknown routes.
public func buildIdentityRouter(api: IdentityAPI) -> Router<ServiceContext> {
    let router = Router(context: ServiceContext.self)
    router.add(middleware: FaultMiddleware(render: IdentityFault.render))
    router.get("/healthz") { _, _ in Response.json(["status": "ok", "service": "identity"]) }
    api.routes(on: router)
    return router
}
