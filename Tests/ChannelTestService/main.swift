// nimbus-channel-test: the smallest API with agents, to prove the channel between them
// with real processes (the integration suite kills the API mid-stream and restarts it).
//   nimbus-channel-test api --port P --state DIR --identity-url URL
//   nimbus-channel-test agent --api URL --identity-url URL --user U --password-file F --state FILE --view FILE
import Foundation
import GRDB
import Hummingbird
import Logging
import NimbusAgentKit
import NimbusServiceKit
import ServiceLifecycle
import Synchronization

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func required(_ name: String) -> String {
    guard let value = option(name) else {
        FileHandle.standardError.write(Data("nimbus-channel-test: --\(name) is required\n".utf8))
        exit(2)
    }
    return value
}

/// Items in the channel, written by `POST /items/{id}` (body: the value) and `DELETE /items/{id}`.
func serveAPI() async throws {
    let logger = Logger(label: "channel-test.api")
    var migrator = DatabaseMigrator()
    ChangeLog.register(in: &migrator)
    let state = required("state")
    try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
    let database = try ServiceDatabase.open(path: state + "/api.sqlite", migrator: migrator, synchronous: .full)
    let log = try ChangeLog(database: database)
    let channel = AgentChannel(
        log: log, registry: AgentRegistry(database: database),
        validator: try TokenValidator(identityURL: required("identity-url")))
    let router = Router(context: ServiceContext.self)
    router.middlewares.add(FaultMiddleware { status, message in AgentChannel.Fault(status, message).response })
    router.get("healthz") { _, _ in Response.empty(.ok) }
    channel.addRoutes(to: router)
    router.post("items/:id") { request, context -> Response in
        let id = try context.parameters.require("id")
        let value = String(buffer: try await request.body.collect(upTo: 1 << 16))
        _ = try log.write { db in try ChangeLog.put(db, kind: "item", id: id, body: ["value": .string(value)]) }
        return .empty(.created)
    }
    router.delete("items/:id") { _, context -> Response in
        let id = try context.parameters.require("id")
        _ = try log.write { db in try ChangeLog.delete(db, kind: "item", id: id) }
        return .empty()
    }
    try await ServiceServer.run(router, host: "127.0.0.1", port: Int(required("port")) ?? 0, logger: logger)
}

/// Writes the items it holds to the view file (`{"id": "value"}`) after every change.
final class ViewReconciler: Reconciler {
    let path: String
    let held = Mutex<[String: String]>([:])

    init(path: String) { self.path = path }

    func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        held.withLock { held in
            held = [:]
            for item in items { held[item.id] = item.body?["value"]?.string }
        }
        write()
        return items.map { ResourceStatus(kind: $0.kind, id: $0.id, state: "active") }
    }

    func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        held.withLock { $0[item.id] = item.body?["value"]?.string }
        write()
        return item.body == nil ? nil : ResourceStatus(kind: item.kind, id: item.id, state: "active")
    }

    func write() {
        let view = held.withLock { $0 }
        let json = JSON.object(view.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
        _ = FileManager.default.createFile(atPath: path + ".new", contents: Data(json.bytes))
        rename(path + ".new", path)
    }
}

func runAgent() async throws {
    let logger = Logger(label: "channel-test.agent")
    let password = try String(contentsOfFile: required("password-file"), encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let login = try ServiceLogin(
        .init(
            identityURL: required("identity-url"), user: required("user"), password: password,
            project: option("project") ?? "admin"))
    let client = try ChannelClient(apiURL: required("api"), login: login)
    let follower = ChannelFollower(
        client: client, reconciler: ViewReconciler(path: required("view")), statePath: required("state"),
        logger: logger, wait: 5)
    let heartbeat = HeartbeatService(
        client: client, follower: follower, type: "channel-test", host: ProcessInfo.processInfo.hostName,
        interval: .seconds(1), logger: logger)
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: follower), .init(service: heartbeat)], gracefulShutdownSignals: [.sigterm],
            logger: logger))
    try await group.run()
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
switch CommandLine.arguments.dropFirst().first {
case "api": try await serveAPI()
case "agent": try await runAgent()
default:
    FileHandle.standardError.write(Data("usage: nimbus-channel-test api|agent …\n".utf8))
    exit(2)
}
