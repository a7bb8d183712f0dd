import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v2.1/servers/{id}/os-volume_attachments`: a volume the caller can see attached to a
/// server as Nova's new-style attachment flow does it — the block-storage attachment made
/// with the compute host's connector (the storage host exports the volume over NBD to that
/// host), the disk plugged into the guest by the host's agent, the attachment completed
/// (`in-use`) once the agent reports the disk there; a detach unplugs it first and then
/// deletes the attachment. `finishVolumeChanges` carries both halves on, every second.
extension ComputeAPI {
    /// How long an attach or detach may wait for the agent before it is given up.
    static let volumeChangeLimit: Int64 = 120

    func volumeAttachmentRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/servers/:id/os-volume_attachments") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let version = Self.version(context)
            return Response.json([
                "volumeAttachments": .array((server.volumes ?? []).map { Self.render($0, server, version) })
            ])
        }
        router.get("/v2.1/servers/:id/os-volume_attachments/:volume") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let volumeID = try context.parameters.require("volume")
            guard let volume = server.volumes?.first(where: { $0.volumeID == volumeID }) else {
                throw ComputeFault.notFound("volume_id not found: \(volumeID)")
            }
            return Response.json(["volumeAttachment": Self.render(volume, server, Self.version(context))])
        }
        router.post("/v2.1/servers/:id/os-volume_attachments") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:os-volumes-attachments:create") }
            let given = try member(try await body(request, context: context), "volumeAttachment")
            let attached = try await attachVolume(
                given, to: server, caller, token: request.headers[.xAuthToken] ?? "", Self.version(context))
            return Response.json(["volumeAttachment": Self.render(attached, server, Self.version(context))])
        }
        router.put("/v2.1/servers/:id/os-volume_attachments/:volume") { request, context -> Response in
            let caller = try await caller(request)
            _ = try visibleServer(try context.parameters.require("id"), caller)
            throw ComputeFault.badRequest("Swapping or updating a volume attachment is not supported by this cloud.")
        }
        router.delete("/v2.1/servers/:id/os-volume_attachments/:volume") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let server = try visibleServer(id, caller)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:os-volumes-attachments:delete") }
            let volumeID = try context.parameters.require("volume")
            let now = clock()
            let detaching = try store.write { transaction -> ServerVolume in
                guard var server = transaction.state.servers[id] else { throw Self.serverNotFound(id) }
                guard let index = server.volumes?.firstIndex(where: { $0.volumeID == volumeID }) else {
                    throw ComputeFault.notFound("volume_id not found: \(volumeID)")
                }
                guard server.volumes?[index].state == "attached" else {
                    throw ComputeFault.conflict(
                        "Cannot 'detach_volume' instance \(id) while volume \(volumeID) is \(server.volumes?[index].state ?? "")"
                    )
                }
                server.volumes?[index].state = "detaching"
                server.volumes?[index].since = now
                server.updatedAt = now
                transaction.state.servers[id] = server
                transaction.touch(.server, id)
                return server.volumes![index]
            }
            if let peers {
                _ = try? await peers.send(
                    .volume, .POST, "/v3/\(server.projectID)/volumes/\(detaching.volumeID)/action",
                    body: ["os-begin_detaching": [:]])
            }
            return Response(status: .accepted)
        }
    }

    /// A volume attachment as Nova shows it at `version`.
    static func render(_ volume: ServerVolume, _ server: Server, _ version: Microversion) -> JSON {
        var fields: [(String, JSON)] = [
            ("device", .string(volume.device)), ("serverId", .string(server.id)),
            ("volumeId", .string(volume.volumeID)),
        ]
        if version < Microversion(2, 89) { fields.insert(("id", .string(volume.volumeID)), at: 0) }
        if version >= Microversion(2, 70) { fields.append(("tag", .optional(volume.tag))) }
        if version >= Microversion(2, 79) {
            fields.append(("delete_on_termination", .bool(volume.deleteOnTermination)))
        }
        if version >= Microversion(2, 89) {
            fields += [("attachment_id", .string(volume.attachmentID)), ("bdm_uuid", .string(volume.mappingID))]
        }
        return .object(fields)
    }

    /// Checks an attach and starts it: the volume as the caller sees it, an attachment made
    /// with the server's host as connector, the server told to plug it in.
    func attachVolume(
        _ given: JSON, to server: Server, _ caller: Caller, token: String, _ version: Microversion
    ) async throws
        -> ServerVolume
    {
        guard let volumeID = given["volumeId"]?.string, !volumeID.isEmpty else {
            throw ComputeFault.badRequest(
                "Invalid input for field/attribute volumeAttachment. 'volumeId' is a required property")
        }
        guard volumeID.allSatisfy({ $0.isHexDigit || $0 == "-" }), volumeID.count == 36 else {
            throw ComputeFault.badRequest(
                "Invalid input for field/attribute volumeId. Value: \(volumeID). '\(volumeID)' is not a 'uuid'")
        }
        var device: String?
        if let asked = given["device"], !asked.isNull {
            guard let text = asked.string, text.hasPrefix("/dev/vd"), text.count == 8, text.last!.isLowercase,
                text.last != "a"
            else {
                throw ComputeFault.badRequest("The supplied device path (\(asked.string ?? asked.text)) is invalid.")
            }
            device = text
        }
        var tag: String?
        if let value = given["tag"], !value.isNull {
            guard version >= Microversion(2, 49), let text = value.string, text.count <= 60, !text.contains("/"),
                !text.contains(",")
            else { throw ComputeFault.invalid("tag", value, "Additional properties are not allowed") }
            tag = text
        }
        var deleteOnTermination = false
        if let value = given["delete_on_termination"] {
            guard version >= Microversion(2, 79), let flag = value.bool else {
                throw ComputeFault.invalid(
                    "delete_on_termination", value, "Additional properties are not allowed ('delete_on_termination')")
            }
            deleteOnTermination = flag
        }
        let shown = Self.display(server, reports(server.id)[server.id])
        guard ["ACTIVE", "SHUTOFF", "PAUSED"].contains(shown.status), shown.task == nil, !server.host.isEmpty else {
            throw ComputeFault.conflict(
                "Cannot 'attach_volume' instance \(server.id) while it is in vm_state \(shown.vmState)")
        }
        guard let peers else { throw ComputeFault(.serviceUnavailable, "This cloud has no block-storage service.") }
        // The volume, as the caller sees it.
        let found = try await peers.send(
            .volume, .GET, "/v3/\(caller.projectID ?? server.projectID)/volumes/\(volumeID)", token: token)
        guard found.status == 200, let volume = found.body["volume"] else {
            if found.status == 404 { throw ComputeFault.notFound("Volume \(volumeID) could not be found.") }
            throw ComputeFault.badRequest(ComputePeers.message(found.body))
        }
        let status = volume["status"]?.string ?? ""
        guard status == "available" else {
            throw ComputeFault.badRequest(
                "Invalid volume: volume '\(volumeID)' status must be 'available'. Currently in '\(status)'")
        }
        // The device it will be (checked again when recorded).
        let used = Set((store.snapshot.servers[server.id]?.volumes ?? []).map(\.device))
        guard
            let mountpoint = device.flatMap({ used.contains($0) ? nil : $0 })
                ?? "bcdefghijklmnopqrstuvwxyz".map({ "/dev/vd\($0)" }).first(where: { !used.contains($0) })
        else { throw ComputeFault.badRequest("No free disk device names left on server \(server.id).") }
        guard let hostIP = computeHostAddress(server.host) else {
            throw ComputeFault.conflict("The compute service of \(server.host) is down: the volume cannot be attached.")
        }
        // The attachment, made and connected as compute's own (admin) user.
        let made = try await peers.send(
            .volume, .POST, "/v3/\(server.projectID)/attachments",
            body: [
                "attachment": [
                    "volume_uuid": .string(volumeID), "instance_uuid": .string(server.id),
                    "connector": [
                        "ip": .string(hostIP), "host": .string(server.host), "platform": "x86_64",
                        "mountpoint": .string(mountpoint),
                    ],
                ]
            ])
        guard made.status == 200, let attachment = made.body["attachment"], let attachmentID = attachment["id"]?.string,
            let data = attachment["connection_info"]?["data"], let host = data["host"]?.string,
            let port = data["port"]?.int, let name = data["name"]?.string
        else {
            throw ComputeFault.badRequest(ComputePeers.message(made.body))
        }
        let now = clock()
        do {
            return try store.write { transaction -> ServerVolume in
                guard var current = transaction.state.servers[server.id] else { throw Self.serverNotFound(server.id) }
                let volumes = current.volumes ?? []
                guard !volumes.contains(where: { $0.volumeID == volumeID }) else {
                    throw ComputeFault.badRequest(
                        "Invalid volume: volume \(volumeID) is already attached to the instances: \(server.id)")
                }
                guard !volumes.contains(where: { $0.device == mountpoint }) else {
                    throw ComputeFault.conflict("Device \(mountpoint) of server \(server.id) was taken meanwhile.")
                }
                let chosen = mountpoint
                let attached = ServerVolume(
                    volumeID: volumeID, attachmentID: attachmentID, mappingID: UUID().uuidString.lowercased(),
                    device: chosen, tag: tag, deleteOnTermination: deleteOnTermination, exportHost: host,
                    exportPort: Int(port), exportName: name, readOnly: data["access_mode"]?.string == "ro",
                    state: "attaching", since: now)
                current.volumes = volumes + [attached]
                current.updatedAt = now
                transaction.state.servers[server.id] = current
                transaction.touch(.server, server.id)
                return attached
            }
        } catch {
            _ = try? await peers.send(.volume, .DELETE, "/v3/\(server.projectID)/attachments/\(attachmentID)")
            throw error
        }
    }

    /// The management address of a live compute host (its agent's heartbeat).
    func computeHostAddress(_ host: String) -> String? {
        let agent = ((try? agents.agents()) ?? []).first { $0.type == "compute" && $0.host == host && $0.alive }
        return agent?.configuration["host_ip"]?.string.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Carries attaches and detaches on from what the agents report: a disk plugged in
    /// completes its attachment (`in-use`); one the agent failed to plug in, or that took
    /// longer than `volumeChangeLimit`, is rolled back; a disk unplugged (or given up on)
    /// has its attachment deleted.
    public func finishVolumeChanges() async {
        guard let peers else { return }
        // Most seconds nothing is under way: no read of the reports.
        let servers = store.snapshot.servers.values.filter { $0.volumes?.contains { $0.state != "attached" } == true }
        guard !servers.isEmpty else { return }
        // Reported as `<server>/<attachment>`.
        var reported: [String: AgentRegistry.Status] = [:]
        for (key, status) in agents.newestStatuses(kind: "attachment") {
            reported[String(key.split(separator: "/").last ?? "")] = status
        }
        let now = clock()
        for server in servers {
            for volume in server.volumes ?? [] where volume.state != "attached" {
                let report = reported[volume.attachmentID]
                let late = now - volume.since > Self.volumeChangeLimit
                let path = "/v3/\(server.projectID)/attachments/\(volume.attachmentID)"
                if volume.state == "attaching" {
                    if report?.state == "attached" {
                        guard
                            let done = try? await peers.send(
                                .volume, .POST, path + "/action", body: ["os-complete": .null]),
                            done.status < 300
                        else { continue }
                        setVolumeState(server.id, volume.attachmentID, "attached")
                    } else if report?.state == "error" || late {
                        _ = try? await peers.send(.volume, .DELETE, path)
                        setVolumeState(server.id, volume.attachmentID, nil)
                    }
                } else if volume.state == "detaching", report?.state == "detached" || report == nil || late {
                    guard let gone = try? await peers.send(.volume, .DELETE, path),
                        gone.status < 300 || gone.status == 404
                    else { continue }
                    setVolumeState(server.id, volume.attachmentID, nil)
                }
            }
        }
    }

    /// Sets an attached volume's state; nil removes it from the server.
    func setVolumeState(_ serverID: String, _ attachmentID: String, _ state: String?) {
        let now = clock()
        _ = try? store.write { transaction in
            guard var server = transaction.state.servers[serverID],
                let index = server.volumes?.firstIndex(where: { $0.attachmentID == attachmentID })
            else { return }
            if let state {
                server.volumes?[index].state = state
                server.volumes?[index].since = now
            } else {
                server.volumes?.remove(at: index)
            }
            transaction.state.servers[serverID] = server
            transaction.touch(.server, serverID)
        }
    }

    /// A deleted server's volumes: each attachment deleted (the export ends), and the
    /// volume too when it was attached with `delete_on_termination`.
    func releaseVolumes(of server: Server, peers: ComputePeers) async {
        for volume in server.volumes ?? [] {
            _ = try? await peers.send(.volume, .DELETE, "/v3/\(server.projectID)/attachments/\(volume.attachmentID)")
            if volume.deleteOnTermination {
                _ = try? await peers.send(.volume, .DELETE, "/v3/\(server.projectID)/volumes/\(volume.volumeID)")
            }
        }
    }
}
