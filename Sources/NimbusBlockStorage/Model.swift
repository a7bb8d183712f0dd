import Foundation
import NimbusServiceKit

/// A volume (Cinder's `volumes` row with its metadata and attachments): what was asked for,
/// the storage host holding it, and the status the API keeps. What the backend holds comes
/// from the volume agent's status, folded in when the volume is read.
public struct Volume: Codable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var description: String?
    /// GiB.
    public var size: Int
    public var projectID: String
    public var userID: String
    public var typeID: String
    public var zone: String
    /// As the API last set it: `creating`, `available`, `in-use`, `extending`, `error`, …
    /// (`Volume.effectiveStatus` folds the agent's report in).
    public var status: String
    public var bootable: Bool
    public var readOnly: Bool
    public var metadata: [String: String]
    /// The sources it was made from.
    public var snapshotID: String?
    public var sourceVolumeID: String?
    /// The storage host (its agent's host name); empty when none had room.
    public var host: String
    /// Raised by each change the agent must act on (made, extended).
    public var generation: Int
    public var attachments: [VolumeAttachment]
    /// Why it is in error, when the API put it there.
    public var fault: String?
    public var createdAt: Int64
    public var updatedAt: Int64?
    /// The image it was made from, and that image's properties as Cinder keeps them
    /// (`volume_image_metadata`).
    public var imageID: String? = nil
    public var imageMetadata: [String: String]? = nil
    /// Whether `os-update_readonly_flag` ever set the flag (then `readonly` shows, False too).
    public var readOnlySet: Bool? = nil
    /// An admin's `os-reset_status` set the status: it shows as set, whatever the agent
    /// reports, until the next change.
    public var statusReset: Bool? = nil
}

/// An attachment of a volume to a server.
public struct VolumeAttachment: Codable, Sendable, Equatable {
    public var id: String
    public var serverID: String?
    public var hostName: String?
    /// `/dev/vdb`.
    public var device: String
    /// `rw` or `ro`.
    public var mode: String
    /// `reserved`, `attaching`, `attached`.
    public var status: String
    public var attachedAt: Int64?
    /// The address of the host that attaches it (the connector's `ip`): the one host its
    /// export lets in. Nil until a connector is given (and for the legacy `os-attach`).
    public var connectorIP: String? = nil
    /// The port of its NBD export on the storage host, given with the connector.
    public var port: Int? = nil

    /// Whether the storage host exports the volume for it.
    public var exported: Bool { port != nil && connectorIP != nil }
}

/// A snapshot of a volume, kept by the backend inside the volume's file.
public struct Snapshot: Codable, Sendable, Equatable {
    public var id: String
    public var volumeID: String
    public var name: String?
    public var description: String?
    public var size: Int
    public var projectID: String
    public var userID: String
    public var status: String
    public var metadata: [String: String]
    public var createdAt: Int64
    public var updatedAt: Int64?
    /// An admin's `os-reset_status` set the status (the agent's report does not override it).
    public var statusReset: Bool? = nil
}

/// A volume type.
public struct VolumeType: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var isPublic: Bool
    public var extraSpecs: [String: String]
    public var projects: [String]

    /// Cinder's own default type, made with the database.
    public static let defaultName = "__DEFAULT__"
}

extension Volume {
    /// The status shown: the API's, or the backend's report once the agent applied this
    /// volume's generation (`creating` → `available` or `error`; `extending` → back to
    /// `available` or `in-use`).
    public func effectiveStatus(_ report: AgentRegistry.Status?) -> String {
        guard ["creating", "extending"].contains(status), statusReset != true, let report else { return status }
        let parts = report.detail.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        guard let applied = Int(parts.first ?? ""), applied >= generation else { return status }
        if report.state == "error" { return status == "extending" ? "error_extending" : "error" }
        guard report.state == "available" else { return status }
        return attachments.contains { $0.status == "attached" } ? "in-use" : "available"
    }

    /// Why the backend failed it, if it did.
    public func backendFault(_ report: AgentRegistry.Status?) -> String? {
        guard let report, report.state == "error" else { return nil }
        let parts = report.detail.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        return parts.count > 1 ? String(parts[1]) : nil
    }
}
