/// The security groups of the ports bound to one host, as nftables rules: per port its
/// anti-spoofing (MACs and addresses it may send from) and its ingress and egress rules;
/// per remote group a named set of its members' addresses; per network a conntrack zone.
public struct SecurityGroupPlan: Sendable, Equatable {
    /// A port filtered on this host.
    public struct FilteredPort: Sendable, Equatable {
        /// The port.
        public var portID: String
        /// Its tap, which the bridge-family table matches.
        public var tap: String
        /// The bridge its network's traffic crosses, which keys its conntrack zone.
        public var bridge: String
        /// The MACs it may send from.
        public var macs: [MACAddress]
        /// Addresses or networks it may send from.
        public var ipv4: [String]
        /// IPv6 addresses or networks it may send from (besides link-local).
        public var ipv6: [String]
        /// nft rule bodies: ingress rules end in `accept`, egress rules in `return`.
        public var ingress: [String]
        /// Its egress rules.
        public var egress: [String]
    }

    /// The set of a remote group's addresses of one family.
    public static func setName(group: String, ethertype: SecurityGroupRule.Ethertype) -> String {
        (ethertype == .ipv4 ? "rg4_" : "rg6_") + group.filter { $0 != "-" }
    }

    /// The filtered ports, by port id.
    public var ports: [FilteredPort] = []
    /// The bridges that get a conntrack zone each, sorted.
    public var zones: [String] = []
    /// Remote-group sets by name → their elements, sorted.
    public var sets: [String: [String]] = [:]

    /// The plan for the ports `l2` plugs here that have port security and are no network
    /// port (DHCP and router ports are trusted, as in Neutron).
    public init(view: NetworkView, l2: L2Plan) {
        for plug in l2.plugs where plug.boundHere {
            guard let port = view.ports[plug.portID], port.portSecurityEnabled, !port.owner.isNetworkOwned else {
                continue
            }
            var filtered = FilteredPort(
                portID: port.id, tap: plug.tap, bridge: plug.bridge,
                macs: Array(Set([port.macAddress] + port.allowedAddressPairs.map(\.macAddress))).sorted(),
                ipv4: [], ipv6: [], ingress: [], egress: [])
            for fixed in port.fixedIPs {
                switch fixed.address {
                case .v4(let address): filtered.ipv4.append(address.description)
                case .v6(let address): filtered.ipv6.append(address.description)
                }
            }
            for pair in port.allowedAddressPairs {
                if IPv4Prefix(pair.ipAddress) != nil {
                    filtered.ipv4.append(pair.ipAddress)
                } else {
                    filtered.ipv6.append(pair.ipAddress)
                }
            }
            for groupID in port.securityGroups {
                for rule in view.securityGroups[groupID]?.rules ?? [] {
                    guard let text = Self.render(rule) else { continue }
                    if let remote = rule.remoteGroupID {
                        let name = Self.setName(group: remote, ethertype: rule.ethertype)
                        sets[name] = Self.members(of: remote, ethertype: rule.ethertype, in: view)
                    }
                    switch rule.direction {
                    case .ingress: filtered.ingress.append(text)
                    case .egress: filtered.egress.append(text)
                    }
                }
            }
            ports.append(filtered)
        }
        zones = Set(ports.map(\.bridge)).sorted()
    }

    /// The addresses of a remote group's members, of one family.
    static func members(of group: String, ethertype: SecurityGroupRule.Ethertype, in view: NetworkView) -> [String] {
        let addresses = view.members(of: group).flatMap(\.fixedIPs).compactMap { fixed -> String? in
            switch (fixed.address, ethertype) {
            case (.v4(let address), .ipv4): address.description
            case (.v6(let address), .ipv6): address.description
            default: nil
            }
        }
        return Set(addresses).sorted()
    }

    /// One rule as an nft rule body; nil when it cannot match (an ICMP rule on IPv6, a
    /// remote prefix of the other family).
    public static func render(_ rule: SecurityGroupRule) -> String? {
        let v4 = rule.ethertype == .ipv4
        let family = v4 ? "ip" : "ip6"
        let field = rule.direction == .ingress ? "saddr" : "daddr"
        var parts = ["meta nfproto \(v4 ? "ipv4" : "ipv6")"]
        if let prefix = rule.remoteIPPrefix {
            guard (IPv4Prefix(prefix) != nil) == v4 else { return nil }
            if !prefix.hasSuffix("/0") { parts.append("\(family) \(field) \(prefix)") }
        }
        if let group = rule.remoteGroupID {
            parts.append("\(family) \(field) @\(setName(group: group, ethertype: rule.ethertype))")
        }
        switch rule.protocolName {
        case nil: break
        case "icmp", "ipv6-icmp":
            let icmp = rule.protocolName == "icmp"
            guard icmp == v4 else { return nil }
            parts.append("meta l4proto \(icmp ? "icmp" : "ipv6-icmp")")
            if let type = rule.portRangeMin {
                parts.append("\(icmp ? "icmp" : "icmpv6") type \(type)")
                if let code = rule.portRangeMax { parts.append("\(icmp ? "icmp" : "icmpv6") code \(code)") }
            }
        case .some(let name):
            parts.append("meta l4proto \(name)")
            if ["tcp", "udp", "sctp", "udplite", "dccp"].contains(name),
                rule.portRangeMin != nil || rule.portRangeMax != nil
            {
                let low = rule.portRangeMin ?? 1
                let high = rule.portRangeMax ?? 65535
                parts.append("th dport \(low == high ? "\(low)" : "\(low)-\(high)")")
            }
        }
        parts.append(rule.direction == .ingress ? "accept" : "return")
        return parts.joined(separator: " ")
    }
}
