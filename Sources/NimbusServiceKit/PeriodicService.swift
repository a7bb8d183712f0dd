import Logging
import ServiceLifecycle

/// Work done every `interval` beside a service's HTTP server (the object expirer, an
/// agent's resync): a `Service` in the server's `ServiceGroup`, so SIGTERM stops it
/// between runs, never in the middle of one.
public struct PeriodicService: Service {
    public var name: String
    public var interval: Duration
    public var logger: Logger
    public var work: @Sendable () async throws -> Void

    public init(
        name: String, every interval: Duration, logger: Logger, work: @escaping @Sendable () async throws -> Void
    ) {
        self.name = name
        self.interval = interval
        self.logger = logger
        self.work = work
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Only the wait is cut short by a graceful shutdown.
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                try await work()
            } catch {
                logger.error("\(name) failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
