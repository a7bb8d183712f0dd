import Foundation
import Hummingbird
import NimbusServiceKit

/// `os-server-groups`: a project's server groups and their policy (`policies` before 2.64,
/// `policy` and `rules` from it). Members are the servers made with the group as a
/// scheduler hint; the scheduler keeps the policy.
extension ComputeAPI {
    func serverGroupRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/os-server-groups") { request, context in
            let caller = try await caller(request)
            let query = ListQuery(request)
            let everyone = caller.isAdmin && query.value("all_projects").map { !Self.falseWords.contains($0) } == true
            let state = store.snapshot
            var groups = state.serverGroups.values.filter { everyone || $0.projectID == caller.projectID }
                .sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
            let offset = Int(query.value("offset") ?? "") ?? 0
            groups = Array(groups.dropFirst(max(0, offset)))
            if let limit = query.value("limit").flatMap({ Int($0) }) { groups = Array(groups.prefix(max(0, limit))) }
            return Response.json([
                "server_groups": .array(groups.map { shown($0, state, Self.version(context)) })
            ])
        }
        router.post("/v2.1/os-server-groups") { request, context in
            let caller = try await caller(request)
            guard caller.canWrite, let project = caller.projectID else {
                throw ComputeFault.policy("os_compute_api:os-server-groups:create")
            }
            let version = Self.version(context)
            let given = try member(try await body(request, context: context), "server_group")
            let name = try Self.resourceName(given["name"], field: "name")
            let known = version >= Microversion(2, 15) ? ServerGroup.policies : ["affinity", "anti-affinity"]
            let policy: String
            var maxPerHost: Int?
            if version >= Microversion(2, 64) {
                try Self.onlyKeys(given, ["name", "policy", "rules"], in: "server_group")
                guard let text = given["policy"]?.string, known.contains(text) else {
                    throw ComputeFault.invalid("policy", given["policy"], "It must be one of \(known)")
                }
                policy = text
                if let rules = given["rules"], !rules.isNull, rules.members?.isEmpty == false {
                    guard policy == "anti-affinity" else {
                        throw ComputeFault.badRequest("Only anti-affinity policy supports rules.")
                    }
                    try Self.onlyKeys(rules, ["max_server_per_host"], in: "rules")
                    let value = rules["max_server_per_host"]
                    guard let number = value?.int ?? value?.string.flatMap({ Int64($0) }), number >= 1 else {
                        throw ComputeFault.invalid("max_server_per_host", value, "It must be an integer of 1 or more")
                    }
                    maxPerHost = Int(number)
                }
            } else {
                try Self.onlyKeys(given, ["name", "policies"], in: "server_group")
                guard let policies = given["policies"]?.array?.compactMap(\.string), policies.count == 1,
                    known.contains(policies[0])
                else {
                    throw ComputeFault.invalid(
                        "policies", given["policies"], "It must hold exactly one of \(known)")
                }
                policy = policies[0]
            }
            let now = clock()
            let group = try store.write { transaction -> ServerGroup in
                let limit = quotas(transaction.state, project)["server_groups"] ?? -1
                let used = transaction.state.serverGroups.values.count { $0.projectID == project }
                guard limit < 0 || used < limit else {
                    throw ComputeFault(.forbidden, "Quota exceeded, too many server groups.")
                }
                let group = ServerGroup(
                    id: UUID().uuidString.lowercased(), name: name, policy: policy, maxServersPerHost: maxPerHost,
                    projectID: project, userID: caller.userID, createdAt: now)
                transaction.state.serverGroups[group.id] = group
                transaction.touch(.serverGroup, group.id)
                return group
            }
            return Response.json(["server_group": shown(group, store.snapshot, version)])
        }
        router.get("/v2.1/os-server-groups/:id") { request, context in
            let caller = try await caller(request)
            let state = store.snapshot
            let group = try visibleGroup(try context.parameters.require("id"), caller, state)
            return Response.json(["server_group": shown(group, state, Self.version(context))])
        }
        router.delete("/v2.1/os-server-groups/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            _ = try visibleGroup(id, caller, store.snapshot)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:os-server-groups:delete") }
            try store.write { transaction in
                guard transaction.state.serverGroups[id] != nil else { throw Self.noGroup(id) }
                transaction.state.serverGroups[id] = nil
                transaction.touch(.serverGroup, id)
            }
            return Response(status: .noContent)
        }
    }

    func visibleGroup(_ id: String, _ caller: Caller, _ state: ComputeState) throws -> ServerGroup {
        guard let group = state.serverGroups[id], caller.isAdmin || group.projectID == caller.projectID else {
            throw Self.noGroup(id)
        }
        return group
    }

    static func noGroup(_ id: String) -> ComputeFault {
        ComputeFault.notFound("Instance group \(id) could not be found.")
    }

    /// A server group as Nova shows it at `version`.
    func shown(_ group: ServerGroup, _ state: ComputeState, _ version: Microversion) -> JSON {
        let members = state.servers.values.filter { $0.group == group.id }.sorted { $0.createdAt < $1.createdAt }
        var fields: [(String, JSON)] = [("id", .string(group.id)), ("name", .string(group.name))]
        if version >= Microversion(2, 64) {
            fields.append(("policy", .string(group.policy)))
            fields.append(
                ("rules", group.maxServersPerHost.map { ["max_server_per_host": .int(Int64($0))] } ?? [:]))
        } else {
            fields.append(("policies", [.string(group.policy)]))
            fields.append(("metadata", [:]))
        }
        fields.append(("members", .array(members.map { .string($0.id) })))
        if version >= Microversion(2, 13) {
            fields.append(("project_id", .string(group.projectID)))
            fields.append(("user_id", .string(group.userID)))
        }
        return .object(fields)
    }
}
