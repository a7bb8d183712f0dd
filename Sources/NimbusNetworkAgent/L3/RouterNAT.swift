/// A router's NAT table, `ip nimbus_nat` in its namespace: floating IPs as two maps (1:1
/// DNAT in prerouting and output, SNAT of their owners in postrouting), SNAT of the
/// internal networks to the gateway address when the router has `enable_snat`, and
/// hairpin SNAT for tenants reaching a floating IP of their own network.
///
/// The table is always written whole from the desired state, floating IPs included, in one
/// transaction (create, delete, create): NAT state lives in conntrack, so flows under way
/// survive it. It is rewritten only when its fingerprint (a comment on the first rule)
/// differs from what is in the kernel.
public struct RouterNAT: Sendable, Equatable {
    /// The table.
    public static let table = NftRuleset.TableID("ip", "nimbus_nat")

    /// The router's `qg-` interface.
    public var gatewayInterface: String
    /// The gateway port's address, the SNAT source.
    public var gatewayAddress: IPv4
    /// The router's `enable_snat`.
    public var snat: Bool
    /// The internal networks SNAT covers.
    public var internalNetworks: [IPv4Prefix]
    /// The floating IPs the router serves.
    public var floatingIPs: [RouterPlan.FloatingMapping]

    /// The table's text without its fingerprint (what the fingerprint covers).
    func body(fingerprint: String?) -> String {
        let dnat = floatingIPs.map { "\($0.floating) : \($0.fixed)" }.joined(separator: ", ")
        let snatMap = floatingIPs.map { "\($0.fixed) : \($0.floating)" }.joined(separator: ", ")
        let qg = "\"\(gatewayInterface)\""
        let comment = fingerprint.map { " comment \"\($0)\"" } ?? ""
        var postrouting = ["oifname \(qg) snat to ip saddr map @fip_snat"]
        if snat && !internalNetworks.isEmpty {
            let networks = internalNetworks.map(\.description).joined(separator: ", ")
            postrouting.append("oifname \(qg) ip saddr { \(networks) } snat to \(gatewayAddress)")
        }
        postrouting.append("iifname != \(qg) oifname != \(qg) ct status dnat snat to \(gatewayAddress)")
        return """
            table ip nimbus_nat {
              map fip_dnat { type ipv4_addr : ipv4_addr;\(dnat.isEmpty ? "" : " elements = { \(dnat) };") }
              map fip_snat { type ipv4_addr : ipv4_addr;\(snatMap.isEmpty ? "" : " elements = { \(snatMap) };") }
              chain prerouting { type nat hook prerouting priority dstnat; policy accept;
                dnat to ip daddr map @fip_dnat\(comment)
              }
              chain output { type nat hook output priority -100; policy accept;
                dnat to ip daddr map @fip_dnat
              }
              chain postrouting { type nat hook postrouting priority srcnat; policy accept;
            \(postrouting.map { "    " + $0 }.joined(separator: "\n"))
              }
            }

            """
    }

    /// The fingerprint comment of this table.
    public var fingerprint: String { SecurityGroupPlan.fingerprintPrefix + Fingerprint.of(body(fingerprint: nil)) }

    /// The transaction that replaces the table whole (`table` first, so that `delete`
    /// never fails on a missing one).
    public var script: String {
        "table ip nimbus_nat\ndelete table ip nimbus_nat\n" + body(fingerprint: fingerprint)
    }

    /// Whether `ruleset` holds this table as written.
    public func isCurrent(in ruleset: NftRuleset) -> Bool {
        ruleset[Self.table]?.chains["prerouting"]?.first == .some(fingerprint)
    }
}

/// A router's metadata table, `ip nimbus_metadata` in its namespace: guests' requests to
/// 169.254.169.254:80 arriving on a `qr-` interface are redirected to the metadata
/// proxy's port, which nothing else may reach (as Neutron's L3 agent does with iptables).
public enum RouterMetadataTable {
    /// The table.
    public static let table = NftRuleset.TableID("ip", "nimbus_metadata")

    static func body(fingerprint: String?) -> String {
        let comment = fingerprint.map { " comment \"\($0)\"" } ?? ""
        let port = MetadataProxyConfig.port
        return """
            table ip nimbus_metadata {
              chain prerouting { type nat hook prerouting priority dstnat - 10; policy accept;
                iifname "qr-*" ip daddr 169.254.169.254 tcp dport 80 redirect to :\(port)\(comment)
              }
              chain input { type filter hook input priority filter; policy accept;
                tcp dport \(port) iifname != "qr-*" drop
              }
            }

            """
    }

    /// The fingerprint comment of the table.
    public static var fingerprint: String {
        SecurityGroupPlan.fingerprintPrefix + Fingerprint.of(body(fingerprint: nil))
    }

    /// The transaction that writes the table whole.
    public static var script: String {
        "table ip nimbus_metadata\ndelete table ip nimbus_metadata\n" + body(fingerprint: fingerprint)
    }

    /// Whether `ruleset` holds the table as written.
    public static func isCurrent(in ruleset: NftRuleset) -> Bool {
        ruleset[table]?.chains["prerouting"]?.first == .some(fingerprint)
    }
}
