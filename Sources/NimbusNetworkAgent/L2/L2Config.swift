import NimbusServiceKit

/// What an L2 agent knows of its host.
public struct L2Config: Sendable, Equatable {
    /// The host's name as ports are bound to it (`binding:host_id`).
    public var host: String
    /// This host's VXLAN endpoint, which its heartbeat publishes as `tunneling_ip`.
    public var tunnelIP: IPv4
    /// The device the tunnel address is on (`dev` of the VXLAN devices); nil: route lookup.
    public var tunnelInterface: String?
    /// Physical network → existing bridge (`extnet` → `br-ex`); flat networks' ports join it.
    public var bridgeMappings: [String: String]
    /// The network host: every network's bridge exists here (DHCP and routers join them)
    /// even without a bound port, and the network's own ports (DHCP, router) are plugged.
    public var servesAllNetworks: Bool
    /// Whether ports bound here are filtered by their security groups (nftables).
    public var securityGroups: Bool
    /// The UDP port of the VXLAN devices (IANA's 4789; the kernel's default would be 8472).
    public var vxlanPort: Int
    /// The namespace the host's devices are in; nil: the agent's own (tests use names).
    public var hostNamespace: String?

    /// A configuration; the defaults are a compute host's.
    public init(
        host: String, tunnelIP: IPv4, tunnelInterface: String? = nil, bridgeMappings: [String: String] = [:],
        servesAllNetworks: Bool = false, securityGroups: Bool = true, vxlanPort: Int = 4789,
        hostNamespace: String? = nil
    ) {
        self.host = host
        self.tunnelIP = tunnelIP
        self.tunnelInterface = tunnelInterface
        self.bridgeMappings = bridgeMappings
        self.servesAllNetworks = servesAllNetworks
        self.securityGroups = securityGroups
        self.vxlanPort = vxlanPort
        self.hostNamespace = hostNamespace
    }

    /// What the agent publishes of itself in its heartbeat (`configuration`): its
    /// `tunneling_ip`, which is how the other L2 agents learn this host as a VXLAN peer, and
    /// its bridge mappings.
    public var agentConfiguration: JSON {
        var members: [(String, JSON)] = [("tunneling_ip", .string(tunnelIP.description))]
        if !bridgeMappings.isEmpty {
            let mappings = bridgeMappings.sorted { $0.key < $1.key }.map { ($0.key, JSON.string($0.value)) }
            members.append(("bridge_mappings", .object(mappings)))
        }
        return .object(members)
    }
}
