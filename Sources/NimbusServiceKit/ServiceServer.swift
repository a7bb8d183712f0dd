import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceLifecycle

/// The HTTP server every Nimbus service runs: Hummingbird's HTTP/1.1, plus an interim
/// `100 Continue` for requests that wait for one (`Expect: 100-continue`, which Swift
/// clients and Tempest send before large bodies; without it they stall until a timeout),
/// and an idle timeout: a connection that sends nothing, or stops halfway through a
/// request's head or body, is closed, so clients that open connections and send nothing
/// cannot use up the service's file descriptors.
public enum ServiceServer {
    /// How long a connection may wait between requests, or between the pieces of one,
    /// before the server closes it. A request being answered is never cut off, however long
    /// its answer takes.
    public static let defaultIdleTimeout: Duration = .seconds(60)

    public static var http1: HTTPServerBuilder { http1(idleTimeout: defaultIdleTimeout) }

    /// The server with another idle timeout (`HTTP1Channel.Configuration.idleTimeout`).
    public static func http1(idleTimeout: Duration) -> HTTPServerBuilder {
        .http1(
            configuration: .init(
                additionalChannelHandlers: [ExpectContinueHandler()], idleTimeout: TimeAmount(idleTimeout)))
    }
}

/// Answers `Expect: 100-continue` with `100 Continue` as the request head passes.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data), let expect = head.headerFields[.expect],
            expect.lowercased() == "100-continue"
        {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}

extension ServiceServer {
    /// Serves `router` on `host:port` until SIGTERM or SIGINT, closing connections idle for
    /// `idleTimeout`, with `services` (reconcilers, sweepers) beside it in one
    /// `ServiceGroup`: on the signal every one of them is asked to finish, the server
    /// drains the requests under way, and the process exits. Once listening, the start-up
    /// code's pages are handed back (`Memory.releaseStartupCode`).
    public static func run(
        _ router: Router<ServiceContext>, host: String, port: Int, idleTimeout: Duration = defaultIdleTimeout,
        services: [any Service] = [], logger: Logger
    ) async throws {
        let app = Application(
            router: router, server: http1(idleTimeout: idleTimeout),
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { _ in Memory.releaseStartupCode() }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app)] + services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
