import Hummingbird
import Synchronization

/// Who a request comes from, as the identity service vouched for its token.
public struct Caller: Sendable, Equatable {
    public var userID: String
    public var userName: String
    public var domainID: String
    /// The token's project (nil for domain- or system-scoped and unscoped tokens).
    public var projectID: String?
    public var projectName: String?
    public var roles: Set<String>
    public var isSystemScoped: Bool

    public init(
        userID: String, userName: String, domainID: String, projectID: String?, projectName: String?,
        roles: Set<String>, isSystemScoped: Bool = false
    ) {
        self.userID = userID
        self.userName = userName
        self.domainID = domainID
        self.projectID = projectID
        self.projectName = projectName
        self.roles = roles
        self.isSystemScoped = isSystemScoped
    }

    public var isAdmin: Bool { roles.contains("admin") }
    /// May change things in its project (member or above; readers may only look).
    public var canWrite: Bool { isAdmin || roles.contains("member") || roles.contains("manager") }
}

/// Turns `X-Auth-Token`s into callers by asking the identity service
/// (`GET /v3/auth/tokens?nocatalog`, the token validating itself), like keystonemiddleware:
/// answers are cached for a few seconds, so a busy service asks once per token per interval
/// and a revoked token stops working within that interval.
public final class TokenValidator: Sendable {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sends the validation request: status and body.
    public typealias Transport = @Sendable (_ token: String) async throws -> (status: Int, body: [UInt8])

    let transport: Transport
    let cacheSeconds: Double
    let clock = ContinuousClock()
    let cache = Mutex<[String: (caller: Caller?, until: ContinuousClock.Instant)]>([:])
    static let cacheLimit = 10_000

    public init(cacheSeconds: Double = 5, transport: @escaping Transport) {
        self.transport = transport
        self.cacheSeconds = cacheSeconds
    }

    /// Validation over HTTP against `identityURL` (`http://host:5000/v3`).
    public convenience init(identityURL: String, cacheSeconds: Double = 5) throws {
        let client = try ServiceClient(baseURL: identityURL)
        self.init(cacheSeconds: cacheSeconds) { token in
            let reply = try await client.send(
                .GET, "/auth/tokens?nocatalog", headers: [("X-Auth-Token", token), ("X-Subject-Token", token)])
            return (reply.status, reply.body)
        }
    }

    /// The token's caller; nil when the token is not (or no longer) valid. Throws
    /// `Unavailable` when identity cannot be asked.
    public func caller(token: String) async throws -> Caller? {
        let now = clock.now
        if let hit = cache.withLock({ $0[token] }), hit.until > now { return hit.caller }
        let answer = try await ask(token)
        let caller: Caller?
        switch answer.status {
        case 200:
            guard let json = try? JSON.parse(answer.body), let parsed = Self.caller(from: json) else {
                throw Unavailable(description: "the identity service answered a token it did not describe")
            }
            caller = parsed
        case 401, 403, 404:
            caller = nil
        default:
            throw Unavailable(description: "the identity service answered \(answer.status) to a token check")
        }
        // Refusals are remembered for a second only: a token just issued elsewhere is not
        // turned away for long.
        let until = now.advanced(by: .milliseconds(Int64((caller == nil ? 1 : cacheSeconds) * 1000)))
        cache.withLock { entries in
            if entries.count >= Self.cacheLimit { entries = entries.filter { $0.value.until > now } }
            if entries.count >= Self.cacheLimit { entries.removeAll() }
            entries[token] = (caller, until)
        }
        return caller
    }

    /// Asks identity, up to three times (as keystonemiddleware's `http_request_max_retries`)
    /// with a short pause between: a connection refused while identity restarts, a
    /// connection it drops, or a timeout on a briefly overloaded host should not fail the
    /// request. Every attempt is bounded by the transport's own timeout.
    func ask(_ token: String) async throws -> (status: Int, body: [UInt8]) {
        var failures: [String] = []
        for pause in [0, 300, 1000] {
            if pause > 0 { try await Task.sleep(for: .milliseconds(pause)) }
            do {
                return try await transport(token)
            } catch {
                failures.append("\(error)")
            }
        }
        throw Unavailable(description: "the identity service cannot be reached: \(failures.joined(separator: "; "))")
    }

    static func caller(from json: JSON) -> Caller? {
        guard let token = json["token"], let user = token["user"], let userID = user["id"]?.string else { return nil }
        let roles = Set((token["roles"]?.array ?? []).compactMap { $0["name"]?.string })
        return Caller(
            userID: userID, userName: user["name"]?.string ?? "", domainID: user["domain"]?["id"]?.string ?? "",
            projectID: token["project"]?["id"]?.string, projectName: token["project"]?["name"]?.string,
            roles: roles, isSystemScoped: token["system"] != nil)
    }
}

extension TokenValidator {
    /// The caller of a request by its `X-Auth-Token`, each refusal in the service's own
    /// fault: `unauthorized` for a missing or invalid token, `unavailable` when identity
    /// cannot be asked.
    public func caller(
        of request: Request, unauthorized: () -> any Error, unavailable: (Unavailable) -> any Error
    ) async throws -> Caller {
        guard let token = request.headers[.xAuthToken], !token.isEmpty else { throw unauthorized() }
        let found: Caller?
        do { found = try await caller(token: token) } catch let error as Unavailable { throw unavailable(error) }
        guard let found else { throw unauthorized() }
        return found
    }
}
