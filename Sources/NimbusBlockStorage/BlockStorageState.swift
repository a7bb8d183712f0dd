import Foundation
import NimbusServiceKit

/// Everything the block-storage service holds; `BlockStorageStore` keeps it in SQLite.
public struct BlockStorageState: Sendable, Equatable {
    public var volumes: [String: Volume] = [:]
    public var snapshots: [String: Snapshot] = [:]
    public var types: [String: VolumeType] = [:]
    /// Each project's own limits (`os-quota-sets`), over the defaults.
    public var quotas: [String: [String: Int]] = [:]

    public init() {}

    enum Kind: String {
        case volume, snapshot, type, quota
    }

    /// What the volume agents follow: each volume placed on a host, with its snapshots and
    /// where it comes from, and each snapshot; a volume deleted (or never placed) is
    /// nothing to hold.
    public static func publisher(imageURL: String = "")
        -> @Sendable (BlockStorageState, String, String) -> (
            kind: String, body: JSON?
        )?
    {
        { state, kind, id in
            switch Kind(rawValue: kind) {
            case .volume:
                guard let volume = state.volumes[id], !volume.host.isEmpty, volume.fault == nil else {
                    return ("volume", nil)
                }
                return ("volume", state.channelBody(volume, imageURL: imageURL))
            // A snapshot is also named in its volume's item (its writes touch the volume);
            // its own item is what its status is reported against.
            case .snapshot:
                guard let snapshot = state.snapshots[id], let volume = state.volumes[snapshot.volumeID],
                    !volume.host.isEmpty
                else { return ("snapshot", nil) }
                return (
                    "snapshot",
                    ["id": .string(id), "volume_id": .string(volume.id), "host": .string(volume.host)]
                )
            default: return nil
            }
        }
    }

    /// A volume as its agent is told it.
    func channelBody(_ volume: Volume, imageURL: String = "") -> JSON {
        var source: JSON = .null
        if let image = volume.imageID {
            source = ["image": .string(image), "image_url": .string(imageURL)]
        } else if let snapshot = volume.snapshotID, let parent = snapshots[snapshot]?.volumeID {
            source = ["snapshot": .string(snapshot), "volume": .string(parent)]
        } else if let parent = volume.sourceVolumeID {
            source = ["volume": .string(parent)]
        }
        let own = snapshots.values.filter { $0.volumeID == volume.id }.map(\.id).sorted()
        // The attachments whose host reads it over NBD: one export each, open to that host.
        let exports = volume.attachments.compactMap { attachment -> JSON? in
            guard let port = attachment.port, let allow = attachment.connectorIP else { return nil }
            return [
                "attachment": .string(attachment.id), "port": .int(Int64(port)), "allow": .string(allow),
                "mode": .string(attachment.mode),
            ]
        }
        return [
            "id": .string(volume.id), "host": .string(volume.host), "size": .int(Int64(volume.size)),
            "generation": .int(Int64(volume.generation)), "source": source,
            "snapshots": .array(own.map(JSON.string)), "exports": .array(exports),
        ]
    }

    /// The type a volume gets when none is named.
    var defaultType: VolumeType? { types.values.first { $0.name == VolumeType.defaultName } }
}

/// The block-storage service's state in SQLite, synchronous FULL.
public typealias BlockStorageStore = StateStore<BlockStorageState>

extension BlockStorageState: StoredState {
    public mutating func load(kind: String, id: String, body: Data, decoder: JSONDecoder) throws {
        switch Kind(rawValue: kind) {
        case .volume: volumes[id] = try decoder.decode(Volume.self, from: body)
        case .snapshot: snapshots[id] = try decoder.decode(Snapshot.self, from: body)
        case .type: types[id] = try decoder.decode(VolumeType.self, from: body)
        case .quota: quotas[id] = try decoder.decode([String: Int].self, from: body)
        case nil: return
        }
    }

    public func row(kind: String, id: String, encoder: JSONEncoder) throws -> Data? {
        switch Kind(rawValue: kind) {
        case .volume: try volumes[id].map(encoder.encode)
        case .snapshot: try snapshots[id].map(encoder.encode)
        case .type: try types[id].map(encoder.encode)
        case .quota: try quotas[id].map(encoder.encode)
        case nil: nil
        }
    }
}

extension StateStore<BlockStorageState>.Transaction {
    mutating func touch(_ kind: BlockStorageState.Kind, _ id: String) { touch(kind: kind.rawValue, id: id) }
}
