import Foundation
import Logging
import NimbusServiceKit
import NimbusSystem
import ServiceLifecycle
import Synchronization

/// What an agent does with its API's desired state: make the host match it.
public protocol Reconciler: Sendable {
    /// The whole desired state (after a start or a full list): make the host hold exactly
    /// this, changing only what differs; the status of each item.
    func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus]
    /// One change (`body` nil: deleted); its status, nil when deleted.
    func apply(_ item: ChangeLog.Item) async -> ResourceStatus?
    /// Every status the agent can report now, for agents whose resources change state
    /// without a change on the channel (a port turns ACTIVE when its tap appears); nil:
    /// the statuses `resync` and `apply` returned.
    func currentStatuses() async -> [ResourceStatus]?
    /// Looks at the host again between changes (a tap that appeared, a dnsmasq that died);
    /// `ReconcilerPoller` calls it every `pollInterval`.
    func poll() async
    /// How often `poll` runs; nil: never.
    var pollInterval: Duration? { get }
}

extension Reconciler {
    public func currentStatuses() async -> [ResourceStatus]? { nil }
    public func poll() async {}
    public var pollInterval: Duration? { nil }
}

/// Runs a reconciler's `poll` every `pollInterval` beside the follower, until SIGTERM.
public struct ReconcilerPoller: Service {
    let reconciler: any Reconciler

    public init(reconciler: any Reconciler) { self.reconciler = reconciler }

    public func run() async throws {
        // A service that ends early would stop the group: without polling, wait for SIGTERM.
        guard let interval = reconciler.pollInterval else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) } } catch { return }
            await reconciler.poll()
        }
    }
}

/// Retry delays: doubling from `initial` to `maximum`, with up to a quarter of jitter, back
/// to `initial` after a success. A partitioned agent waits, it does not spin.
public struct Backoff: Sendable {
    public var initial: Double
    public var maximum: Double
    var current: Double

    public init(initial: Double = 0.5, maximum: Double = 30) {
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    public mutating func next() -> Double {
        let delay = current
        current = min(current * 2, maximum)
        return delay + Double.random(in: 0...(delay / 4))
    }

    public mutating func reset() { current = initial }
}

/// The desired state as an agent last applied it, kept in its state directory so a
/// restarted agent resumes the watch where it was instead of listing everything.
public struct FollowerState: Sendable, Equatable {
    public var revision: Int64
    /// `kind/id` → the live item.
    public var items: [String: ChangeLog.Item]

    public init(revision: Int64 = 0, items: [String: ChangeLog.Item] = [:]) {
        self.revision = revision
        self.items = items
    }

    mutating func apply(_ item: ChangeLog.Item) {
        items["\(item.kind)/\(item.id)"] = item.body == nil ? nil : item
        revision = max(revision, item.revision)
    }

    var json: JSON {
        [
            "revision": .int(revision),
            "items": .array(
                items.values.sorted { $0.revision < $1.revision }.map {
                    [
                        "kind": .string($0.kind), "id": .string($0.id), "revision": .int($0.revision),
                        "body": $0.body ?? .null,
                    ]
                }),
        ]
    }

    init?(json: JSON) {
        guard let revision = json["revision"]?.int, let list = json["items"]?.array else { return nil }
        self.revision = revision
        items = [:]
        for item in list {
            guard let kind = item["kind"]?.string, let id = item["id"]?.string, let at = item["revision"]?.int,
                let body = item["body"], !body.isNull
            else { return nil }
            items["\(kind)/\(id)"] = ChangeLog.Item(kind: kind, id: id, revision: at, body: body)
        }
    }

    /// Reads the state file; nil when there is none or it is unreadable (then: list).
    public static func load(path: String) -> FollowerState? {
        guard let bytes = SystemFile.read(path), let json = try? JSON.parse(bytes) else { return nil }
        return FollowerState(json: json)
    }

    /// Writes the state file atomically (a temporary file, fsync, rename).
    public func save(path: String) throws {
        let temporary = path + ".new"
        let data = Data(json.bytes)
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        let descriptor = open(temporary, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
        guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }
}

/// Follows an API's desired state by list + watch and hands it to a `Reconciler`: lists
/// everything at first start (or resumes from the state file), then watches from the last
/// revision; a revision the API no longer keeps means a full list again. Failures back off
/// and retry from the same revision, so nothing is missed. A `Service`: SIGTERM ends it
/// between two changes.
public final class ChannelFollower: Service, Sendable {
    let client: ChannelClient
    let reconciler: any Reconciler
    let statePath: String?
    let logger: Logger
    let wait: Int
    private let shared = Mutex<(state: FollowerState, statuses: [String: ResourceStatus], listed: Int)>(
        (FollowerState(), [:], 0))

    public init(
        client: ChannelClient, reconciler: any Reconciler, statePath: String?, logger: Logger, wait: Int = 30
    ) {
        self.client = client
        self.reconciler = reconciler
        self.statePath = statePath
        self.logger = logger
        self.wait = wait
    }

    /// The revision applied so far.
    public var revision: Int64 { shared.withLock { $0.state.revision } }
    /// The live items applied so far.
    public var state: FollowerState { shared.withLock { $0.state } }
    /// The statuses to report with the next heartbeat.
    public var statuses: [ResourceStatus] {
        shared.withLock { $0.statuses.values.sorted { ($0.kind, $0.id) < ($1.kind, $1.id) } }
    }

    /// What the reconciler reports now, or the per-item statuses.
    public func currentStatuses() async -> [ResourceStatus] {
        if let statuses = await reconciler.currentStatuses() {
            return statuses.sorted { ($0.kind, $0.id) < ($1.kind, $1.id) }
        }
        return statuses
    }
    /// How many full lists it made (tests).
    public var listCount: Int { shared.withLock { $0.listed } }

    public func run() async throws {
        var backoff = Backoff()
        var needsList = true
        if let statePath, let saved = FollowerState.load(path: statePath) {
            let statuses = await reconciler.resync(Array(saved.items.values))
            record(saved, statuses: statuses)
            needsList = false
            logger.info("resuming the watch", metadata: ["revision": "\(saved.revision)"])
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if needsList {
                    let snapshot = try await client.list()
                    var state = FollowerState(revision: snapshot.revision)
                    for item in snapshot.items { state.apply(item) }
                    state.revision = snapshot.revision
                    let statuses = await reconciler.resync(snapshot.items)
                    record(state, statuses: statuses, listed: true)
                    needsList = false
                }
                let since = revision
                let changes: ChannelClient.Snapshot
                do {
                    changes = try await cancelWhenGracefulShutdown {
                        try await self.client.watch(since: since, wait: self.wait)
                    }
                } catch is CancellationError {
                    return
                }
                for item in changes.items {
                    let status = await reconciler.apply(item)
                    shared.withLock { shared in
                        shared.state.apply(item)
                        shared.statuses["\(item.kind)/\(item.id)"] = status
                    }
                }
                shared.withLock { $0.state.revision = max($0.state.revision, changes.revision) }
                try saveState()
                backoff.reset()
            } catch let failure as ChannelClient.Failure {
                // Stopping: the watch under way was cut short, which is no failure.
                if Task.isShuttingDownGracefully || Task.isCancelled { return }
                if case .tooOld(let oldest) = failure {
                    logger.notice("the API forgot our revision; listing again", metadata: ["oldest": "\(oldest)"])
                    needsList = true
                    continue
                }
                let delay = backoff.next()
                logger.warning(
                    "the channel failed; retrying", metadata: ["error": "\(failure)", "in": "\(delay)"])
                do {
                    try await cancelWhenGracefulShutdown {
                        try await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
                    }
                } catch {
                    return
                }
            }
        }
    }

    func record(_ state: FollowerState, statuses: [ResourceStatus], listed: Bool = false) {
        shared.withLock { shared in
            shared.state = state
            shared.statuses = Dictionary(statuses.map { ("\($0.kind)/\($0.id)", $0) }, uniquingKeysWith: { $1 })
            if listed { shared.listed += 1 }
        }
        try? saveState()
    }

    func saveState() throws {
        guard let statePath else { return }
        try state.save(path: statePath)
    }
}

/// Tells the API every `interval` that the agent is alive, which revision it applied and
/// the status of each resource, and at once whenever a status changed. A `Service` beside
/// the follower.
public struct HeartbeatService: Service {
    let client: ChannelClient
    let follower: ChannelFollower
    let type: String
    let host: String
    let interval: Duration
    let logger: Logger
    let configuration: JSON?
    let startedAt = Date()

    /// - Parameter configuration: what the agent says of itself (Neutron's
    ///   `configurations`), published to the other agents when it changes.
    public init(
        client: ChannelClient, follower: ChannelFollower, type: String, host: String, interval: Duration = .seconds(10),
        configuration: JSON? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.client = client
        self.follower = follower
        self.type = type
        self.host = host
        self.interval = interval
        self.logger = logger
    }

    /// How often the statuses are looked at between beats: a change (a port turned
    /// ACTIVE) is told at once, not with the next beat.
    static let statusCheck = Duration.milliseconds(200)

    public func run() async throws {
        let clock = ContinuousClock()
        var sent: [ResourceStatus]?
        var beat = clock.now - interval
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let statuses = await follower.currentStatuses()
            if statuses != sent || clock.now - beat >= interval {
                // A failed beat is not repeated before the interval: an API that is down
                // is not asked five times a second.
                sent = statuses
                beat = clock.now
                do {
                    try await client.heartbeat(
                        type: type, host: host, startedAt: startedAt, revision: follower.revision,
                        statuses: statuses, configuration: configuration)
                } catch {
                    logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
                }
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.statusCheck) }
            } catch {
                return
            }
        }
    }
}
