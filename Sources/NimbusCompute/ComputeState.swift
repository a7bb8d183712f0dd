import Foundation
import NimbusServiceKit

/// Everything the compute service holds, in memory; `ComputeStore` keeps it in SQLite.
public struct ComputeState: Sendable, Equatable {
    public var flavors: [String: Flavor] = [:]
    /// By `user/name`.
    public var keyPairs: [String: KeyPair] = [:]
    /// Each project's own limits (`os-quota-sets`), over the defaults.
    public var quotas: [String: [String: Int]] = [:]
    public var servers: [String: Server] = [:]
    /// By Nova's integer id, as a string.
    public var aggregates: [String: Aggregate] = [:]
    public var serverGroups: [String: ServerGroup] = [:]
    /// By compute host.
    public var hostSettings: [String: HostSetting] = [:]
    /// The highest number ever given, by what it numbers (`aggregate`): never given again.
    public var counters: [String: Int] = [:]

    public init() {}

    /// The kinds of stored rows.
    enum Kind: String {
        case flavor, keypair, quota, server, aggregate
        case serverGroup = "server_group"
        case hostSetting = "host_setting"
        case counter
    }

    /// The next instance number (one past the highest in use, or ever used while the
    /// service ran).
    var nextSerial: Int { (servers.values.map(\.serial).max() ?? 0) + 1 }

    /// What the compute agents follow: each server as an `instance` item, with the image
    /// service's URL it downloads images from.
    public static func publisher(imageURL: String)
        -> @Sendable (ComputeState, String, String) -> (
            kind: String, body: JSON?
        )?
    {
        { state, kind, id in
            guard kind == Kind.server.rawValue else { return nil }
            // A server still waiting for its ports, or one that never got a host, is
            // nothing for an agent to hold.
            guard let server = state.servers[id], server.task != "networking", !server.host.isEmpty,
                server.fault == nil
            else { return ("instance", nil) }
            return ("instance", server.channelBody(imageURL: imageURL))
        }
    }
}

/// The compute service's state in SQLite: a row per flavor and key pair. Synchronous
/// FULL, as a claimed resource must not come undone.
public typealias ComputeStore = StateStore<ComputeState>

extension ComputeState: StoredState {
    public mutating func load(kind: String, id: String, body: Data, decoder: JSONDecoder) throws {
        switch Kind(rawValue: kind) {
        case .flavor: flavors[id] = try decoder.decode(Flavor.self, from: body)
        case .keypair: keyPairs[id] = try decoder.decode(KeyPair.self, from: body)
        case .quota: quotas[id] = try decoder.decode([String: Int].self, from: body)
        case .server: servers[id] = try decoder.decode(Server.self, from: body)
        case .aggregate: aggregates[id] = try decoder.decode(Aggregate.self, from: body)
        case .serverGroup: serverGroups[id] = try decoder.decode(ServerGroup.self, from: body)
        case .hostSetting: hostSettings[id] = try decoder.decode(HostSetting.self, from: body)
        case .counter: counters[id] = try decoder.decode(Int.self, from: body)
        case nil: return
        }
    }

    public func row(kind: String, id: String, encoder: JSONEncoder) throws -> Data? {
        switch Kind(rawValue: kind) {
        case .flavor: try flavors[id].map(encoder.encode)
        case .keypair: try keyPairs[id].map(encoder.encode)
        case .quota: try quotas[id].map(encoder.encode)
        case .server: try servers[id].map(encoder.encode)
        case .aggregate: try aggregates[id].map(encoder.encode)
        case .serverGroup: try serverGroups[id].map(encoder.encode)
        case .hostSetting: try hostSettings[id].map(encoder.encode)
        case .counter: try counters[id].map(encoder.encode)
        case nil: nil
        }
    }
}

extension StateStore<ComputeState>.Transaction {
    mutating func touch(_ kind: ComputeState.Kind, _ id: String) { touch(kind: kind.rawValue, id: id) }
}
