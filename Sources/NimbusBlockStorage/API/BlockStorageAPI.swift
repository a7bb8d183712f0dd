import Foundation
import Hummingbird
import NimbusServiceKit

/// The block-storage service (Cinder v3): routes under `/v3/{project_id}` over a
/// `BlockStorageStore`, tokens checked by the identity service, microversions 3.0 to 3.71.
/// The volume agents on the storage hosts hold the volumes' data; the API places each new
/// volume on a host with room and folds the agents' reports into what it shows.
public struct BlockStorageAPI: Sendable {
    public let store: BlockStorageStore
    let validator: TokenValidator
    let identityURI: String
    let clock: @Sendable () -> Int64
    /// The volume agents: their heartbeats (capacity) and their volumes' statuses.
    let agents: AgentRegistry
    /// The zone the storage hosts are in (Cinder's `storage_availability_zone`).
    let zone: String
    /// The image service, asked with the caller's token about the images volumes are made
    /// from; nil: volumes from images are refused.
    let images: ServiceClient?

    public static let microversions = MicroversionPolicy(
        service: "volume", minimum: Microversion(3, 0), maximum: Microversion(3, 71))

    public init(
        store: BlockStorageStore, validator: TokenValidator, identityURI: String, zone: String = "nova",
        imageURL: String = "", clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }
    ) throws {
        images = imageURL.isEmpty ? nil : try ServiceClient(baseURL: imageURL, timeout: .seconds(10))
        self.store = store
        self.validator = validator
        self.identityURI = identityURI
        self.zone = zone
        self.clock = clock
        agents = AgentRegistry(database: store.database)
        // Cinder's database is made with its default type.
        if store.snapshot.defaultType == nil {
            try store.write { transaction in
                let type = VolumeType(
                    id: NameUUID.make("nimbus-volume-type/__DEFAULT__"), name: VolumeType.defaultName,
                    description: "Default Volume Type", isPublic: true, extraSpecs: [:], projects: [])
                transaction.state.types[type.id] = type
                transaction.touch(.type, type.id)
            }
        }
    }

    /// The agents' channel over this service's change log.
    public var channel: AgentChannel { AgentChannel(log: store.log, registry: agents, validator: validator) }

    func caller(_ request: Request, _ context: ServiceContext) async throws -> Caller {
        let caller = try await validator.caller(
            of: request, unauthorized: { VolumeFault.unauthorized(identityURI) },
            unavailable: { VolumeFault(.serviceUnavailable, "\($0)") })
        // The project in the URL is the token's (an admin may name any).
        if let project = context.parameters.get("project"), project != caller.projectID, !caller.isAdmin {
            throw VolumeFault.badRequest("Malformed request url")
        }
        return caller
    }

    func requireAdmin(_ caller: Caller, _ rule: String) throws {
        guard caller.isAdmin else { throw VolumeFault.policy(rule) }
    }

    /// The request's JSON body, or Cinder's 400.
    func body(_ request: Request, context: ServiceContext) async throws -> JSON {
        var request = request
        let buffer: [UInt8]
        do {
            buffer = Array(buffer: try await request.collectBody(upTo: context.maxUploadSize))
        } catch {
            throw VolumeFault(.contentTooLarge, "Request is too large.")
        }
        guard !buffer.isEmpty else { throw VolumeFault.badRequest("Malformed request body") }
        do { return try JSON.parse(buffer) } catch { throw VolumeFault.badRequest("Malformed request body") }
    }

    /// The object under `key`, or the validator's 400.
    func member(_ body: JSON, _ key: String) throws -> JSON {
        guard let value = body[key], value.members != nil else {
            throw VolumeFault.badRequest("Invalid input for field/attribute \(key). '\(key)' is a required property")
        }
        return value
    }

    static func version(_ context: ServiceContext) -> Microversion { context.microversion ?? Microversion(3, 0) }

    /// The links of a resource: self under /v3/{project}, bookmark without the version.
    static func links(_ request: Request, _ project: String, _ collection: String, _ id: String) -> JSON {
        [
            ["rel": "self", "href": .string("\(request.origin)/v3/\(project)/\(collection)/\(id)")],
            ["rel": "bookmark", "href": .string("\(request.origin)/\(project)/\(collection)/\(id)")],
        ]
    }

    /// Cinder's timestamps: UTC with microseconds, no zone.
    static func time(_ seconds: Int64?) -> JSON {
        seconds.map { .string(Timestamp.utc($0) + ".000000") } ?? .null
    }

    /// The agents' report on a resource (`volume` or `snapshot`), the newest.
    func report(_ kind: String, _ id: String) -> AgentRegistry.Status? {
        ((try? agents.statuses(kind: kind, id: id)) ?? []).max { $0.revision < $1.revision }
    }

    /// The newest report on every resource of `kind`, by id.
    func newestReports(_ kind: String) -> [String: AgentRegistry.Status] { agents.newestStatuses(kind: kind) }

    /// The words Cinder reads as booleans (`strutils.bool_from_string`, strict).
    static let trueWords: Set = ["1", "t", "true", "on", "y", "yes"]
    static let falseWords: Set = ["0", "f", "false", "off", "n", "no"]

    static func bool(_ value: JSON?, _ field: String) throws -> Bool {
        switch value {
        case .some(.bool(let flag)): return flag
        case .some(.string(let text)) where trueWords.contains(text.lowercased()): return true
        case .some(.string(let text)) where falseWords.contains(text.lowercased()): return false
        default: throw VolumeFault.invalid(field, value, "\(value?.text ?? "None") is not of type 'boolean'")
        }
    }
}

/// Builds the block-storage router: the version documents, `/healthz`, the Cinder routes
/// under `/v3/{project_id}` (microversions negotiated under `/v3`), Cinder's fault bodies.
public func buildBlockStorageRouter(api: BlockStorageAPI) -> Hummingbird.Router<ServiceContext> {
    let router = Hummingbird.Router(context: ServiceContext.self)
    router.add(middleware: VolumeRequestID())
    router.add(middleware: FaultMiddleware { status, message in VolumeFault(status, message).response })
    router.add(
        middleware: MicroversionMiddleware(policy: BlockStorageAPI.microversions, pathPrefix: "/v3") { failure in
            VolumeFault(failure.status, failure.description)
        })
    @Sendable func versions(_ request: Request) -> JSON {
        [
            "versions": [
                [
                    "id": "v3.0", "status": "CURRENT", "version": "3.71", "min_version": "3.0",
                    "updated": "2023-08-31T00:00:00Z",
                    "links": [
                        ["rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"],
                        ["rel": "self", "href": .string("\(request.origin)/v3/")],
                    ],
                    "media-types": [
                        ["base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"]
                    ],
                ]
            ]
        ]
    }
    router.get("/") { request, _ in Response.json(versions(request), status: .multipleChoices) }
    // `/v3/` too (the router takes the trailing slash as the same path).
    router.get("/v3") { request, _ in Response.json(versions(request)) }
    router.get("/healthz") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "OK")))
    }
    api.volumeRoutes(on: router)
    api.volumeActionRoutes(on: router)
    api.snapshotRoutes(on: router)
    api.snapshotActionRoutes(on: router)
    api.typeRoutes(on: router)
    api.attachmentRoutes(on: router)
    api.hostRoutes(on: router)
    api.channel.addRoutes(to: router)
    return router
}

/// Every answer carries Cinder's request id.
struct VolumeRequestID: RouterMiddleware {
    typealias Context = ServiceContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response = try await next(request, context)
        response.headers[.xOpenStackRequestID] = "req-" + UUID().uuidString.lowercased()
        return response
    }
}
