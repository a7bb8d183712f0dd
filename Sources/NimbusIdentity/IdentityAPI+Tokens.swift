import Foundation
import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// A token that opened, whose user, scope and roles still hold.
struct Validated: Sendable {
    var claims: TokenClaims
    var user: User
    /// Effective role ids on the token's scope (implied roles included).
    var roleIDs: Set<String>
    var roleNames: Set<String>

    var isAdmin: Bool { roleNames.contains("admin") }
    var isService: Bool { roleNames.contains("service") }
    var projectID: String? {
        if case .project(let id) = claims.scope { return id }
        return nil
    }
}

extension IdentityAPI {
    // MARK: Validation

    /// Opens a token and checks, against the current snapshot, that it still means
    /// something: not revoked, user and domain enabled, issued after the user's last
    /// password change, scope still existing and enabled, some role on it.
    func validate(_ token: String, snapshot: IdentitySnapshot) -> Validated? {
        guard let claims = try? TokenCodec.open(token, with: keys, now: now()),
            snapshot.revoked[claims.auditIDText] == nil,
            let user = snapshot.users[claims.userID], user.enabled,
            claims.issuedAt >= user.tokensValidAfter,
            snapshot.domains[user.domainID]?.enabled == true
        else { return nil }
        var roleIDs: Set<String> = []
        switch claims.scope {
        case .unscoped:
            break
        case .project(let id):
            guard let project = snapshot.projects[id], project.enabled,
                snapshot.domains[project.domainID]?.enabled == true
            else { return nil }
            roleIDs = snapshot.effectiveRoles(userID: user.id, on: .project, id)
            guard !roleIDs.isEmpty else { return nil }
        case .domain(let id):
            guard snapshot.domains[id]?.enabled == true else { return nil }
            roleIDs = snapshot.effectiveRoles(userID: user.id, on: .domain, id)
            guard !roleIDs.isEmpty else { return nil }
        case .system:
            roleIDs = snapshot.effectiveRoles(userID: user.id, on: .system, "all")
            guard !roleIDs.isEmpty else { return nil }
        }
        return Validated(
            claims: claims, user: user, roleIDs: roleIDs,
            roleNames: Set(roleIDs.compactMap { snapshot.roles[$0]?.name }))
    }

    /// The caller of a request, from `X-Auth-Token`; 401 when there is none that holds.
    func caller(_ request: Request, snapshot: IdentitySnapshot) throws -> Validated {
        guard let token = request.headers[.xAuthToken], let caller = validate(token, snapshot: snapshot) else {
            throw IdentityFault.unauthorized(base(request))
        }
        return caller
    }

    /// The caller, who must be an admin to do `action`.
    func admin(_ request: Request, _ action: String, snapshot: IdentitySnapshot) throws -> Validated {
        let caller = try caller(request, snapshot: snapshot)
        guard caller.isAdmin else { throw IdentityFault.forbidden(action) }
        return caller
    }

    // MARK: Routes

    func tokenRoutes(on router: Router<ServiceContext>) {
        router.post("/v3/auth/tokens") { request, context in try await issue(request, context: context) }
        router.get("/v3/auth/tokens") { request, _ in try check(request, withBody: true) }
        router.head("/v3/auth/tokens") { request, _ in try check(request, withBody: false) }
        router.delete("/v3/auth/tokens") { request, _ in try revoke(request) }
        router.get("/v3/auth/catalog") { request, _ in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            return Response.json([
                "catalog": catalog(for: caller.claims.scope, snapshot: snapshot),
                "links": ["self": .string(base(request) + "/auth/catalog"), "previous": nil, "next": nil],
            ])
        }
        router.get("/v3/auth/projects") { request, _ in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let projects = snapshot.projectIDs(of: caller.user.id).compactMap { snapshot.projects[$0] }
                .filter(\.enabled).sorted { $0.name < $1.name }
            return list("projects", projects.map { render($0, request) }, request, path: "/auth/projects")
        }
        router.get("/v3/auth/domains") { request, _ in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let domains = snapshot.domains.values.filter {
                !snapshot.effectiveRoles(userID: caller.user.id, on: .domain, $0.id).isEmpty
            }.sorted { $0.name < $1.name }
            return list("domains", domains.map { render($0, request) }, request, path: "/auth/domains")
        }
        router.get("/v3/auth/system") { request, _ in
            let snapshot = store.snapshot
            let caller = try caller(request, snapshot: snapshot)
            let has = !snapshot.effectiveRoles(userID: caller.user.id, on: .system, "all").isEmpty
            return Response.json([
                "system": has ? [["all": true]] : [],
                "links": ["self": .string(base(request) + "/auth/system"), "previous": nil, "next": nil],
            ])
        }
    }

    // MARK: Issue

    /// `POST /v3/auth/tokens`: password or token method, scoped to a project, a domain or
    /// the system, or unscoped (then the user's default project, if it has a role there).
    func issue(_ request: Request, context: ServiceContext) async throws -> Response {
        let body = try await self.body(request, context: context)
        let auth = try member(body, "auth")
        let identity = try member(auth, "identity")
        guard let methods = identity["methods"]?.array?.compactMap(\.string), !methods.isEmpty else {
            throw IdentityFault.badRequest("'methods' is a required property: a list such as [\"password\"].")
        }
        let unauthorized = IdentityFault.unauthorized(base(request))
        var snapshot = store.snapshot
        let user: User
        var methodSet: TokenClaims.Methods = []
        var auditID = (0..<16).map { _ in UInt8.random(in: 0...255) }
        var expiresAt = now() + settings.tokenExpiration
        if methods.contains("password") {
            methodSet.insert(.password)
            let password = try member(identity, "password")
            let userBody = try member(password, "user")
            guard let secret = userBody["password"]?.string else {
                throw IdentityFault.badRequest("'password' is a required property of the user.")
            }
            guard let found = try findUser(userBody, snapshot: snapshot), let stored = found.passwordHash else {
                throw unauthorized
            }
            let matches = try await kdfPool.runIfActive { try PasswordHasher.verify(secret, against: stored) }
            // The snapshot may have moved on while the password was checked.
            snapshot = store.snapshot
            guard matches, let current = snapshot.users[found.id], current.enabled,
                snapshot.domains[current.domainID]?.enabled == true
            else { throw unauthorized }
            user = current
        } else if methods.contains("token") {
            methodSet.insert(.token)
            guard let id = identity["token"]?["id"]?.string, let parent = validate(id, snapshot: snapshot) else {
                throw unauthorized
            }
            user = parent.user
            methodSet.formUnion(parent.claims.methods)
            auditID = parent.claims.auditID
            expiresAt = parent.claims.expiresAt
        } else {
            throw IdentityFault(.unauthorized, "Unsupported authentication method: \(methods.joined(separator: ", ")).")
        }
        let scope = try resolveScope(auth["scope"], user: user, snapshot: snapshot)
        // Issued after the password was checked: a password change during the check wins.
        let issuedAt = max(nowMillis(), user.tokensValidAfter)
        let claims = TokenClaims(
            userID: user.id, scope: scope, methods: methodSet, issuedAt: issuedAt, expiresAt: expiresAt,
            auditID: auditID)
        let token = try TokenCodec.seal(claims, with: keys)
        guard let validated = validate(token, snapshot: snapshot) else {
            throw IdentityFault(.unauthorized, "User \(user.id) has no access to the requested scope.")
        }
        let withCatalog = request.query("nocatalog") == nil
        var headers: HTTPFields = [:]
        headers[.xSubjectToken] = token
        return .json(
            render(validated, snapshot: snapshot, catalog: withCatalog), status: .created, headers: headers)
    }

    /// The user a password body names: by id, or by name with its domain (id or name).
    func findUser(_ body: JSON, snapshot: IdentitySnapshot) throws -> User? {
        if let id = body["id"]?.string { return snapshot.users[id] }
        guard let name = body["name"]?.string else {
            throw IdentityFault.badRequest("The user needs an 'id', or a 'name' and a 'domain'.")
        }
        guard let domainID = try domainID(body["domain"], snapshot: snapshot) else { return nil }
        return snapshot.users.values.first { $0.name == name && $0.domainID == domainID }
    }

    /// A `{"id": …}` or `{"name": …}` domain reference's id.
    func domainID(_ reference: JSON?, snapshot: IdentitySnapshot) throws -> String? {
        guard let reference else {
            throw IdentityFault.badRequest("A 'domain' (by 'id' or 'name') is required with a name.")
        }
        if let id = reference["id"]?.string { return snapshot.domains[id]?.id }
        if let name = reference["name"]?.string { return snapshot.domain(named: name)?.id }
        throw IdentityFault.badRequest("A domain is named by 'id' or 'name'.")
    }

    func resolveScope(_ scope: JSON?, user: User, snapshot: IdentitySnapshot) throws -> TokenClaims.Scope {
        guard let scope, !scope.isNull, scope.string != "unscoped" else {
            if let project = user.defaultProjectID, snapshot.projects[project]?.enabled == true,
                !snapshot.effectiveRoles(userID: user.id, on: .project, project).isEmpty
            {
                return .project(project)
            }
            return .unscoped
        }
        if let project = scope["project"] {
            if let id = project["id"]?.string {
                guard snapshot.projects[id] != nil else {
                    throw IdentityFault(.unauthorized, "Could not find project: \(id).")
                }
                return .project(id)
            }
            guard let name = project["name"]?.string else {
                throw IdentityFault.badRequest("A project scope needs an 'id', or a 'name' and a 'domain'.")
            }
            let domainID = try domainID(project["domain"], snapshot: snapshot)
            guard let found = snapshot.projects.values.first(where: { $0.name == name && $0.domainID == domainID })
            else {
                throw IdentityFault(.unauthorized, "Could not find project: \(name).")
            }
            return .project(found.id)
        }
        if let domain = scope["domain"] {
            guard let id = try domainID(domain, snapshot: snapshot) else {
                throw IdentityFault(.unauthorized, "Could not find the requested domain.")
            }
            return .domain(id)
        }
        if scope["system"] != nil { return .system }
        throw IdentityFault.badRequest("A scope is a 'project', a 'domain' or the 'system'.")
    }

    // MARK: Validate and revoke

    func subject(_ request: Request, snapshot: IdentitySnapshot) throws -> Validated {
        let caller = try caller(request, snapshot: snapshot)
        guard let token = request.headers[.xSubjectToken] else {
            throw IdentityFault.badRequest("X-Subject-Token is required.")
        }
        guard let subject = validate(token, snapshot: snapshot) else {
            throw IdentityFault(.notFound, "Could not find token: \(token.prefix(12))….")
        }
        guard caller.isAdmin || caller.isService || caller.user.id == subject.user.id else {
            throw IdentityFault.forbidden("validate_token")
        }
        return subject
    }

    func check(_ request: Request, withBody: Bool) throws -> Response {
        let snapshot = store.snapshot
        let subject = try subject(request, snapshot: snapshot)
        var headers: HTTPFields = [:]
        headers[.xSubjectToken] = request.headers[.xSubjectToken]
        guard withBody else { return .empty(.ok, headers: headers) }
        let withCatalog = request.query("nocatalog") == nil
        return .json(render(subject, snapshot: snapshot, catalog: withCatalog), headers: headers)
    }

    func revoke(_ request: Request) throws -> Response {
        let subject = try subject(request, snapshot: store.snapshot)
        try store.write { db in
            try Revocation(auditID: subject.claims.auditIDText, expiresAt: subject.claims.expiresAt).save(db)
            try db.execute(sql: "DELETE FROM revocation WHERE expires_at < ?", arguments: [now()])
        }
        return .empty()
    }
}
