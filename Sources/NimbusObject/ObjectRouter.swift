import Foundation
import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// The object service's routes: `/info`, the health checks, and everything under `/v1/`.
public func buildObjectRouter(api: ObjectAPI) -> Router<ServiceContext> {
    let router = Router(context: ServiceContext.self)
    router.add(middleware: TransactionMiddleware())
    router.add(middleware: FaultMiddleware { status, message in SwiftFault.page(status, message) })
    router.get("/info") { _, _ in Response.json(api.info) }
    for path in ["/healthcheck", "/healthz"] {
        router.get(RouterPath(path)) { _, _ in ObjectAPI.answer(.ok, body: Array("OK".utf8), contentType: "text/plain")
        }
    }
    for method: HTTPRequest.Method in [.get, .head, .put, .post, .delete, .copy] {
        router.on("/v1/**", method: method) { request, _ in try await api.handle(request) }
    }
    return router
}

/// Every answer carries Swift's transaction id (`X-Trans-Id`, also as
/// `X-Openstack-Request-Id`) and a `Content-Type`, as the clients and Tempest expect.
struct TransactionMiddleware: RouterMiddleware {
    typealias Context = ServiceContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response = try await next(request, context)
        let id = Self.newID()
        response.headers[.xTransID] = id
        response.headers[.xOpenStackRequestID] = id
        if response.headers[.contentType] == nil { response.headers[.contentType] = "text/html; charset=UTF-8" }
        return response
    }

    /// `tx` + 21 random hex digits + `-` + the time as 10 hex digits.
    static func newID() -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = Array("tx".utf8)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<21 { bytes.append(digits[Int(random.next() % 16)]) }
        bytes.append(UInt8(ascii: "-"))
        let time = String(Int(Date().timeIntervalSince1970), radix: 16)
        bytes += Array(String(repeating: "0", count: max(0, 10 - time.count)).utf8) + Array(time.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension ObjectAPI {
    func handle(_ request: Request) async throws -> Response {
        let target = try Self.target(request.uri.path)
        let access = try await access(request, target)
        if target.container == nil { return try await accountRequest(request, target, access) }
        if target.object == nil { return try await containerRequest(request, target, access) }
        return try await objectRequest(request, target, access)
    }

    /// What `/info` advertises: the core limits and the middleware this service carries out.
    var info: JSON {
        [
            "swift": [
                "version": "2.38.0", "max_file_size": .int(limits.maxFileSize),
                "max_meta_name_length": .int(Int64(limits.maxMetaNameLength)),
                "max_meta_value_length": .int(Int64(limits.maxMetaValueLength)),
                "max_meta_count": .int(Int64(limits.maxMetaCount)),
                "max_meta_overall_size": .int(Int64(limits.maxMetaOverallSize)), "max_header_size": 8192,
                "max_object_name_length": .int(Int64(limits.maxObjectNameLength)),
                "max_container_name_length": .int(Int64(limits.maxContainerNameLength)),
                "max_account_name_length": 256, "container_listing_limit": .int(Int64(limits.listingLimit)),
                "account_listing_limit": .int(Int64(limits.listingLimit)), "extra_header_count": 0,
                "valid_api_versions": ["v1"], "strict_cors_mode": true, "allow_account_management": false,
                "account_autocreate": true, "policies": [["name": "Policy-0", "default": true, "aliases": "Policy-0"]],
            ],
            "slo": [
                "max_manifest_segments": .int(Int64(limits.maxManifestSegments)),
                "max_manifest_size": .int(Int64(limits.maxManifestSize)), "min_segment_size": 1,
                "yield_frequency": 10, "allow_async_delete": false,
            ],
            "dlo": ["max_segments": .int(Int64(limits.listingLimit))],
            "account_quotas": [:], "container_quotas": [:],
            "keystoneauth": [:],
        ]
    }
}
