import Foundation
import NimbusServiceKit

/// Everything the compute service holds, in memory; `ComputeStore` keeps it in SQLite.
public struct ComputeState: Sendable, Equatable {
    public var flavors: [String: Flavor] = [:]
    /// By `user/name`.
    public var keyPairs: [String: KeyPair] = [:]
    /// Each project's own limits (`os-quota-sets`), over the defaults.
    public var quotas: [String: [String: Int]] = [:]

    public init() {}

    /// The kinds of stored rows.
    enum Kind: String {
        case flavor, keypair, quota
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
        case nil: return
        }
    }

    public func row(kind: String, id: String, encoder: JSONEncoder) throws -> Data? {
        switch Kind(rawValue: kind) {
        case .flavor: try flavors[id].map(encoder.encode)
        case .keypair: try keyPairs[id].map(encoder.encode)
        case .quota: try quotas[id].map(encoder.encode)
        case nil: nil
        }
    }
}

extension StateStore<ComputeState>.Transaction {
    mutating func touch(_ kind: ComputeState.Kind, _ id: String) { touch(kind: kind.rawValue, id: id) }
}
