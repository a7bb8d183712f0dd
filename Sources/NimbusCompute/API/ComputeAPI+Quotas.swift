import Hummingbird
import NimbusServiceKit

/// `/v2.1/limits` and `/v2.1/os-quota-sets`: each project's limits (Nova's defaults unless
/// an admin set its own) and what it uses of them.
extension ComputeAPI {
    /// Nova's default quotas; `key_pairs` is the service's `[quota] key_pairs`.
    var defaultQuotas: [String: Int] {
        [
            "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128, "key_pairs": keyPairQuota,
            "server_groups": 10, "server_group_members": 10, "injected_files": 5,
            "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255, "fixed_ips": -1,
            "floating_ips": 10, "security_groups": 10, "security_group_rules": 20,
        ]
    }

    /// The quotas shown at `version`: the network ones go at 2.36, the injected-file ones at 2.57.
    static func shownQuotas(_ version: Microversion) -> [String] {
        var names = [
            "cores", "instances", "key_pairs", "metadata_items", "ram", "server_group_members", "server_groups",
        ]
        if version < Microversion(2, 57) {
            names += ["injected_file_content_bytes", "injected_file_path_bytes", "injected_files"]
        }
        if version < Microversion(2, 36) {
            names += ["fixed_ips", "floating_ips", "security_group_rules", "security_groups"]
        }
        return names.sorted()
    }

    /// A project's limits: its own where set, the defaults otherwise.
    func quotas(_ state: ComputeState, _ project: String) -> [String: Int] {
        defaultQuotas.merging(state.quotas[project] ?? [:]) { $1 }
    }

    /// What a project uses: its servers, their vCPUs and memory (key pairs Nova counts per
    /// user and shows as 0 for a project).
    func usage(_ state: ComputeState, _ project: String) -> [String: Int] {
        let servers = state.servers.values.filter { $0.projectID == project }
        return [
            "instances": servers.count, "cores": servers.reduce(0) { $0 + $1.flavor.vcpus },
            "ram": servers.reduce(0) { $0 + $1.flavor.memoryMiB },
            "server_groups": state.serverGroups.values.count { $0.projectID == project },
        ]
    }

    func quotaRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/limits") { request, context in
            let caller = try await caller(request)
            let project =
                ListQuery(request).value("tenant_id").flatMap { caller.isAdmin ? $0 : nil } ?? caller.projectID
            guard let project else { throw ComputeFault.badRequest("A project-scoped token is required.") }
            let state = store.snapshot
            let limits = quotas(state, project)
            let used = usage(state, project)
            let version = Self.version(context)
            var absolute: [(String, JSON)] = [
                ("maxTotalInstances", limits["instances"]), ("maxTotalCores", limits["cores"]),
                ("maxTotalRAMSize", limits["ram"]), ("maxServerMeta", limits["metadata_items"]),
                ("maxImageMeta", limits["metadata_items"]), ("maxTotalKeypairs", limits["key_pairs"]),
                ("maxServerGroups", limits["server_groups"]), ("maxServerGroupMembers", limits["server_group_members"]),
                ("totalInstancesUsed", used["instances"] ?? 0), ("totalCoresUsed", used["cores"] ?? 0),
                ("totalRAMUsed", used["ram"] ?? 0), ("totalServerGroupsUsed", used["server_groups"] ?? 0),
            ].map { ($0.0, .int(Int64($0.1 ?? -1))) }
            if version < Microversion(2, 57) {
                absolute += [
                    ("maxPersonality", .int(Int64(limits["injected_files"] ?? 5))),
                    ("maxPersonalitySize", .int(Int64(limits["injected_file_content_bytes"] ?? 10240))),
                ]
            }
            if version < Microversion(2, 36) {
                absolute += [
                    ("maxSecurityGroups", .int(Int64(limits["security_groups"] ?? 10))),
                    ("maxSecurityGroupRules", .int(Int64(limits["security_group_rules"] ?? 20))),
                    ("maxTotalFloatingIps", .int(Int64(limits["floating_ips"] ?? 10))),
                    ("totalSecurityGroupsUsed", 0), ("totalFloatingIpsUsed", 0),
                ]
            }
            return Response.json(["limits": ["rate": [], "absolute": .object(absolute.sorted { $0.0 < $1.0 })]])
        }
        router.get("/v2.1/os-quota-sets/:project/defaults") { request, context in
            _ = try await caller(request)
            let project = try context.parameters.require("project")
            return Response.json(["quota_set": quotaSet(defaultQuotas, id: project, Self.version(context))])
        }
        router.get("/v2.1/os-quota-sets/:project/detail") { request, context in
            let project = try await quotaProject(request, context, "detail")
            let state = store.snapshot
            let limits = quotas(state, project)
            let used = usage(state, project)
            var fields: [(String, JSON)] = [("id", .string(project))]
            for name in Self.shownQuotas(Self.version(context)) {
                fields.append(
                    (
                        name,
                        [
                            "in_use": .int(Int64(used[name] ?? 0)), "limit": .int(Int64(limits[name] ?? -1)),
                            "reserved": 0,
                        ]
                    ))
            }
            return Response.json(["quota_set": .object(fields)])
        }
        router.get("/v2.1/os-quota-sets/:project") { request, context in
            let project = try await quotaProject(request, context, "show")
            return Response.json(
                ["quota_set": quotaSet(quotas(store.snapshot, project), id: project, Self.version(context))])
        }
        router.put("/v2.1/os-quota-sets/:project") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-quota-sets:update")
            let project = try context.parameters.require("project")
            let version = Self.version(context)
            let given = try member(try await body(request, context: context), "quota_set")
            let settable = Set(Self.shownQuotas(version))
            var changes: [String: Int] = [:]
            for (name, value) in given.members ?? [] where name != "force" {
                guard settable.contains(name) else {
                    throw ComputeFault.badRequest(
                        "Invalid input for field/attribute quota_set. Additional properties are not allowed ('\(name)' was unexpected)"
                    )
                }
                guard let limit = value.int.map(Int.init) ?? value.string.flatMap({ Int($0) }), limit >= -1 else {
                    throw ComputeFault.invalid(name, value, "\(value.text) is less than the minimum of -1")
                }
                changes[name] = limit
            }
            let updated = try store.write { transaction -> [String: Int] in
                transaction.state.quotas[project, default: [:]].merge(changes) { $1 }
                transaction.touch(.quota, project)
                return quotas(transaction.state, project)
            }
            return Response.json(["quota_set": quotaSet(updated, id: nil, version)])
        }
        router.delete("/v2.1/os-quota-sets/:project") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-quota-sets:delete")
            let project = try context.parameters.require("project")
            try store.write { transaction in
                transaction.state.quotas[project] = nil
                transaction.touch(.quota, project)
            }
            return Response(status: .accepted)
        }
    }

    /// The project a quota read is about: one's own, or any for an admin.
    func quotaProject(_ request: Request, _ context: ServiceContext, _ action: String) async throws -> String {
        let caller = try await caller(request)
        let project = try context.parameters.require("project")
        guard caller.isAdmin || caller.projectID == project else {
            throw ComputeFault.policy("os_compute_api:os-quota-sets:\(action)")
        }
        return project
    }

    func quotaSet(_ limits: [String: Int], id: String?, _ version: Microversion) -> JSON {
        var fields: [(String, JSON)] = id.map { [("id", .string($0))] } ?? []
        for name in Self.shownQuotas(version) { fields.append((name, .int(Int64(limits[name] ?? -1)))) }
        return .object(fields)
    }
}
