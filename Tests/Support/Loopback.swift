import Hummingbird
import HummingbirdCore
import Logging
import NimbusServiceKit

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
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.run() }
        defer { group.cancelAll() }
        var port = 0
        for await announced in ports { port = announced }
        return try await body(port)
    }
}
