import Foundation
import NIOCore
import NIOHTTP1
import NimbusServiceKit

/// An agent's side of the channel to its API (`AgentChannel` in ServiceKit): list, watch and
/// heartbeat over HTTP with its service user's token, logging in again when refused.
public struct ChannelClient: Sendable {
    public enum Failure: Error, CustomStringConvertible {
        /// The API or identity could not be reached, or answered something unexpected: retry.
        case unavailable(String)
        /// The watch's revision is older than the oldest change the API keeps: list again.
        case tooOld(oldest: Int64)
        /// The agent's user is refused: retrying does not help until the answer file is fixed.
        case refused(String)

        public var description: String {
            switch self {
            case .unavailable(let reason): "the API is unavailable: \(reason)"
            case .tooOld(let oldest): "the API keeps changes from revision \(oldest) only"
            case .refused(let reason): "refused: \(reason)"
            }
        }
    }

    public struct Snapshot: Sendable, Equatable {
        public var revision: Int64
        public var items: [ChangeLog.Item]
    }

    let api: ServiceClient
    let watchClient: ServiceClient
    let login: ServiceLogin

    /// `apiURL` like `http://10.0.0.11:9696`.
    public init(apiURL: String, login: ServiceLogin) throws {
        api = try ServiceClient(baseURL: apiURL, timeout: .seconds(10), maxBody: 64 << 20)
        // A watch waits up to 30 s on the API's side.
        watchClient = try ServiceClient(baseURL: apiURL, timeout: .seconds(45), maxBody: 64 << 20)
        self.login = login
    }

    func send(
        _ client: ServiceClient, _ method: HTTPMethod, _ path: String, body: JSON? = nil
    ) async throws(Failure) -> ServiceClient.Reply {
        for attempt in 0..<2 {
            let token: String
            do { token = try await login.grant(renew: attempt > 0).token } catch {
                switch error {
                case .unreachable(let reason): throw .unavailable(reason)
                case .refused: throw .refused(error.description)
                }
            }
            var headers = [("X-Auth-Token", token)]
            if body != nil { headers.append(("Content-Type", "application/json")) }
            let reply: ServiceClient.Reply
            do { reply = try await client.send(method, path, headers: headers, body: body?.bytes) } catch {
                throw .unavailable("\(error)")
            }
            // A token the API refuses (identity restarted, keys rotated): log in again, once.
            if reply.status == 401 && attempt == 0 { continue }
            return reply
        }
        throw .unavailable("unreachable")
    }

    static func items(_ answer: JSON?) throws(Failure) -> Snapshot {
        guard let answer, let revision = answer["revision"]?.int, let items = answer["items"]?.array else {
            throw .unavailable("the answer is not a channel answer")
        }
        return Snapshot(
            revision: revision,
            items: items.compactMap { item in
                guard let kind = item["kind"]?.string, let id = item["id"]?.string,
                    let revision = item["revision"]?.int
                else { return nil }
                let body = item["body"]
                return ChangeLog.Item(kind: kind, id: id, revision: revision, body: body?.isNull == true ? nil : body)
            })
    }

    static func check(_ reply: ServiceClient.Reply) throws(Failure) {
        switch reply.status {
        case 200...299: return
        case 401, 403: throw .refused("the API answered \(reply.status): \(reply.text.prefix(200))")
        case 410:
            throw .tooOld(oldest: (try? JSON.parse(reply.body))?["oldest"]?.int ?? 0)
        default: throw .unavailable("the API answered \(reply.status): \(reply.text.prefix(200))")
        }
    }

    /// Every resource (of `kind`), and the revision they are at.
    public func list(kind: String? = nil) async throws(Failure) -> Snapshot {
        let reply = try await send(api, .GET, "/agent/v1/resources" + (kind.map { "?kind=\($0)" } ?? ""))
        try Self.check(reply)
        return try Self.items(try? JSON.parse(reply.body))
    }

    /// The changes after `since`, waiting up to `wait` seconds for one.
    public func watch(since: Int64, wait: Int = 30) async throws(Failure) -> Snapshot {
        let reply = try await send(watchClient, .GET, "/agent/v1/watch?since=\(since)&wait=\(wait)")
        try Self.check(reply)
        return try Self.items(try? JSON.parse(reply.body))
    }

    /// A report on one resource (`PUT /agent/v1/reports/{kind}/{id}`): the API keeps the
    /// latest.
    public func report(kind: String, id: String, _ body: JSON) async throws(Failure) {
        let reply = try await send(api, .PUT, "/agent/v1/reports/\(kind)/\(id)", body: body)
        try Self.check(reply)
    }

    /// A heartbeat with the statuses of the resources this agent applied.
    public func heartbeat(
        type: String, host: String, startedAt: Date, revision: Int64, statuses: [ResourceStatus],
        configuration: JSON? = nil
    ) async throws(Failure) {
        var body: JSON = [
            "started_at": .string(Timestamp.utc(Int64(startedAt.timeIntervalSince1970)) + "Z"),
            "revision": .int(revision),
            "statuses": .array(
                statuses.map {
                    [
                        "kind": .string($0.kind), "id": .string($0.id), "state": .string($0.state),
                        "detail": .string($0.detail),
                    ]
                }),
        ]
        if let configuration, case .object(var members) = body {
            members.append(("configuration", configuration))
            body = .object(members)
        }
        let reply = try await send(api, .PUT, "/agent/v1/agents/\(type)/\(host)", body: body)
        try Self.check(reply)
    }
}

/// What an agent made of one resource.
public struct ResourceStatus: Sendable, Equatable {
    public var kind: String
    public var id: String
    public var state: String
    public var detail: String

    public init(kind: String, id: String, state: String, detail: String = "") {
        self.kind = kind
        self.id = id
        self.state = state
        self.detail = detail
    }
}
