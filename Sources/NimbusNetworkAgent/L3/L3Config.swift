/// What an L3 agent knows of its host (the network host).
public struct L3Config: Sendable, Equatable {
    /// The host's name.
    public var host: String
    /// One marker directory per router made (`/var/lib/nimbus/network-l3/<router id>/`): how
    /// the agent knows which `qrouter-` namespaces are its own; it never touches others.
    public var stateDirectory: String
    /// Physical network → bridge, for the external networks' gateway ports.
    public var bridgeMappings: [String: String]
    /// The namespace the host's devices are in; nil: the agent's own (tests use names).
    public var hostNamespace: String?
    /// Where the routers' metadata proxies send guests' requests; nil: no proxies.
    public var metadata: MetadataProxyConfig?

    /// A configuration.
    public init(
        host: String, stateDirectory: String = "/var/lib/nimbus/network-l3", bridgeMappings: [String: String] = [:],
        hostNamespace: String? = nil, metadata: MetadataProxyConfig? = nil
    ) {
        self.metadata = metadata
        self.host = host
        self.stateDirectory = stateDirectory
        self.bridgeMappings = bridgeMappings
        self.hostNamespace = hostNamespace
    }

    /// A router's marker directory.
    public func directory(router id: String) -> String { stateDirectory + "/" + id }
}
