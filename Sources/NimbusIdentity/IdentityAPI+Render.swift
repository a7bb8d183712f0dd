import Foundation
import Hummingbird
import NimbusServiceKit

/// The JSON shapes Keystone answers with.
extension IdentityAPI {
    /// `2026-11-22T11:48:47.000000Z`, Keystone's token timestamp form.
    static func timestamp(_ seconds: Int64, millis: Int64 = 0) -> String {
        Timestamp.utc(seconds) + "." + String(String(1000 + millis % 1000).dropFirst()) + "000Z"
    }

    func domainRef(_ id: String, _ snapshot: IdentitySnapshot) -> JSON {
        ["id": .string(id), "name": .string(snapshot.domains[id]?.name ?? id)]
    }

    /// The token body of §2.2 of the client reference: everything real Keystone sends.
    func render(_ token: Validated, snapshot: IdentitySnapshot, catalog withCatalog: Bool) -> JSON {
        let claims = token.claims
        var members: [(String, JSON)] = [
            ("methods", .array(claims.methods.names.map(JSON.string))),
            (
                "user",
                [
                    "domain": domainRef(token.user.domainID, snapshot), "id": .string(token.user.id),
                    "name": .string(token.user.name), "password_expires_at": nil,
                ]
            ),
            ("audit_ids", [.string(claims.auditIDText)]),
            ("expires_at", .string(Self.timestamp(claims.expiresAt))),
            ("issued_at", .string(Self.timestamp(claims.issuedAt / 1000, millis: claims.issuedAt))),
        ]
        switch claims.scope {
        case .unscoped:
            break
        case .project(let id):
            let project = snapshot.projects[id]
            members.append(
                (
                    "project",
                    [
                        "domain": domainRef(project?.domainID ?? "default", snapshot), "id": .string(id),
                        "name": .string(project?.name ?? id),
                    ]
                ))
            members.append(("is_domain", false))
        case .domain(let id):
            members.append(("domain", domainRef(id, snapshot)))
        case .system:
            members.append(("system", ["all": true]))
        }
        if claims.scope != .unscoped {
            let roles = token.roleIDs.compactMap { snapshot.roles[$0] }.sorted { $0.name < $1.name }
            members.append(("roles", .array(roles.map { ["id": .string($0.id), "name": .string($0.name)] })))
            if withCatalog { members.append(("catalog", catalog(for: claims.scope, snapshot: snapshot))) }
        }
        return ["token": .object(members)]
    }

    /// The service catalog for a scope: every enabled service with its enabled endpoints;
    /// `$(project_id)s` in a URL becomes the project's id (endpoints needing one are left
    /// out of tokens that have none).
    func catalog(for scope: TokenClaims.Scope, snapshot: IdentitySnapshot) -> JSON {
        var projectID: String?
        if case .project(let id) = scope { projectID = id }
        var byService: [String: [Endpoint]] = [:]
        for endpoint in snapshot.endpoints.values where endpoint.enabled {
            byService[endpoint.serviceID, default: []].append(endpoint)
        }
        let services = snapshot.services.values.filter { $0.enabled && byService[$0.id] != nil }
            .sorted { ($0.type, $0.name) < ($1.type, $1.name) }
        return .array(
            services.compactMap { service -> JSON? in
                let endpoints = (byService[service.id] ?? []).sorted { ($0.interface, $0.id) < ($1.interface, $1.id) }
                    .compactMap { endpoint -> JSON? in
                        guard let url = Self.substitute(endpoint.url, projectID: projectID) else { return nil }
                        let region = JSON.optional(endpoint.regionID)
                        return [
                            "id": .string(endpoint.id), "interface": .string(endpoint.interface),
                            "region_id": region, "url": .string(url), "region": region,
                        ]
                    }
                guard !endpoints.isEmpty else { return nil }
                return [
                    "endpoints": .array(endpoints), "id": .string(service.id), "type": .string(service.type),
                    "name": .string(service.name),
                ]
            })
    }

    static func substitute(_ url: String, projectID: String?) -> String? {
        // Byte-wise: this runs for every endpoint of every token rendered, and Foundation's
        // string search was a tenth of a validation's time.
        guard url.utf8.contains(UInt8(ascii: "(")) else { return url }
        var bytes = Array(url.utf8)
        var found = false
        for marker in ["$(project_id)s", "%(project_id)s", "$(tenant_id)s", "%(tenant_id)s"] {
            let pattern = Array(marker.utf8)
            var index = 0
            while index + pattern.count <= bytes.count {
                guard bytes[index..<index + pattern.count].elementsEqual(pattern) else {
                    index += 1
                    continue
                }
                guard let projectID else { return nil }
                found = true
                bytes.replaceSubrange(index..<index + pattern.count, with: projectID.utf8)
                index += projectID.utf8.count
            }
        }
        return found ? String(decoding: bytes, as: UTF8.self) : url
    }

    // MARK: Entities

    func link(_ request: Request, _ path: String) -> JSON {
        ["self": .string(base(request) + path)]
    }

    func list(_ key: String, _ items: [JSON], _ request: Request, path: String) -> Response {
        .json(
            .object([
                (key, .array(items)),
                ("links", ["self": .string(base(request) + path), "previous": nil, "next": nil]),
            ]))
    }

    /// An entity's fields plus its free-form extras (extras never override a field).
    static func with(_ members: [(String, JSON)], extra: String) -> JSON {
        let known = Set(members.map(\.0))
        let extras = (try? JSON.parse(Array(extra.utf8)))?.members ?? []
        return .object(members + extras.filter { !known.contains($0.0) })
    }

    func render(_ domain: Domain, _ request: Request) -> JSON {
        [
            "id": .string(domain.id), "name": .string(domain.name), "description": .string(domain.description),
            "enabled": .bool(domain.enabled), "tags": [], "options": [:],
            "links": link(request, "/domains/\(domain.id)"),
        ]
    }

    func render(_ project: Project, _ request: Request) -> JSON {
        Self.with(
            [
                ("id", .string(project.id)), ("name", .string(project.name)),
                ("domain_id", .string(project.domainID)), ("description", .string(project.description)),
                ("enabled", .bool(project.enabled)), ("parent_id", .string(project.parentID ?? project.domainID)),
                ("is_domain", false), ("tags", []), ("options", [:]),
                ("links", link(request, "/projects/\(project.id)")),
            ], extra: project.extra)
    }

    func render(_ user: User, _ request: Request) -> JSON {
        var members: [(String, JSON)] = [
            ("id", .string(user.id)), ("name", .string(user.name)), ("domain_id", .string(user.domainID)),
            ("enabled", .bool(user.enabled)), ("password_expires_at", nil), ("options", [:]),
            ("links", link(request, "/users/\(user.id)")),
        ]
        if let project = user.defaultProjectID { members.append(("default_project_id", .string(project))) }
        return Self.with(members, extra: user.extra)
    }

    func render(_ group: Group, _ request: Request) -> JSON {
        [
            "id": .string(group.id), "name": .string(group.name), "domain_id": .string(group.domainID),
            "description": .string(group.description), "links": link(request, "/groups/\(group.id)"),
        ]
    }

    func render(_ role: Role, _ request: Request) -> JSON {
        [
            "id": .string(role.id), "name": .string(role.name), "domain_id": nil,
            "description": .string(role.description), "options": [:], "links": link(request, "/roles/\(role.id)"),
        ]
    }

    func render(_ region: Region, _ request: Request) -> JSON {
        [
            "id": .string(region.id), "description": .string(region.description),
            "parent_region_id": .optional(region.parentRegionID), "links": link(request, "/regions/\(region.id)"),
        ]
    }

    func render(_ service: Service, _ request: Request) -> JSON {
        [
            "id": .string(service.id), "type": .string(service.type), "name": .string(service.name),
            "description": .string(service.description), "enabled": .bool(service.enabled),
            "links": link(request, "/services/\(service.id)"),
        ]
    }

    func render(_ endpoint: Endpoint, _ request: Request) -> JSON {
        [
            "id": .string(endpoint.id), "interface": .string(endpoint.interface),
            "region_id": .optional(endpoint.regionID), "region": .optional(endpoint.regionID),
            "service_id": .string(endpoint.serviceID), "url": .string(endpoint.url),
            "enabled": .bool(endpoint.enabled), "links": link(request, "/endpoints/\(endpoint.id)"),
        ]
    }
}
