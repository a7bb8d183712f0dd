/// The commands that take a host from what it holds (its links and VXLAN forwarding
/// entries, as read) to an `L2Plan`: only what differs, nothing that is already right.
extension L2Plan {
    /// Creates or corrects a bridge and its VXLAN device, flood list and l2pop entries.
    public static func commands(
        for bridge: Bridge, links: [String: Link], fdb: [FDBEntry]
    ) throws(DataplaneError) -> [HostCommand] {
        var commands: [HostCommand] = []
        let name = bridge.name
        let link = links[name]
        if let link, link.kind != "bridge" { throw .nameTaken(device: name, kind: link.kind ?? "plain") }
        if link == nil {
            commands.append(.ip(.host, "link", "add", name, "type", "bridge"))
        }
        if link?.noAddressGeneration != true {
            commands.append(.ip(.host, "link", "set", name, "addrgenmode", "none"))
        }
        if link?.stpState != 0 || link?.forwardDelay != 0 {
            commands.append(.ip(.host, "link", "set", name, "type", "bridge", "stp_state", "0", "forward_delay", "0"))
        }
        commands += vxlanCommands(bridge, links: links, fdb: fdb)
        if link?.mtu != bridge.mtu || link?.up != true {
            commands.append(.ip(.host, "link", "set", name, "mtu", "\(bridge.mtu)", "up"))
        }
        return commands
    }

    static func vxlanCommands(_ bridge: Bridge, links: [String: Link], fdb: [FDBEntry]) -> [HostCommand] {
        let vxlan = bridge.vxlan
        let name = vxlan.name
        var commands: [HostCommand] = []
        let link = links[name]
        let matches =
            link?.vxlan.map {
                $0.vni == vxlan.vni && $0.local == vxlan.local && $0.port == vxlan.port && !$0.learning
            } ?? false
        if link != nil && !matches {
            commands.append(.ip(.host, "link", "del", name))
        }
        if !matches {
            var add = [
                "link", "add", name, "type", "vxlan", "id", "\(vxlan.vni)", "dstport", "\(vxlan.port)", "local",
                "\(vxlan.local)",
            ]
            if let device = vxlan.device { add += ["dev", device] }
            commands.append(HostCommand(.host, ["ip"] + add + ["nolearning", "ttl", "64"]))
        }
        if !matches || link?.noAddressGeneration != true {
            commands.append(.ip(.host, "link", "set", name, "addrgenmode", "none"))
        }
        if !matches || link?.mtu != bridge.mtu || link?.master != bridge.name || link?.up != true {
            commands.append(.ip(.host, "link", "set", name, "mtu", "\(bridge.mtu)", "master", bridge.name, "up"))
        }
        let current = matches ? fdb : []
        let flooding = Set(current.filter { $0.mac == .zero }.map(\.destination))
        for peer in vxlan.flood where !flooding.contains(peer) {
            commands.append(.bridge(.host, "fdb", "append", "\(MACAddress.zero)", "dev", name, "dst", "\(peer)"))
        }
        for peer in flooding.subtracting(vxlan.flood).sorted() {
            commands.append(.bridge(.host, "fdb", "del", "\(MACAddress.zero)", "dev", name, "dst", "\(peer)"))
        }
        let unicast = Dictionary(
            current.filter { $0.mac != .zero }.map { ($0.mac, $0.destination) }, uniquingKeysWith: { $1 })
        for (mac, destination) in vxlan.unicast.sorted(by: { $0.key < $1.key }) where unicast[mac] != destination {
            commands.append(
                .bridge(.host, "fdb", "replace", "\(mac)", "dev", name, "dst", "\(destination)", "self", "permanent"))
        }
        for (mac, destination) in unicast.sorted(by: { $0.key < $1.key }) where vxlan.unicast[mac] == nil {
            commands.append(.bridge(.host, "fdb", "del", "\(mac)", "dev", name, "dst", "\(destination)", "self"))
        }
        return commands
    }

    /// Plugs a tap into its bridge (with the network's MTU, up or down as the port says);
    /// nil when the tap does not exist (yet).
    public static func commands(for plug: Plug, links: [String: Link]) -> [HostCommand]? {
        guard let tap = links[plug.tap] else { return nil }
        var commands: [HostCommand] = []
        if tap.noAddressGeneration == false {
            commands.append(.ip(.host, "link", "set", plug.tap, "addrgenmode", "none"))
        }
        if tap.mtu != plug.mtu || tap.master != plug.bridge || tap.up != plug.up {
            commands.append(
                .ip(
                    .host, "link", "set", plug.tap, "mtu", "\(plug.mtu)", "master", plug.bridge, plug.up ? "up" : "down"
                ))
        }
        return commands
    }

    /// Deletes the `brq-` bridges and `vxlan-<VNI>` devices the plan no longer has: the
    /// agent owns those names on its host, and nothing else.
    public func removals(links: [String: Link]) -> [HostCommand] {
        let bridgeNames = Set(bridges.map(\.name))
        let vxlanNames = Set(bridges.map(\.vxlan.name))
        let devices = links.values.sorted { $0.name < $1.name }
        let vxlans = devices.filter {
            $0.kind == "vxlan" && $0.name.hasPrefix("vxlan-") && $0.name.dropFirst(6).allSatisfy(\.isNumber)
                && !vxlanNames.contains($0.name)
        }
        let stale = devices.filter {
            $0.kind == "bridge" && $0.name.hasPrefix("brq-") && !bridgeNames.contains($0.name)
        }
        return (vxlans + stale).map { .ip(.host, "link", "del", $0.name) }
    }
}
