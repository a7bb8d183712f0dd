/// What a DHCP agent knows of its host (the network host).
public struct DHCPConfig: Sendable, Equatable {
    /// The host's name (`binding:host_id`); a network's DHCP port bound here is preferred.
    public var host: String
    /// Where each network's dnsmasq files live, one directory per network id
    /// (`/var/lib/nimbus/network-dhcp/<network id>/`). The directories are also how the agent
    /// knows which `qdhcp-` namespaces are its own: it never touches others.
    public var stateDirectory: String
    /// Physical network → bridge, for flat networks' DHCP ports.
    public var bridgeMappings: [String: String]
    /// The domain of the instances' DNS names (Neutron's `dns_domain`).
    public var domain: String
    /// How long a lease lasts, in seconds.
    public var leaseSeconds: Int
    /// Upstream DNS servers dnsmasq forwards other names to (`--server`); none: it answers
    /// only for the network's own names.
    public var upstreamDNS: [IPv4]
    /// Whether dnsmasq logs each DHCP exchange to `dnsmasq.log` in the network's directory.
    public var logDHCP: Bool
    /// The namespace the host's devices are in; nil: the agent's own (tests use names).
    public var hostNamespace: String?

    /// A configuration with Neutron's defaults.
    public init(
        host: String, stateDirectory: String = "/var/lib/nimbus/network-dhcp", bridgeMappings: [String: String] = [:],
        domain: String = "openstacklocal", leaseSeconds: Int = 86400, upstreamDNS: [IPv4] = [], logDHCP: Bool = false,
        hostNamespace: String? = nil
    ) {
        self.host = host
        self.stateDirectory = stateDirectory
        self.bridgeMappings = bridgeMappings
        self.domain = domain
        self.leaseSeconds = leaseSeconds
        self.upstreamDNS = upstreamDNS
        self.logDHCP = logDHCP
        self.hostNamespace = hostNamespace
    }

    /// The directory of a network's dnsmasq files.
    public func directory(network id: String) -> String { stateDirectory + "/" + id }
}
