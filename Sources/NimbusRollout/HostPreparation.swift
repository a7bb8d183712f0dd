import Foundation
import NimbusModel
import NimbusPlan

/// What host preparation needs from the answer file and the other hosts' facts, for one host.
public struct PreparationSettings: Sendable, Equatable {
    public struct HostsEntry: Sendable, Equatable {
        public var address: String
        public var names: [String]

        public init(address: String, names: [String]) {
            self.address = address
            self.names = names
        }
    }

    public struct Bridge: Sendable, Equatable {
        public var name: String
        /// The interface enslaved to it (`CONFIG_NEUTRON_OVS_BRIDGE_IFACES`), if any.
        public var port: String?

        public init(name: String, port: String?) {
            self.name = name
            self.port = port
        }
    }

    /// The address this host is reached at (from the answer file).
    public var host: String
    public var controller: String
    public var isController: Bool
    public var ntpServers: [String]
    /// Every other host's address, for chrony's `allow` when the subnet is unknown.
    public var otherHosts: [String]
    /// The managed block of `/etc/hosts`, in answer-file order.
    public var hostsEntries: [HostsEntry]
    public var bridges: [Bridge]

    public init(
        host: String, controller: String, isController: Bool, ntpServers: [String], otherHosts: [String],
        hostsEntries: [HostsEntry], bridges: [Bridge]
    ) {
        self.host = host
        self.controller = controller
        self.isController = isController
        self.ntpServers = ntpServers
        self.otherHosts = otherHosts
        self.hostsEntries = hostsEntries
        self.bridges = bridges
    }
}

/// The resources of one preparation step on one host.
public struct PreparedStep: Sendable, Equatable {
    public var resources: [ResourceStep]
    /// Said when the step has nothing to do on this host (no SELinux, no firewall service, …).
    public var note: String?
    /// A bridge change started detached (the host's SSH address moves): when the resource
    /// `resource` changed, the rollout reconnects and confirms `script`, or the host rolls
    /// it back by itself.
    public struct Transaction: Sendable, Equatable {
        public var resource: String
        public var script: String
    }

    public var transactions: [Transaction]

    public init(resources: [ResourceStep], note: String? = nil, transactions: [Transaction] = []) {
        self.resources = resources
        self.note = note
        self.transactions = transactions
    }
}

/// A preparation step that cannot be done on this host, with what to do instead.
public struct PreparationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Builds the resources of each preparation step from a host's facts: pure, so every OS
/// family's output is covered by golden tests.
public struct HostPreparation: Sendable {
    public var facts: HostFacts
    public var settings: PreparationSettings

    public init(facts: HostFacts, settings: PreparationSettings) {
        self.facts = facts
        self.settings = settings
    }

    public static let header = "# Managed by nimbus; changes here are overwritten by the next deploy."

    public func step(_ step: PreparationStep) throws(PreparationError) -> PreparedStep {
        switch step {
        case .facts: PreparedStep(resources: [], note: "\(facts.osName), \(facts.networkStack.rawValue)")
        case .timeSync: timeSync()
        case .firewall: firewall()
        case .selinux: selinux()
        case .networkManager: try networkManager()
        case .hostsFile: hostsFile()
        case .sysctl: sysctl()
        case .bridges: try bridges()
        }
    }

    // MARK: Steps

    func timeSync() -> PreparedStep {
        let rhel = facts.family == .rhel
        let path = rhel ? "/etc/chrony.conf" : "/etc/chrony/chrony.conf"
        let unit = rhel ? "chronyd.service" : "chrony.service"
        var lines = [Self.header]
        if settings.isController {
            if settings.ntpServers.isEmpty {
                lines.append("# No NTP servers in the answer file: serve this host's clock to the others.")
            } else {
                lines.append("# Follows the answer file's NTP servers and serves the other hosts.")
                lines += settings.ntpServers.map { "server \($0) iburst" }
            }
            lines.append("local stratum 10")
            if let subnet = managementSubnet() {
                lines.append("allow \(subnet)")
            } else {
                lines += settings.otherHosts.map { "allow \($0)" }
            }
        } else {
            lines.append("# Follows the controller.")
            lines.append("server \(settings.controller) iburst")
        }
        lines += [
            "driftfile /var/lib/chrony/\(rhel ? "drift" : "chrony.drift")", "makestep 1.0 3", "rtcsync",
            "logdir /var/log/chrony",
        ]
        var resources = [
            ResourceStep("time-sync/package", .packages(["chrony"])),
            ResourceStep("time-sync/config", .file(path: path, content: lines.joined(separator: "\n") + "\n")),
        ]
        for other in ["systemd-timesyncd.service", "ntp.service", "ntpd.service"] where facts.unitFiles[other] != nil {
            resources.append(ResourceStep("time-sync/\(other)", .service(name: other, enabled: false, running: false)))
        }
        resources.append(
            ResourceStep(
                "time-sync/service",
                .service(
                    name: unit, enabled: true, running: true, restartOn: ["time-sync/package", "time-sync/config"])
            ))
        return PreparedStep(resources: resources)
    }

    /// The controller's network on the interface holding its answer-file address.
    func managementSubnet() -> String? {
        for interface in facts.interfaces {
            for address in interface.addresses where address.address == settings.host && address.family == "inet" {
                guard let ip = IPv4Address(address.address) else { return nil }
                return CIDR(network: ip, prefixLength: address.prefixLength).description
            }
        }
        return nil
    }

    func firewall() -> PreparedStep {
        var resources: [ResourceStep] = []
        for unit in ["firewalld.service", "ufw.service", "nftables.service", "iptables.service"]
        where facts.unitFiles[unit] != nil {
            resources.append(ResourceStep("firewall/\(unit)", .service(name: unit, enabled: false, running: false)))
        }
        if facts.paths.contains("/usr/sbin/ufw") {
            resources.append(
                ResourceStep(
                    "firewall/ufw",
                    .command(run: "ufw --force disable", unless: "ufw status | grep -q 'Status: inactive'"))
            )
        }
        return PreparedStep(resources: resources, note: resources.isEmpty ? "no firewall service on this host" : nil)
    }

    func selinux() -> PreparedStep {
        guard let mode = facts.selinux, facts.paths.contains("/etc/selinux/config") else {
            return PreparedStep(resources: [], note: "no SELinux on this host")
        }
        var resources: [ResourceStep] = []
        if mode != "Disabled" {
            resources.append(
                ResourceStep("selinux/now", .command(run: "setenforce 0", unless: "[ \"$(getenforce)\" != Enforcing ]"))
            )
        }
        resources.append(
            ResourceStep(
                "selinux/config",
                .command(
                    run: "sed -i -E 's/^SELINUX=.*/SELINUX=permissive/' /etc/selinux/config",
                    unless: "grep -qE '^SELINUX=(permissive|disabled)$' /etc/selinux/config")))
        return PreparedStep(resources: resources)
    }

    func networkManager() throws(PreparationError) -> PreparedStep {
        guard facts.unitFiles["NetworkManager.service"] != nil else {
            return PreparedStep(resources: [], note: "NetworkManager is not installed")
        }
        let alternative =
            facts.paths.contains("/etc/sysconfig/network-scripts") && facts.paths.contains("/usr/sbin/ifup")
            ? "network.service"
            : facts.unitFiles["systemd-networkd.service"] != nil ? "systemd-networkd.service" : nil
        guard let alternative else {
            throw PreparationError(
                "NetworkManager configures this host's network and nothing else (network-scripts, systemd-networkd) would after it is disabled; set CONFIG_NIMBUS_NETWORKMANAGER=keep"
            )
        }
        return PreparedStep(resources: [
            ResourceStep("networkmanager/alternative", .service(name: alternative, enabled: true, running: true)),
            ResourceStep(
                "networkmanager/service", .service(name: "NetworkManager.service", enabled: false, running: false)),
        ])
    }

    func hostsFile() -> PreparedStep {
        let width = settings.hostsEntries.map(\.address.count).max() ?? 0
        let lines = settings.hostsEntries.map { entry in
            entry.address.padding(toLength: max(width, entry.address.count), withPad: " ", startingAt: 0) + " "
                + entry.names.joined(separator: " ")
        }
        return PreparedStep(resources: [
            ResourceStep(
                "hosts-file/block", .block(path: "/etc/hosts", marker: "hosts", content: lines.joined(separator: "\n")))
        ])
    }

    func sysctl() -> PreparedStep {
        var settingsList = [("net.ipv4.ip_forward", "1")]
        var note: String?
        let bridgeNetfilter = facts.paths.contains("/proc/sys/net/bridge")
        let container = facts.virtualization != "none" && Self.containers.contains(facts.virtualization)
        var resources: [ResourceStep] = []
        if bridgeNetfilter || !container {
            settingsList += [("net.bridge.bridge-nf-call-iptables", "1"), ("net.bridge.bridge-nf-call-ip6tables", "1")]
            resources.append(
                ResourceStep(
                    "sysctl/modules-load",
                    .file(path: "/etc/modules-load.d/nimbus.conf", content: "\(Self.header)\nbr_netfilter\n")))
            resources.append(
                ResourceStep(
                    "sysctl/br_netfilter", .command(run: "modprobe br_netfilter", unless: "[ -d /proc/sys/net/bridge ]")
                ))
        } else {
            note =
                "br_netfilter is not loaded and this host is a container (\(facts.virtualization)) that cannot load it: bridge netfilter sysctls left out"
        }
        let file = ([Self.header] + settingsList.map { "\($0.0) = \($0.1)" }).joined(separator: "\n") + "\n"
        resources.append(ResourceStep("sysctl/file", .file(path: "/etc/sysctl.d/90-nimbus.conf", content: file)))
        for (key, value) in settingsList {
            resources.append(ResourceStep("sysctl/\(key)", .sysctl(key: key, value: value)))
        }
        return PreparedStep(resources: resources, note: note)
    }

    static let containers: Set<String> = ["systemd-nspawn", "lxc", "lxc-libvirt", "docker", "podman", "openvz", "wsl"]

    func bridges() throws(PreparationError) -> PreparedStep {
        var resources: [ResourceStep] = []
        var transactions: [PreparedStep.Transaction] = []
        for bridge in settings.bridges {
            let script = try BridgeTransaction(bridge: bridge, facts: facts)
            let path = "/var/lib/nimbus/bridges/\(bridge.name).sh"
            resources.append(
                ResourceStep("bridges/\(bridge.name)-script", .file(path: path, content: script.render(), mode: "0700"))
            )
            let detached = script.carriesConnection
            let id = "bridges/\(bridge.name)"
            resources.append(
                ResourceStep(
                    id, .command(run: "sh \(path) \(detached ? "start" : "apply")", unless: "sh \(path) check")))
            if detached { transactions.append(.init(resource: id, script: path)) }
            if !script.packages.isEmpty && !resources.contains(where: { $0.id == "bridges/packages" }) {
                resources.insert(ResourceStep("bridges/packages", .packages(script.packages)), at: 0)
            }
        }
        return PreparedStep(resources: resources, transactions: transactions)
    }
}
