/// A port wired into one of the agent's namespaces as a veth pair, as the DHCP and L3 agents
/// wire theirs: `tap…` on the host in the network's bridge, the other end (`ns-…`, `qr-…`,
/// `qg-…`) inside the namespace with the port's MAC, the network's MTU and its addresses.
public struct NamespacePort: Sendable, Equatable {
    /// The port.
    public var portID: String
    /// The agent's namespace the inner end is in.
    public var namespace: String
    /// The host end, in the bridge.
    public var tap: String
    /// The inner end.
    public var interface: String
    /// The network's bridge on the host.
    public var bridge: String
    /// A `brq-` bridge, which the agent may create when the L2 agent has not yet; a mapped
    /// physical bridge must exist already.
    public var bridgeIsOwned: Bool
    /// The network's MTU, on both ends.
    public var mtu: Int
    /// The port's MAC, on the inner end.
    public var mac: MACAddress
    /// Every IPv4 address the inner end holds; others are removed.
    public var addresses: [IPv4Prefix]

    /// The commands that create or correct the pair, given the host's links
    /// (`ip -d -j link show`) and the namespace's (`ip -d -j addr show`).
    public func commands(host: [String: Link], inside: [String: Link]) throws(DataplaneError) -> [HostCommand] {
        var commands: [HostCommand] = []
        let inner = inside[interface]
        let outer = inner == nil ? nil : host[tap]
        if inner == nil {
            // A tap without its other end here is half of a stale pair: recreate both.
            if host[tap] != nil { commands.append(.ip(.host, "link", "del", tap)) }
            commands.append(
                .ip(.host, "link", "add", tap, "type", "veth", "peer", "name", interface, "netns", namespace))
        }
        if host[bridge] == nil {
            guard bridgeIsOwned else { throw .missingBridge(bridge) }
            commands += Self.bridgeCreation(bridge)
        }
        if outer?.noAddressGeneration != true {
            commands.append(.ip(.host, "link", "set", tap, "addrgenmode", "none"))
        }
        if outer == nil || outer?.mtu != mtu || outer?.master != bridge || outer?.up != true {
            commands.append(.ip(.host, "link", "set", tap, "mtu", "\(mtu)", "master", bridge, "up"))
        }
        let scope = HostCommand.Scope.namespace(namespace)
        if inner == nil || inner?.mac != mac || inner?.mtu != mtu || inner?.up != true {
            commands.append(.ip(scope, "link", "set", interface, "address", "\(mac)", "mtu", "\(mtu)", "up"))
        }
        let current = inner?.addresses ?? []
        for address in addresses where !current.contains(address) {
            commands.append(.ip(scope, "addr", "replace", "\(address)", "dev", interface))
        }
        for address in current where !addresses.contains(address) {
            commands.append(.ip(scope, "addr", "del", "\(address)", "dev", interface))
        }
        return commands
    }

    /// A bare `brq-` bridge as the L2 agent makes it (it adds the VXLAN device and MTU). Its
    /// `add` may fail: another agent may have made it in the meantime.
    static func bridgeCreation(_ bridge: String) -> [HostCommand] {
        [
            .ip(.host, "link", "add", bridge, "type", "bridge", mayFail: true),
            .ip(.host, "link", "set", bridge, "addrgenmode", "none"),
            .ip(.host, "link", "set", bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0"),
            .ip(.host, "link", "set", bridge, "up"),
        ]
    }

    /// Creates an agent namespace (from the agent's own context) with its loopback up.
    static func namespaceCreation(_ name: String, exists: Bool, inside: [String: Link]) -> [HostCommand] {
        var commands: [HostCommand] = []
        if !exists { commands.append(.ip(.agent, "netns", "add", name)) }
        if inside["lo"]?.up != true { commands.append(.ip(.namespace(name), "link", "set", "lo", "up")) }
        return commands
    }

    /// Deletes the devices in `namespace` named with one of `prefixes` that are not `keeping`
    /// (the pair's other end goes with each).
    static func strays(
        in namespace: String, inside: [String: Link], prefixes: [String], keeping: Set<String>
    ) -> [HostCommand] {
        inside.keys.sorted().filter { name in
            prefixes.contains { name.hasPrefix($0) } && !keeping.contains(name)
        }.map { .ip(.namespace(namespace), "link", "del", $0) }
    }
}
