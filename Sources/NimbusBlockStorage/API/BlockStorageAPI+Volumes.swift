import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v3/{project_id}/volumes`: create (placed on a storage host with room, or made from a
/// snapshot or a volume on that one's host), list and detail with Cinder's filters, show,
/// update, delete with Cinder's checks, and the metadata routes.
extension BlockStorageAPI {
    /// Every volume's newest report from its agent (read before a write: the registry shares
    /// the store's database).
    func volumeReports() -> [String: AgentRegistry.Status] { newestReports("volume") }

    func volumeRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.post("/v3/:project/volumes") { request, context in
            let caller = try await caller(request, context)
            guard caller.canWrite, let project = caller.projectID else {
                throw VolumeFault.policy("volume:create")
            }
            let version = Self.version(context)
            let body = try await body(request, context: context)
            let given = try member(body, "volume")
            var image: SourceImage?
            let refs = [given["imageRef"], given["image_id"]].compactMap { $0 }.filter { !$0.isNull }
            if let ref = refs.first {
                image = try await sourceImage(ref, token: request.headers[.xAuthToken] ?? "")
            }
            let volume = try createVolume(given, caller, project: project, version: version, image: image)
            return Response.json(
                ["volume": render(volume, nil, caller, request, context, showOnly: false)], status: .accepted)
        }
        router.get("/v3/:project/volumes") { request, context in
            try await listVolumes(request, context, detail: false)
        }
        router.get("/v3/:project/volumes/detail") { request, context in
            try await listVolumes(request, context, detail: true)
        }
        router.get("/v3/:project/volumes/:id") { request, context in
            let caller = try await caller(request, context)
            let volume = try visibleVolume(try context.parameters.require("id"), caller)
            return Response.json(["volume": render(volume, report("volume", volume.id), caller, request, context)])
        }
        router.put("/v3/:project/volumes/:id") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            _ = try visibleVolume(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:update") }
            let given = try member(try await body(request, context: context), "volume")
            try Self.onlyKeys(given, ["name", "display_name", "description", "display_description", "metadata"])
            let name = try Self.text(given["name"] ?? given["display_name"], "name")
            let description = try Self.text(given["description"] ?? given["display_description"], "description")
            let metadata = try given["metadata"].map { try Self.metadata($0) }
            let now = clock()
            let updated = try updateVolume(id) { volume in
                if given["name"] != nil || given["display_name"] != nil { volume.name = name }
                if given["description"] != nil || given["display_description"] != nil {
                    volume.description = description
                }
                if let metadata { volume.metadata = metadata }
                volume.updatedAt = now
            }
            return Response.json(
                ["volume": render(updated, report("volume", id), caller, request, context, showOnly: false)])
        }
        router.delete("/v3/:project/volumes/:id") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            _ = try visibleVolume(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:delete") }
            let query = ListQuery(request)
            let cascade = query.value("cascade").map { Self.trueWords.contains($0.lowercased()) } ?? false
            let force = query.value("force").map { Self.trueWords.contains($0.lowercased()) } ?? false
            if force { try requireAdmin(caller, "volume:force_delete") }
            try deleteVolume(id, cascade: cascade, force: force)
            return Response(status: .accepted)
        }
        metadataRoutes(on: router)
    }

    /// Deletes a volume as Cinder does: one never placed at once; else it must be
    /// available or in error (any status with force), not attached, without snapshots
    /// (unless cascade, which deletes them too).
    func deleteVolume(_ id: String, cascade: Bool, force: Bool) throws {
        let reports = volumeReports()
        let snapshotReports = self.snapshotReports()
        try store.write { transaction in
            guard let volume = transaction.state.volumes[id] else { throw Self.noVolume(id) }
            let snapshots = transaction.state.snapshots.values.filter { $0.volumeID == id }
            let status = volume.effectiveStatus(reports[id])
            let deletable = ["available", "error", "error_restoring", "error_extending", "error_managing"]
            let attached = volume.attachments.contains { $0.status == "attached" }
            if !volume.host.isEmpty,
                attached || (!force && !deletable.contains(status)) || (!snapshots.isEmpty && !cascade)
                    || (cascade
                        && snapshots.contains {
                            !["available", "error"].contains(snapshotStatus($0, snapshotReports[$0.id]))
                        })
                    // A copy being made from it (a copy made is a whole file of its own).
                    || transaction.state.volumes.values.contains(where: {
                        $0.sourceVolumeID == id && $0.effectiveStatus(reports[$0.id]) == "creating"
                    })
            {
                let statusPart =
                    force
                    ? ""
                    : "status must be available or error or error_restoring or error_extending or error_managing and"
                throw VolumeFault.invalidVolume(
                    "Volume \(statusPart) must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer."
                )
            }
            for snapshot in snapshots {
                transaction.state.snapshots[snapshot.id] = nil
                transaction.touch(.snapshot, snapshot.id)
            }
            transaction.state.volumes[id] = nil
            transaction.touch(.volume, id)
        }
    }

    /// Every snapshot's newest report from its agent (read before a write).
    func snapshotReports() -> [String: AgentRegistry.Status] { newestReports("snapshot") }

    /// The largest size Cinder's schemas take (GiB).
    static let maximumSize: Int64 = 2_147_483_647

    /// A volume the caller may see: its project's, or any for an admin.
    func visibleVolume(_ id: String, _ caller: Caller) throws -> Volume {
        guard let volume = store.snapshot.volumes[id], caller.isAdmin || volume.projectID == caller.projectID
        else { throw Self.noVolume(id) }
        return volume
    }

    static func noVolume(_ id: String) -> VolumeFault { VolumeFault.notFound("Volume \(id) could not be found.") }

    /// Changes a volume in one write; `change` may refuse.
    @discardableResult
    func updateVolume(_ id: String, _ change: (inout Volume) throws -> Void) throws -> Volume {
        try store.write { transaction in
            guard var volume = transaction.state.volumes[id] else { throw Self.noVolume(id) }
            try change(&volume)
            transaction.state.volumes[id] = volume
            transaction.touch(.volume, id)
            return volume
        }
    }

    /// The storage hosts' capacity as their agents report it (GiB), the live ones.
    func backends() -> [(host: String, total: Int)] {
        ((try? agents.agents()) ?? []).filter { $0.type == "volume" && $0.alive }.sorted { $0.host < $1.host }.map {
            ($0.host, Int($0.configuration["total_capacity_gb"]?.int ?? 0))
        }
    }

    /// Checks a create as Cinder does, places it and records it (`creating`); a volume no
    /// backend has room for is recorded in `error` with the scheduler's reason.
    /// An image a volume is made from, as the image service showed it to the caller.
    struct SourceImage {
        var id: String
        var sizeGiB: Int
        var minDisk: Int
        var metadata: [String: String]
    }

    /// The image `ref` names (an id, a link ending in one, or a name), asked of the image
    /// service with the caller's token: it must be there for the caller and active.
    func sourceImage(_ ref: JSON, token: String) async throws -> SourceImage {
        guard let images else {
            throw VolumeFault.badRequest("Volumes from images need the image service, which this service has none of.")
        }
        guard let text = ref.string, !text.isEmpty, text.count <= 255 else {
            throw VolumeFault.invalid("imageRef", ref, "It must be a string of 1 to 255 characters")
        }
        let id = text.split(separator: "/").last.map(String.init) ?? text
        let headers = [("X-Auth-Token", token), ("Accept", "application/json")]
        func get(_ path: String) async throws -> (Int, JSON) {
            do {
                let reply = try await images.send(.GET, path, headers: headers)
                return (reply.status, (try? JSON.parse(reply.body)) ?? .null)
            } catch {
                throw VolumeFault(.serviceUnavailable, "The image service cannot be reached: \(error)")
            }
        }
        // An id is a UUID (anything else can only be a name).
        let plain = id.allSatisfy { $0.isHexDigit || $0 == "-" }
        var (status, image) = plain ? try await get("/v2/images/\(id)") : (404, JSON.null)
        if status == 404 || status == 400 {
            // A name, as Cinder takes it.
            let (listed, found) = try await get(
                "/v2/images?name=\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id)")
            let matches = listed == 200 ? found["images"]?.array ?? [] : []
            guard matches.count <= 1 else {
                throw VolumeFault(.conflict, "Multiple matches found for '\(id)', use an ID to be more specific.")
            }
            (status, image) = matches.first.map { (200, $0) } ?? (404, .null)
        }
        guard status == 200, let imageID = image["id"]?.string else {
            throw VolumeFault.badRequest("Invalid image identifier or unable to access requested image.")
        }
        guard image["status"]?.string == "active" else {
            throw VolumeFault.invalidInput("Image \(imageID) is not active.")
        }
        let bytes = image["size"]?.int ?? 0
        var metadata: [String: String] = [
            "image_id": imageID, "image_name": image["name"]?.string ?? "",
            "checksum": image["checksum"]?.string ?? "", "container_format": image["container_format"]?.string ?? "",
            "disk_format": image["disk_format"]?.string ?? "", "min_disk": "\(image["min_disk"]?.int ?? 0)",
            "min_ram": "\(image["min_ram"]?.int ?? 0)", "size": "\(bytes)",
        ]
        if let virtual = image["virtual_size"]?.int { metadata["virtual_size"] = "\(virtual)" }
        // The volume holds the image's disk: its virtual size where Glance knows it.
        let needed = image["virtual_size"]?.int ?? bytes
        return SourceImage(
            id: imageID, sizeGiB: Int((needed + (1 << 30) - 1) >> 30), minDisk: Int(image["min_disk"]?.int ?? 0),
            metadata: metadata)
    }

    func createVolume(
        _ given: JSON, _ caller: Caller, project: String, version: Microversion, image: SourceImage? = nil
    )
        throws -> Volume
    {
        var allowed: Set = [
            "size", "name", "display_name", "description", "display_description", "volume_type", "metadata",
            "snapshot_id", "source_volid", "consistencygroup_id", "availability_zone", "imageRef", "image_id",
            "multiattach", "backup_id", "group_id", "source_replica", "scheduler_hints",
        ]
        if version < Microversion(3, 53) { allowed = [] }
        if !allowed.isEmpty { try Self.onlyKeys(given, allowed) }
        // (`JSON?.none`: a bare nil here would be the literal `JSON.null`.)
        func present(_ key: String) -> JSON? { given[key].flatMap { $0.isNull ? JSON?.none : $0 } }
        var size: Int?
        if let value = present("size") {
            guard let number = value.int ?? value.string.flatMap({ Int64($0) }) else {
                throw VolumeFault.invalid("size", value, "'\(value.string ?? value.text)' does not match '^[0-9]+$'")
            }
            guard number >= 1 else {
                throw VolumeFault.invalid("size", value, "\(number) is less than the minimum of 1")
            }
            guard number <= Self.maximumSize else {
                throw VolumeFault.invalid("size", value, "\(number) is greater than the maximum of \(Self.maximumSize)")
            }
            size = Int(number)
        }
        let name = try Self.text(present("name") ?? present("display_name"), "name")
        let description = try Self.text(present("description") ?? present("display_description"), "description")
        let metadata = try present("metadata").map { try Self.metadata($0) } ?? [:]
        if let multiattach = present("multiattach"), (try? Self.bool(multiattach, "multiattach")) == true {
            throw VolumeFault.badRequest(
                "multiattach parameter has been removed. The default behavior is to use multiattach enabled volume types. Contact your administrator to create a multiattach enabled volume type and use it to create multiattach volumes."
            )
        }
        if present("backup_id") != nil {
            throw VolumeFault.notFound("Backup \(present("backup_id")!.text) could not be found.")
        }
        if let requested = present("availability_zone")?.string, requested != zone {
            throw VolumeFault.badRequest("Availability zone '\(requested)' is invalid.")
        }
        let state = store.snapshot
        var type = state.defaultType
        if let named = present("volume_type")?.string, !named.isEmpty {
            guard
                let found = state.types[named] ?? state.types.values.first(where: { $0.name == named }),
                found.isPublic || caller.isAdmin || found.projects.contains(project)
            else {
                throw VolumeFault.notFound(
                    UUID(uuidString: named) != nil
                        ? "Volume type \(named) could not be found."
                        : "Volume type with name \(named) could not be found.")
            }
            type = found
        }
        var host: String?
        var snapshotID: String?
        var sourceID: String?
        let reports = volumeReports()
        if let id = present("snapshot_id")?.string {
            guard let snapshot = state.snapshots[id], caller.isAdmin || snapshot.projectID == project else {
                throw VolumeFault.notFound("Snapshot \(id) could not be found.")
            }
            guard snapshotStatus(snapshot) == "available" else {
                throw VolumeFault.badRequest(
                    "Invalid snapshot: Originating snapshot status must be one of 'available' values")
            }
            if let size, size < snapshot.size {
                throw VolumeFault.invalidInput(
                    "Volume size '\(size)'GB cannot be smaller than the snapshot size \(snapshot.size)GB. They must be >= original snapshot size."
                )
            }
            size = size ?? snapshot.size
            snapshotID = id
            host = state.volumes[snapshot.volumeID]?.host
        } else if let id = present("source_volid")?.string {
            guard let source = state.volumes[id], caller.isAdmin || source.projectID == project else {
                throw Self.noVolume(id)
            }
            guard ["available", "in-use"].contains(source.effectiveStatus(reports[id])) else {
                throw VolumeFault.invalidVolume(
                    "Originating source volume status must be one of 'available, in-use' values")
            }
            if let size, size < source.size {
                throw VolumeFault.invalidInput(
                    "Volume size '\(size)'GB cannot be smaller than original volume size  \(source.size)GB. They must be >= original volume size."
                )
            }
            size = size ?? source.size
            sourceID = id
            host = source.host
        }
        guard let size else {
            throw VolumeFault.badRequest(
                "The server could not comply with the request since it is either malformed or otherwise incorrect.")
        }
        if let image {
            guard image.sizeGiB <= size else {
                throw VolumeFault.invalidInput(
                    "Size of specified image \(image.sizeGiB)GB is larger than volume size \(size)GB.")
            }
            guard image.minDisk <= size else {
                throw VolumeFault.invalidInput(
                    "Volume size \(size)GB cannot be smaller than the image minDisk size \(image.minDisk)GB.")
            }
        }
        guard let type else {
            throw VolumeFault.notFound("Volume type with name \(VolumeType.defaultName) could not be found.")
        }
        let backends = backends()
        let now = clock()
        return try store.write { transaction -> Volume in
            try checkQuota(transaction.state, project: project, volumes: 1, gigabytes: size)
            // The source again, as it is now (deleted meanwhile: nothing to copy).
            if let snapshotID, transaction.state.snapshots[snapshotID] == nil {
                throw VolumeFault.notFound("Snapshot \(snapshotID) could not be found.")
            }
            if let sourceID, transaction.state.volumes[sourceID] == nil { throw Self.noVolume(sourceID) }
            var fault: String?
            var used: [String: Int] = [:]
            for volume in transaction.state.volumes.values { used[volume.host, default: 0] += volume.size }
            if let fixed = host {
                // A copy goes beside its source: that host must be up and have the room.
                if let backend = backends.first(where: { $0.host == fixed }) {
                    if used[fixed, default: 0] + size > backend.total {
                        fault =
                            "No valid backend was found. \(fixed) has not \(size) GiB free (CONFIG_CINDER_VOLUMES_SIZE)."
                    }
                } else {
                    fault = "No valid backend was found. The volume service of \(fixed) is down."
                }
                if fault != nil { host = nil }
            } else {
                // The backend with the most room left that fits the volume.
                let fitting = backends.filter { used[$0.host, default: 0] + size <= $0.total }
                host =
                    fitting.max { ($0.total - used[$0.host, default: 0]) < ($1.total - used[$1.host, default: 0]) }?
                    .host
                if host == nil {
                    fault =
                        backends.isEmpty
                        ? "No valid backend was found. No volume service is up."
                        : "No valid backend was found. No backend has \(size) GiB free (CONFIG_CINDER_VOLUMES_SIZE)."
                }
            }
            // A copy is as bootable as its source (the volume, or the snapshot's volume),
            // with the source's image properties.
            let parent = (sourceID ?? snapshotID.flatMap { transaction.state.snapshots[$0]?.volumeID }).flatMap {
                transaction.state.volumes[$0]
            }
            let volume = Volume(
                id: UUID().uuidString.lowercased(), name: name, description: description, size: size,
                projectID: project, userID: caller.userID, typeID: type.id, zone: zone,
                status: fault == nil ? "creating" : "error", bootable: image != nil || parent?.bootable == true,
                readOnly: false, metadata: metadata,
                snapshotID: snapshotID, sourceVolumeID: sourceID, host: host ?? "", generation: 1, attachments: [],
                fault: fault, createdAt: now, updatedAt: nil, imageID: image?.id,
                imageMetadata: image?.metadata ?? parent?.imageMetadata)
            transaction.state.volumes[volume.id] = volume
            transaction.touch(.volume, volume.id)
            return volume
        }
    }

    /// `GET /volumes[/detail]`: the project's volumes (an admin's all with `all_tenants`),
    /// newest first, with Cinder's filters; from 3.31 a member's unknown filter is refused.
    func listVolumes(_ request: Request, _ context: ServiceContext, detail: Bool) async throws -> Response {
        let caller = try await caller(request, context)
        let query = ListQuery(request)
        let version = Self.version(context)
        let paging: Set = [
            "limit", "marker", "offset", "sort", "sort_key", "sort_dir", "with_count", "all_tenants", "project_id",
        ]
        let filters: Set = [
            "name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size",
            "created_at", "updated_at", "consumes_quota",
        ]
        if !caller.isAdmin, version >= Microversion(3, 31) {
            let unknown = query.parameters.map(\.name).filter { !paging.contains($0) && !filters.contains($0) }
            if !unknown.isEmpty {
                throw VolumeFault.badRequest(
                    "Invalid filters \(unknown.joined(separator: ", ")) are found in query options.")
            }
        }
        let everyone =
            caller.isAdmin && query.value("all_tenants").map { Self.trueWords.contains($0.lowercased()) } == true
        let reports = volumeReports()
        var volumes = store.snapshot.volumes.values.filter { everyone || $0.projectID == caller.projectID }
        if caller.isAdmin, let project = query.value("project_id") {
            volumes = volumes.filter { $0.projectID == project }
        }
        if let name = query.value("name") { volumes = volumes.filter { $0.name == name } }
        if let status = query.value("status") {
            volumes = volumes.filter { $0.effectiveStatus(reports[$0.id]) == status }
        }
        if let zone = query.value("availability_zone") { volumes = volumes.filter { $0.zone == zone } }
        if let size = query.value("size").flatMap({ Int($0) }) { volumes = volumes.filter { $0.size == size } }
        if let bootable = query.value("bootable") {
            let wanted = Self.trueWords.contains(bootable.lowercased())
            guard wanted || Self.falseWords.contains(bootable.lowercased()) else {
                throw VolumeFault.invalidInput("'bootable = \(bootable)'")
            }
            volumes = volumes.filter { $0.bootable == wanted }
        }
        let order = try Self.sortOrder(
            query,
            keys: [
                "id", "name", "status", "size", "bootable", "availability_zone", "created_at", "updated_at",
                "project_id", "volume_type", "display_name",
            ])
        volumes = Self.sorted(volumes, order) { volume, key in
            switch key {
            case "name", "display_name": .text(volume.name ?? "")
            case "status": .text(volume.effectiveStatus(reports[volume.id]))
            case "size": .number(Int64(volume.size))
            case "bootable": .number(volume.bootable ? 1 : 0)
            case "availability_zone": .text(volume.zone)
            case "created_at": .number(volume.createdAt)
            case "updated_at": .number(volume.updatedAt ?? 0)
            case "project_id": .text(volume.projectID)
            case "volume_type": .text(volume.typeID)
            default: .text(volume.id)
            }
        }
        let total = volumes.count
        if let marker = query.value("marker") {
            guard let index = volumes.firstIndex(where: { $0.id == marker }) else { throw Self.noVolume(marker) }
            volumes = Array(volumes[(index + 1)...])
        }
        let (limit, offset) = try Self.page(query)
        volumes = Array(volumes.dropFirst(offset))
        let shown = Array(volumes.prefix(limit))
        let project = context.parameters.get("project") ?? ""
        var document: [(String, JSON)] = [
            (
                "volumes",
                .array(
                    shown.map { volume in
                        detail
                            ? render(volume, reports[volume.id], caller, request, context)
                            : [
                                "id": .string(volume.id), "name": .optional(volume.name),
                                "links": Self.links(request, project, "volumes", volume.id),
                            ]
                    })
            )
        ]
        if shown.count >= limit, limit > 0, let last = shown.last {
            let path = detail ? "volumes/detail" : "volumes"
            document.append(
                (
                    "volumes_links",
                    [
                        [
                            "rel": "next",
                            "href": .string("\(request.origin)/v3/\(project)/\(path)?limit=\(limit)&marker=\(last.id)"),
                        ]
                    ]
                ))
        }
        if version >= Microversion(3, 45),
            query.value("with_count").map({ Self.trueWords.contains($0.lowercased()) }) == true
        {
            document.append(("count", .int(Int64(total))))
        }
        return Response.json(.object(document))
    }

    /// A volume as Cinder shows it at the request's version: the admin-only fields for
    /// admins, the show-only ones unless it answers a create or an update.
    func render(
        _ volume: Volume, _ report: AgentRegistry.Status?, _ caller: Caller, _ request: Request,
        _ context: ServiceContext, showOnly: Bool = true
    ) -> JSON {
        let version = Self.version(context)
        let project = context.parameters.get("project") ?? volume.projectID
        let status = volume.effectiveStatus(report)
        let type = store.snapshot.types[volume.typeID]
        var metadata = volume.metadata
        if volume.readOnly || volume.readOnlySet == true { metadata["readonly"] = volume.readOnly ? "True" : "False" }
        var fields: [(String, JSON)] = [
            ("id", .string(volume.id)), ("status", .string(status)), ("size", .int(Int64(volume.size))),
            ("availability_zone", .string(volume.zone)), ("created_at", Self.time(volume.createdAt)),
            ("updated_at", Self.time(volume.updatedAt)), ("name", .optional(volume.name)),
            ("description", .optional(volume.description)), ("volume_type", .optional(type?.name)),
            ("snapshot_id", .optional(volume.snapshotID)), ("source_volid", .optional(volume.sourceVolumeID)),
            ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("links", Self.links(request, project, "volumes", volume.id)), ("user_id", .string(volume.userID)),
            ("bootable", volume.bootable ? "true" : "false"), ("encrypted", false),
            ("replication_status", "disabled"), ("consistencygroup_id", .null), ("multiattach", false),
            (
                "attachments",
                .array(
                    volume.attachments.filter { $0.status == "attached" }.map { attachment in
                        [
                            "id": .string(volume.id), "attachment_id": .string(attachment.id),
                            "volume_id": .string(volume.id), "server_id": .optional(attachment.serverID),
                            "host_name": caller.isAdmin ? .optional(attachment.hostName) : .null,
                            "device": .string(attachment.device),
                            "attached_at": Self.time(attachment.attachedAt),
                        ]
                    })
            ),
        ]
        if caller.isAdmin { fields.append(("migration_status", .null)) }
        if showOnly {
            fields.append(("os-vol-tenant-attr:tenant_id", .string(volume.projectID)))
            if let image = volume.imageMetadata { fields.append(("volume_image_metadata", Self.json(image))) }
            if caller.isAdmin {
                fields += [
                    ("os-vol-host-attr:host", volume.host.isEmpty ? .null : .string("\(volume.host)@nimbus#nimbus")),
                    ("os-vol-mig-status-attr:migstat", .null), ("os-vol-mig-status-attr:name_id", .null),
                ]
            }
        }
        if version >= Microversion(3, 13) { fields.append(("group_id", .null)) }
        if version >= Microversion(3, 21), caller.isAdmin { fields.append(("provider_id", .null)) }
        if version >= Microversion(3, 48) {
            fields += [
                ("shared_targets", false),
                (
                    "service_uuid",
                    volume.host.isEmpty ? .null : .string(NameUUID.make("nimbus-agent/volume/\(volume.host)"))
                ),
            ]
        }
        if version >= Microversion(3, 61), caller.isAdmin { fields.append(("cluster_name", .null)) }
        if version >= Microversion(3, 63) { fields.append(("volume_type_id", .string(volume.typeID))) }
        if version >= Microversion(3, 65) { fields.append(("consumes_quota", true)) }
        return .object(fields)
    }

    // MARK: Metadata

    func metadataRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v3/:project/volumes/:id/metadata") { request, context in
            let caller = try await caller(request, context)
            let volume = try visibleVolume(try context.parameters.require("id"), caller)
            return Response.json(["metadata": Self.json(volume.metadata)])
        }
        for replace in [false, true] {
            let handler: @Sendable (Request, ServiceContext) async throws -> Response = { request, context in
                let caller = try await caller(request, context)
                let id = try context.parameters.require("id")
                _ = try visibleVolume(id, caller)
                guard caller.canWrite else { throw VolumeFault.policy("volume:update_volume_metadata") }
                let given = try Self.metadata(try member(try await body(request, context: context), "metadata"))
                let updated = try updateVolume(id) { volume in
                    volume.metadata = replace ? given : volume.metadata.merging(given) { $1 }
                }
                return Response.json(["metadata": Self.json(updated.metadata)])
            }
            if replace {
                router.put("/v3/:project/volumes/:id/metadata", use: handler)
            } else {
                router.post("/v3/:project/volumes/:id/metadata", use: handler)
            }
        }
        router.get("/v3/:project/volumes/:id/metadata/:key") { request, context in
            let caller = try await caller(request, context)
            let volume = try visibleVolume(try context.parameters.require("id"), caller)
            let key = try context.parameters.require("key")
            guard let value = volume.metadata[key] else {
                throw VolumeFault.notFound("Volume \(volume.id) has no metadata with key \(key).")
            }
            return Response.json(["meta": [key: .string(value)]])
        }
        router.put("/v3/:project/volumes/:id/metadata/:key") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            _ = try visibleVolume(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:update_volume_metadata") }
            let key = try context.parameters.require("key")
            let given = try Self.metadata(try member(try await body(request, context: context), "meta"))
            guard given.count == 1 else { throw VolumeFault.badRequest("Request body contains too many items") }
            guard let value = given[key] else { throw VolumeFault.badRequest("Request body and URI mismatch") }
            try updateVolume(id) { $0.metadata[key] = value }
            return Response.json(["meta": [key: .string(value)]])
        }
        router.delete("/v3/:project/volumes/:id/metadata/:key") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            _ = try visibleVolume(id, caller)
            guard caller.canWrite else { throw VolumeFault.policy("volume:delete_volume_metadata") }
            let key = try context.parameters.require("key")
            try updateVolume(id) { volume in
                guard volume.metadata.removeValue(forKey: key) != nil else {
                    throw VolumeFault.notFound("Volume \(id) has no metadata with key \(key).")
                }
            }
            return Response(status: .ok)
        }
    }

    // MARK: Input

    static func json(_ metadata: [String: String]) -> JSON {
        .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// A name or description: a string of at most 255 characters (stripped), or null.
    static func text(_ value: JSON?, _ field: String) throws -> String? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.string else { throw VolumeFault.invalid(field, value, "It must be a string or null") }
        let stripped = text.trimmingCharacters(in: .whitespaces)
        guard stripped.count <= 255 else {
            throw VolumeFault.invalidInput("\(field) has \(stripped.count) characters, more than 255.")
        }
        return stripped
    }

    /// Metadata: keys `[a-zA-Z0-9-_:. /]{1,255}`, string values of at most 255 characters.
    static func metadata(_ value: JSON) throws -> [String: String] {
        guard let members = value.members else { throw VolumeFault.invalidInput("Metadata should be a dict.") }
        var result: [String: String] = [:]
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:. /")
        for (key, item) in members {
            guard !key.isEmpty, key.count <= 255, key.allSatisfy(allowed.contains) else {
                throw VolumeFault.invalid(
                    "metadata", value, "'\(key)' does not match any of the regexes: '^[a-zA-Z0-9-_:. /]{1,255}$'")
            }
            guard let text = item.string, text.count <= 255 else {
                throw VolumeFault.invalid(key, item, "It must be a string of at most 255 characters")
            }
            result[key] = text
        }
        return result
    }

    /// Refuses members other than `allowed` (`additionalProperties: false`).
    static func onlyKeys(_ object: JSON, _ allowed: Set<String>) throws {
        if let extra = object.members?.map(\.0).first(where: { !allowed.contains($0) }) {
            throw VolumeFault.badRequest("Additional properties are not allowed ('\(extra)' was unexpected)")
        }
    }
}
