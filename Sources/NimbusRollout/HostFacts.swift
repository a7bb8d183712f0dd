import Foundation

/// What a host is, read in one round trip before anything is changed: the OS family picks
/// the package manager and the network configuration style; interfaces and routes say
/// where addresses live (and which one Nimbus is connected through).
public struct HostFacts: Sendable, Equatable, Codable {
    public enum Family: String, Sendable, Codable {
        /// Debian, Ubuntu and their derivatives: apt, chrony in /etc/chrony.
        case debian
        /// RHEL, CentOS Stream, Rocky, Alma, Fedora: dnf, chronyd, SELinux, firewalld.
        case rhel
    }

    /// How the host's interfaces are configured persistently, most specific first.
    public enum NetworkStack: String, Sendable, Codable {
        /// `/etc/systemd/network` files, systemd-networkd active.
        case networkd
        /// NetworkManager keyfiles in `/etc/NetworkManager/system-connections` (EL9, desktops).
        case networkManager = "networkmanager"
        /// `ifcfg-*` files in `/etc/sysconfig/network-scripts` with the legacy network service.
        case networkScripts = "network-scripts"
        /// `/etc/network/interfaces` (Debian's ifupdown).
        case ifupdown
    }

    public struct Address: Sendable, Equatable, Codable {
        public var address: String
        public var prefixLength: Int
        /// `inet` or `inet6`.
        public var family: String
        /// Given by DHCP (or SLAAC) rather than configured.
        public var dynamic: Bool
        public var cidr: String { "\(address)/\(prefixLength)" }
    }

    public struct Interface: Sendable, Equatable, Codable {
        public var name: String
        public var mac: String?
        /// The bridge (or bond) it is enslaved to.
        public var master: String?
        /// `bridge`, `veth`, `vxlan`, … (absent for plain Ethernet).
        public var kind: String?
        public var up: Bool
        public var addresses: [Address]
    }

    public struct Route: Sendable, Equatable, Codable {
        public var gateway: String?
        public var device: String
    }

    public var hostname: String
    public var osID: String
    public var osName: String
    public var osVersion: String
    public var family: Family
    public var interfaces: [Interface]
    public var defaultRoutes: [Route]
    /// `systemd-detect-virt`: `none`, `kvm`, `systemd-nspawn`, …
    public var virtualization: String
    /// `/dev/kvm` exists.
    public var kvm: Bool
    /// The CPU advertises vmx or svm.
    public var hardwareVirtualization: Bool
    /// Unit files present (of those Nimbus cares about) → enabled state.
    public var unitFiles: [String: String]
    /// Units among those that are active.
    public var activeUnits: Set<String>
    /// `Enforcing`, `Permissive`, `Disabled`, or nil without SELinux.
    public var selinux: String?
    /// Paths among those Nimbus asks about that exist.
    public var paths: Set<String>
    /// The address of this host the SSH connection arrived on (nil when run locally).
    public var connectedAddress: String?
    /// chrony's view: reference and offset, or why there is none.
    public var timeSync: String

    public var packageManager: PackageManager { family == .rhel ? .dnf : .apt }

    public var networkStack: NetworkStack {
        if activeUnits.contains("systemd-networkd.service") && paths.contains("/etc/systemd/network") {
            return .networkd
        }
        if activeUnits.contains("NetworkManager.service") { return .networkManager }
        if paths.contains("/etc/sysconfig/network-scripts") && paths.contains("/usr/sbin/ifup") {
            return .networkScripts
        }
        if paths.contains("/etc/network/interfaces") { return .ifupdown }
        return family == .rhel ? .networkManager : .networkd
    }

    public func interface(_ name: String) -> Interface? { interfaces.first { $0.name == name } }

    /// The interface holding `address`, if any.
    public func interface(holding address: String) -> Interface? {
        interfaces.first { $0.addresses.contains { $0.address == address } }
    }

    public init(
        hostname: String, osID: String, osName: String, osVersion: String, family: Family,
        interfaces: [Interface], defaultRoutes: [Route], virtualization: String, kvm: Bool,
        hardwareVirtualization: Bool, unitFiles: [String: String], activeUnits: Set<String>, selinux: String?,
        paths: Set<String>, connectedAddress: String?, timeSync: String
    ) {
        self.hostname = hostname
        self.osID = osID
        self.osName = osName
        self.osVersion = osVersion
        self.family = family
        self.interfaces = interfaces
        self.defaultRoutes = defaultRoutes
        self.virtualization = virtualization
        self.kvm = kvm
        self.hardwareVirtualization = hardwareVirtualization
        self.unitFiles = unitFiles
        self.activeUnits = activeUnits
        self.selinux = selinux
        self.paths = paths
        self.connectedAddress = connectedAddress
        self.timeSync = timeSync
    }
}

/// The read-only command that gathers facts, and the parser of what it prints.
public enum FactsProbe {
    /// Units whose presence and state preparation depends on.
    public static let units = [
        "firewalld.service", "ufw.service", "nftables.service", "iptables.service", "NetworkManager.service",
        "systemd-networkd.service", "network.service", "chrony.service", "chronyd.service",
        "systemd-timesyncd.service", "ntp.service",
    ]

    /// Paths whose existence decides how a host is configured.
    public static let paths = [
        "/etc/systemd/network", "/etc/network/interfaces", "/etc/sysconfig/network-scripts", "/usr/sbin/ifup",
        "/etc/NetworkManager/system-connections", "/etc/selinux/config", "/proc/sys/net/bridge",
        "/etc/chrony/chrony.conf", "/etc/chrony.conf", "/usr/sbin/ufw",
    ]

    /// One POSIX shell script; each section starts with `@@name`. Changes nothing.
    public static let script: String = """
        export LC_ALL=C
        echo @@os-release; cat /etc/os-release 2>/dev/null
        echo @@hostname; uname -n
        echo @@addresses; ip -j addr show 2>/dev/null || echo '[]'
        echo; echo @@links; ip -j -d link show 2>/dev/null || echo '[]'
        echo; echo @@routes; ip -j -4 route show default 2>/dev/null || echo '[]'
        echo; echo @@virt; systemd-detect-virt 2>/dev/null || echo none
        echo @@kvm; [ -e /dev/kvm ] && echo yes || echo no
        echo @@cpu; grep -cwE 'vmx|svm' /proc/cpuinfo 2>/dev/null || true
        echo @@unit-files; systemctl list-unit-files --no-legend --no-pager \(units.joined(separator: " ")) 2>/dev/null || true
        echo @@active; systemctl is-active \(units.joined(separator: " ")) 2>/dev/null
        echo @@selinux; getenforce 2>/dev/null || true
        echo @@paths; for p in \(paths.joined(separator: " ")); do [ -e "$p" ] && echo "$p"; done
        echo @@ssh; echo "${SSH_CONNECTION:-}"
        echo @@time; chronyc -n -c tracking 2>/dev/null || echo unavailable
        echo @@end

        """

    public enum ParseError: Error, CustomStringConvertible, Equatable {
        case missingSection(String)
        case unsupportedOS(String)

        public var description: String {
            switch self {
            case .missingSection(let name): "the facts output has no '\(name)' section (is /bin/sh a POSIX shell?)"
            case .unsupportedOS(let name):
                "unsupported operating system '\(name)': Nimbus prepares Debian/Ubuntu and RHEL/CentOS/Rocky/Alma/Fedora hosts"
            }
        }
    }

    public static func parse(_ output: String) throws(ParseError) -> HostFacts {
        var sections: [String: [Substring]] = [:]
        var current: String?
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("@@") {
                let name = String(line.dropFirst(2))
                current = name
                sections[name] = []
            } else if let current {
                sections[current, default: []].append(line)
            }
        }
        guard sections["end"] != nil else { throw .missingSection("end") }
        func lines(_ name: String) -> [String] {
            (sections[name] ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func text(_ name: String) -> String { lines(name).joined(separator: "\n") }

        var release: [String: String] = [:]
        for line in lines("os-release") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            release[String(line[..<equals])] = value
        }
        let id = release["ID"] ?? "unknown"
        let like = (release["ID_LIKE"] ?? "").split(separator: " ").map(String.init)
        let family: HostFacts.Family
        if id == "debian" || like.contains("debian") || like.contains("ubuntu") {
            family = .debian
        } else if ["rhel", "centos", "rocky", "almalinux", "fedora"].contains(id) || like.contains("rhel")
            || like.contains("fedora")
        {
            family = .rhel
        } else {
            throw .unsupportedOS(release["PRETTY_NAME"] ?? id)
        }

        var unitFiles: [String: String] = [:]
        for line in lines("unit-files") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2 { unitFiles[String(fields[0])] = String(fields[1]) }
        }
        let ssh = text("ssh").split(separator: " ")
        let selinux = text("selinux")
        return HostFacts(
            hostname: text("hostname"), osID: id, osName: release["PRETTY_NAME"] ?? id,
            osVersion: release["VERSION_ID"] ?? "", family: family,
            interfaces: interfaces(addresses: text("addresses"), links: text("links")),
            defaultRoutes: routes(text("routes")), virtualization: text("virt").isEmpty ? "none" : text("virt"),
            kvm: text("kvm") == "yes", hardwareVirtualization: (Int(text("cpu")) ?? 0) > 0,
            unitFiles: unitFiles,
            activeUnits: Set(zip(units, lines("active")).filter { $0.1 == "active" }.map(\.0)),
            selinux: selinux.isEmpty ? nil : selinux,
            paths: Set(lines("paths")), connectedAddress: ssh.count >= 3 ? String(ssh[2]) : nil,
            timeSync: timeSync(text("time")))
    }

    private struct IPAddrEntry: Decodable {
        struct Info: Decodable {
            var family: String
            var local: String
            var prefixlen: Int
            var scope: String?
            var dynamic: Bool?
        }
        var ifname: String
        var address: String?
        var master: String?
        var flags: [String]?
        var addr_info: [Info]?
    }

    private struct IPLinkEntry: Decodable {
        struct LinkInfo: Decodable { var info_kind: String? }
        var ifname: String
        var linkinfo: LinkInfo?
    }

    private struct IPRouteEntry: Decodable {
        var gateway: String?
        var dev: String
    }

    static func interfaces(addresses: String, links: String) -> [HostFacts.Interface] {
        let entries = (try? JSONDecoder().decode([IPAddrEntry].self, from: Data(addresses.utf8))) ?? []
        let kinds = ((try? JSONDecoder().decode([IPLinkEntry].self, from: Data(links.utf8))) ?? []).reduce(
            into: [String: String]()
        ) { $0[$1.ifname] = $1.linkinfo?.info_kind }
        return entries.map { entry in
            HostFacts.Interface(
                name: entry.ifname, mac: entry.address, master: entry.master, kind: kinds[entry.ifname],
                up: entry.flags?.contains("UP") ?? false,
                addresses: (entry.addr_info ?? []).filter { $0.scope != "link" && $0.scope != "host" }.map {
                    HostFacts.Address(
                        address: $0.local, prefixLength: $0.prefixlen, family: $0.family, dynamic: $0.dynamic ?? false)
                })
        }
    }

    static func routes(_ text: String) -> [HostFacts.Route] {
        ((try? JSONDecoder().decode([IPRouteEntry].self, from: Data(text.utf8))) ?? []).map {
            HostFacts.Route(gateway: $0.gateway, device: $0.dev)
        }
    }

    /// `chronyc -c tracking`: reference id, address, stratum, ref time, system time offset, …
    static func timeSync(_ text: String) -> String {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count > 5 else { return text.isEmpty ? "unavailable" : "chrony: " + text }
        let reference = fields[1].isEmpty ? String(fields[0]) : String(fields[1])
        if reference == "0.0.0.0" || fields[0] == "00000000" { return "chrony: not synchronised" }
        return "chrony: following \(reference), stratum \(fields[2]), offset \(fields[4]) s"
    }
}
