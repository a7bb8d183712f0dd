import NimbusConfig
import NimbusModel

/// The files that make a node itself, written into its overlay on first boot, and the
/// sandbox's answer file. Pure functions of the spec, unit-tested without a machine.
public enum NodeFiles {
    /// Path inside the node → contents.
    public static func identity(of node: SandboxNode, spec: SandboxSpec, authorizedKey: String) -> [(String, String)] {
        let management = "\(node.managementAddress)/\(spec.managementNetwork.prefixLength)"
        let provider = "\(node.providerAddress)/\(spec.providerNetwork.prefixLength)"
        return [
            ("/etc/hostname", "\(node.name)\n"),
            (
                "/etc/hosts",
                "127.0.0.1\tlocalhost\n127.0.1.1\t\(node.name)\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            ),
            ("/etc/systemd/network/10-eth0.network", network(interface: "eth0", address: management)),
            ("/etc/systemd/network/20-eth1.network", network(interface: "eth1", address: provider)),
            ("/root/.ssh/authorized_keys", authorizedKey.hasSuffix("\n") ? authorizedKey : authorizedKey + "\n"),
        ]
    }

    static func network(interface: String, address: String) -> String {
        """
        # Written by nimbus sandbox: the node's \(interface == "eth0" ? "management" : "provider") interface.
        [Match]
        Name=\(interface)

        [Network]
        Address=\(address)
        LinkLocalAddressing=no
        IPv6AcceptRA=no

        """
    }

    /// `node.env`, sourced by `templates/sandbox/supervise.sh`.
    public static func supervisorEnvironment(
        of node: SandboxNode, spec: SandboxSpec, nodeDirectory: String, repository: String
    ) -> String {
        """
        NODE=\(node.name)
        NETNS=\(node.namespace)
        NODE_DIR=\(nodeDirectory)
        ROOT=\(nodeDirectory)/root
        REPO=\(repository)
        BRIDGE_M=\(spec.managementBridge)
        BRIDGE_P=\(spec.providerBridge)
        VETH_M=\(node.managementVeth)
        VETH_P=\(node.providerVeth)
        MAC_M=\(node.managementMAC)
        MAC_P=\(node.providerMAC)

        """
    }

    /// known_hosts lines for a node's host key under both its addresses.
    public static func knownHosts(of node: SandboxNode, hostKey: String) -> String {
        let key = hostKey.split(separator: " ").prefix(2).joined(separator: " ")
        return "\(node.managementAddress) \(key)\n\(node.providerAddress) \(key)\n"
    }

    /// `.100`–`.199` of a /24 or larger provider network; the whole range of a smaller one.
    static func demoPools(_ network: CIDR) -> String {
        guard network.size >= 256 else { return "[]" }
        let start = IPv4Address(value: network.network.value + 100)
        let end = IPv4Address(value: network.network.value + 199)
        return "[\"start=\(start),end=\(end)\"]"
    }

    /// Answer-file values that place the layout's roles on the nodes.
    public static func answerOverrides(spec: SandboxSpec, publicKeyPath: String, knownHostsPath: String)
        -> [String: String]
    {
        let nodes = spec.nodes.map(\.managementAddress.description)
        let first = nodes[0]
        var values = [
            KeyDefinition.sshKey.name: publicKeyPath,
            KeyDefinition.knownHosts.name: knownHostsPath,
            KeyDefinition.controllerHost.name: first,
            KeyDefinition.neutronBridgeInterfaces.name: "br-ex:eth1",
            KeyDefinition.ntpServers.name: "",
            KeyDefinition.provisionDemoFloatRange.name: spec.providerNetwork.description,
            // Floating IPs clear of this machine (.1) and the nodes (.11 on).
            KeyDefinition.provisionDemoAllocationPools.name: demoPools(spec.providerNetwork),
            // Nodes run instances under QEMU/TCG: nested KVM is not available in a sandbox.
            KeyDefinition.novaVirtType.name: "qemu",
        ]
        let (network, compute, storage): (String, [String], String)
        switch spec.layout {
        case .allinone: (network, compute, storage) = (first, [first], first)
        case .two: (network, compute, storage) = (first, Array(nodes.dropFirst()), first)
        case .three: (network, compute, storage) = (nodes[1], Array(nodes.dropFirst(2)), first)
        case .four:
            (network, compute, storage) = (nodes[1], Array(nodes.dropFirst(2).dropLast()), nodes[nodes.count - 1])
        }
        values[KeyDefinition.networkHosts.name] = network
        values[KeyDefinition.computeHosts.name] = compute.joined(separator: ",")
        values[KeyDefinition.storageHost.name] = storage
        return values
    }
}
