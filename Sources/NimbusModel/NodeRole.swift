/// What a host does in the cloud. A host may carry several roles.
public enum NodeRole: String, CaseIterable, Codable, Sendable, Comparable, CustomStringConvertible {
    /// Identity, image, compute API and scheduler, network API, block-storage API, dashboard.
    case controller
    /// Routers (namespaces, SNAT/DNAT for floating IPs), DHCP, the `br-ex` uplink.
    case network
    /// The libvirt hypervisor agent and the L2 agent (bridges and VXLAN tunnels).
    case compute
    /// The volume backend and the object storage server.
    case storage

    public var description: String { rawValue }

    /// Controller first: the order roles are listed and set up in.
    public var order: Int {
        switch self {
        case .controller: 0
        case .network: 1
        case .compute: 2
        case .storage: 3
        }
    }

    public static func < (lhs: NodeRole, rhs: NodeRole) -> Bool { lhs.order < rhs.order }
}
