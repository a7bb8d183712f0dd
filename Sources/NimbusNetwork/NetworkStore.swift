import Foundation
import NimbusServiceKit

/// The network service's state in SQLite (`StateStore`): one row per resource and per
/// project's quota; every write publishes what the agents follow (`AgentView.publish`) in
/// the same transaction. Synchronous FULL: an acknowledged allocation (an address, a VNI)
/// must not come undone after a power loss, or it would be handed out twice.
public typealias NetworkStore = StateStore<NetworkState>

extension StateStore where State == NetworkState {
    /// - Parameter path: the database file; nil keeps it in memory (tests).
    public convenience init(
        path: String?,
        publish: @escaping @Sendable (NetworkState, ResourceKind, String) -> (kind: String, body: JSON?)? = AgentView
            .publish
    ) throws {
        try self.init(path: path, synchronous: .full) { state, kind, id in
            ResourceKind(rawValue: kind).flatMap { publish(state, $0, id) }
        }
    }
}

extension StateStore<NetworkState>.Transaction {
    /// Marks a resource as changed (or deleted, when it is gone from `state`).
    public mutating func touch(_ kind: ResourceKind, _ id: String) { touch(kind: kind.rawValue, id: id) }

    /// Marks a project's quota as changed.
    public mutating func touchQuota(_ project: String) { touch(kind: NetworkState.quotaKind, id: project) }

    /// Marks an agent's settings as changed.
    public mutating func touchAgent(_ id: String) { touch(kind: NetworkState.agentKind, id: id) }
}

extension NetworkState: StoredState {
    /// The rows' kind for quotas (resources use their `ResourceKind`).
    static let quotaKind = "quota"
    /// The rows' kind for agents' settings.
    static let agentKind = "agent_setting"

    public mutating func load(kind: String, id: String, body: Data, decoder: JSONDecoder) throws {
        switch kind {
        case "network": networks[id] = try decoder.decode(Network.self, from: body)
        case "subnet": subnets[id] = try decoder.decode(Subnet.self, from: body)
        case "subnetpool": subnetPools[id] = try decoder.decode(SubnetPool.self, from: body)
        case "port": ports[id] = try decoder.decode(Port.self, from: body)
        case "router": routers[id] = try decoder.decode(Router.self, from: body)
        case "floatingip": floatingIPs[id] = try decoder.decode(FloatingIP.self, from: body)
        case "security_group": securityGroups[id] = try decoder.decode(SecurityGroup.self, from: body)
        case "security_group_rule": rules[id] = try decoder.decode(SecurityGroupRule.self, from: body)
        case Self.quotaKind: quotas[id] = try decoder.decode(Quota.self, from: body)
        case Self.agentKind: agentSettings[id] = try decoder.decode(AgentSetting.self, from: body)
        default: return
        }
    }

    public func row(kind: String, id: String, encoder: JSONEncoder) throws -> Data? {
        if kind == Self.quotaKind { return try quotas[id].map(encoder.encode) }
        if kind == Self.agentKind { return try agentSettings[id].map(encoder.encode) }
        guard let resource = ResourceKind(rawValue: kind) else { return nil }
        return try encoded(resource, id, encoder)
    }
}

extension NetworkState {
    func encoded(_ kind: ResourceKind, _ id: String, _ encoder: JSONEncoder) throws -> Data? {
        switch kind {
        case .network: try networks[id].map(encoder.encode)
        case .subnet: try subnets[id].map(encoder.encode)
        case .subnetpool: try subnetPools[id].map(encoder.encode)
        case .port: try ports[id].map(encoder.encode)
        case .router: try routers[id].map(encoder.encode)
        case .floatingip: try floatingIPs[id].map(encoder.encode)
        case .securityGroup: try securityGroups[id].map(encoder.encode)
        case .securityGroupRule: try rules[id].map(encoder.encode)
        }
    }
}
