/// The nftables text of the security-group design: a stateless bridge-family table that
/// sees tap names (anti-spoofing, the port's index into the packet mark: low 16 bits the
/// sending port, high 16 bits the receiving one) and a stateful inet-family table that sees
/// only bridges and dispatches on the mark, with a conntrack zone per network.
extension SecurityGroupPlan {
    /// The bridge-family table.
    public static let bridgeTable = NftRuleset.TableID("bridge", "nimbus_sg_l2")
    /// The inet-family table.
    public static let inetTable = NftRuleset.TableID("inet", "nimbus_sg")
    /// The prefix of the fingerprint comment on a port's first rule.
    static let fingerprintPrefix = "nimbus:"

    /// The bridge table with its maps and base chains, created once and never flushed.
    static let bridgeBase = """
        table bridge nimbus_sg_l2 {
          map port_in { type ifname : verdict; }
          map port_out { type ifname : verdict; }
          chain c_pre { type filter hook prerouting priority -300; policy accept;
            meta mark set 0x0
            iifname vmap @port_in
          }
          chain c_fwd { type filter hook forward priority -200; policy accept;
            oifname vmap @port_out
          }
        }

        """

    /// The inet table with its maps and base chains, created once and never flushed.
    static let inetBase = """
        table inet nimbus_sg {
          map zone_of { typeof iifname : ct zone; }
          map eg_dispatch { type mark : verdict; }
          map ing_dispatch { type mark : verdict; }
          chain c_raw { type filter hook prerouting priority raw; policy accept;
            ct zone set iifname map @zone_of
          }
          chain c_fwd { type filter hook forward priority filter; policy accept;
            meta mark & 0x0000ffff vmap @eg_dispatch
            meta mark & 0xffff0000 vmap @ing_dispatch
          }
        }

        """

    /// The fingerprint comment that port `index`'s chains carry when they are current.
    public func fingerprint(of port: FilteredPort, index: Int) -> String { Self.chains(port, index: index).fingerprint }

    /// The marks of port `index`: as sender (low half) and as receiver (high half).
    static func marks(_ index: Int) -> (egress: Int, ingress: Int) { (index, index << 16) }

    static func hex(_ value: Int) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// The four chains of port `index` (in_, out_, eg_, ing_), their rules one per line; the
    /// first rule of `in_` carries the fingerprint of all four.
    static func chains(_ port: FilteredPort, index: Int) -> (bridge: String, inet: String, fingerprint: String) {
        let (egress, ingress) = marks(index)
        let macs = port.macs.map(\.description).joined(separator: ", ")
        var spoofing = [
            "ether saddr != { \(macs) } counter drop",
            "arp saddr ether != { \(macs) } counter drop",
            "arp saddr ip != { \((port.ipv4 + ["0.0.0.0"]).joined(separator: ", ")) } counter drop",
            "ip saddr 0.0.0.0 udp sport 68 udp dport 67 return",
        ]
        spoofing.append(
            port.ipv4.isEmpty
                ? "ether type ip counter drop" : "ip saddr != { \(port.ipv4.joined(separator: ", ")) } counter drop")
        spoofing += [
            "ip6 saddr != { \((["fe80::/10", "::"] + port.ipv6).joined(separator: ", ")) } counter drop",
            "icmpv6 type nd-router-advert counter drop",
        ]
        let outRules = ["meta mark set meta mark & 0x0000ffff | \(hex(ingress))"]
        let egressRules =
            [
                "ct state established,related return", "ct state invalid counter drop",
                "udp sport 68 udp dport 67 return", "udp sport 67 udp dport 68 counter drop",
            ] + port.egress + ["counter drop"]
        let ingressRules =
            [
                "ct state established,related accept", "ct state invalid counter drop",
                "udp sport 67 udp dport 68 accept",
                "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, mld-listener-query } accept",
            ] + port.ingress + ["counter drop"]
        let mark = "meta mark set \(hex(egress))"
        let body = ([mark] + spoofing + outRules + egressRules + ingressRules + [port.tap, port.bridge])
            .joined(separator: "\n")
        let fingerprint = fingerprintPrefix + Fingerprint.of(body)
        func chain(_ name: String, _ rules: [String]) -> String {
            "  chain \(name) {\n" + rules.map { "    \($0)\n" }.joined() + "  }\n"
        }
        let bridge =
            "table bridge nimbus_sg_l2 {\n"
            + chain("in_\(index)", ["\(mark) comment \"\(fingerprint)\""] + spoofing) + chain("out_\(index)", outRules)
            + "}\n"
        let inet =
            "table inet nimbus_sg {\n" + chain("eg_\(index)", egressRules) + chain("ing_\(index)", ingressRules) + "}\n"
        return (bridge, inet, fingerprint)
    }
}

/// FNV-1a, 64 bits, in hex: a fingerprint of rendered rules, stable across runs (Swift's
/// `Hasher` is seeded per process).
enum Fingerprint {
    static func of(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
