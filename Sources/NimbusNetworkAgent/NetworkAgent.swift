import NimbusAgentKit

/// The network agents' dataplane: what the L2, DHCP and L3 agents make of the network
/// service's desired state on a host.
///
/// - `NetworkView` reads the agent channel's items into typed resources.
/// - `L2Plan`, `SecurityGroupPlan`, `DHCPPlan` and `RouterPlan` are pure: the desired state
///   of one host, and the commands that take what the host holds (read back as JSON from
///   `ip`, `bridge` and `nft`) to it, changing only what differs.
/// - `HostExecutor` runs those commands through `ProcessRunning`, in the host's namespace
///   (nil: the agent's own) or one of the agent's `qdhcp-`/`qrouter-` namespaces.
/// - `L2Reconciler`, `DHCPReconciler` and `L3Reconciler` are NimbusAgentKit `Reconciler`s:
///   each keeps the whole view, recomputes its host's plan on every change and applies the
///   difference; each reports `ACTIVE` for the ports it wired.
///
/// Concurrency: the reconcilers are actors whose passes run one at a time; every command
/// is awaited on the runner, nothing blocks a thread of the pool. Gratuitous ARP is the one
/// piece of work on a thread of its own (`GratuitousARP`), because it enters a namespace.
public enum PortState {
    /// Wired and up: what the API shows as the port's status.
    public static let active = "ACTIVE"
    /// Known but not wired (its tap is not there yet, or it is administratively down).
    public static let down = "DOWN"
    /// Wiring failed; the detail says why.
    public static let error = "ERROR"
}

extension ResourceStatus {
    /// A port's status.
    static func port(_ id: String, _ state: String, _ detail: String = "") -> ResourceStatus {
        ResourceStatus(kind: NetworkView.Kind.port.rawValue, id: id, state: state, detail: detail)
    }

    /// A router's status.
    static func router(_ id: String, _ state: String, _ detail: String = "") -> ResourceStatus {
        ResourceStatus(kind: NetworkView.Kind.router.rawValue, id: id, state: state, detail: detail)
    }
}
