import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v3/{project_id}/attachments` (3.27+), the attachments API compute drives: a create
/// reserves the volume for a server; the compute host's connector (its `ip`) makes the
/// storage host export the volume over NBD to that host alone and answers the
/// `connection_info` to attach it by; `os-complete` (3.44) marks it attached (`in-use`);
/// a delete ends the export and frees the volume.
extension BlockStorageAPI {
    /// The NBD ports the storage hosts export volumes on, one an attachment.
    static let exportPorts = 10810..<11810

    func attachmentRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.post("/v3/:project/attachments") { request, context in
            let caller = try await attachmentCaller(request, context)
            let given = try member(try await body(request, context: context), "attachment")
            guard let volumeID = given["volume_uuid"]?.string, !volumeID.isEmpty else {
                throw VolumeFault.badRequest(
                    "Invalid input for field/attribute volume_uuid. 'volume_uuid' is a required property")
            }
            let instance = given["instance_uuid"]?.string
            let mode = given["mode"]?.string ?? "null"
            let connector = try Self.connector(given["connector"])
            _ = try visibleVolume(volumeID, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:attachment_create") }
            let exportHosts = exportAddresses()
            let reports = volumeReports()
            let now = clock()
            let made = try store.write { transaction -> (Volume, VolumeAttachment) in
                guard var volume = transaction.state.volumes[volumeID] else { throw Self.noVolume(volumeID) }
                let status = volume.effectiveStatus(reports[volumeID])
                guard status == "available" else {
                    throw VolumeFault.invalidVolume(
                        "Volume \(volumeID) status must be available to reserve, but the status is \(status).")
                }
                let readOnly = mode == "ro" || volume.readOnly
                var attachment = VolumeAttachment(
                    id: UUID().uuidString.lowercased(), serverID: instance, hostName: nil, device: "",
                    mode: readOnly ? "ro" : "rw", status: "reserved", attachedAt: nil)
                volume.status = "reserved"
                if let connector {
                    try Self.connect(&attachment, connector, volume, transaction.state, exportHosts)
                    volume.status = "attaching"
                }
                volume.attachments.append(attachment)
                volume.updatedAt = now
                transaction.state.volumes[volumeID] = volume
                transaction.touch(.volume, volumeID)
                return (volume, attachment)
            }
            return Response.json(["attachment": render(made.1, made.0, exportHosts)])
        }
        router.get("/v3/:project/attachments") { request, context in
            try await listAttachments(request, context, detailed: false)
        }
        router.get("/v3/:project/attachments/detail") { request, context in
            try await listAttachments(request, context, detailed: true)
        }
        router.get("/v3/:project/attachments/:id") { request, context in
            let caller = try await attachmentCaller(request, context)
            let (volume, attachment) = try visibleAttachment(try context.parameters.require("id"), caller)
            return Response.json(["attachment": render(attachment, volume, exportAddresses())])
        }
        // The connector given (or given again): the export made, the connection info answered.
        router.put("/v3/:project/attachments/:id") { request, context in
            let caller = try await attachmentCaller(request, context)
            let id = try context.parameters.require("id")
            let (found, _) = try visibleAttachment(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:attachment_update") }
            let given = try member(try await body(request, context: context), "attachment")
            guard let connector = try Self.connector(given["connector"]) else {
                throw VolumeFault.badRequest(
                    "Invalid input for field/attribute connector. 'connector' is a required property")
            }
            let exportHosts = exportAddresses()
            let now = clock()
            let updated = try store.write { transaction -> (Volume, VolumeAttachment) in
                guard var volume = transaction.state.volumes[found.id],
                    let index = volume.attachments.firstIndex(where: { $0.id == id })
                else { throw Self.noAttachment(id) }
                try Self.connect(&volume.attachments[index], connector, volume, transaction.state, exportHosts)
                if volume.status == "reserved" { volume.status = "attaching" }
                volume.updatedAt = now
                transaction.state.volumes[volume.id] = volume
                transaction.touch(.volume, volume.id)
                return (volume, volume.attachments[index])
            }
            return Response.json(["attachment": render(updated.1, updated.0, exportHosts)])
        }
        router.post("/v3/:project/attachments/:id/action") { request, context in
            let caller = try await attachmentCaller(request, context)
            let id = try context.parameters.require("id")
            let (found, _) = try visibleAttachment(id, caller)
            let given = try await body(request, context: context)
            guard given.members?.count == 1, given["os-complete"] != nil, Self.version(context) >= Microversion(3, 44)
            else {
                throw VolumeFault.badRequest(
                    "There is no such action: \(given.members?.map(\.0).joined(separator: ", ") ?? "").")
            }
            guard caller.canWrite else { throw VolumeFault.policy("volume:attachment_complete") }
            let now = clock()
            try store.write { transaction in
                guard var volume = transaction.state.volumes[found.id],
                    let index = volume.attachments.firstIndex(where: { $0.id == id })
                else { throw Self.noAttachment(id) }
                volume.attachments[index].status = "attached"
                volume.attachments[index].attachedAt = volume.attachments[index].attachedAt ?? now
                volume.status = "in-use"
                volume.updatedAt = now
                transaction.state.volumes[volume.id] = volume
                transaction.touch(.volume, volume.id)
            }
            return Response(status: .noContent)
        }
        // The export ended with it; the volume is free again when it was the last one.
        router.delete("/v3/:project/attachments/:id") { request, context in
            let caller = try await attachmentCaller(request, context)
            let id = try context.parameters.require("id")
            let (found, _) = try visibleAttachment(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:attachment_delete") }
            let now = clock()
            let left = try store.write { transaction -> Volume in
                guard var volume = transaction.state.volumes[found.id] else { throw Self.noAttachment(id) }
                volume.attachments.removeAll { $0.id == id }
                volume.status = volume.attachments.contains { $0.status == "attached" } ? "in-use" : "available"
                volume.updatedAt = now
                transaction.state.volumes[volume.id] = volume
                transaction.touch(.volume, volume.id)
                return volume
            }
            let exportHosts = exportAddresses()
            return Response.json(["attachments": .array(left.attachments.map { render($0, left, exportHosts) })])
        }
    }

    /// The caller of an attachments route: only from 3.27 (before it Cinder has no such path).
    func attachmentCaller(_ request: Request, _ context: ServiceContext) async throws -> Caller {
        guard Self.version(context) >= Microversion(3, 27) else {
            throw VolumeFault.notFound("The resource could not be found.")
        }
        return try await caller(request, context)
    }

    static func noAttachment(_ id: String) -> VolumeFault {
        VolumeFault.notFound("Volume attachment could not be found with filter: attachment_id = \(id).")
    }

    /// An attachment the caller may see, with its volume.
    func visibleAttachment(_ id: String, _ caller: Caller) throws -> (Volume, VolumeAttachment) {
        for volume in store.snapshot.volumes.values {
            if let attachment = volume.attachments.first(where: { $0.id == id }),
                caller.isAdmin || volume.projectID == caller.projectID
            {
                return (volume, attachment)
            }
        }
        throw Self.noAttachment(id)
    }

    func listAttachments(_ request: Request, _ context: ServiceContext, detailed: Bool) async throws -> Response {
        let caller = try await attachmentCaller(request, context)
        let query = request.uri.queryParameters
        let allProjects = caller.isAdmin && query["all_tenants"].map { Self.trueWords.contains(String($0)) } == true
        let exportHosts = exportAddresses()
        var entries: [(String, JSON)] = []
        for volume in store.snapshot.volumes.values
        where allProjects ? true : volume.projectID == (context.parameters.get("project") ?? caller.projectID) {
            if let wanted = query["volume_id"], wanted != volume.id { continue }
            for attachment in volume.attachments {
                if let wanted = query["instance_id"], String(wanted) != attachment.serverID { continue }
                if let wanted = query["status"], String(wanted) != attachment.status { continue }
                let shown = render(attachment, volume, exportHosts)
                entries.append(
                    (
                        attachment.id,
                        detailed
                            ? shown
                            : [
                                "id": .string(attachment.id), "status": .string(attachment.status),
                                "instance": .optional(attachment.serverID), "volume_id": .string(volume.id),
                            ]
                    ))
            }
        }
        return Response.json(["attachments": .array(entries.sorted { $0.0 < $1.0 }.map(\.1))])
    }

    /// The connector a request gives: an object naming the attaching host's `ip`.
    static func connector(_ value: JSON?) throws -> JSON? {
        guard let value, !value.isNull else { return nil }
        guard value.members != nil else {
            throw VolumeFault.badRequest("Invalid input for field/attribute connector. It must be an object")
        }
        var address = in_addr()
        guard let ip = value["ip"]?.string, inet_pton(AF_INET, ip, &address) == 1 else {
            throw VolumeFault.invalidInput("The connector must give the attaching host's IPv4 address as 'ip'.")
        }
        return value
    }

    /// Gives an attachment its connector: the host it is exported to and a port of its
    /// storage host (kept when it has one).
    static func connect(
        _ attachment: inout VolumeAttachment, _ connector: JSON, _ volume: Volume, _ state: BlockStorageState,
        _ exportHosts: [String: String]
    ) throws {
        guard !volume.host.isEmpty, exportHosts[volume.host] != nil else {
            throw VolumeFault.invalidVolume(
                "The volume service of \(volume.host) is down: the volume cannot be exported.")
        }
        attachment.connectorIP = connector["ip"]?.string
        attachment.hostName = connector["host"]?.string
        // The device the server sees it as (Nova's connector names it).
        if let mountpoint = connector["mountpoint"]?.string { attachment.device = mountpoint }
        attachment.status = "attaching"
        guard attachment.port == nil else { return }
        let taken = Set(
            state.volumes.values.filter { $0.host == volume.host }.flatMap { $0.attachments.compactMap(\.port) })
        guard let port = exportPorts.first(where: { !taken.contains($0) }) else {
            throw VolumeFault.invalidVolume("\(volume.host) has no free export port left.")
        }
        attachment.port = port
    }

    /// The address each live storage host exports its volumes on (its agent's heartbeat).
    func exportAddresses() -> [String: String] {
        var addresses: [String: String] = [:]
        for agent in (try? agents.agents()) ?? [] where agent.type == "volume" && agent.alive {
            if let address = agent.configuration["export_host"]?.string, !address.isEmpty {
                addresses[agent.host] = address
            }
        }
        return addresses
    }

    /// An attachment as Cinder's attachments view shows it, with the connection info
    /// compute attaches it by (an NBD export) once a connector was given.
    func render(_ attachment: VolumeAttachment, _ volume: Volume, _ exportHosts: [String: String]) -> JSON {
        var connection: JSON = [:]
        if let port = attachment.port, let host = exportHosts[volume.host] {
            connection = [
                "driver_volume_type": "nbd",
                "data": [
                    "host": .string(host), "port": .int(Int64(port)), "name": .string(volume.id),
                    "volume_id": .string(volume.id), "access_mode": .string(attachment.mode), "encrypted": false,
                    "export": .string("nbd://\(host):\(port)/\(volume.id)"),
                ],
            ]
        }
        return [
            "id": .string(attachment.id), "status": .string(attachment.status),
            "instance": .optional(attachment.serverID), "volume_id": .string(volume.id),
            "attached_at": Self.time(attachment.attachedAt), "detached_at": .null,
            "attach_mode": .string(attachment.mode), "connection_info": connection,
        ]
    }
}
