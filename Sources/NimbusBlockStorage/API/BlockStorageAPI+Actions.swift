import Foundation
import Hummingbird
import NimbusServiceKit

/// `POST /v3/{project_id}/volumes/{id}/action`: extend, bootable and read-only flags, the
/// attach bookkeeping (`os-reserve` … `os-detach`, as Tempest's smoke test drives it), and
/// the admins' `os-reset_status` and `os-force_delete`.
extension BlockStorageAPI {
    func volumeActionRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.post("/v3/:project/volumes/:id/action") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            _ = try visibleVolume(id, caller)
            let given = try await body(request, context: context)
            guard let (action, argument) = given.members?.first, given.members?.count == 1 else {
                throw VolumeFault.badRequest(
                    "There is no such action: \(given.members?.map(\.0).joined(separator: ", ") ?? ""). Verify the request body and Content-Type header and try again."
                )
            }
            guard caller.canWrite else { throw VolumeFault.policy("volume:\(action)") }
            let version = Self.version(context)
            let reports = volumeReports()
            let now = clock()
            func status(_ volume: Volume) -> String { volume.effectiveStatus(reports[volume.id]) }
            switch action {
            case "os-extend":
                let value = argument["new_size"]
                guard let size = value?.int ?? value?.string.flatMap({ Int64($0) }), size >= 1,
                    size <= Self.maximumSize
                else {
                    throw VolumeFault.invalid("new_size", value, "It must be an integer from 1 to \(Self.maximumSize)")
                }
                let backends = backends()
                let project = store.snapshot.volumes[id]?.projectID ?? ""
                try store.write { transaction in
                    guard var volume = transaction.state.volumes[id] else { throw Self.noVolume(id) }
                    let current = status(volume)
                    let allowed = version >= Microversion(3, 42) ? ["available", "in-use"] : ["available"]
                    guard allowed.contains(current) else {
                        throw VolumeFault.invalidVolume(
                            "Volume \(id) status must be '{'status': 'available'}' to extend, currently \(current).")
                    }
                    // A guest reading it over NBD would not see it grow.
                    guard !volume.attachments.contains(where: \.exported) else {
                        throw VolumeFault.invalidVolume(
                            "Volume \(id) is attached to a server: this backend extends detached volumes only.")
                    }
                    guard Int(size) > volume.size else {
                        throw VolumeFault.invalidInput(
                            "New size for extend must be greater than current size. (current: \(volume.size), extended: \(size))."
                        )
                    }
                    try checkQuota(
                        transaction.state, project: project, volumes: 0, gigabytes: Int(size) - volume.size,
                        newSize: Int(size))
                    // Its host must be up and have the room.
                    let used = transaction.state.volumes.values.filter { $0.host == volume.host }.reduce(0) {
                        $0 + $1.size
                    }
                    guard let backend = backends.first(where: { $0.host == volume.host }) else {
                        throw VolumeFault.invalidVolume("The volume service of \(volume.host) is down.")
                    }
                    guard used + Int(size) - volume.size <= backend.total else {
                        throw VolumeFault.invalidVolume(
                            "\(volume.host) has not \(Int(size) - volume.size) GiB free to extend the volume.")
                    }
                    volume.size = Int(size)
                    volume.status = "extending"
                    volume.statusReset = nil
                    volume.generation += 1
                    volume.updatedAt = now
                    transaction.state.volumes[id] = volume
                    transaction.touch(.volume, id)
                }
                return Response(status: .accepted)
            case "os-set_bootable":
                let bootable = try Self.bool(argument["bootable"], "bootable")
                try updateVolume(id) { $0.bootable = bootable }
                return Response(status: .ok)
            case "os-update_readonly_flag":
                let readOnly = try Self.bool(argument["readonly"], "readonly")
                try updateVolume(id) { volume in
                    guard status(volume) == "available" else {
                        throw VolumeFault.invalidVolume(
                            "Volume \(id) status must be available to update readonly flag, but current status is: \(status(volume))."
                        )
                    }
                    volume.readOnlySet = true
                    volume.readOnly = readOnly
                }
                return Response(status: .accepted)
            case "os-reserve":
                try updateVolume(id) { volume in
                    guard status(volume) == "available" else {
                        throw VolumeFault.invalidVolume(
                            "Volume status must be available to reserve, but the status is \(status(volume)).")
                    }
                    volume.status = "attaching"
                }
                return Response(status: .accepted)
            case "os-unreserve":
                try updateVolume(id) { volume in
                    if volume.status == "attaching" {
                        volume.status = volume.attachments.contains { $0.status == "attached" } ? "in-use" : "available"
                    }
                }
                return Response(status: .accepted)
            case "os-begin_detaching":
                try updateVolume(id) { volume in
                    guard status(volume) == "in-use", volume.attachments.contains(where: { $0.status == "attached" })
                    else {
                        throw VolumeFault.invalidVolume(
                            "Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach."
                        )
                    }
                    volume.status = "detaching"
                }
                return Response(status: .accepted)
            case "os-roll_detaching":
                try updateVolume(id) { volume in if volume.status == "detaching" { volume.status = "in-use" } }
                return Response(status: .accepted)
            case "os-attach":
                // The legacy attach: bookkeeping only (the compute service attaches disks).
                guard let mountpoint = argument["mountpoint"]?.string, !mountpoint.isEmpty, mountpoint.count <= 255
                else {
                    throw VolumeFault.invalid(
                        "mountpoint", argument["mountpoint"], "'mountpoint' is a required property")
                }
                let server = argument["instance_uuid"]?.string
                let hostName = argument["host_name"]?.string
                guard server != nil || hostName != nil else {
                    throw VolumeFault.invalidVolume("Invalid request to attach volume to an invalid target")
                }
                let mode = argument["mode"]?.string ?? "rw"
                guard ["rw", "ro"].contains(mode) else {
                    throw VolumeFault.invalid("mode", argument["mode"], "'\(mode)' is not one of ['rw', 'ro']")
                }
                try updateVolume(id) { volume in
                    if volume.readOnly, mode != "ro" {
                        throw VolumeFault.badRequest("Invalid attaching mode '\(mode)' for volume \(id).")
                    }
                    guard ["available", "attaching", "reserved"].contains(status(volume)) else {
                        throw VolumeFault.invalidVolume(
                            "Volume \(id) status must be available or attaching to attach; the volume is already attached and multiple attachments are not enabled."
                        )
                    }
                    volume.attachments.append(
                        VolumeAttachment(
                            id: UUID().uuidString.lowercased(), serverID: server, hostName: hostName,
                            device: mountpoint,
                            mode: mode, status: "attached", attachedAt: now))
                    volume.status = "in-use"
                }
                return Response(status: .accepted)
            case "os-detach":
                let attachment = argument["attachment_id"]?.string
                try updateVolume(id) { volume in
                    let attached = volume.attachments.filter { $0.status == "attached" }
                    if attachment == nil, attached.count > 1 {
                        throw VolumeFault.invalidVolume(
                            "Detach volume failed: More than one attachment, but no attachment_id provided.")
                    }
                    guard let target = attachment ?? attached.first?.id,
                        volume.attachments.contains(where: { $0.id == target })
                    else {
                        throw VolumeFault.notFound(
                            "Volume attachment could not be found with filter: attachment_id = \(attachment ?? "").")
                    }
                    volume.attachments.removeAll { $0.id == target }
                    volume.status = volume.attachments.contains { $0.status == "attached" } ? "in-use" : "available"
                }
                return Response(status: .accepted)
            case "os-reset_status":
                try requireAdmin(caller, "volume_extension:volume_admin_actions:reset_status")
                try resetStatus(id, argument, now: now)
                return Response(status: .accepted)
            case "os-force_delete":
                try requireAdmin(caller, "volume_extension:volume_admin_actions:force_delete")
                try deleteVolume(id, cascade: false, force: true)
                return Response(status: .accepted)
            default:
                throw VolumeFault.badRequest(
                    "There is no such action: \(action). Verify the request body and Content-Type header and try again."
                )
            }
        }
    }

    static let volumeStatuses = [
        "creating", "available", "deleting", "error", "error_deleting", "error_managing", "managing", "attaching",
        "in-use", "detaching", "maintenance", "restoring-backup", "error_restoring", "reserved", "awaiting-transfer",
        "backing-up", "error_backing-up", "error_extending", "downloading", "uploading", "retyping", "extending",
    ]

    /// `os-reset_status`: an admin sets the status (and `attach_status=detached` drops the
    /// attachments), as Cinder checks it.
    func resetStatus(_ id: String, _ argument: JSON, now: Int64) throws {
        let status = argument["status"]?.string
        let attachStatus = argument["attach_status"]?.string
        guard status != nil || attachStatus != nil || argument["migration_status"] != nil else {
            throw VolumeFault.badRequest("Must specify 'status', 'attach_status' or 'migration_status' for update.")
        }
        if let status {
            guard Self.volumeStatuses.contains(status) else {
                throw VolumeFault.badRequest(
                    "Volume status: \(status) is invalid, valid statuses are: (\(Self.volumeStatuses.joined(separator: ", ")))."
                )
            }
            guard status != "deleting" else { throw VolumeFault.badRequest("Cannot reset-state to deleting") }
        }
        if let attachStatus, !["attached", "detached"].contains(attachStatus) {
            throw VolumeFault.badRequest("Invalid attach status: \(attachStatus).")
        }
        try updateVolume(id) { volume in
            if attachStatus == "detached" { volume.attachments = [] }
            if let status {
                if status == "in-use", volume.attachments.isEmpty {
                    throw VolumeFault.badRequest(
                        "Cannot reset-state to in-use because volume does not have any attachments.")
                }
                volume.status = status
                volume.statusReset = true
            }
            volume.updatedAt = now
        }
    }
}
