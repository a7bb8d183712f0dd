import NimbusServiceKit

/// A network device as `ip -d -j link show` (or `addr show`) prints it: what the diffs look at.
public struct Link: Sendable, Equatable {
    /// A VXLAN device's settings (`linkinfo.info_data`).
    public struct VXLAN: Sendable, Equatable {
        /// The VNI (`id`).
        public var vni: Int
        /// The local tunnel address.
        public var local: IPv4?
        /// The UDP port (`dstport`).
        public var port: Int
        /// Whether it learns remote MACs.
        public var learning: Bool
    }

    /// The interface name.
    public var name: String
    /// The interface index in its namespace.
    public var index: Int
    /// `linkinfo.info_kind`: `bridge`, `vxlan`, `veth`… nil for a plain device.
    public var kind: String?
    /// The bridge it is a port of.
    public var master: String?
    /// Its MTU.
    public var mtu: Int
    /// Its MAC.
    public var mac: MACAddress?
    /// Administratively up (`UP` among the flags).
    public var up: Bool
    /// `inet6_addr_gen_mode` is `none` (no IPv6 link-local); nil when not printed.
    public var noAddressGeneration: Bool?
    /// A bridge's STP state and forward delay.
    public var stpState: Int?
    /// A bridge's forward delay.
    public var forwardDelay: Int?
    /// A VXLAN device's settings.
    public var vxlan: VXLAN?
    /// The IPv4 addresses (`addr show` only).
    public var addresses: [IPv4Prefix]

    /// Reads one entry of the JSON list; nil when it has no name or index.
    public init?(json: JSON) {
        guard let name = json["ifname"]?.string, let index = json["ifindex"]?.int else { return nil }
        self.name = name
        self.index = Int(index)
        let info = json["linkinfo"]
        kind = info?["info_kind"]?.string
        master = json["master"]?.string
        mtu = Int(json["mtu"]?.int ?? 0)
        mac = json["address"]?.string.flatMap(MACAddress.init)
        up = json["flags"]?.array?.contains(.string("UP")) ?? false
        noAddressGeneration = json["inet6_addr_gen_mode"]?.string.map { $0 == "none" }
        let data = info?["info_data"]
        stpState = data?["stp_state"]?.int.map { Int($0) }
        forwardDelay = data?["forward_delay"]?.int.map { Int($0) }
        if kind == "vxlan", let data {
            vxlan = VXLAN(
                vni: Int(data["id"]?.int ?? 0), local: data["local"]?.string.flatMap(IPv4.init),
                port: Int(data["port"]?.int ?? 0), learning: data["learning"]?.bool ?? true)
        }
        addresses = (json["addr_info"]?.array ?? []).compactMap { entry in
            guard entry["family"]?.string == "inet", let local = entry["local"]?.string.flatMap(IPv4.init),
                let length = entry["prefixlen"]?.int
            else { return nil }
            return IPv4Prefix(address: local, length: Int(length))
        }
    }

    /// The devices of a namespace by name, from `ip -j link show` / `addr show` output.
    public static func parse(_ json: JSON) -> [String: Link] {
        Dictionary((json.array ?? []).compactMap(Link.init(json:)).map { ($0.name, $0) }, uniquingKeysWith: { $1 })
    }
}

/// An entry of a VXLAN device's forwarding database (`bridge -j fdb show dev …`) that has a
/// remote destination: the flood list (`00:00:00:00:00:00`) and the per-MAC l2pop entries.
public struct FDBEntry: Sendable, Hashable {
    /// The MAC (`00:00:00:00:00:00` for the flood list).
    public var mac: MACAddress
    /// The remote tunnel address.
    public var destination: IPv4

    /// The entries with a `dst`; the bridge's own entries (no `dst`) are left out.
    public static func parse(_ json: JSON) -> [FDBEntry] {
        (json.array ?? []).compactMap { entry in
            guard let mac = entry["mac"]?.string.flatMap(MACAddress.init),
                let destination = entry["dst"]?.string.flatMap(IPv4.init)
            else { return nil }
            return FDBEntry(mac: mac, destination: destination)
        }
    }
}

/// A route of `ip -j route show`: what the router's default route diff looks at.
public struct Route: Sendable, Equatable {
    /// `default` or a network.
    public var destination: String
    /// The next hop.
    public var gateway: IPv4?
    /// The device it leaves by.
    public var device: String?

    /// The routes of `ip -j route show` output.
    public static func parse(_ json: JSON) -> [Route] {
        (json.array ?? []).compactMap { entry in
            guard let destination = entry["dst"]?.string else { return nil }
            return Route(
                destination: destination, gateway: entry["gateway"]?.string.flatMap(IPv4.init),
                device: entry["dev"]?.string)
        }
    }
}
