/// The one `nft -f` transaction that takes a host's ruleset to a `SecurityGroupPlan`. It
/// touches only what differs: set and map elements are added and deleted one by one, a
/// port's four chains are replaced (flush and refill, atomically) only when their
/// fingerprint changed, and the base tables are created once and never flushed, so
/// established connections and other ports' traffic pass undisturbed.
extension SecurityGroupPlan {
    /// The transaction; nil when the ruleset already matches.
    public func script(actual: NftRuleset) -> String? {
        let bridgeTable = actual[Self.bridgeTable]
        let inetTable = actual[Self.inetTable]
        if ports.isEmpty {
            let drops = [
                bridgeTable.map { _ in "delete table \(Self.bridgeTable)\n" },
                inetTable.map { _ in "delete table \(Self.inetTable)\n" },
            ]
            let script = drops.compactMap { $0 }.joined()
            return script.isEmpty ? nil : script
        }
        var script = (bridgeTable == nil ? Self.bridgeBase : "") + (inetTable == nil ? Self.inetBase : "")
        let bridge = bridgeTable ?? NftRuleset.Table()
        let inet = inetTable ?? NftRuleset.Table()
        let indices = assignIndices(bridge: bridge, inet: inet)
        script += setChanges(inet)
        script += zoneChanges(inet)
        script += removals(bridge: bridge, inet: inet, keeping: Set(indices.values))
        for port in ports {
            guard let index = indices[port.tap] else { continue }
            script += portChanges(port, index: index, bridge: bridge, inet: inet)
        }
        for name in inet.sets.keys.sorted()
        where (name.hasPrefix("rg4_") || name.hasPrefix("rg6_")) && sets[name] == nil {
            script += "delete set \(Self.inetTable) \(name)\n"
        }
        return script.isEmpty ? nil : script
    }

    /// `in_12` → 12, for the four kinds of port chains.
    static func chainIndex(_ name: String) -> Int? {
        for prefix in ["in_", "out_", "eg_", "ing_"] where name.hasPrefix(prefix) {
            return Int(name.dropFirst(prefix.count))
        }
        return nil
    }

    /// The indices of the port chains in both tables.
    static func chainIndices(_ bridge: NftRuleset.Table, _ inet: NftRuleset.Table) -> Set<Int> {
        Set((Array(bridge.chains.keys) + Array(inet.chains.keys)).compactMap(chainIndex))
    }

    /// Each port's index: the one it has (from the `port_in` map, so a restarted agent keeps
    /// it), else the smallest that nothing in the ruleset uses.
    func assignIndices(bridge: NftRuleset.Table, inet: NftRuleset.Table) -> [String: Int] {
        var existing: [String: Int] = [:]
        for element in bridge.sets["port_in"] ?? [] {
            if let value = element.value, value.hasPrefix("jump in_"), let index = Int(value.dropFirst(8)) {
                existing[element.key] = index
            }
        }
        var used = Set(existing.values)
        used.formUnion(Self.chainIndices(bridge, inet))
        used.formUnion((inet.sets["eg_dispatch"] ?? []).compactMap { Int($0.key) })
        var assigned: [String: Int] = [:]
        for port in ports { if let index = existing[port.tap] { assigned[port.tap] = index } }
        var next = 1
        for port in ports where assigned[port.tap] == nil {
            while used.contains(next) { next += 1 }
            assigned[port.tap] = next
            used.insert(next)
        }
        return assigned
    }

    func setChanges(_ inet: NftRuleset.Table) -> String {
        var script = ""
        for (name, elements) in sets.sorted(by: { $0.key < $1.key }) {
            let current = inet.sets[name]
            if current == nil {
                script +=
                    "add set \(Self.inetTable) \(name) { type \(name.hasPrefix("rg4_") ? "ipv4_addr" : "ipv6_addr"); }\n"
            }
            let have = Set((current ?? []).map(\.key))
            let missing = elements.filter { !have.contains($0) }
            let extra = have.subtracting(elements).sorted()
            if !missing.isEmpty {
                script += "add element \(Self.inetTable) \(name) { \(missing.joined(separator: ", ")) }\n"
            }
            if !extra.isEmpty {
                script += "delete element \(Self.inetTable) \(name) { \(extra.joined(separator: ", ")) }\n"
            }
        }
        return script
    }

    func zoneChanges(_ inet: NftRuleset.Table) -> String {
        var current: [String: Int] = [:]
        for element in inet.sets["zone_of"] ?? [] { current[element.key] = element.value.flatMap { Int($0) } }
        var script = ""
        var used = Set(current.filter { zones.contains($0.key) }.values)
        var next = 1
        for bridge in zones where current[bridge] == nil {
            while used.contains(next) { next += 1 }
            used.insert(next)
            script += "add element \(Self.inetTable) zone_of { \"\(bridge)\" : \(next) }\n"
        }
        for bridge in current.keys.sorted() where !zones.contains(bridge) {
            script += "delete element \(Self.inetTable) zone_of { \"\(bridge)\" }\n"
        }
        return script
    }

    /// Deletes the elements and chains of every port index not kept: elements first, then
    /// the chains they jump to.
    func removals(bridge: NftRuleset.Table, inet: NftRuleset.Table, keeping: Set<Int>) -> String {
        let present = Self.chainIndices(bridge, inet)
            .union((bridge.sets["port_in"] ?? []).compactMap { $0.value.flatMap { Int($0.dropFirst(8)) } })
        var script = ""
        for index in present.subtracting(keeping).sorted() {
            let (egress, ingress) = Self.marks(index)
            for (map, chain) in [("port_in", "in_\(index)"), ("port_out", "out_\(index)")] {
                for element in bridge.sets[map] ?? [] where element.value == "jump \(chain)" {
                    script += "delete element \(Self.bridgeTable) \(map) { \"\(element.key)\" }\n"
                }
            }
            for (map, key) in [("eg_dispatch", egress), ("ing_dispatch", ingress)]
            where (inet.sets[map] ?? []).contains(where: { $0.key == "\(key)" }) {
                script += "delete element \(Self.inetTable) \(map) { \(Self.hex(key)) }\n"
            }
            for chain in ["in_\(index)", "out_\(index)"] where bridge.chains[chain] != nil {
                script += "delete chain \(Self.bridgeTable) \(chain)\n"
            }
            for chain in ["eg_\(index)", "ing_\(index)"] where inet.chains[chain] != nil {
                script += "delete chain \(Self.inetTable) \(chain)\n"
            }
        }
        return script
    }

    func portChanges(_ port: FilteredPort, index: Int, bridge: NftRuleset.Table, inet: NftRuleset.Table) -> String {
        let (bridgeText, inetText, fingerprint) = Self.chains(port, index: index)
        let names = [
            (Self.bridgeTable, "in_\(index)"), (Self.bridgeTable, "out_\(index)"), (Self.inetTable, "eg_\(index)"),
            (Self.inetTable, "ing_\(index)"),
        ]
        var script = ""
        let complete = names.allSatisfy { ($0.0 == Self.bridgeTable ? bridge : inet).chains[$0.1] != nil }
        if !complete || bridge.chains["in_\(index)"]?.first != .some(fingerprint) {
            script += names.map { "add chain \($0.0) \($0.1)\n" }.joined()
            script += names.map { "flush chain \($0.0) \($0.1)\n" }.joined()
            script += bridgeText + inetText
        }
        let (egress, ingress) = Self.marks(index)
        let elements: [(NftRuleset.TableID, NftRuleset.Table, String, String, String)] = [
            (Self.bridgeTable, bridge, "port_in", port.tap, "in_\(index)"),
            (Self.bridgeTable, bridge, "port_out", port.tap, "out_\(index)"),
            (Self.inetTable, inet, "eg_dispatch", "\(egress)", "eg_\(index)"),
            (Self.inetTable, inet, "ing_dispatch", "\(ingress)", "ing_\(index)"),
        ]
        for (table, content, map, key, chain) in elements {
            let current = (content.sets[map] ?? []).first { $0.key == key }
            if current?.value == "jump \(chain)" { continue }
            let written = map.hasPrefix("port_") ? "\"\(key)\"" : Self.hex(Int(key) ?? 0)
            if current != nil { script += "delete element \(table) \(map) { \(written) }\n" }
            script += "add element \(table) \(map) { \(written) : jump \(chain) }\n"
        }
        return script
    }
}
