/// Why an agent could not make a host hold what the network service asks, in words the
/// operator can act on (which command, which device, what to fix).
public enum DataplaneError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A command ran and failed.
    case commandFailed(command: String, status: Int32, stderr: String)
    /// A command could not be run at all (not installed, timed out).
    case cannotRun(command: String, reason: String)
    /// A command's output was not what it prints (`ip -j`, `nft -j`).
    case unreadableOutput(command: String, reason: String)
    /// A flat network's physical network has no bridge on this host.
    case noBridgeMapping(network: String, physicalNetwork: String)
    /// A bridge the mapping names does not exist on this host.
    case missingBridge(String)
    /// A network type the agents do not wire.
    case unsupportedNetworkType(network: String, type: String)
    /// A resource another one needs is not (yet) known.
    case missingResource(kind: String, id: String, neededBy: String)
    /// A device with our name is something else (another kind of link).
    case nameTaken(device: String, kind: String)
    /// A state file could not be written or read.
    case stateFile(path: String, reason: String)
    /// dnsmasq did not start or stop.
    case dnsmasq(network: String, reason: String)
    /// A kernel facility this host lacks.
    case hostUnprepared(String)

    /// What went wrong, and what to do.
    public var description: String {
        switch self {
        case .commandFailed(let command, let status, let stderr):
            "`\(command)` exited with \(status)" + (stderr.isEmpty ? "" : ": \(stderr)")
        case .cannotRun(let command, let reason): "`\(command)` could not run: \(reason)"
        case .unreadableOutput(let command, let reason): "the output of `\(command)` is unreadable: \(reason)"
        case .noBridgeMapping(let network, let physnet):
            "network \(network) is on physical network '\(physnet)', which has no bridge mapping on this host"
                + " (add '\(physnet):<bridge>' to the agent's bridge mappings)"
        case .missingBridge(let bridge):
            "bridge \(bridge) does not exist on this host (the host preparation creates the mapped bridges)"
        case .unsupportedNetworkType(let network, let type):
            "network \(network) is of type '\(type)'; the agents wire flat and vxlan networks only"
        case .missingResource(let kind, let id, let neededBy): "\(neededBy) needs \(kind) \(id), which is not known"
        case .nameTaken(let device, let kind): "device \(device) exists but is a \(kind) device; remove it"
        case .stateFile(let path, let reason): "state file \(path): \(reason)"
        case .dnsmasq(let network, let reason): "dnsmasq of network \(network): \(reason)"
        case .hostUnprepared(let reason): reason
        }
    }
}
