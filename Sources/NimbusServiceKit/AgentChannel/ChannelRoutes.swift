import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// The channel between an API and its agents, over HTTP under `/agent/v1` on the API's
/// own port. Agents log in as their service user (the `admin` role in the services
/// project); nobody else may use it.
///
/// - `GET /agent/v1/resources[?kind=K]`: `{"revision": R, "items": [{kind, id, revision, body}]}`
/// - `GET /agent/v1/watch?since=R[&wait=S]`: the changes after R (a deletion has `"body": null`)
///   as soon as there are any, or none after S seconds (at most 30): `{"revision": R2, "items": […]}`;
///   410 when R is older than the oldest change kept: list again.
/// - `PUT /agent/v1/agents/{type}/{host}`: a heartbeat, `{"started_at": T, "revision": R,
///   "statuses": [{kind, id, state, detail}]}`; 204.
/// - `GET /agent/v1/agents`: `{"agents": [{host, type, alive, heartbeat_at, started_at, revision}]}`.
public struct AgentChannel: Sendable {
    public let log: ChangeLog
    public let registry: AgentRegistry
    let validator: TokenValidator
    /// What agents report beyond statuses (an instance's console); nil: no reports taken.
    public let reports: AgentReports?
    /// The longest a watch waits for a change.
    public var maxWait: Duration = .seconds(30)

    public init(log: ChangeLog, registry: AgentRegistry, validator: TokenValidator, reports: AgentReports? = nil) {
        self.log = log
        self.registry = registry
        self.validator = validator
        self.reports = reports
    }

    /// The channel's own error body: `{"error": {"code": N, "message": "…"}}`.
    public struct Fault: ServiceFault {
        public var status: HTTPResponse.Status
        public var message: String
        public var extra: [(String, JSON)] = []

        public init(_ status: HTTPResponse.Status, _ message: String, extra: [(String, JSON)] = []) {
            self.status = status
            self.message = message
            self.extra = extra
        }

        public var response: Response {
            .json(
                .object(
                    [("error", ["code": .int(Int64(status.code)), "message": .string(message)])] + extra),
                status: status)
        }
    }

    func authorize(_ request: Request) async throws {
        guard let token = request.headers[.xAuthToken] else {
            throw Fault(.unauthorized, "The request you have made requires authentication.")
        }
        let caller: Caller?
        do { caller = try await validator.caller(token: token) } catch {
            throw Fault(.serviceUnavailable, "The identity service cannot be reached: \(error)")
        }
        guard let caller else { throw Fault(.unauthorized, "The request you have made requires authentication.") }
        guard caller.isAdmin else { throw Fault(.forbidden, "Only the service's agents may use the agent channel.") }
    }

    static func render(_ item: ChangeLog.Item) -> JSON {
        [
            "kind": .string(item.kind), "id": .string(item.id), "revision": .int(item.revision),
            "body": item.body ?? .null,
        ]
    }

    public func addRoutes(to router: Router<ServiceContext>) {
        let group = router.group("agent/v1")
        group.get("resources") { request, _ -> Response in
            try await authorize(request)
            let (revision, items) = try log.list(kind: request.query("kind"))
            return .json(["revision": .int(revision), "items": .array(items.map(Self.render))])
        }
        group.get("watch") { request, _ -> Response in
            try await authorize(request)
            guard let text = request.query("since"), let since = Int64(text), since >= 0 else {
                throw Fault(.badRequest, "since must be a revision (0 or more)")
            }
            let seconds = request.query("wait").flatMap(Double.init) ?? 30
            guard seconds >= 0 else { throw Fault(.badRequest, "wait must be 0 or more seconds") }
            let wait = min(Duration.milliseconds(Int64(seconds * 1000)), maxWait)
            func changes() throws -> (Int64, [ChangeLog.Item]) {
                do { return try log.changes(since: since) } catch let old as ChangeLog.TooOld {
                    throw Fault(
                        .gone,
                        "Revision \(old.since) is older than the oldest change kept (\(old.oldest)): list again.",
                        extra: [("oldest", .int(old.oldest))])
                }
            }
            var (revision, items) = try changes()
            if items.isEmpty, await log.wait(after: since, timeout: wait) { (revision, items) = try changes() }
            return .json(["revision": .int(revision), "items": .array(items.map(Self.render))])
        }
        group.put("agents/:type/:host") { request, context -> Response in
            try await authorize(request)
            let type = try context.parameters.require("type")
            let host = try context.parameters.require("host")
            let bytes = try await request.body.collect(upTo: 4 << 20)
            guard let body = try? JSON.parse(bytes.readableBytesView) else {
                throw Fault(.badRequest, "The heartbeat must be a JSON object.")
            }
            var statuses: [(kind: String, id: String, state: String, detail: String)] = []
            for status in body["statuses"]?.array ?? [] {
                guard let kind = status["kind"]?.string, let id = status["id"]?.string,
                    let state = status["state"]?.string
                else { throw Fault(.badRequest, "Each status needs kind, id and state.") }
                statuses.append((kind, id, state, status["detail"]?.string ?? ""))
            }
            let started = body["started_at"]?.string.flatMap(Timestamp.seconds).map {
                Date(timeIntervalSince1970: Double($0))
            }
            let configuration = body["configuration"]
            if let configuration, configuration.members == nil {
                throw Fault(.badRequest, "The configuration must be a JSON object.")
            }
            if try registry.heartbeat(
                host: host, type: type, startedAt: started ?? Date(), revision: body["revision"]?.int ?? 0,
                statuses: statuses, configuration: configuration)
            {
                log.committed()
            }
            return .empty()
        }
        group.put("reports/:kind/:id") { request, context -> Response in
            try await authorize(request)
            guard let reports else { throw Fault(.notFound, "This service takes no reports.") }
            let kind = try context.parameters.require("kind")
            let id = try context.parameters.require("id")
            let bytes = try await request.body.collect(upTo: AgentReports.maxSize)
            guard let body = try? JSON.parse(bytes.readableBytesView), body.members != nil else {
                throw Fault(.badRequest, "A report must be a JSON object.")
            }
            reports.put(kind: kind, id: id, body)
            return .empty()
        }
        group.get("agents") { request, _ -> Response in
            try await authorize(request)
            let agents = try registry.agents().map { agent -> JSON in
                [
                    "host": .string(agent.host), "type": .string(agent.type), "alive": .bool(agent.alive),
                    "heartbeat_at": .string(Timestamp.utc(Int64(agent.heartbeatAt.timeIntervalSince1970)) + "Z"),
                    "started_at": .string(Timestamp.utc(Int64(agent.startedAt.timeIntervalSince1970)) + "Z"),
                    "revision": .int(agent.revision), "configuration": agent.configuration,
                ]
            }
            return .json(["agents": .array(agents)])
        }
    }
}

/// The latest report of each resource, in memory (an agent sends it again after a
/// restart of the API): what is too large or changes too often for a status, such as the
/// tail of an instance's console.
public final class AgentReports: Sendable {
    /// The largest report taken.
    public static let maxSize = 1 << 20
    static let limit = 10_000
    let entries = Mutex<[String: JSON]>([:])

    public init() {}

    public func put(kind: String, id: String, _ body: JSON) {
        entries.withLock { entries in
            if entries.count >= Self.limit, entries["\(kind)/\(id)"] == nil { entries.removeAll() }
            entries["\(kind)/\(id)"] = body
        }
    }

    public func get(kind: String, id: String) -> JSON? { entries.withLock { $0["\(kind)/\(id)"] } }

    public func remove(kind: String, id: String) { _ = entries.withLock { $0.removeValue(forKey: "\(kind)/\(id)") } }
}
