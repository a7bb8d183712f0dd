import Hummingbird
import HummingbirdCore
import Logging
import NimbusServiceKit
import ServiceLifecycle

/// Serves `responder` (a router's) on 127.0.0.1, on a port the system picks, for as long as `body` runs, with
/// the services' own server (`idleTimeout` shorter for the tests of it): for the tests where one service calls
/// another over HTTP (the image service's object store), and those of the server itself. `port` serves on a
/// given port instead (a server restarted where its clients expect it).
public func withLoopbackServer<T: Sendable>(
    _ responder: RouterResponder<ServiceContext>, idleTimeout: Duration = ServiceServer.defaultIdleTimeout,
    port fixed: Int = 0, _ body: (_ port: Int) async throws -> T
) async throws -> T {
    let (ports, announce) = AsyncStream<Int>.makeStream()
    let app = Application(
        responder: responder, server: ServiceServer.http1(idleTimeout: idleTimeout),
        configuration: .init(address: .hostname("127.0.0.1", port: fixed), serverName: nil),
        onServerRunning: { channel in
            announce.yield(channel.localAddress?.port ?? 0)
            announce.finish()
        }, logger: Logger(label: "loopback") { _ in SwiftLogNoOpLogHandler() })
    // Stopped gracefully, not cancelled: a connection a client opens as the server stops is
    // then refused rather than accepted into a channel nobody reads (NIO traps on the
    // writer of such a channel: "Deinited NIOAsyncWriter without calling finish()").
    let services = ServiceGroup(
        configuration: .init(
            services: [.init(service: app)], gracefulShutdownSignals: [],
            logger: Logger(label: "loopback") { _ in SwiftLogNoOpLogHandler() }))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await services.run() }
        var port = 0
        for await announced in ports { port = announced }
        do {
            let result = try await body(port)
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            await services.triggerGracefulShutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}
