import Foundation
import GRDB
import Hummingbird
import Logging
import NimbusAgentKit
import NimbusServiceKit
import NimbusTestSupport
import Synchronization
import Testing

/// Applies changes to a dictionary, as a real agent applies them to a host.
final class RecordingReconciler: Reconciler {
    let held = Mutex<[String: JSON]>([:])
    let resyncs = Mutex(0)

    func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        held.withLock { held in
            held = Dictionary(items.compactMap { item in item.body.map { (item.id, $0) } }, uniquingKeysWith: { $1 })
        }
        resyncs.withLock { $0 += 1 }
        return items.map { ResourceStatus(kind: $0.kind, id: $0.id, state: "active") }
    }

    func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        held.withLock { $0[item.id] = item.body }
        return item.body == nil ? nil : ResourceStatus(kind: item.kind, id: item.id, state: "active")
    }

    var view: [String: JSON] { held.withLock { $0 } }
}

/// An API with the agent channel over a database on disk, identity in-process and served
/// over loopback for the agent's login.
struct ChannelRig {
    let identity: TestIdentity
    let directory: String
    let database: any DatabaseWriter
    let log: ChangeLog
    let registry: AgentRegistry
    let clock = TestClock()

    init() throws {
        identity = try TestIdentity(catalog: [])
        directory = NSTemporaryDirectory() + "channel-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var migrator = DatabaseMigrator()
        ChangeLog.register(in: &migrator)
        database = try ServiceDatabase.open(
            path: directory + "/api.sqlite", migrator: migrator, synchronous: .normal)
        log = try ChangeLog(database: database)
        let clock = self.clock
        registry = AgentRegistry(database: database, downTime: 75, now: { clock.now })
    }

    func router() -> Router<ServiceContext> {
        let router = Router(context: ServiceContext.self)
        router.middlewares.add(FaultMiddleware { status, message in AgentChannel.Fault(status, message).response })
        AgentChannel(log: log, registry: registry, validator: identity.validator).addRoutes(to: router)
        return router
    }

    func put(_ id: String, _ value: String) throws {
        try log.write { db in try ChangeLog.put(db, kind: "item", id: id, body: ["value": .string(value)]) }
    }

    func delete(_ id: String) throws {
        _ = try log.write { db in try ChangeLog.delete(db, kind: "item", id: id) }
    }

    func follower(apiPort: Int, identityPort: Int, reconciler: RecordingReconciler) throws -> (
        ChannelFollower, ChannelClient
    ) {
        let login = try ServiceLogin(
            .init(
                identityURL: "http://127.0.0.1:\(identityPort)/v3", user: "admin", password: "admin-pw",
                project: "admin"))
        let client = try ChannelClient(apiURL: "http://127.0.0.1:\(apiPort)", login: login)
        var logger = Logger(label: "test.follower")
        logger.logLevel = .critical
        let follower = ChannelFollower(
            client: client, reconciler: reconciler, statePath: directory + "/agent-state.json", logger: logger,
            wait: 1)
        return (follower, client)
    }
}

/// A clock the tests move.
final class TestClock: Sendable {
    private let time = Mutex(Date())
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: Double) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// Polls until `condition` holds (at most `seconds`).
func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

@Suite("Agent channel: list + watch, resume, resync, restart, heartbeats")
struct ChannelTests {
    @Test("An agent lists, then follows every change; restarted, it resumes from its revision without listing")
    func followAndResume() async throws {
        let rig = try ChannelRig()
        try rig.put("a", "1")
        try rig.put("b", "1")
        try await withLoopbackServer(rig.identity.responder) { identityPort in
            try await withLoopbackServer(rig.router().buildResponder()) { apiPort in
                let reconciler = RecordingReconciler()
                let (follower, _) = try rig.follower(
                    apiPort: apiPort, identityPort: identityPort, reconciler: reconciler)
                let running = Task { try await follower.run() }
                #expect(try await eventually { reconciler.view.count == 2 })
                try rig.put("a", "2")
                try rig.delete("b")
                try rig.put("c", "1")
                #expect(try await eventually { reconciler.view == ["a": ["value": "2"], "c": ["value": "1"]] })
                #expect(follower.listCount == 1)
                running.cancel()
                _ = await running.result
                // While the agent is away.
                try rig.put("d", "1")
                try rig.delete("a")
                let again = RecordingReconciler()
                let (second, _) = try rig.follower(apiPort: apiPort, identityPort: identityPort, reconciler: again)
                let resumed = Task { try await second.run() }
                #expect(try await eventually { again.view == ["c": ["value": "1"], "d": ["value": "1"]] })
                #expect(second.listCount == 0, "resumed from the state file, no full list")
                #expect(second.revision == (try rig.log.list().revision))
                resumed.cancel()
                _ = await resumed.result
            }
        }
    }

    @Test("A revision older than the API keeps answers 410 and the agent lists again, dropping what was deleted")
    func resyncWhenTooOld() async throws {
        let rig = try ChannelRig()
        try rig.put("x", "1")
        try rig.put("y", "1")
        try await withLoopbackServer(rig.identity.responder) { identityPort in
            try await withLoopbackServer(rig.router().buildResponder()) { apiPort in
                let reconciler = RecordingReconciler()
                let (follower, client) = try rig.follower(
                    apiPort: apiPort, identityPort: identityPort, reconciler: reconciler)
                let running = Task { try await follower.run() }
                #expect(try await eventually { reconciler.view.count == 2 })
                running.cancel()
                _ = await running.result
                try rig.delete("x")
                try rig.put("z", "1")
                try rig.log.compact(through: try rig.log.list().revision)
                await #expect(throws: ChannelClient.Failure.self) { _ = try await client.watch(since: 1, wait: 0) }
                let again = RecordingReconciler()
                let (second, _) = try rig.follower(apiPort: apiPort, identityPort: identityPort, reconciler: again)
                let resumed = Task { try await second.run() }
                #expect(try await eventually { again.view == ["y": ["value": "1"], "z": ["value": "1"]] })
                #expect(second.listCount == 1)
                resumed.cancel()
                _ = await resumed.result
            }
        }
    }

    @Test("With its API down the agent backs off without spinning; once the API is back it misses nothing")
    func apiDown() async throws {
        let rig = try ChannelRig()
        try rig.put("a", "1")
        let reconciler = RecordingReconciler()
        // A port nothing listens on yet.
        let port = try await withLoopbackServer(rig.router().buildResponder()) { $0 }
        try await withLoopbackServer(rig.identity.responder) { identityPort in
            let (follower, _) = try rig.follower(apiPort: port, identityPort: identityPort, reconciler: reconciler)
            let running = Task { try await follower.run() }
            try await Task.sleep(for: .seconds(2))
            #expect(reconciler.view.isEmpty && follower.listCount == 0)
            // The API restarts over its database; changes made meanwhile keep their revisions.
            let restarted = try ChangeLog(database: rig.database)
            #expect(try restarted.list().revision == 1)
            try rig.put("b", "1")
            try rig.delete("a")
            try await withLoopbackServer(rig.router().buildResponder(), port: port) { _ in
                #expect(try await eventually(15) { reconciler.view == ["b": ["value": "1"]] })
                try rig.put("c", "1")
                #expect(try await eventually { reconciler.view.count == 2 })
                #expect(follower.listCount == 1)
                running.cancel()
                _ = await running.result
            }
        }
    }

    @Test("Heartbeats make an agent alive with its statuses; silence past the down time makes it down")
    func heartbeats() async throws {
        let rig = try ChannelRig()
        try rig.put("a", "1")
        try await withLoopbackServer(rig.identity.responder) { identityPort in
            try await withLoopbackServer(rig.router().buildResponder()) { apiPort in
                let reconciler = RecordingReconciler()
                let (follower, client) = try rig.follower(
                    apiPort: apiPort, identityPort: identityPort, reconciler: reconciler)
                let running = Task { try await follower.run() }
                #expect(try await eventually { reconciler.view.count == 1 })
                try await client.heartbeat(
                    type: "test-agent", host: "node1", startedAt: Date(), revision: follower.revision,
                    statuses: follower.statuses)
                running.cancel()
                _ = await running.result
            }
        }
        let agents = try rig.registry.agents()
        #expect(agents.map(\.host) == ["node1"] && agents.first?.alive == true && agents.first?.revision == 1)
        #expect(try rig.registry.statuses(kind: "item", id: "a").map(\.state) == ["active"])
        rig.clock.advance(80)
        #expect(try rig.registry.agents().first?.alive == false)
        try rig.delete("a")
        try rig.registry.heartbeat(host: "node1", type: "test-agent", startedAt: Date(), revision: 2, statuses: [])
        #expect(try rig.registry.statuses(kind: "item", id: "a").isEmpty)
        #expect(try rig.registry.agents().first?.alive == true)
    }

    @Test("An agent's configuration is published to the others when it changes, and withdrawn when it is removed")
    func configurations() throws {
        let rig = try ChannelRig()
        let configuration: JSON = ["tunneling_ip": "10.0.0.11"]
        #expect(
            try rig.registry.heartbeat(
                host: "cmp1", type: "linuxbridge", startedAt: Date(), revision: 0, statuses: [],
                configuration: configuration))
        // The same again publishes nothing; no configuration keeps the last one.
        #expect(
            !(try rig.registry.heartbeat(
                host: "cmp1", type: "linuxbridge", startedAt: Date(), revision: 0, statuses: [],
                configuration: configuration)))
        #expect(
            !(try rig.registry.heartbeat(
                host: "cmp1", type: "linuxbridge", startedAt: Date(), revision: 0, statuses: [])))
        let (_, items) = try rig.log.list(kind: AgentRegistry.agentKind)
        #expect(items.map(\.id) == ["linuxbridge/cmp1"])
        #expect(items.first?.body?["configuration"]?["tunneling_ip"]?.string == "10.0.0.11")
        #expect(try rig.registry.agents().first?.configuration == configuration)
        #expect(try rig.registry.remove(host: "cmp1", type: "linuxbridge"))
        #expect(try rig.log.list(kind: AgentRegistry.agentKind).items.isEmpty)
    }

    @Test("Only an admin (the agents' service users) may use the channel")
    func policy() async throws {
        let rig = try ChannelRig()
        let client = InProcessClient(responder: rig.router().buildResponder())
        #expect(try await client.send(.get, "/agent/v1/resources").status == .unauthorized)
        let demo = try await rig.identity.demo()
        #expect(
            try await client.send(.get, "/agent/v1/resources", headers: ["X-Auth-Token": demo]).status == .forbidden)
        let admin = try await rig.identity.admin()
        let listed = try await client.send(.get, "/agent/v1/resources", headers: ["X-Auth-Token": admin])
        #expect(listed.status == .ok && listed.json?["revision"]?.int == 0)
        let bad = try await client.send(.get, "/agent/v1/watch?since=-1", headers: ["X-Auth-Token": admin])
        #expect(bad.status == .badRequest && bad.json?["error"]?["code"]?.int == 400)
    }
}
