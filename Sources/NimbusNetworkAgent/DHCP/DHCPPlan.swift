/// What the DHCP agent serves: per network with a DHCP-enabled IPv4 subnet and a DHCP port,
/// a `qdhcp-` namespace holding the port, and a dnsmasq with Neutron's command line and
/// static hosts only. A pure value; the files are rendered here.
public struct DHCPPlan: Sendable, Equatable {
    /// One network's DHCP server.
    public struct Server: Sendable, Equatable {
        /// The network it is on.
        public var networkID: String
        /// `qdhcp-<network id>`.
        public var namespace: String
        /// The DHCP port, wired into the namespace as `ns-…`.
        public var port: NamespacePort
        /// Where the files are (`<state directory>/<network id>`).
        public var directory: String
        /// dnsmasq's arguments (after the program name).
        public var arguments: [String]
        /// `host`: one line per address, `MAC,host-<ip>.<domain>,IP`.
        public var hosts: String
        /// `addn_hosts`: the same names for DNS.
        public var addnHosts: String
        /// `opts`: DNS servers, routes and gateway per subnet.
        public var options: String

        /// The file names in `directory`.
        public static let pidFile = "pid"
        /// The hosts file's name.
        public static let hostsFile = "host"
        /// The DNS names file's name.
        public static let addnHostsFile = "addn_hosts"
        /// The options file's name.
        public static let optionsFile = "opts"
        /// The leases file's name, kept across restarts.
        public static let leasesFile = "leases"
    }

    /// The servers, by network id.
    public var servers: [Server] = []
    /// The DHCP ports that cannot be served, with why.
    public var failures: [String: DataplaneError] = [:]

    /// The plan for `view`.
    public init(view: NetworkView, config: DHCPConfig) {
        for network in view.networks.values.sorted(by: { $0.id < $1.id }) {
            let subnets = view.subnets(of: network.id).filter { $0.ipVersion == 4 && $0.enableDHCP && $0.cidr != nil }
            guard !subnets.isEmpty, let port = view.dhcpPort(of: network.id, preferring: config.host) else { continue }
            let bridge: String
            do throws(DataplaneError) {
                bridge = try DeviceName.bridge(for: network, mappings: config.bridgeMappings)
            } catch {
                failures[port.id] = error
                continue
            }
            let served = Set(subnets.map(\.id))
            let addresses = port.fixedIPs.filter { served.contains($0.subnetID) }.compactMap(view.interfaceAddress)
            guard !addresses.isEmpty else {
                failures[port.id] = .missingResource(
                    kind: "address", id: "on a DHCP subnet", neededBy: "DHCP port \(port.id)")
                continue
            }
            let namespace = DeviceName.dhcpNamespace(network: network.id)
            let wired = NamespacePort(
                portID: port.id, namespace: namespace, tap: DeviceName.tap(port: port.id),
                interface: DeviceName.dhcpInterface(port: port.id), bridge: bridge,
                bridgeIsOwned: bridge.hasPrefix("brq-"), mtu: network.mtu, mac: port.macAddress, addresses: addresses)
            let directory = config.directory(network: network.id)
            let ports = view.ports(of: network.id)
            let entries = Self.entries(ports, subnets: served)
            servers.append(
                Server(
                    networkID: network.id, namespace: namespace, port: wired, directory: directory,
                    arguments: Self.arguments(
                        directory: directory, interface: wired.interface, subnets: subnets, mtu: network.mtu,
                        config: config),
                    hosts: entries.map {
                        let tag = $0.tagged ? "set:port-\($0.port)," : ""
                        return "\($0.mac),\(tag)host-\($0.ip.dashed).\(config.domain),\($0.ip)\n"
                    }.joined(),
                    addnHosts: entries.map { "\($0.ip)\thost-\($0.ip.dashed).\(config.domain) host-\($0.ip.dashed)\n" }
                        .joined(),
                    options: subnets.map(Self.options).joined() + Self.portOptions(ports)))
        }
    }

    /// Every port's addresses on the served subnets, ports by id; `tagged` when the port
    /// has options of its own.
    static func entries(_ ports: [Port], subnets: Set<String>) -> [(
        mac: MACAddress, ip: IPv4, port: String, tagged: Bool
    )] {
        ports.flatMap { port in
            port.fixedIPs.filter { subnets.contains($0.subnetID) }.compactMap(\.address.v4).map {
                (port.macAddress, $0, port.id, !port.extraDHCPOptions.isEmpty)
            }
        }
    }

    /// The ports' own options (`extra_dhcp_opts`), as Neutron writes them: `option:NAME`
    /// for a name, the bare number for a number, for the port's tag only.
    static func portOptions(_ ports: [Port]) -> String {
        ports.flatMap { port in
            port.extraDHCPOptions.map { option in
                let name = option.name.allSatisfy(\.isNumber) ? option.name : "option:" + option.name
                return "tag:port-\(port.id),\(name),\(option.value)\n"
            }
        }.joined()
    }

    /// A subnet's lines of the options file. Option 121 (and Microsoft's 249) carry the host
    /// routes and, since a client that gets 121 ignores option 3 (RFC 3442), the default
    /// route via the gateway too.
    static func options(_ subnet: Subnet) -> String {
        let tag = "tag:subnet-\(subnet.id)"
        var lines: [String] = []
        if !subnet.dnsNameservers.isEmpty {
            lines.append("\(tag),option:dns-server," + subnet.dnsNameservers.map(\.description).joined(separator: ","))
        }
        if !subnet.hostRoutes.isEmpty {
            var routes = subnet.hostRoutes.map { "\($0.destination),\($0.nexthop)" }
            if let gateway = subnet.gatewayIP { routes.append("0.0.0.0/0,\(gateway)") }
            let list = routes.joined(separator: ",")
            lines += ["\(tag),option:classless-static-route,\(list)", "\(tag),249,\(list)"]
        }
        lines.append(subnet.gatewayIP.map { "\(tag),option:router,\($0)" } ?? "\(tag),option:router")
        return lines.map { $0 + "\n" }.joined()
    }

    /// Neutron's dnsmasq command line: static leases from the hosts file only, the leases
    /// file kept across restarts (a restarted dnsmasq ACKs its clients' renewals), bound
    /// to the DHCP port's interface as it comes and goes.
    static func arguments(
        directory: String, interface: String, subnets: [Subnet], mtu: Int, config: DHCPConfig
    ) -> [String] {
        var arguments = [
            "--no-hosts", "--no-resolv", "--pid-file=\(directory)/\(Server.pidFile)",
            "--dhcp-hostsfile=\(directory)/\(Server.hostsFile)", "--addn-hosts=\(directory)/\(Server.addnHostsFile)",
            "--dhcp-optsfile=\(directory)/\(Server.optionsFile)", "--dhcp-leasefile=\(directory)/\(Server.leasesFile)",
            "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe6,iPXE", "--local-service", "--bind-dynamic",
            "--interface=\(interface)",
        ]
        var size: UInt64 = 0
        for subnet in subnets {
            guard let cidr = subnet.cidr else { continue }
            arguments.append(
                "--dhcp-range=set:subnet-\(subnet.id),\(cidr.address),static,\(cidr.netmask),\(config.leaseSeconds)s")
            size += cidr.size
        }
        arguments += [
            "--dhcp-option-force=option:mtu,\(mtu)", "--dhcp-lease-max=\(min(size, 1 << 24))",
            "--conf-file=/dev/null", "--domain=\(config.domain)",
        ]
        arguments += config.upstreamDNS.map { "--server=\($0)" }
        if config.logDHCP { arguments += ["--log-dhcp", "--log-facility=\(directory)/dnsmasq.log"] }
        return arguments
    }
}
