import Foundation
import Hummingbird
import NimbusGuestData
import NimbusServiceKit

/// Nova's metadata API (`nova-metadata-api`, port 8775): what a guest asks 169.254.169.254
/// for, reaching here through the metadata proxy of its router. The proxy names the
/// instance (`X-Instance-ID`, its project in `X-Tenant-ID`) and signs the id with the
/// shared secret (`X-Instance-ID-Signature`); a request without a valid signature is
/// refused, so no guest can read another's keys or user data. The documents are the
/// config drive's, with the EC2 tree's floating address and flavor filled in.
public struct MetadataAPI: Sendable {
    let compute: ComputeAPI
    let secret: String

    /// The most a guest may post as its password (Nova's 256 bytes).
    static let passwordLimit = 256

    public init(compute: ComputeAPI, secret: String) {
        self.compute = compute
        self.secret = secret
    }

    /// A plain-text answer, as Nova's metadata handler gives them.
    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The server the proxy vouches for, or Nova's refusal.
    func server(_ request: Request) throws(MetadataRefusal) -> Server {
        guard let id = request.header("X-Instance-ID"), !id.isEmpty else {
            throw MetadataRefusal(.badRequest, "X-Instance-ID header is missing from request.")
        }
        guard let signature = request.header("X-Instance-ID-Signature") else {
            throw MetadataRefusal(.badRequest, "X-Instance-ID-Signature header is missing from request.")
        }
        guard let tenant = request.header("X-Tenant-ID") else {
            throw MetadataRefusal(.badRequest, "X-Tenant-ID header is missing from request.")
        }
        guard !secret.isEmpty, MetadataSignature.isValid(signature, for: id, secret: secret) else {
            throw MetadataRefusal(.forbidden, "Invalid proxy request signature.")
        }
        guard let server = compute.store.snapshot.servers[id], server.projectID == tenant else {
            throw MetadataRefusal(.notFound, "Instance \(id) could not be found.")
        }
        return server
    }

    /// The instance's documents as its config drive holds them, with what only this
    /// service knows added (EC2 id, flavor, image, reservation, groups, floating addresses).
    func metadata(of server: Server) async -> InstanceMetadata {
        var metadata = InstanceMetadata(id: server.id, body: server.channelBody(imageURL: ""))
        metadata.ec2InstanceID = String(format: "i-%08x", server.serial)
        metadata.instanceType = server.flavor.name
        metadata.imageID = server.imageID
        metadata.reservationID = server.reservationID
        metadata.securityGroups = server.securityGroups
        let floating = await compute.floatingAddresses([server])
        metadata.floatingAddresses = server.ports.flatMap { floating[$0.id] ?? [] }
        return metadata
    }

    func answer(_ request: Request, _ context: ServiceContext) async throws -> Response {
        let server: Server
        do { server = try self.server(request) } catch { return Self.text(error.status, error.message) }
        switch await metadata(of: server).answer(for: request.uri.path) {
        case .text(let text): return Self.text(.ok, text)
        case .json(let json): return Response.json(json)
        case .bytes(let bytes):
            return Response(
                status: .ok, headers: [.contentType: "application/octet-stream"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        case .notFound: return Self.text(.notFound, "The resource could not be found.")
        case .password: return try await password(request, context, server)
        }
    }

    /// `openstack/<version>/password`: GET reads it, POST sets it once (409 when set).
    func password(_ request: Request, _ context: ServiceContext, _ server: Server) async throws -> Response {
        guard request.method == .post else { return Self.text(.ok, server.password ?? "") }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: Self.passwordLimit) else {
            return Self.text(.badRequest, "Request is too large.")
        }
        let posted = String(buffer: buffer)
        do {
            _ = try compute.updateServer(server.id) { stored in
                guard (stored.password ?? "").isEmpty else { throw MetadataRefusal(.conflict, "Password already set.") }
                stored.password = posted
            }
        } catch let refusal as MetadataRefusal {
            return Self.text(refusal.status, refusal.message)
        }
        return Self.text(.ok, "")
    }
}

/// Why the metadata API would not answer.
struct MetadataRefusal: Error {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// The metadata API's router: every path is a document of the instance asking.
public func buildMetadataRouter(api: MetadataAPI) -> Hummingbird.Router<ServiceContext> {
    let router = Hummingbird.Router(context: ServiceContext.self)
    router.get("/healthz") { _, _ in MetadataAPI.text(.ok, "OK") }
    router.get("/") { request, context in try await api.answer(request, context) }
    router.get("**") { request, context in try await api.answer(request, context) }
    router.post("**") { request, context in try await api.answer(request, context) }
    return router
}
