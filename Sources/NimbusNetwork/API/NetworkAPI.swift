import Foundation
import Hummingbird
import NimbusServiceKit

/// What the deploy decides about the network service (from the answer file).
public struct NetworkSettings: Sendable {
    /// Tenant VXLAN network ids (`CONFIG_NEUTRON_ML2_VNI_RANGES`, `10:100`).
    public var vniRanges: [ClosedRange<Int>]
    /// Physical networks flat networks may use (`CONFIG_NEUTRON_ML2_FLAT_NETWORKS`; `*` any).
    public var flatNetworks: [String]
    /// The physical MTU (`global_physnet_mtu`); VXLAN networks get 50 bytes less.
    public var physicalMTU: Int
    /// Default quotas per project.
    public var quotas: [String: Int]

    public init(
        vniRanges: [ClosedRange<Int>] = [10...100], flatNetworks: [String] = ["*"], physicalMTU: Int = 1500,
        quotas: [String: Int] = NetworkSettings.defaultQuotas
    ) {
        self.vniRanges = vniRanges
        self.flatNetworks = flatNetworks
        self.physicalMTU = physicalMTU
        self.quotas = quotas
    }

    /// Neutron's defaults.
    public static let defaultQuotas: [String: Int] = [
        "network": 100, "subnet": 100, "subnetpool": -1, "port": 500, "router": 10, "floatingip": 50,
        "security_group": 10, "security_group_rule": 100, "rbac_policy": 10,
    ]
}

/// The network service (Neutron v2.0): routes over a `NetworkStore`, tokens checked by the
/// identity service.
public struct NetworkAPI: Sendable {
    public let store: NetworkStore
    let validator: TokenValidator
    let identityURI: String
    public let settings: NetworkSettings
    let agents: AgentRegistry
    let clock: @Sendable () -> Int64
    let random: @Sendable () -> UInt64

    public init(
        store: NetworkStore, validator: TokenValidator, identityURI: String, settings: NetworkSettings = .init(),
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) },
        random: @escaping @Sendable () -> UInt64 = { UInt64.random(in: .min ... .max) }
    ) throws {
        self.store = store
        self.validator = validator
        self.identityURI = identityURI
        self.settings = settings
        agents = AgentRegistry(database: store.database)
        self.clock = clock
        self.random = random
    }

    /// The agents' channel over this service's change log.
    public var channel: AgentChannel { AgentChannel(log: store.log, registry: agents, validator: validator) }

    static func newID() -> String { UUID().uuidString.lowercased() }

    // MARK: Callers

    func caller(_ request: Request) async throws -> Caller {
        try await validator.caller(
            of: request, unauthorized: { NeutronFault.unauthorized(identityURI) },
            unavailable: { NeutronFault(.serviceUnavailable, "ServiceUnavailable", "\($0)") })
    }

    /// The project a new resource belongs to: the token's, or the `project_id`/`tenant_id`
    /// an admin names.
    func owner(_ attributes: inout Attributes, _ caller: Caller) throws -> String {
        // Creating needs the member role (a reader may only look).
        guard caller.isAdmin || caller.has(.member) else {
            throw NeutronFault.policy("create_\(attributes.kind.member)")
        }
        let given = try attributes.string("project_id") ?? attributes.string("tenant_id")
        if let given, given != caller.projectID {
            guard caller.isAdmin else {
                throw NeutronFault.badRequest(
                    "Specifying 'project_id' other than the authenticated project in request is not allowed for the current user."
                )
            }
            return given
        }
        guard let project = caller.projectID ?? given else {
            throw NeutronFault.badRequest("A project-scoped token is required.")
        }
        return project
    }

    // MARK: Bodies

    /// The request's JSON body, or Neutron's 400.
    func body(_ request: Request, context: ServiceContext) async throws -> JSON {
        var request = request
        let buffer: [UInt8]
        do {
            buffer = Array(buffer: try await request.collectBody(upTo: context.maxUploadSize))
        } catch {
            throw NeutronFault(.contentTooLarge, "HTTPRequestEntityTooLarge", "Request is too large.")
        }
        guard !buffer.isEmpty else { throw NeutronFault.badRequest("Resource body required") }
        do { return try JSON.parse(buffer) } catch {
            throw NeutronFault.badRequest("Malformed request body")
        }
    }

    /// The attributes under the member key (`{"network": {…}}`).
    func attributes(_ body: JSON, _ kind: ResourceKind, key: String? = nil) throws -> Attributes {
        let key = key ?? kind.member
        guard let value = body[key], let members = value.members else {
            throw NeutronFault.badRequest("Unable to find '\(key)' in request body")
        }
        return Attributes(kind: kind, members: members)
    }

    /// A create body: one `{"network": {…}}` or Neutron's bulk `{"networks": [{…}, …]}`.
    func creations(_ body: JSON, _ kind: ResourceKind) throws -> (items: [Attributes], bulk: Bool) {
        if let list = body[kind.collection]?.array {
            guard !list.isEmpty else { throw NeutronFault.badRequest("Resources required") }
            return (
                try list.map { item in
                    guard let members = item.members else {
                        throw NeutronFault.badRequest("Bulk operation requires objects")
                    }
                    return Attributes(kind: kind, members: members)
                }, true
            )
        }
        return ([try attributes(body, kind)], false)
    }

    /// `{"network": …}` or, for a bulk create, `{"networks": […]}`.
    static func created(_ kind: ResourceKind, _ items: [JSON], bulk: Bool) -> Response {
        bulk
            ? .json([kind.collection: .array(items)], status: .created)
            : .json([kind.member: items.first ?? .null], status: .created)
    }

    // MARK: Visibility

    /// Attributes only an admin sees (Neutron's policy defaults).
    static let adminOnly: Set = [
        "provider:network_type", "provider:physical_network", "provider:segmentation_id", "binding:host_id",
        "binding:vif_type", "binding:vif_details", "binding:profile",
    ]

    /// The rendered resource as `caller` may see it.
    func view(_ item: JSON, _ caller: Caller) -> JSON {
        guard !caller.isAdmin, case .object(let members) = item else { return item }
        return .object(members.filter { !Self.adminOnly.contains($0.0) })
    }

    func canSee(_ state: NetworkState, _ kind: ResourceKind, _ id: String, _ caller: Caller) -> Bool {
        if caller.isAdmin { return true }
        switch kind {
        case .network:
            guard let network = state.networks[id] else { return false }
            return network.shared || network.external || caller.owns(network.common.projectID)
        case .subnet:
            guard let subnet = state.subnets[id] else { return false }
            if caller.owns(subnet.common.projectID) { return true }
            guard let network = state.networks[subnet.networkID] else { return false }
            return network.shared || network.external
        case .subnetpool:
            guard let pool = state.subnetPools[id] else { return false }
            return pool.shared || caller.owns(pool.common.projectID)
        case .port:
            guard let port = state.ports[id] else { return false }
            return caller.owns(port.common.projectID) || caller.owns(state.networks[port.networkID]?.common.projectID)
        case .router: return caller.owns(state.routers[id]?.common.projectID)
        case .floatingip: return caller.owns(state.floatingIPs[id]?.common.projectID)
        case .securityGroup: return caller.owns(state.securityGroups[id]?.common.projectID)
        case .securityGroupRule: return caller.owns(state.rules[id]?.common.projectID)
        }
    }

    /// 404 unless the resource exists and the caller may see it.
    func visible(_ state: NetworkState, _ kind: ResourceKind, _ id: String, _ caller: Caller) throws {
        guard state.render(kind, id) != nil, canSee(state, kind, id, caller) else {
            throw NeutronFault(.notFound, kind.notFoundType, kind.notFoundMessage(id))
        }
    }

    /// Changing a resource one can see but does not own is a policy refusal (403); one
    /// cannot see is 404.
    func modifiable(
        _ state: NetworkState, _ kind: ResourceKind, _ id: String, owner: String, _ caller: Caller, _ action: String
    )
        throws
    {
        try visible(state, kind, id, caller)
        guard PolicyRule.project(.member).allows(caller, owner: owner) else {
            throw NeutronFault.policy("\(action)_\(kind.member)")
        }
    }

    /// A list answer for `kind`: what the caller may see, filtered, sorted, paged.
    func list(_ request: Request, _ kind: ResourceKind, _ ids: [String], _ state: NetworkState, _ caller: Caller) throws
        -> Response
    {
        let statuses = kind == .port ? (try? portStatuses()) ?? [:] : [:]
        let items = ids.filter { canSee(state, kind, $0, caller) }.compactMap { state.render(kind, $0) }
            .map { view(Self.overlay($0, statuses), caller) }
        return try NeutronListing(
            query: ListQuery(request), collection: kind.collection, path: "/v2.0/\(kind.path)", kind: kind
        ).respond(items)
    }

    /// One resource's answer, `fields` applied.
    func show(_ request: Request, _ kind: ResourceKind, _ id: String) async throws -> Response {
        let caller = try await caller(request)
        let state = store.snapshot
        try visible(state, kind, id, caller)
        let statuses = kind == .port ? (try? portStatuses(id)) ?? [:] : [:]
        let item = view(Self.overlay(state.render(kind, id) ?? .null, statuses), caller)
        let listing = NeutronListing(query: ListQuery(request), collection: kind.collection, path: "")
        return Response.json([kind.member: listing.project(item)])
    }

    // MARK: Port status

    /// What the agents say of ports: `ACTIVE` once an agent has wired one (its tap in the
    /// bridge, its `qr-`/`qg-` device, its DHCP server), `DOWN` otherwise.
    func portStatuses(_ id: String? = nil) throws -> [String: String] {
        var result: [String: String] = [:]
        let alive = Set(try agents.agents().filter(\.alive).map { "\($0.type)/\($0.host)" })
        for (port, status) in try agents.statuses(kind: "port", id: id)
        where alive.contains("\(status.type)/\(status.host)") {
            if status.state == "ACTIVE" || result[port] == nil { result[port] = status.state }
        }
        return result
    }

    /// A rendered port with the status its agents report.
    static func overlay(_ item: JSON, _ statuses: [String: String]) -> JSON {
        guard !statuses.isEmpty, case .object(var members) = item, let id = item["id"]?.string,
            let status = statuses[id], let index = members.firstIndex(where: { $0.0 == "status" }),
            members[index].1.string != "N/A"
        else { return item }
        members[index].1 = .string(status)
        return .object(members)
    }

    // MARK: Quotas

    func limit(_ state: NetworkState, _ kind: ResourceKind, project: String) -> Int {
        state.quotas[project]?.limits[kind.member] ?? settings.quotas[kind.member] ?? -1
    }

    /// Neutron's 409 `OverQuota` when `adding` more would pass the project's limit.
    func checkQuota(_ state: NetworkState, _ kind: ResourceKind, project: String, adding: Int = 1) throws {
        let limit = limit(state, kind, project: project)
        guard limit >= 0, state.count(kind, project: project) + adding > limit else { return }
        throw NeutronFault.conflict("OverQuota", "Quota exceeded for resources: ['\(kind.member)'].")
    }
}

/// Builds the network service's router: version documents, `/healthz`, every Neutron
/// route, the agents' channel, and Neutron's fault bodies.
public func buildNetworkRouter(api: NetworkAPI) -> Hummingbird.Router<ServiceContext> {
    let router = Hummingbird.Router(context: ServiceContext.self)
    router.add(
        middleware: FaultMiddleware { status, message in
            NeutronFault(status, status == .notFound ? "HTTPNotFound" : "HTTPError", message).response
        })
    let v2 = APIVersion(id: "v2.0", status: "CURRENT", path: "/v2.0/")
    router.get("/") { request, _ in Response.json(APIVersion.list([v2], origin: request.origin)) }
    router.get("/v2.0") { request, _ in Response.json(api.resourcesDocument(request)) }
    router.get("/healthz") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "OK")))
    }
    api.networkRoutes(on: router)
    api.subnetRoutes(on: router)
    api.subnetPoolRoutes(on: router)
    api.portRoutes(on: router)
    api.routerRoutes(on: router)
    api.floatingIPRoutes(on: router)
    api.securityGroupRoutes(on: router)
    api.extensionRoutes(on: router)
    api.tagRoutes(on: router)
    api.channel.addRoutes(to: router)
    return router
}
