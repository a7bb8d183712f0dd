import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NimbusGuestData
import NimbusServiceKit

#if canImport(Glibc)
    import Glibc
#endif

/// Where the routers' metadata proxies send guests' requests.
public struct MetadataProxyConfig: Sendable, Equatable {
    /// The compute service's metadata API (`http://controller:8775`).
    public var url: String
    /// The secret both sides know (CONFIG_NEUTRON_METADATA_PW).
    public var secret: String

    /// The port the proxies listen on inside the router namespaces (Neutron's 9697):
    /// `169.254.169.254:80` is redirected to it.
    public static let port = 9697

    public init(url: String, secret: String) {
        self.url = url
        self.secret = secret
    }
}

/// The instance a fixed address on one of a router's networks belongs to.
public struct MetadataRequester: Sendable, Equatable {
    public var instanceID: String
    public var projectID: String
}

/// The metadata proxies of the L3 agent, as Neutron's namespace proxy and metadata agent in
/// one: a listener inside each `qrouter-` namespace (the socket is made there, the agent
/// stays in its own namespace and serves every router from one process) takes a guest's
/// request, finds the instance by the router and the guest's address, and forwards it to
/// the compute service's metadata API with the instance id signed (`X-Instance-ID`,
/// `X-Tenant-ID`, `X-Instance-ID-Signature`, `X-Forwarded-For`, `X-Neutron-Router-ID`).
/// A request from an address that is no instance's gets 404 and goes nowhere.
public final class MetadataProxy: Sendable {
    let config: MetadataProxyConfig
    let logger: Logger
    let client: ServiceClient
    /// Per router: its listener, and the instances on its networks by fixed address.
    let routers = NIOLockedValueBox<[String: (channel: Channel, clients: [String: MetadataRequester])]>([:])

    /// Guests' open connections, by router: closed with the router's listener (an open
    /// socket would keep a deleted router's namespace alive).
    let connections = NIOLockedValueBox<[String: [ObjectIdentifier: Channel]]>([:])

    /// The most a guest may send in one request's body.
    static let bodyLimit = 64 << 10
    /// The most connections open at once through one router's proxy.
    static let connectionLimit = 64
    /// How long a guest's connection may stay silent.
    static let idleTimeout: TimeAmount = .seconds(20)

    public init(config: MetadataProxyConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        client = try ServiceClient(baseURL: config.url, timeout: .seconds(10))
    }

    /// Closes the listeners of every router but `keeping`, with their connections.
    public func retire(keeping: Set<String>) async {
        let gone = routers.withLockedValue { current -> [(String, Channel)] in
            let gone = current.keys.filter { !keeping.contains($0) }
            defer { for id in gone { current[id] = nil } }
            return gone.compactMap { id in current[id].map { (id, $0.channel) } }
        }
        for (id, channel) in gone {
            try? await channel.close()
            await closeConnections(of: id)
        }
    }

    /// Closes the listener of `router`, if it has one, with its connections.
    public func retire(_ router: String) async {
        let channel = routers.withLockedValue { current in
            defer { current[router] = nil }
            return current[router]?.channel
        }
        try? await channel?.close()
        await closeConnections(of: router)
    }

    func closeConnections(of router: String) async {
        let open = connections.withLockedValue { current in
            defer { current[router] = nil }
            return Array((current[router] ?? [:]).values)
        }
        for channel in open { try? await channel.close() }
    }

    /// Takes a guest's connection through `router`'s proxy, unless it has too many open.
    func admit(_ channel: Channel, router: String) -> Bool {
        let key = ObjectIdentifier(channel)
        let admitted = connections.withLockedValue { current -> Bool in
            guard (current[router]?.count ?? 0) < Self.connectionLimit else { return false }
            current[router, default: [:]][key] = channel
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [connections] _ in
            connections.withLockedValue { current in current[router]?[key] = nil }
        }
        return true
    }

    /// Serves exactly `wanted` (router id → its namespace and its instances): listeners
    /// of routers gone are closed, new ones opened. Throws when a listener cannot be
    /// opened (the others are served all the same).
    public func serve(_ wanted: [String: (namespace: String, clients: [String: MetadataRequester])])
        async throws(DataplaneError)
    {
        await retire(keeping: Set(wanted.keys))
        routers.withLockedValue { current in
            for (id, value) in wanted where current[id] != nil { current[id]?.clients = value.clients }
        }
        var failure: DataplaneError?
        for (id, value) in wanted.sorted(by: { $0.key < $1.key }) where routers.withLockedValue({ $0[id] == nil }) {
            do {
                let socket = try await NamespaceSocket.listen(
                    namespace: value.namespace, port: MetadataProxyConfig.port)
                let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .childChannelInitializer { [self] channel in
                        guard admit(channel, router: id) else { return channel.close() }
                        return channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                IdleStateHandler(allTimeout: Self.idleTimeout))
                            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                            try channel.pipeline.syncOperations.addHandler(
                                MetadataProxyHandler(router: id, proxy: self))
                        }
                    }
                    .withBoundSocket(socket).get()
                routers.withLockedValue { $0[id] = (channel, value.clients) }
                logger.info(
                    "metadata proxy listening", metadata: ["router": "\(id)", "namespace": "\(value.namespace)"])
            } catch {
                logger.error("cannot open a metadata proxy", metadata: ["router": "\(id)", "error": "\(error)"])
                failure = .cannotRun(command: "metadata proxy in \(value.namespace)", reason: "\(error)")
            }
        }
        if let failure { throw failure }
    }

    /// The answer for a guest at `source` asking router `router`.
    func forward(router: String, source: String, head: HTTPRequestHead, body: [UInt8]) async -> ServiceClient.Reply {
        guard let requester = routers.withLockedValue({ $0[router]?.clients[source] }) else {
            logger.notice(
                "metadata request from an unknown address", metadata: ["router": "\(router)", "from": "\(source)"])
            return ServiceClient.Reply(status: 404, body: Array("No instance has the address \(source).\n".utf8))
        }
        let headers = [
            ("X-Instance-ID", requester.instanceID), ("X-Tenant-ID", requester.projectID),
            ("X-Instance-ID-Signature", MetadataSignature.sign(requester.instanceID, secret: config.secret)),
            ("X-Forwarded-For", source), ("X-Neutron-Router-ID", router),
        ]
        let method: HTTPMethod = head.method == .POST ? .POST : .GET
        do {
            return try await client.send(method, head.uri, headers: headers, body: method == .POST ? body : nil)
        } catch {
            logger.error("the metadata API did not answer", metadata: ["error": "\(error)"])
            return ServiceClient.Reply(status: 502, body: Array("The metadata service is unavailable.\n".utf8))
        }
    }
}

/// One guest connection: reads a request, answers it through the proxy, closes.
final class MetadataProxyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let router: String
    let proxy: MetadataProxy
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    /// Set once the connection is being closed (a body too large): nothing more is read.
    var closing = false

    init(router: String, proxy: MetadataProxy) {
        self.router = router
        self.proxy = proxy
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else { return context.fireUserInboundEventTriggered(event) }
        closing = true
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body += buffer.readableBytesView
            if body.count > MetadataProxy.bodyLimit {
                closing = true
                context.close(promise: nil)
            }
        case .end:
            closing = true
            guard let head, head.method == .GET || head.method == .POST || head.method == .HEAD else {
                Self.respond(context.channel, ServiceClient.Reply(status: 405))
                return
            }
            let channel = context.channel
            let source = channel.remoteAddress?.ipAddress ?? ""
            let (proxy, router, body) = (proxy, router, body)
            Task {
                let reply = await proxy.forward(router: router, source: source, head: head, body: body)
                MetadataProxyHandler.respond(channel, reply, headOnly: head.method == .HEAD)
            }
        }
    }

    static func respond(_ channel: Channel, _ reply: ServiceClient.Reply, headOnly: Bool = false) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.header("Content-Type") ?? "text/plain; charset=UTF-8")
        headers.add(name: "Content-Length", value: String(reply.body.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(
            version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
        if !headOnly {
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: reply.body))), promise: nil)
        }
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// A listening TCP socket made inside a named network namespace (`/run/netns/<name>`):
/// made on a thread of its own that enters the namespace and ends, so no thread of the
/// agent is ever left in another namespace. The socket stays in the namespace it was made
/// in, whoever uses it.
enum NamespaceSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func listen(namespace: String, port: Int) async throws(Failure) -> Int32 {
        let result: Result<Int32, Failure> = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: make(namespace: namespace, port: port)) }.start()
        }
        return try result.get()
    }

    static func make(namespace: String, port: Int) -> Result<Int32, Failure> {
        func failure(_ what: String) -> Result<Int32, Failure> {
            .failure(Failure(description: "\(what) in namespace \(namespace): \(String(cString: strerror(errno)))"))
        }
        let ns = open("/run/netns/" + namespace, O_RDONLY | O_CLOEXEC)
        guard ns >= 0 else { return failure("cannot open the namespace") }
        defer { close(ns) }
        guard enterNamespace(ns, cloneNewNet) == 0 else { return failure("cannot enter") }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return failure("cannot make a socket") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            let error = failure("cannot listen on port \(port)")
            close(fd)
            return error
        }
        return .success(fd)
    }
}

/// `setns(2)`, which Glibc's module leaves out (it is a `_GNU_SOURCE` declaration).
@_silgen_name("setns")
private func enterNamespace(_ fd: Int32, _ type: Int32) -> Int32
/// `CLONE_NEWNET`, from `<sched.h>` (also `_GNU_SOURCE`).
private let cloneNewNet: Int32 = 0x4000_0000
