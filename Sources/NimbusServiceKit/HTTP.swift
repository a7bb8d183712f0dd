import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Synchronization

/// The request context every Nimbus service uses.
public struct ServiceContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The microversion `MicroversionMiddleware` negotiated (nil for unversioned APIs).
    public var microversion: Microversion?
    /// The request's id, when the service names its requests (`x-openstack-request-id`).
    public var requestID: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Identity and other JSON APIs accept at most 1 MiB bodies.
    public var maxUploadSize: Int { 1 << 20 }
}

/// An error a service answers with: its status and the body in the service's own fault
/// shape (Keystone's `{"error":…}`, Nova's `{"itemNotFound":…}`, Glance's HTML, …).
public protocol ServiceFault: Error, Sendable {
    var status: HTTPResponse.Status { get }
    var response: Response { get }
}

/// Turns errors into each service's fault bodies: `ServiceFault`s render themselves; a
/// route that does not exist, or an error nobody expected, goes through `render`.
public struct FaultMiddleware: RouterMiddleware {
    public typealias Context = ServiceContext
    let render: @Sendable (HTTPResponse.Status, String) -> Response

    public init(render: @escaping @Sendable (HTTPResponse.Status, String) -> Response) {
        self.render = render
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await respond(request, context: context, next: next)
        // The server closes after answering a request that asked it to; say so (RFC 9112
        // §9.6), or clients take the close for a failed read.
        if let connection = request.headers[.connection], connection.lowercased().contains("close") {
            response.headers[.connection] = "close"
        }
        return response
    }

    func respond(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let fault as any ServiceFault {
            return request.method == .head ? fault.response.createHeadResponse() : fault.response
        } catch let error as HTTPError {
            let message =
                error.status == .notFound
                ? "The resource could not be found." : (error.body ?? error.status.reasonPhrase)
            return render(error.status, message)
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(error)"])
            return render(
                .internalServerError, "An unexpected error prevented the server from fulfilling your request.")
        }
    }
}

extension Response {
    /// A JSON response.
    public static func json(_ value: JSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(
            status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.bytes)))
    }

    /// An empty response (204 by default).
    public static func empty(_ status: HTTPResponse.Status = .noContent, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers)
    }
}

extension Request {
    /// A header's value, by its name.
    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// The value of a query parameter, percent-decoded.
    public func query(_ name: String) -> String? {
        uri.queryParameters.get(name)
    }

    /// The scheme and authority this request was addressed to (`http://10.0.0.1:5000`).
    public var origin: String {
        "http://" + (head.authority ?? header("Host") ?? "localhost")
    }
}

/// Runs a request through a responder in-process: the router-level tests of every service,
/// and the services' own checks, use it.
public struct InProcessClient<Responder: HTTPResponder>: Sendable where Responder.Context == ServiceContext {
    let responder: Responder

    public init(responder: Responder) { self.responder = responder }

    public struct Reply: Sendable {
        public var status: HTTPResponse.Status
        public var headers: HTTPFields
        public var body: [UInt8]

        public var json: JSON? { try? JSON.parse(body) }
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
    }

    public func send(
        _ method: HTTPRequest.Method, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil
    ) async throws -> Reply {
        var headers = headers
        if let body { headers["Content-Length"] = String(body.count) }
        return try await send(method, path, headers: headers, body: RequestBody(buffer: ByteBuffer(bytes: body ?? [])))
    }

    /// A request whose body arrives in pieces, as a large upload does over a socket.
    public func send(
        _ method: HTTPRequest.Method, _ path: String, headers: [String: String] = [:],
        streaming pieces: AsyncStream<ByteBuffer>
    ) async throws -> Reply {
        try await send(method, path, headers: headers, body: RequestBody(asyncSequence: pieces))
    }

    func send(_ method: HTTPRequest.Method, _ path: String, headers: [String: String], body: RequestBody)
        async throws -> Reply
    {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        let request = Request(
            head: .init(
                method: method, scheme: "http", authority: "nimbus.test:5000", path: path, headerFields: fields),
            body: body)
        let context = ServiceContext(
            source: ApplicationRequestContextSource(
                channel: EmbeddedChannel(), logger: .init(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let response = try await responder.respond(to: request, context: context)
        let collector = Collector()
        try await response.body.write(collector)
        return Reply(
            status: response.status, headers: response.headers, body: collector.bytes.withLock { $0 })
    }

    final class Collector: ResponseBodyWriter, Sendable {
        let bytes = Mutex<[UInt8]>([])
        func write(_ buffer: ByteBuffer) async throws { bytes.withLock { $0 += buffer.readableBytesView } }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
