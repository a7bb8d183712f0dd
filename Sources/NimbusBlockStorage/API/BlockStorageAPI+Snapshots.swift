import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v3/{project_id}/snapshots`: snapshots of volumes, kept by the backend inside the
/// volume's file; of an in-use volume too, `force` or not (the CLI sends 3.65 without it).
extension BlockStorageAPI {
    /// A snapshot's status: `creating` until its agent reports it made.
    func snapshotStatus(_ snapshot: Snapshot, _ report: AgentRegistry.Status? = nil) -> String {
        guard snapshot.status == "creating", snapshot.statusReset != true,
            let report = report ?? self.report("snapshot", snapshot.id)
        else {
            return snapshot.status
        }
        return ["available", "error"].contains(report.state) ? report.state : snapshot.status
    }

    func snapshotRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.post("/v3/:project/snapshots") { request, context in
            let caller = try await caller(request, context)
            guard caller.canWrite, let project = caller.projectID else {
                throw VolumeFault.policy("volume:create_snapshot")
            }
            let version = Self.version(context)
            let given = try member(try await body(request, context: context), "snapshot")
            try Self.onlyKeys(
                given, ["volume_id", "name", "display_name", "description", "display_description", "force", "metadata"])
            guard let volumeID = given["volume_id"]?.string else {
                throw VolumeFault.invalid("volume_id", given["volume_id"], "'volume_id' is a required property")
            }
            let name = try Self.text(given["name"] ?? given["display_name"], "name")
            let description = try Self.text(given["description"] ?? given["display_description"], "description")
            let metadata = try given["metadata"].flatMap { $0.isNull ? nil : try Self.metadata($0) } ?? [:]
            let force = try given["force"].flatMap { $0.isNull ? nil : try Self.bool($0, "force") }
            if version >= Microversion(3, 66), force == false {
                throw VolumeFault.badRequest(
                    "Since microversion 3.66 the 'force' flag is invalid for this request.  For backward compatability, however, when the 'force' flag is passed with a value evaluating to True, it is silently ignored."
                )
            }
            let volume = try visibleVolume(volumeID, caller)
            let status = volume.effectiveStatus(report("volume", volumeID))
            guard !volume.host.isEmpty else {
                throw VolumeFault.invalidVolume(
                    "The snapshot cannot be created because volume has not been scheduled to any host.")
            }
            if status.hasPrefix("error") {
                throw VolumeFault.invalidVolume("The snapshot cannot be created when the volume is in error status.")
            }
            // In use: allowed from 3.66, with force before, and without force at all (Q1:
            // `openstack volume snapshot create --force` sends 3.65 and no force).
            let allowed = force == false ? ["available"] : ["available", "in-use"]
            guard allowed.contains(status) else {
                throw VolumeFault.invalidVolume(
                    "Volume \(volumeID) status must be \(allowed.joined(separator: ", ")), but current status is: \(status)."
                )
            }
            let now = clock()
            let snapshot = try store.write { transaction -> Snapshot in
                // The volume as it is now (deleted meanwhile: nothing to snapshot).
                guard let current = transaction.state.volumes[volumeID], current.host == volume.host else {
                    throw Self.noVolume(volumeID)
                }
                let limits = quotas(transaction.state, project)
                let used = usage(transaction.state, project)
                if let limit = limits["snapshots"], limit >= 0, used["snapshots", default: 0] + 1 > limit {
                    throw VolumeFault.overLimit(
                        "SnapshotLimitExceeded", "Maximum number of snapshots allowed (\(limit)) exceeded")
                }
                try checkQuota(transaction.state, project: project, volumes: 0, gigabytes: current.size)
                let snapshot = Snapshot(
                    id: UUID().uuidString.lowercased(), volumeID: volumeID, name: name, description: description,
                    size: current.size, projectID: project, userID: caller.userID, status: "creating",
                    metadata: metadata, createdAt: now, updatedAt: nil)
                transaction.state.snapshots[snapshot.id] = snapshot
                transaction.touch(.snapshot, snapshot.id)
                // Its volume's item carries it to the agent.
                transaction.touch(.volume, volumeID)
                return snapshot
            }
            return Response.json(["snapshot": render(snapshot, caller, version, showOnly: false)], status: .accepted)
        }
        router.get("/v3/:project/snapshots") { request, context in
            try await listSnapshots(request, context, detail: false)
        }
        router.get("/v3/:project/snapshots/detail") { request, context in
            try await listSnapshots(request, context, detail: true)
        }
        router.get("/v3/:project/snapshots/:id") { request, context in
            let caller = try await caller(request, context)
            let snapshot = try visibleSnapshot(try context.parameters.require("id"), caller)
            return Response.json(["snapshot": render(snapshot, caller, Self.version(context))])
        }
        router.put("/v3/:project/snapshots/:id") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            _ = try visibleSnapshot(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:update_snapshot") }
            let given = try member(try await body(request, context: context), "snapshot")
            try Self.onlyKeys(given, ["name", "display_name", "description", "display_description"])
            guard !(given.members ?? []).isEmpty else {
                throw VolumeFault.badRequest(
                    "Invalid input for field/attribute snapshot. At least one of 'name' or 'description' is required")
            }
            let name = try Self.text(given["name"] ?? given["display_name"], "name")
            let description = try Self.text(given["description"] ?? given["display_description"], "description")
            let now = clock()
            let updated = try store.write { transaction -> Snapshot in
                guard var snapshot = transaction.state.snapshots[id] else { throw Self.noSnapshot(id) }
                if given["name"] != nil || given["display_name"] != nil { snapshot.name = name }
                if given["description"] != nil || given["display_description"] != nil {
                    snapshot.description = description
                }
                snapshot.updatedAt = now
                transaction.state.snapshots[id] = snapshot
                transaction.touch(.snapshot, id)
                return snapshot
            }
            return Response.json(["snapshot": render(updated, caller, Self.version(context), showOnly: false)])
        }
        router.delete("/v3/:project/snapshots/:id") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            let snapshot = try visibleSnapshot(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:delete_snapshot") }
            let status = snapshotStatus(snapshot)
            guard ["available", "error"].contains(status) else {
                throw VolumeFault.badRequest(
                    "Invalid snapshot: Snapshot status must be available or error and must not be part of a group.")
            }
            let reports = volumeReports()
            try store.write { transaction in
                guard let found = transaction.state.snapshots[id] else { throw Self.noSnapshot(id) }
                if transaction.state.volumes.values.contains(where: {
                    $0.snapshotID == id && $0.effectiveStatus(reports[$0.id]) == "creating"
                }) {
                    throw VolumeFault.badRequest("Invalid snapshot: a volume is being made from it.")
                }
                transaction.state.snapshots[id] = nil
                transaction.touch(.snapshot, id)
                transaction.touch(.volume, found.volumeID)
            }
            return Response(status: .accepted)
        }
    }

    /// The admins' snapshot actions: `os-reset_status` and `os-force_delete`.
    func snapshotActionRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.post("/v3/:project/snapshots/:id/action") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            _ = try visibleSnapshot(id, caller)
            let given = try await body(request, context: context)
            guard let (action, argument) = given.members?.first, given.members?.count == 1 else {
                throw VolumeFault.badRequest(
                    "There is no such action. Verify the request body and Content-Type header and try again.")
            }
            switch action {
            case "os-reset_status":
                try requireAdmin(caller, "volume_extension:snapshot_admin_actions:reset_status")
                let statuses = [
                    "creating", "available", "deleting", "error", "error_deleting", "unmanaging", "backing-up",
                    "restoring",
                ]
                guard let status = argument["status"]?.string, statuses.contains(status) else {
                    throw VolumeFault.badRequest(
                        "Snapshot status \(argument["status"]?.text ?? "None") not allowed, use one of \(statuses.joined(separator: ", "))."
                    )
                }
                try store.write { transaction in
                    guard var snapshot = transaction.state.snapshots[id] else { throw Self.noSnapshot(id) }
                    snapshot.status = status
                    snapshot.statusReset = true
                    transaction.state.snapshots[id] = snapshot
                    transaction.touch(.snapshot, id)
                }
            case "os-force_delete":
                try requireAdmin(caller, "volume_extension:snapshot_admin_actions:force_delete")
                try store.write { transaction in
                    guard let snapshot = transaction.state.snapshots[id] else { throw Self.noSnapshot(id) }
                    transaction.state.snapshots[id] = nil
                    transaction.touch(.snapshot, id)
                    transaction.touch(.volume, snapshot.volumeID)
                }
            default:
                throw VolumeFault.badRequest(
                    "There is no such action: \(action). Verify the request body and Content-Type header and try again."
                )
            }
            return Response(status: .accepted)
        }
    }

    func visibleSnapshot(_ id: String, _ caller: Caller) throws -> Snapshot {
        guard let snapshot = store.snapshot.snapshots[id], caller.isAdmin || snapshot.projectID == caller.projectID
        else { throw Self.noSnapshot(id) }
        return snapshot
    }

    static func noSnapshot(_ id: String) -> VolumeFault { VolumeFault.notFound("Snapshot \(id) could not be found.") }

    func listSnapshots(_ request: Request, _ context: ServiceContext, detail: Bool) async throws -> Response {
        let caller = try await caller(request, context)
        let query = ListQuery(request)
        let version = Self.version(context)
        let everyone =
            caller.isAdmin && query.value("all_tenants").map { Self.trueWords.contains($0.lowercased()) } == true
        var snapshots = store.snapshot.snapshots.values.filter { everyone || $0.projectID == caller.projectID }
        if let name = query.value("name") { snapshots = snapshots.filter { $0.name == name } }
        if let volume = query.value("volume_id") { snapshots = snapshots.filter { $0.volumeID == volume } }
        if let status = query.value("status") { snapshots = snapshots.filter { snapshotStatus($0) == status } }
        let order = try Self.sortOrder(
            query, keys: ["id", "name", "status", "size", "volume_id", "created_at", "updated_at", "project_id"])
        let (limit, offset) = try Self.page(query)
        snapshots = Self.sorted(snapshots, order) { snapshot, key in
            switch key {
            case "name": .text(snapshot.name ?? "")
            case "status": .text(snapshotStatus(snapshot))
            case "size": .number(Int64(snapshot.size))
            case "volume_id": .text(snapshot.volumeID)
            case "created_at": .number(snapshot.createdAt)
            case "updated_at": .number(snapshot.updatedAt ?? 0)
            case "project_id": .text(snapshot.projectID)
            default: .text(snapshot.id)
            }
        }
        if let marker = query.value("marker") {
            guard let index = snapshots.firstIndex(where: { $0.id == marker }) else { throw Self.noSnapshot(marker) }
            snapshots = Array(snapshots[(index + 1)...])
        }
        snapshots = Array(snapshots.dropFirst(offset).prefix(limit))
        return Response.json([
            "snapshots": .array(
                snapshots.map { detail ? render($0, caller, version) : render($0, caller, version, base: true) })
        ])
    }

    /// A snapshot as Cinder shows it: the base fields, the detail ones by version, and the
    /// extended attributes on show and detail lists.
    func render(
        _ snapshot: Snapshot, _ caller: Caller, _ version: Microversion, showOnly: Bool = true, base: Bool = false
    )
        -> JSON
    {
        let status = snapshotStatus(snapshot)
        var fields: [(String, JSON)] = [
            ("id", .string(snapshot.id)), ("created_at", Self.time(snapshot.createdAt)),
            ("updated_at", Self.time(snapshot.updatedAt)), ("name", .optional(snapshot.name)),
            ("description", .optional(snapshot.description)), ("volume_id", .string(snapshot.volumeID)),
            ("status", .string(status)), ("size", .int(Int64(snapshot.size))),
            ("metadata", Self.json(snapshot.metadata)),
        ]
        guard !base else { return .object(fields) }
        if version >= Microversion(3, 14) { fields.append(("group_snapshot_id", .null)) }
        if version >= Microversion(3, 41) { fields.append(("user_id", .string(snapshot.userID))) }
        if version >= Microversion(3, 65) { fields.append(("consumes_quota", true)) }
        if showOnly {
            fields.append(("os-extended-snapshot-attributes:project_id", .string(snapshot.projectID)))
            fields.append(("os-extended-snapshot-attributes:progress", status == "available" ? "100%" : "0%"))
        }
        return .object(fields)
    }
}
