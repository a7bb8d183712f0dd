import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 client for one service calling another (the image and object services
/// asking identity about a token, the image service keeping images in object storage): one
/// request per connection. `send` reads a small answer whole, bounded in size and time;
/// `exchange` streams a request body out and an answer body in, bounded by idleness only.
/// Plain HTTP only: the services talk on the management network.
public struct ServiceClient: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) { self.description = description }
    }

    /// Writes a request body, piece by piece; a write waits while the peer is not reading.
    public struct BodyWriter: Sendable {
        let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

        public func write(_ buffer: ByteBuffer) async throws {
            guard buffer.readableBytes > 0 else { return }
            try await outbound.write(.body(.byteBuffer(buffer)))
        }
    }

    let host: String
    let port: Int
    let basePath: String
    let timeout: TimeAmount
    let maxBody: Int

    /// `baseURL` like `http://10.0.0.11:5000/v3`.
    public init(baseURL: String, timeout: TimeAmount = .seconds(5), maxBody: Int = 4 << 20) throws(Failure) {
        guard baseURL.hasPrefix("http://") else { throw Failure(description: "\(baseURL): only http:// URLs") }
        let rest = baseURL.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        var host = String(authority)
        var port = 80
        if let colon = authority.lastIndex(of: ":"), let number = Int(authority[authority.index(after: colon)...]) {
            host = String(authority[..<colon])
            port = number
        }
        guard !host.isEmpty else { throw Failure(description: "\(baseURL): no host") }
        self.host = host
        self.port = port
        self.basePath = path.hasSuffix("/") ? String(path.dropLast()) : String(path)
        self.timeout = timeout
        self.maxBody = maxBody
    }

    /// `path` is appended to the base URL's path. The whole exchange must end within the
    /// client's timeout, and the answer be at most `maxBody` bytes.
    public func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws -> Reply {
        var headers = headers
        if let body { headers.append(("Content-Length", String(body.count))) }
        var reply = Reply(status: 0, headers: [], body: [])
        let maxBody = self.maxBody
        try await exchange(
            method, path, headers: headers, deadline: timeout,
            body: { writer in if let body { try await writer.write(ByteBuffer(bytes: body)) } },
            head: { status, headers in
                reply.status = status
                reply.headers = headers
            },
            part: { buffer in
                guard reply.body.count + buffer.readableBytes <= maxBody else {
                    throw Failure(description: "the answer is larger than \(maxBody) bytes")
                }
                reply.body += buffer.readableBytesView
            })
        return reply
    }

    /// One request: `body` writes the request body (a PUT or POST without a Content-Length
    /// in `headers` is sent chunked); the answer's status and headers go to `head` and its body,
    /// as it arrives, to `part`. The connection is dropped after `idle` without traffic
    /// either way, or at `deadline` whatever happens.
    public func exchange(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], deadline: TimeAmount? = nil,
        idle: TimeAmount = .seconds(60), body: (BodyWriter) async throws -> Void = { _ in },
        head: (_ status: Int, _ headers: [(String, String)]) throws -> Void,
        part: (ByteBuffer) async throws -> Void
    ) async throws {
        // The async wrapper is made once connected: made in the initializer, a refused or
        // timed-out connection would drop it unfinished, which NIO treats as a fatal error.
        let connected = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(allTimeout: idle), CloseWhenIdle(),
                    ])
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                }
            }
            .connect(host: host, port: port).get()
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await connected.eventLoop.submit {
                try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                    wrappingChannelSynchronously: connected)
            }.get()
        } catch {
            connected.close(promise: nil)
            throw error
        }
        let limit = deadline.map {
            channel.channel.eventLoop.scheduleTask(in: $0) { channel.channel.close(promise: nil) }
        }
        defer { limit?.cancel() }
        var request = HTTPRequestHead(version: .http1_1, method: method, uri: basePath + path)
        request.headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        request.headers.add(name: "Connection", value: "close")
        request.headers.add(name: "User-Agent", value: "nimbus-server")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if method == .PUT || method == .POST, !request.headers.contains(name: "Content-Length") {
            request.headers.add(name: "Transfer-Encoding", value: "chunked")
        }
        // A request without a body goes out in one write: written in two, the peer could
        // answer the head and close (`Connection: close`) before the end was written, and
        // that write fail with "I/O on closed channel" while the answer was there to read.
        let bodiless =
            request.headers["Content-Length"].first == "0"
            || ([.GET, .HEAD, .DELETE].contains(method) && !request.headers.contains(name: "Content-Length"))
        try await channel.executeThenClose { inbound, outbound in
            // A peer may also answer before reading the whole body (a refusal); its answer
            // counts, and the failed write only when no answer came.
            var writeFailure: (any Error)?
            do {
                if bodiless {
                    try await outbound.write(contentsOf: [.head(request), .end(nil)])
                } else {
                    try await outbound.write(.head(request))
                    try await body(BodyWriter(outbound: outbound))
                    try await outbound.write(.end(nil))
                }
            } catch let error as ChannelError {
                writeFailure = error
            }
            for try await response in inbound {
                switch response {
                case .head(let answer):
                    // An interim answer (100 Continue) is not the answer.
                    guard answer.status.code >= 200 else { continue }
                    try head(Int(answer.status.code), answer.headers.map { ($0.name, $0.value) })
                case .body(let buffer):
                    try await part(buffer)
                case .end:
                    return
                }
            }
            throw writeFailure ?? Failure(description: "the connection closed before the answer ended")
        }
    }
}

/// Closes a connection its `IdleStateHandler` found idle.
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
