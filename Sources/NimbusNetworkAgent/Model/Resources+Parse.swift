import NimbusServiceKit

/// Reads one resource body, collecting every problem instead of stopping at the first.
struct BodyReader {
    let body: JSON
    var problems: [String] = []

    init(_ body: JSON) { self.body = body }

    /// Resource ids become device, namespace and file names: only UUID characters pass.
    static func isSafeID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isHexDigit || $0 == "-") }
    }

    mutating func id(_ key: String) -> String {
        guard let value = body[key]?.string, Self.isSafeID(value) else {
            problems.append("\(key) is not an id: \(body[key].map { "\($0.text)" } ?? "missing")")
            return ""
        }
        return value
    }

    mutating func optionalID(_ key: String) -> String? {
        guard let value = body[key], !value.isNull else { return nil }
        return id(key)
    }

    func string(_ key: String, default fallback: String = "") -> String { body[key]?.string ?? fallback }

    func bool(_ key: String, default fallback: Bool) -> Bool { body[key]?.bool ?? fallback }

    func int(_ key: String) -> Int? { body[key]?.int.map { Int($0) } }

    mutating func parsed<T>(_ key: String, _ parse: (String) -> T?) -> T? {
        guard let value = body[key], !value.isNull else { return nil }
        guard let text = value.string, let parsed = parse(text) else {
            problems.append("\(key) is not valid: \(value.text)")
            return nil
        }
        return parsed
    }

    /// A value that must be there: one problem when it is missing or not valid.
    mutating func required<T>(_ key: String, _ parse: (String) -> T?) -> T? {
        guard let value = body[key], !value.isNull else {
            problems.append("\(key) is missing")
            return nil
        }
        return parsed(key, parse)
    }

    func list(_ key: String) -> [JSON] { body[key]?.array ?? [] }
}

/// Why a body could not be read: every problem found.
public struct ResourceProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The item kind.
    public var kind: String
    /// Its id.
    public var id: String
    /// Every problem found, in words.
    public var problems: [String]

    /// The resource and its problems.
    public var description: String { "\(kind) \(id): " + problems.joined(separator: "; ") }
}

extension BodyReader {
    func finish<T>(_ kind: String, _ id: String, _ value: T) throws(ResourceProblem) -> T {
        guard problems.isEmpty else { throw ResourceProblem(kind: kind, id: id, problems: problems) }
        return value
    }
}

extension Network {
    /// Reads a network body.
    public init(body: JSON) throws(ResourceProblem) {
        var reader = BodyReader(body)
        let id = reader.id("id")
        let type = reader.string("provider:network_type")
        let segment: Segment
        switch type {
        case "flat":
            let physnet = reader.string("provider:physical_network")
            if physnet.isEmpty { reader.problems.append("a flat network needs provider:physical_network") }
            segment = .flat(physicalNetwork: physnet)
        case "vxlan":
            let vni = reader.int("provider:segmentation_id") ?? -1
            if !(1...16_777_215).contains(vni) { reader.problems.append("a VXLAN network needs a VNI of 1…16777215") }
            segment = .vxlan(vni: vni)
        default: segment = .unsupported(type: type)
        }
        self.init(
            id: id, projectID: reader.string("project_id"), segment: segment, mtu: reader.int("mtu") ?? 1500,
            adminStateUp: reader.bool("admin_state_up", default: true),
            external: reader.bool("router:external", default: false))
        self = try reader.finish("network", id, self)
    }
}

extension Subnet {
    /// Reads a subnet body.
    public init(body: JSON) throws(ResourceProblem) {
        var reader = BodyReader(body)
        let id = reader.id("id")
        let version = reader.int("ip_version") ?? 4
        let cidr = version == 4 ? reader.required("cidr", IPv4Prefix.init) : nil
        let gateway = version == 4 ? reader.parsed("gateway_ip", IPv4.init) : nil
        var dns: [IPv4] = []
        for server in reader.list("dns_nameservers") {
            // IPv6 servers on an IPv4 subnet are not for DHCPv4; dnsmasq would refuse them.
            if let address = server.string.flatMap(IPv4.init) { dns.append(address) }
        }
        var routes: [HostRoute] = []
        for route in reader.list("host_routes") {
            guard let destination = route["destination"]?.string.flatMap(IPv4Prefix.init),
                let nexthop = route["nexthop"]?.string.flatMap(IPv4.init)
            else {
                if version == 4 { reader.problems.append("host route \(route.text) is not an IPv4 route") }
                continue
            }
            routes.append(HostRoute(destination: destination.network, nexthop: nexthop))
        }
        self.init(
            id: id, networkID: reader.id("network_id"), ipVersion: version, cidr: cidr?.network, gatewayIP: gateway,
            enableDHCP: reader.bool("enable_dhcp", default: true), dnsNameservers: dns, hostRoutes: routes)
        self = try reader.finish("subnet", id, self)
    }
}

extension Port {
    /// Reads a port body.
    public init(body: JSON) throws(ResourceProblem) {
        var reader = BodyReader(body)
        let id = reader.id("id")
        let mac = reader.required("mac_address", MACAddress.init)
        var fixed: [FixedIP] = []
        for entry in reader.list("fixed_ips") {
            guard let subnet = entry["subnet_id"]?.string, BodyReader.isSafeID(subnet),
                let address = entry["ip_address"]?.string.flatMap(IPAddress.init)
            else {
                reader.problems.append("fixed IP \(entry.text) is not a subnet and an address")
                continue
            }
            fixed.append(FixedIP(subnetID: subnet, address: address))
        }
        var pairs: [AddressPair] = []
        for entry in reader.list("allowed_address_pairs") {
            let pairMAC = entry["mac_address"]?.string.flatMap(MACAddress.init) ?? mac
            guard let address = entry["ip_address"]?.string, let pairMAC,
                IPv4Prefix(address) != nil || IPv6(address.split(separator: "/").first ?? "") != nil
            else {
                reader.problems.append("allowed address pair \(entry.text) is not valid")
                continue
            }
            pairs.append(AddressPair(ipAddress: address, macAddress: pairMAC))
        }
        let groups = reader.list("security_groups").compactMap(\.string).filter(BodyReader.isSafeID)
        self.init(
            id: id, networkID: reader.id("network_id"), macAddress: mac ?? .zero, fixedIPs: fixed,
            owner: DeviceOwner(reader.string("device_owner")), deviceID: reader.string("device_id"),
            hostID: reader.string("binding:host_id"), securityGroups: groups,
            portSecurityEnabled: reader.bool("port_security_enabled", default: true), allowedAddressPairs: pairs,
            adminStateUp: reader.bool("admin_state_up", default: true))
        projectID = reader.string("project_id")
        for entry in reader.list("extra_dhcp_opts") {
            guard let name = entry["opt_name"]?.string, let value = entry["opt_value"]?.string,
                (entry["ip_version"]?.int ?? 4) == 4
            else { continue }
            // One option per line of dnsmasq's file (the API checked the names): an entry
            // that cannot be written is left out, the port kept.
            guard !name.isEmpty, !name.contains(where: { $0 == "," || $0.isNewline || $0 == " " }),
                !value.contains(where: \.isNewline)
            else { continue }
            extraDHCPOptions.append(DHCPOption(name: name, value: value))
        }
        self = try reader.finish("port", id, self)
    }
}

extension Router {
    /// Reads a router body.
    public init(body: JSON) throws(ResourceProblem) {
        var reader = BodyReader(body)
        let id = reader.id("id")
        var gateway: Gateway?
        if let info = body["external_gateway_info"], !info.isNull {
            var inner = BodyReader(info)
            let network = inner.id("network_id")
            reader.problems += inner.problems.map { "external_gateway_info: " + $0 }
            gateway = Gateway(networkID: network, enableSNAT: inner.bool("enable_snat", default: true))
        }
        self.init(
            id: id, projectID: reader.string("project_id"), adminStateUp: reader.bool("admin_state_up", default: true),
            gateway: gateway)
        self = try reader.finish("router", id, self)
    }
}

extension FloatingIP {
    /// Reads a floating IP body.
    public init(body: JSON) throws(ResourceProblem) {
        var reader = BodyReader(body)
        let id = reader.id("id")
        let address = reader.required("floating_ip_address", IPv4.init)
        self.init(
            id: id, address: address ?? .any, fixedAddress: reader.parsed("fixed_ip_address", IPv4.init),
            portID: reader.optionalID("port_id"), routerID: reader.optionalID("router_id"),
            networkID: reader.id("floating_network_id"))
        self = try reader.finish("floatingip", id, self)
    }
}
