import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 client for one service calling another (the image and object services
/// asking identity about a token): one request per connection, the whole answer read,
/// bounded in size and time. Plain HTTP only: the services talk on the management network.
public struct ServiceClient: Sendable {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
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

    /// `path` is appended to the base URL's path.
    public func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = []) async throws -> Reply {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: basePath + path)
        head.headers.add(name: "Host", value: port == 80 ? host : "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "nimbus-server")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        let maxBody = self.maxBody
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var reply = Reply(status: 0, headers: [], body: [])
            for try await part in inbound {
                switch part {
                case .head(let response):
                    reply.status = Int(response.status.code)
                    reply.headers = response.headers.map { ($0.name, $0.value) }
                case .body(let buffer):
                    guard reply.body.count + buffer.readableBytes <= maxBody else {
                        throw Failure(description: "the answer is larger than \(maxBody) bytes")
                    }
                    reply.body += buffer.readableBytesView
                case .end:
                    return reply
                }
            }
            throw Failure(description: "the connection closed before the answer ended")
        }
    }
}
