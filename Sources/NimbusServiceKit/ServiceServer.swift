import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// The HTTP server every Nimbus service runs: Hummingbird's HTTP/1.1, plus an interim
/// `100 Continue` for requests that wait for one (`Expect: 100-continue`, which Swift
/// clients and Tempest send before large bodies; without it they stall until a timeout).
public enum ServiceServer {
    public static var http1: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ExpectContinueHandler()]))
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
    /// Serves `router` on `host:port` until SIGTERM; once listening, the start-up code's
    /// pages are handed back (`Memory.releaseStartupCode`).
    public static func run(_ router: Router<ServiceContext>, host: String, port: Int, logger: Logger) async throws {
        let app = Application(
            router: router, server: http1,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { _ in Memory.releaseStartupCode() }, logger: logger)
        try await app.runService()
    }
}
