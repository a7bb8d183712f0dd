/// The names of what the agents create, as Neutron's Linux bridge agent names them. An
/// interface name holds at most 15 characters (IFNAMSIZ − 1); each prefix is followed by
/// the first 11 characters of the resource id.
public enum DeviceName {
    /// The most characters of an interface name.
    public static let maximumLength = 15

    static func short(_ id: String) -> String { String(id.prefix(11)) }

    /// A VXLAN network's bridge: `brq-` and 11 characters of its id (15 in all; Neutron's
    /// own `brq` has no dash).
    public static func bridge(network id: String) -> String { "brq-" + short(id) }

    /// A network's VXLAN device: `vxlan-<VNI>` (14 characters at most).
    public static func vxlan(vni: Int) -> String { "vxlan-\(vni)" }

    /// The host end of a port: an instance's tap, or the bridge side of a DHCP or router veth.
    public static func tap(port id: String) -> String { "tap" + short(id) }

    /// A DHCP port's end inside its `qdhcp-` namespace.
    public static func dhcpInterface(port id: String) -> String { "ns-" + short(id) }

    /// A router interface's end inside its `qrouter-` namespace.
    public static func routerInterface(port id: String) -> String { "qr-" + short(id) }

    /// A router gateway's end inside its `qrouter-` namespace.
    public static func routerGateway(port id: String) -> String { "qg-" + short(id) }

    /// The namespace serving a network's DHCP.
    public static func dhcpNamespace(network id: String) -> String { "qdhcp-" + id }

    /// A router's namespace.
    public static func routerNamespace(router id: String) -> String { "qrouter-" + id }

    /// The bridge a network's ports join on a host: the physical network's mapped bridge for
    /// a flat network, `brq-…` for VXLAN.
    public static func bridge(for network: Network, mappings: [String: String]) throws(DataplaneError) -> String {
        switch network.segment {
        case .vxlan: return bridge(network: network.id)
        case .flat(let physnet):
            guard let bridge = mappings[physnet] else {
                throw .noBridgeMapping(network: network.id, physicalNetwork: physnet)
            }
            return bridge
        case .unsupported(let type): throw .unsupportedNetworkType(network: network.id, type: type)
        }
    }
}
