import NimbusServiceKit

extension SecurityGroup {
    /// Reads a security group body with its `security_group_rules`.
    public init(body: JSON) throws(ResourceProblem) {
        var reader = BodyReader(body)
        let id = reader.id("id")
        var rules: [SecurityGroupRule] = []
        for (index, entry) in reader.list("security_group_rules").enumerated() {
            do throws(ResourceProblem) {
                rules.append(try SecurityGroupRule(body: entry))
            } catch {
                reader.problems += error.problems.map { "rule \(index): " + $0 }
            }
        }
        self.init(id: id, rules: rules)
        self = try reader.finish("security_group", id, self)
    }
}

extension SecurityGroupRule {
    /// The protocol names nftables and Neutron share; anything else must be a number.
    static let protocolNames: Set<String> = ["tcp", "udp", "icmp", "ipv6-icmp", "sctp", "udplite", "dccp"]

    /// Reads one rule of a security group body.
    public init(body: JSON) throws(ResourceProblem) {
        var reader = BodyReader(body)
        // A rule's id names nothing on the host: any text will do.
        let id = reader.string("id")
        let direction = Direction(rawValue: reader.string("direction"))
        if direction == nil { reader.problems.append("direction must be ingress or egress") }
        let ethertype = Ethertype(rawValue: reader.string("ethertype", default: "IPv4"))
        if ethertype == nil { reader.problems.append("ethertype must be IPv4 or IPv6") }
        var name = body["protocol"]?.string?.lowercased()
        if let number = body["protocol"]?.int { name = String(number) }
        switch name {
        case nil, "any", "": name = nil
        case "icmpv6", "ipv6-icmp", "58": name = "ipv6-icmp"
        case "1": name = "icmp"
        case "6": name = "tcp"
        case "17": name = "udp"
        case .some(let text):
            if !Self.protocolNames.contains(text) && !(UInt8(text).map { _ in true } ?? false) {
                reader.problems.append("protocol \(text) is not known")
            }
        }
        let minimum = reader.int("port_range_min")
        let maximum = reader.int("port_range_max")
        for value in [minimum, maximum].compactMap({ $0 }) where !(0...65535).contains(value) {
            reader.problems.append("port \(value) is out of range")
        }
        var prefix: String?
        if let text = body["remote_ip_prefix"]?.string {
            let address = text.split(separator: "/").first.map(String.init) ?? ""
            if IPv4Prefix(text) == nil && IPv6(address) == nil {
                reader.problems.append("remote_ip_prefix \(text) is not a network")
            }
            prefix = text
        }
        self.init(
            id: id, direction: direction ?? .ingress, ethertype: ethertype ?? .ipv4, protocolName: name,
            portRangeMin: minimum, portRangeMax: maximum, remoteIPPrefix: prefix,
            remoteGroupID: reader.optionalID("remote_group_id"))
        self = try reader.finish("security_group_rule", id, self)
    }
}

extension TunnelPeer {
    /// Reads an `agent` item's body (`{"host", "type", "configuration": {"tunneling_ip"}}`);
    /// nil when the agent publishes no tunnel address (it is no L2 agent).
    public init?(body: JSON) throws(ResourceProblem) {
        guard let text = body["configuration"]?["tunneling_ip"]?.string else { return nil }
        let host = body["host"]?.string ?? ""
        guard let address = IPv4(text), !host.isEmpty else {
            throw ResourceProblem(
                kind: "agent", id: host, problems: ["tunneling_ip \(text) of host '\(host)' is not an IPv4 address"])
        }
        self.init(host: host, agentType: body["type"]?.string ?? "", tunnelIP: address)
    }
}
