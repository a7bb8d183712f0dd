import Foundation
import Hummingbird
import NimbusServiceKit
import NimbusSystem

/// The compute service (Nova v2.1): routes over a `ComputeStore`, tokens checked by the
/// identity service, microversions 2.1 to 2.96.
public struct ComputeAPI: Sendable {
    public let store: ComputeStore
    let validator: TokenValidator
    let identityURI: String
    /// Key pairs per user (Nova's `key_pairs` quota).
    let keyPairQuota: Int
    let runner: any ProcessRunning
    let clock: @Sendable () -> Int64
    /// The compute agents: their heartbeats and what their hosts offer.
    let agents: AgentRegistry
    /// The network and image services, and compute's own login to them; nil: servers
    /// cannot be made (503).
    let peers: ComputePeers?
    let scheduler: Scheduler
    /// Every server gets a config drive, asked for or not.
    let forceConfigDrive: Bool
    /// The agents' reports: each instance's console tail.
    let reports = AgentReports()

    /// The microversions served: the CLI sends 2.96 for servers.
    public static let microversions = MicroversionPolicy(
        service: "compute", legacyHeader: .xOpenStackNovaAPIVersion, minimum: Microversion(2, 1),
        maximum: Microversion(2, 96))

    public init(
        store: ComputeStore, validator: TokenValidator, identityURI: String, keyPairQuota: Int = 100,
        runner: any ProcessRunning = ProcessRunner(), peers: ComputePeers? = nil, forceConfigDrive: Bool = false,
        scheduler: Scheduler = Scheduler(),
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) {
        self.peers = peers
        self.scheduler = scheduler
        self.forceConfigDrive = forceConfigDrive
        self.store = store
        self.validator = validator
        self.identityURI = identityURI
        self.keyPairQuota = keyPairQuota
        self.runner = runner
        self.clock = clock
        agents = AgentRegistry(database: store.database)
    }

    /// The agents' channel over this service's change log.
    public var channel: AgentChannel {
        AgentChannel(log: store.log, registry: agents, validator: validator, reports: reports)
    }

    // MARK: Callers

    func caller(_ request: Request) async throws -> Caller {
        try await validator.caller(
            of: request, unauthorized: { ComputeFault.unauthorized(identityURI) },
            unavailable: { ComputeFault(.serviceUnavailable, "\($0)") })
    }

    /// Refuses anyone but an admin (Nova's `rule:admin_api`).
    func requireAdmin(_ caller: Caller, _ rule: String) throws {
        guard caller.isAdmin else { throw ComputeFault.policy(rule) }
    }

    // MARK: Bodies

    /// The request's JSON body, or Nova's 400.
    func body(_ request: Request, context: ServiceContext) async throws -> JSON {
        var request = request
        let buffer: [UInt8]
        do {
            buffer = Array(buffer: try await request.collectBody(upTo: context.maxUploadSize))
        } catch {
            throw ComputeFault(.contentTooLarge, "Request is too large.")
        }
        guard !buffer.isEmpty else { throw ComputeFault.badRequest("The request body is empty.") }
        do { return try JSON.parse(buffer) } catch {
            throw ComputeFault.badRequest("Malformed request body")
        }
    }

    /// The object under `key` (`{"flavor": {…}}`), or the validator's 400.
    func member(_ body: JSON, _ key: String) throws -> JSON {
        guard let value = body[key], value.members != nil else {
            throw ComputeFault.badRequest("Invalid input for field/attribute \(key). '\(key)' is a required property")
        }
        return value
    }

    /// The links Nova gives a resource: self under /v2.1, bookmark without the version.
    static func links(_ origin: String, _ collection: String, _ id: String) -> JSON {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
        return [
            ["rel": "self", "href": .string("\(origin)/v2.1/\(collection)/\(escaped)")],
            ["rel": "bookmark", "href": .string("\(origin)/\(collection)/\(escaped)")],
        ]
    }

    /// The version a request was served at (the minimum when none was negotiated).
    static func version(_ context: ServiceContext) -> Microversion { context.microversion ?? Microversion(2, 1) }
}

/// Builds the compute service's router: version documents, `/healthz`, the Nova routes
/// under `/v2.1` (microversions negotiated there), and Nova's fault bodies.
public func buildComputeRouter(api: ComputeAPI) -> Hummingbird.Router<ServiceContext> {
    let router = Hummingbird.Router(context: ServiceContext.self)
    router.add(middleware: ComputeRequestID())
    router.add(middleware: FaultMiddleware { status, message in ComputeFault(status, message).response })
    router.add(
        middleware: MicroversionMiddleware(policy: ComputeAPI.microversions, pathPrefix: "/v2.1") { failure in
            ComputeFault(failure.status, failure.description)
        })
    let v21 = APIVersion(
        id: "v2.1", status: "CURRENT", path: "/v2.1/",
        microversions: ComputeAPI.microversions.minimum...ComputeAPI.microversions.maximum,
        updated: "2013-07-23T11:33:21Z", mediaType: "application/vnd.openstack.compute+json;version=2.1")
    let v20 = APIVersion(
        id: "v2.0", status: "SUPPORTED", path: "/v2/", updated: "2011-01-21T11:33:21Z",
        mediaType: "application/vnd.openstack.compute+json;version=2")
    router.get("/") { request, _ in Response.json(APIVersion.list([v20, v21], origin: request.origin)) }
    // `/v2.1/` too: the router takes a trailing slash as the same path.
    router.get("/v2.1") { request, _ in Response.json(["version": v21.document(origin: request.origin)]) }
    // The v2.0 document where the version list points to it (Tempest follows the link).
    router.get("/v2") { request, _ in Response.json(["version": v20.document(origin: request.origin)]) }
    router.get("/healthz") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "OK")))
    }
    api.flavorRoutes(on: router)
    api.keyPairRoutes(on: router)
    api.quotaRoutes(on: router)
    api.hostRoutes(on: router)
    api.aggregateRoutes(on: router)
    api.serverGroupRoutes(on: router)
    api.serverRoutes(on: router)
    api.serverActionRoutes(on: router)
    api.instanceActionRoutes(on: router)
    api.serverDetailRoutes(on: router)
    api.volumeAttachmentRoutes(on: router)
    api.securityGroupRoutes(on: router)
    api.channel.addRoutes(to: router)
    return router
}

/// Every answer carries a request id, as Nova's (`x-openstack-request-id` and
/// `x-compute-request-id`, `req-<uuid>`); Tempest reads it off a server create.
struct ComputeRequestID: RouterMiddleware {
    typealias Context = ServiceContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        // The handlers see the id too (instance actions name their request).
        let id = "req-" + UUID().uuidString.lowercased()
        var context = context
        context.requestID = id
        var response = try await next(request, context)
        response.headers[.xOpenStackRequestID] = id
        response.headers[.xComputeRequestID] = id
        return response
    }
}
