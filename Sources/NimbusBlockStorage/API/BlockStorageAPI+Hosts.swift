import Foundation
import Hummingbird
import NimbusServiceKit

/// The services and what projects may use: `os-services` (the scheduler, here the API, and
/// a `cinder-volume` per storage host from its agent's heartbeats), `os-availability-zone`,
/// `scheduler-stats/get_pools`, `limits` and `os-quota-sets`.
extension BlockStorageAPI {
    /// Cinder's default quotas.
    static let defaultQuotas: [String: Int] = [
        "volumes": 10, "snapshots": 10, "gigabytes": 1000, "backups": 10, "backup_gigabytes": 1000, "groups": 10,
        "per_volume_gigabytes": -1,
    ]

    func quotas(_ state: BlockStorageState, _ project: String) -> [String: Int] {
        Self.defaultQuotas.merging(state.quotas[project] ?? [:]) { $1 }
    }

    /// What a project uses: volumes, snapshots, and the gigabytes of both.
    func usage(_ state: BlockStorageState, _ project: String) -> [String: Int] {
        let volumes = state.volumes.values.filter { $0.projectID == project }
        let snapshots = state.snapshots.values.filter { $0.projectID == project }
        return [
            "volumes": volumes.count, "snapshots": snapshots.count,
            "gigabytes": volumes.reduce(0) { $0 + $1.size } + snapshots.reduce(0) { $0 + $1.size },
        ]
    }

    /// Cinder's quota refusals (413) for `volumes` more volumes of `gigabytes` more.
    /// (`newSize`: an extend's new size, checked against `per_volume_gigabytes`.)
    func checkQuota(_ state: BlockStorageState, project: String, volumes: Int, gigabytes: Int, newSize: Int? = nil)
        throws
    {
        let limits = quotas(state, project)
        let used = usage(state, project)
        let perVolume = newSize ?? (volumes > 0 ? gigabytes : 0)
        if let limit = limits["per_volume_gigabytes"], limit >= 0, perVolume > limit {
            throw VolumeFault.overLimit(
                "VolumeSizeExceedsLimit",
                "Requested volume size \(perVolume)G is larger than maximum allowed limit \(limit)G.")
        }
        if let limit = limits["gigabytes"], limit >= 0, used["gigabytes", default: 0] + gigabytes > limit {
            throw VolumeFault.overLimit(
                "VolumeSizeExceedsAvailableQuota",
                "Requested volume or snapshot exceeds allowed gigabytes quota. Requested \(gigabytes)G, quota is \(limit)G and \(used["gigabytes", default: 0])G has been consumed."
            )
        }
        if volumes > 0, let limit = limits["volumes"], limit >= 0, used["volumes", default: 0] + volumes > limit {
            throw VolumeFault.overLimit(
                "VolumeLimitExceeded", "Maximum number of volumes allowed (\(limit)) exceeded for quota 'volumes'.")
        }
    }

    func hostRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v3/:project/os-services") { request, context in
            let caller = try await caller(request, context)
            try requireAdmin(caller, "volume_extension:services:index")
            let version = Self.version(context)
            let query = ListQuery(request)
            let agents = ((try? agents.agents()) ?? []).filter { $0.type == "volume" }.sorted { $0.host < $1.host }
            // The scheduler is this API's own: up while it answers.
            var services: [JSON] = [
                service(
                    binary: "cinder-scheduler", host: ProcessInfo.processInfo.hostName, up: true,
                    updated: clock(), version: version, volume: false)
            ]
            for agent in agents {
                services.append(
                    service(
                        binary: "cinder-volume", host: "\(agent.host)@nimbus", up: agent.alive,
                        updated: Int64(agent.heartbeatAt.timeIntervalSince1970), version: version, volume: true))
            }
            // A host names its backends too (`node1` finds `node1@nimbus`), as in Cinder.
            if let host = query.value("host") {
                services = services.filter {
                    let name = $0["host"]?.string ?? ""
                    return name == host || name.hasPrefix(host + "@")
                }
            }
            if let binary = query.value("binary") { services = services.filter { $0["binary"]?.string == binary } }
            return Response.json(["services": .array(services)])
        }
        router.get("/v3/:project/os-availability-zone") { request, context in
            _ = try await caller(request, context)
            let up = backends().isEmpty == false
            return Response.json([
                "availabilityZoneInfo": [["zoneName": .string(zone), "zoneState": ["available": .bool(up)]]]
            ])
        }
        router.get("/v3/:project/scheduler-stats/get_pools") { request, context in
            let caller = try await caller(request, context)
            try requireAdmin(caller, "scheduler_extension:scheduler_stats:get_pools")
            let detail = ListQuery(request).value("detail").map { Self.trueWords.contains($0.lowercased()) } ?? false
            let state = store.snapshot
            return Response.json([
                "pools": .array(
                    backends().map { backend in
                        let allocated = state.volumes.values.filter { $0.host == backend.host }.reduce(0) {
                            $0 + $1.size
                        }
                        var pool: [(String, JSON)] = [("name", .string("\(backend.host)@nimbus#nimbus"))]
                        if detail {
                            pool.append(
                                (
                                    "capabilities",
                                    [
                                        "pool_name": "nimbus", "volume_backend_name": "nimbus", "vendor_name": "Nimbus",
                                        "driver_version": "1.0", "storage_protocol": "nbd",
                                        "total_capacity_gb": .int(Int64(backend.total)),
                                        "free_capacity_gb": .int(Int64(max(0, backend.total - allocated))),
                                        "allocated_capacity_gb": .int(Int64(allocated)), "reserved_percentage": 0,
                                        "thin_provisioning_support": true, "thick_provisioning_support": false,
                                        "max_over_subscription_ratio": "1.0", "QoS_support": false,
                                        "multiattach": false,
                                        "timestamp": Self.time(clock()),
                                    ]
                                ))
                        }
                        return .object(pool)
                    })
            ])
        }
        router.get("/v3/:project/limits") { request, context in
            let caller = try await caller(request, context)
            let requested = ListQuery(request).value("project_id")
            let project = (caller.isAdmin ? requested : nil) ?? caller.projectID ?? ""
            let state = store.snapshot
            let limits = quotas(state, project)
            let used = usage(state, project)
            return Response.json([
                "limits": [
                    "rate": [],
                    "absolute": [
                        "maxTotalVolumes": .int(Int64(limits["volumes"] ?? 0)),
                        "maxTotalSnapshots": .int(Int64(limits["snapshots"] ?? 0)),
                        "maxTotalVolumeGigabytes": .int(Int64(limits["gigabytes"] ?? 0)),
                        "maxTotalBackups": .int(Int64(limits["backups"] ?? 0)),
                        "maxTotalBackupGigabytes": .int(Int64(limits["backup_gigabytes"] ?? 0)),
                        "totalVolumesUsed": .int(Int64(used["volumes"] ?? 0)),
                        "totalGigabytesUsed": .int(Int64(used["gigabytes"] ?? 0)),
                        "totalSnapshotsUsed": .int(Int64(used["snapshots"] ?? 0)), "totalBackupsUsed": 0,
                        "totalBackupGigabytesUsed": 0,
                    ],
                ]
            ])
        }
        router.get("/v3/:project/os-quota-sets/:target") { request, context in
            let caller = try await caller(request, context)
            let target = try context.parameters.require("target")
            guard caller.isAdmin || caller.projectID == target else {
                throw VolumeFault.policy("volume_extension:quotas:show")
            }
            let state = store.snapshot
            let usageWanted =
                ListQuery(request).value("usage").map { Self.trueWords.contains($0.lowercased()) } ?? false
            return Response.json(["quota_set": quotaSet(state, target, usage: usageWanted, id: true)])
        }
        router.get("/v3/:project/os-quota-sets/:target/defaults") { request, context in
            _ = try await caller(request, context)
            let target = try context.parameters.require("target")
            var fields: [(String, JSON)] = [("id", .string(target))]
            fields += quotaFields(Self.defaultQuotas, store.snapshot)
            return Response.json(["quota_set": .object(fields)])
        }
        router.put("/v3/:project/os-quota-sets/:target") { request, context in
            let caller = try await caller(request, context)
            try requireAdmin(caller, "volume_extension:quotas:update")
            let target = try context.parameters.require("target")
            let given = try member(try await body(request, context: context), "quota_set")
            var changes: [String: Int] = [:]
            let types = store.snapshot.types.values.map(\.name)
            let perType = Set(types.flatMap { ["volumes_\($0)", "snapshots_\($0)", "gigabytes_\($0)"] })
            for (key, value) in given.members ?? [] where key != "id" && key != "tenant_id" {
                guard Self.defaultQuotas[key] != nil || perType.contains(key) else {
                    throw VolumeFault.invalidInput("Bad key(s) in quota set: \(key)")
                }
                guard let number = value.int ?? value.string.flatMap({ Int64($0) }), number >= -1,
                    number <= Int64(Int32.max)
                else {
                    throw VolumeFault.invalid(key, value, "It must be an integer from -1 to \(Int32.max)")
                }
                // Per-type quotas are not kept: every type shares the project's.
                if Self.defaultQuotas[key] != nil { changes[key] = Int(number) }
            }
            let state = try store.write { transaction -> BlockStorageState in
                let used = usage(transaction.state, target)
                for (key, limit) in changes where limit >= 0 && (used[key] ?? 0) > limit {
                    throw VolumeFault.badRequest(
                        "Quota \(key) limit must be equal or greater than existing resources. Current usage is \(used[key] ?? 0) and the requested limit is \(limit)."
                    )
                }
                transaction.state.quotas[target] = (transaction.state.quotas[target] ?? [:]).merging(changes) { $1 }
                transaction.touch(.quota, target)
                return transaction.state
            }
            return Response.json(["quota_set": quotaSet(state, target, usage: false, id: false)])
        }
        router.delete("/v3/:project/os-quota-sets/:target") { request, context in
            let caller = try await caller(request, context)
            try requireAdmin(caller, "volume_extension:quotas:delete")
            let target = try context.parameters.require("target")
            try store.write { transaction in
                transaction.state.quotas[target] = nil
                transaction.touch(.quota, target)
            }
            return Response(status: .ok)
        }
    }

    /// A quota set: the limits (or, with usage, limit/in_use/reserved), with the per-type keys.
    func quotaSet(_ state: BlockStorageState, _ project: String, usage wanted: Bool, id: Bool) -> JSON {
        let limits = quotas(state, project)
        let used = usage(state, project)
        var fields: [(String, JSON)] = id ? [("id", .string(project))] : []
        for (key, value) in quotaFields(limits, state) {
            let name = key
            fields.append(
                (
                    name,
                    wanted
                        ? ["limit": value, "in_use": .int(Int64(used[name] ?? 0)), "reserved": 0, "allocated": 0]
                        : value
                ))
        }
        return .object(fields)
    }

    /// The limits with a `volumes_<type>`, `snapshots_<type>`, `gigabytes_<type>` per type
    /// (unlimited: Nimbus keeps no per-type quota).
    func quotaFields(_ limits: [String: Int], _ state: BlockStorageState) -> [(String, JSON)] {
        var fields = limits.sorted { $0.key < $1.key }.map { ($0.key, JSON.int(Int64($0.value))) }
        for type in state.types.values.sorted(by: { $0.name < $1.name }) {
            for kind in ["gigabytes", "snapshots", "volumes"] { fields.append(("\(kind)_\(type.name)", -1)) }
        }
        return fields
    }

    /// A service as `os-services` shows it at `version`.
    func service(binary: String, host: String, up: Bool, updated: Int64, version: Microversion, volume: Bool) -> JSON {
        var fields: [(String, JSON)] = [
            ("binary", .string(binary)), ("host", .string(host)), ("zone", .string(zone)), ("status", "enabled"),
            ("state", up ? "up" : "down"), ("updated_at", Self.time(updated)), ("disabled_reason", .null),
        ]
        if volume {
            fields += [("replication_status", "not-capable"), ("active_backend_id", .null), ("frozen", false)]
        }
        if version >= Microversion(3, 7) { fields.append(("cluster", .null)) }
        if version >= Microversion(3, 49), volume { fields.append(("backend_state", up ? "up" : "down")) }
        return .object(fields)
    }
}
