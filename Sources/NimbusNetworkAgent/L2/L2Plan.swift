/// What one host's L2 agent makes of the desired state: the bridges and VXLAN devices it
/// owns, with their flood lists and per-MAC entries, and the taps it plugs. A pure value,
/// computed from a `NetworkView` and the host's configuration.
public struct L2Plan: Sendable, Equatable {
    /// A VXLAN network's `brq-` bridge with its `vxlan-` device.
    public struct Bridge: Sendable, Equatable {
        /// `brq-` and 11 characters of the network id.
        public var name: String
        /// The network it is on.
        public var networkID: String
        /// The network's MTU, for the bridge and its VXLAN device.
        public var mtu: Int
        /// The bridge's VXLAN device.
        public var vxlan: VXLAN
    }

    /// A VXLAN device: unicast head-end replication to `flood`, l2pop entries in `unicast`.
    public struct VXLAN: Sendable, Equatable {
        /// `vxlan-<VNI>`.
        public var name: String
        /// The VXLAN network identifier.
        public var vni: Int
        /// This host's tunnel address.
        public var local: IPv4
        /// The underlay device (`dev`), when configured.
        public var device: String?
        /// The UDP port (`dstport`).
        public var port: Int
        /// Every other L2 agent's tunnel address, sorted.
        public var flood: [IPv4]
        /// The MAC of each port bound elsewhere → its host's tunnel address.
        public var unicast: [MACAddress: IPv4]
    }

    /// A port's tap to plug into its network's bridge when the device exists.
    public struct Plug: Sendable, Equatable {
        /// The port.
        public var portID: String
        /// `tap` and 11 characters of the port id.
        public var tap: String
        /// The network's bridge on this host.
        public var bridge: String
        /// The network's MTU.
        public var mtu: Int
        /// The port's `admin_state_up`: the tap is set up or down.
        public var up: Bool
        /// Bound to this host: its status is this agent's to report.
        public var boundHere: Bool
    }

    /// The VXLAN networks' bridges, which the agent owns (flat networks use the mapped one).
    public var bridges: [Bridge] = []
    /// The taps to plug, by port id.
    public var plugs: [Plug] = []
    /// The ports bound here whose network this host cannot wire, with why.
    public var failures: [String: DataplaneError] = [:]

    /// The plan of `config.host` for `view`.
    public init(view: NetworkView, config: L2Config) {
        let ports = view.ports.values.filter { $0.owner != .floatingIP }
        let bound = ports.filter { $0.hostID == config.host }
        let networkIDs =
            config.servesAllNetworks ? Set(view.networks.keys) : Set(bound.map(\.networkID))
        let peers = Set(view.peers.values.map(\.tunnelIP)).subtracting([config.tunnelIP]).sorted()
        for networkID in networkIDs.sorted() {
            let here = bound.filter { $0.networkID == networkID }
            guard let network = view.networks[networkID] else {
                for port in here {
                    failures[port.id] = .missingResource(kind: "network", id: networkID, neededBy: "port \(port.id)")
                }
                continue
            }
            let bridge: String
            do throws(DataplaneError) {
                bridge = try DeviceName.bridge(for: network, mappings: config.bridgeMappings)
            } catch {
                for port in here { failures[port.id] = error }
                continue
            }
            if case .vxlan(let vni) = network.segment {
                var unicast: [MACAddress: IPv4] = [:]
                for port in ports where port.networkID == networkID && !port.hostID.isEmpty {
                    guard port.hostID != config.host, let remote = view.tunnelIP(of: port.hostID),
                        remote != config.tunnelIP
                    else { continue }
                    unicast[port.macAddress] = remote
                }
                let vxlan = VXLAN(
                    name: DeviceName.vxlan(vni: vni), vni: vni, local: config.tunnelIP,
                    device: config.tunnelInterface, port: config.vxlanPort, flood: peers, unicast: unicast)
                bridges.append(Bridge(name: bridge, networkID: networkID, mtu: network.mtu, vxlan: vxlan))
            }
            for port in ports where port.networkID == networkID {
                let boundHere = port.hostID == config.host
                let networkOwned = [.dhcp, .routerInterface, .routerGateway].contains(port.owner)
                guard boundHere || (config.servesAllNetworks && networkOwned) else { continue }
                plugs.append(
                    Plug(
                        portID: port.id, tap: DeviceName.tap(port: port.id), bridge: bridge, mtu: network.mtu,
                        up: port.adminStateUp, boundHere: boundHere))
            }
        }
        plugs.sort { $0.portID < $1.portID }
    }

    /// The ports whose status this agent reports: those bound to its host.
    public var reportedPorts: [String] {
        (plugs.filter(\.boundHere).map(\.portID) + failures.keys).sorted()
    }
}
