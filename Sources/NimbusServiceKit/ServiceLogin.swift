import Foundation

/// A service's own login to identity (the image service to object storage, an agent to
/// its API): a project-scoped token for its service user, renewed halfway through its life
/// or when a peer refuses it.
public actor ServiceLogin {
    public struct Credentials: Sendable, Equatable {
        public var identityURL: String
        public var user: String
        public var password: String
        public var project: String
        public var domain: String

        public init(identityURL: String, user: String, password: String, project: String, domain: String = "Default") {
            self.identityURL = identityURL
            self.user = user
            self.password = password
            self.project = project
            self.domain = domain
        }
    }

    public struct Grant: Sendable {
        public var token: String
        /// The token's body (`catalog`, `roles`, …).
        public var details: JSON
        public var renewAt: ContinuousClock.Instant
    }

    public enum Failure: Error, CustomStringConvertible {
        case unreachable(String)
        case refused(user: String, project: String, status: Int)

        public var description: String {
            switch self {
            case .unreachable(let reason): "the identity service cannot be reached: \(reason)"
            case .refused(let user, let project, let status):
                "user \(user) cannot log in to project \(project) (identity answered \(status))"
            }
        }
    }

    public let credentials: Credentials
    let identity: ServiceClient
    var current: Grant?

    public init(_ credentials: Credentials) throws {
        self.credentials = credentials
        identity = try ServiceClient(baseURL: credentials.identityURL)
    }

    /// The current token, logging in first when there is none or it is half-way through
    /// its life (or `renew`: a peer refused it).
    public func grant(renew: Bool = false) async throws(Failure) -> Grant {
        if !renew, let current, current.renewAt > .now { return current }
        let c = credentials
        let body: JSON = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": [
                        "user": [
                            "name": .string(c.user), "domain": ["name": .string(c.domain)],
                            "password": .string(c.password),
                        ]
                    ],
                ],
                "scope": ["project": ["name": .string(c.project), "domain": ["name": .string(c.domain)]]],
            ]
        ]
        let reply: ServiceClient.Reply
        do {
            reply = try await identity.send(
                .POST, "/auth/tokens", headers: [("Content-Type", "application/json")], body: body.bytes)
        } catch {
            throw .unreachable("\(error)")
        }
        guard reply.status == 201, let token = reply.header("X-Subject-Token"),
            let answer = try? JSON.parse(reply.body), let details = answer["token"]
        else { throw .refused(user: c.user, project: c.project, status: reply.status) }
        let lifetime = max(
            10,
            (details["expires_at"]?.string.flatMap(Timestamp.seconds) ?? 0)
                - (details["issued_at"]?.string.flatMap(Timestamp.seconds) ?? 0))
        let grant = Grant(token: token, details: details, renewAt: .now + .seconds(lifetime / 2))
        current = grant
        return grant
    }
}
