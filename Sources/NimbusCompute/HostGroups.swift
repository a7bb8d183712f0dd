import Foundation
import NimbusServiceKit

/// A host aggregate (Nova's `aggregates` with their hosts and metadata): compute hosts an
/// admin groups to manage them. One with `availability_zone` in its metadata makes its
/// hosts an availability zone users choose (the notes' 호스트 집합 and 가용성 존).
public struct Aggregate: Codable, Sendable, Equatable {
    /// Nova's integer id.
    public var id: Int
    public var uuid: String
    public var name: String
    public var hosts: [String]
    public var metadata: [String: String]
    public var createdAt: Int64
    public var updatedAt: Int64?

    /// The availability zone its hosts are in, if it names one.
    public var zone: String? { metadata["availability_zone"] }
}

/// A server group (`os-server-groups`): where its members may go relative to each other.
public struct ServerGroup: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// `affinity`, `anti-affinity`, `soft-affinity` or `soft-anti-affinity`.
    public var policy: String
    /// The anti-affinity rule `max_server_per_host`, when given.
    public var maxServersPerHost: Int?
    public var projectID: String
    public var userID: String
    public var createdAt: Int64

    /// The policies Nova knows; the soft ones from 2.15.
    static let policies = ["affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity"]
}

/// What an admin set on a compute service (`os-services`): disabled (no new servers go
/// there) with a reason, or forced down (taken as dead whatever its heartbeats say).
public struct HostSetting: Codable, Sendable, Equatable {
    public var disabled: Bool = false
    public var reason: String? = nil
    public var forcedDown: Bool = false

    public init(disabled: Bool = false, reason: String? = nil, forcedDown: Bool = false) {
        self.disabled = disabled
        self.reason = reason
        self.forcedDown = forcedDown
    }
}

extension ComputeState {
    /// The zone of hosts in no zone aggregate (Nova's `default_availability_zone`).
    public static let defaultZone = "nova"

    /// The availability zone of a compute host: its zone aggregate's, else the default.
    public func zone(of host: String) -> String {
        aggregates.values.sorted { $0.id < $1.id }.first { $0.hosts.contains(host) && $0.zone != nil }?.zone
            ?? Self.defaultZone
    }

    /// The hosts of a server group's members (one entry per member placed).
    func memberHosts(of group: String) -> [String] {
        servers.values.filter { $0.group == group && !$0.host.isEmpty }.map(\.host)
    }
}
