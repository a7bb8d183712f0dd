import NimbusServiceKit

/// Resources as Neutron renders them, every attribute included (the API strips what a
/// caller may not see); agents receive the same bodies.
extension Common {
    func fields(projectKeys: Bool = true) -> [(String, JSON)] {
        var fields: [(String, JSON)] = [("id", .string(id)), ("name", .string(name))]
        if projectKeys { fields += [("tenant_id", .string(projectID)), ("project_id", .string(projectID))] }
        return fields
    }

    var trailer: [(String, JSON)] {
        [
            ("description", .string(description)), ("tags", .array(tags.sorted().map(JSON.string))),
            ("created_at", .string(Timestamp.utc(createdAt) + "Z")),
            ("updated_at", .string(Timestamp.utc(updatedAt) + "Z")), ("revision_number", .int(revision)),
        ]
    }
}

extension NetworkState {
    /// The availability zone every host is in (Neutron's and Nova's default name).
    static let zone = "nova"

    public func render(_ network: Network) -> JSON {
        var fields = network.common.fields()
        fields += [
            ("admin_state_up", .bool(network.adminStateUp)), ("status", "ACTIVE"),
            ("subnets", .array(subnets(of: network.common.id).map { .string($0.common.id) })),
            ("shared", .bool(network.shared)), ("router:external", .bool(network.external)),
            ("mtu", .int(Int64(network.mtu))), ("port_security_enabled", .bool(network.portSecurityEnabled)),
            ("provider:network_type", .string(network.networkType)),
            ("provider:physical_network", .optional(network.physicalNetwork)),
            ("provider:segmentation_id", network.segmentationID.map { .int(Int64($0)) } ?? .null),
            ("availability_zone_hints", []), ("availability_zones", [.string(Self.zone)]),
            ("ipv4_address_scope", nil), ("ipv6_address_scope", nil), ("l2_adjacency", true),
            ("is_default", .bool(network.isDefault)), ("qos_policy_id", nil), ("dns_domain", ""),
        ]
        return .object(fields + network.common.trailer)
    }

    public func render(_ subnet: Subnet) -> JSON {
        var fields = subnet.common.fields()
        fields += [
            ("network_id", .string(subnet.networkID)), ("ip_version", .int(Int64(subnet.ipVersion))),
            ("cidr", .string(subnet.cidr)), ("gateway_ip", .optional(subnet.gatewayIP)),
            (
                "allocation_pools",
                .array(subnet.allocationPools.map { ["start": .string($0.start), "end": .string($0.end)] })
            ),
            ("dns_nameservers", .array(subnet.dnsNameservers.map(JSON.string))),
            (
                "host_routes",
                .array(
                    subnet.hostRoutes.map { ["destination": .string($0.destination), "nexthop": .string($0.nexthop)] })
            ),
            ("enable_dhcp", .bool(subnet.enableDHCP)), ("ipv6_ra_mode", .optional(subnet.ipv6RAMode)),
            ("ipv6_address_mode", .optional(subnet.ipv6AddressMode)), ("subnetpool_id", .optional(subnet.subnetpoolID)),
            ("service_types", []), ("segment_id", nil), ("dns_publish_fixed_ip", false),
            ("router:external", .bool(networks[subnet.networkID]?.external ?? false)),
        ]
        return .object(fields + subnet.common.trailer)
    }

    public func render(_ pool: SubnetPool) -> JSON {
        var fields = pool.common.fields()
        fields += [
            ("prefixes", .array(pool.prefixes.map(JSON.string))), ("ip_version", .int(Int64(pool.ipVersion))),
            ("min_prefixlen", .string(String(pool.minPrefixlen))),
            ("max_prefixlen", .string(String(pool.maxPrefixlen))),
            ("default_prefixlen", .string(String(pool.defaultPrefixlen))), ("shared", .bool(pool.shared)),
            ("is_default", .bool(pool.isDefault)),
            ("default_quota", pool.defaultQuota.map { .int(Int64($0)) } ?? .null),
            ("address_scope_id", .optional(pool.addressScopeID)),
        ]
        return .object(fields + pool.common.trailer)
    }

    public func render(_ port: Port) -> JSON {
        var fields = port.common.fields()
        let bound = !port.bindingHostID.isEmpty
        fields += [
            ("network_id", .string(port.networkID)), ("mac_address", .string(port.macAddress)),
            ("admin_state_up", .bool(port.adminStateUp)), ("status", .string(port.status)),
            ("device_id", .string(port.deviceID)), ("device_owner", .string(port.deviceOwner)),
            (
                "fixed_ips",
                .array(port.fixedIPs.map { ["subnet_id": .string($0.subnetID), "ip_address": .string($0.ipAddress)] })
            ),
            (
                "allowed_address_pairs",
                .array(
                    port.allowedAddressPairs.map {
                        ["ip_address": .string($0.ipAddress), "mac_address": .string($0.macAddress)]
                    })
            ),
            ("extra_dhcp_opts", (try? JSON.parse(Array(port.extraDHCPOpts.utf8))) ?? []),
            ("security_groups", .array(port.securityGroups.map(JSON.string))),
            ("port_security_enabled", .bool(port.portSecurityEnabled)),
            ("binding:host_id", .string(port.bindingHostID)),
            ("binding:vif_type", .string(bound ? "bridge" : "unbound")),
            ("binding:vif_details", bound ? ["port_filter": true, "connectivity": "l2"] : [:]),
            ("binding:vnic_type", .string(port.bindingVNICType)),
            ("binding:profile", (try? JSON.parse(Array(port.bindingProfile.utf8))) ?? [:]),
            ("dns_name", .string(port.dnsName)), ("dns_assignment", []), ("ip_allocation", "immediate"),
            ("propagate_uplink_status", false), ("qos_policy_id", nil), ("qos_network_policy_id", nil),
        ]
        return .object(fields + port.common.trailer)
    }

    public func render(_ router: Router) -> JSON {
        var fields = router.common.fields()
        let gateway: JSON =
            router.gateway.map { gateway in
                [
                    "network_id": .string(gateway.networkID), "enable_snat": .bool(gateway.enableSNAT),
                    "external_fixed_ips": .array(
                        gateway.fixedIPs.map {
                            ["subnet_id": .string($0.subnetID), "ip_address": .string($0.ipAddress)]
                        }),
                ]
            } ?? .null
        fields += [
            ("admin_state_up", .bool(router.adminStateUp)), ("status", "ACTIVE"), ("external_gateway_info", gateway),
            (
                "routes",
                .array(router.routes.map { ["destination": .string($0.destination), "nexthop": .string($0.nexthop)] })
            ),
            ("distributed", false), ("ha", false), ("flavor_id", nil), ("availability_zone_hints", []),
            ("availability_zones", [.string(Self.zone)]), ("enable_ndp_proxy", false),
        ]
        return .object(fields + router.common.trailer)
    }

    public func render(_ floating: FloatingIP) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", .string(floating.common.id)), ("tenant_id", .string(floating.common.projectID)),
            ("project_id", .string(floating.common.projectID)),
            ("floating_network_id", .string(floating.floatingNetworkID)),
            ("floating_ip_address", .string(floating.floatingIPAddress)),
            ("fixed_ip_address", .optional(floating.fixedIPAddress)), ("port_id", .optional(floating.portID)),
            ("router_id", .optional(floating.routerID)), ("status", floating.portID == nil ? "DOWN" : "ACTIVE"),
            ("dns_name", .string(floating.dnsName)), ("dns_domain", .string(floating.dnsDomain)),
            ("port_forwardings", []), ("qos_policy_id", nil),
        ]
        var details: JSON = .null
        if let portID = floating.portID, let port = ports[portID] {
            details = [
                "name": .string(port.common.name), "network_id": .string(port.networkID),
                "mac_address": .string(port.macAddress), "admin_state_up": .bool(port.adminStateUp),
                "status": .string(port.status), "device_id": .string(port.deviceID),
                "device_owner": .string(port.deviceOwner),
            ]
        }
        fields.append(("port_details", details))
        return .object(fields + floating.common.trailer)
    }

    public func render(_ group: SecurityGroup) -> JSON {
        var fields = group.common.fields()
        fields += [
            ("security_group_rules", .array(rules(of: group.common.id).map(render))),
            ("stateful", .bool(group.stateful)),
            ("shared", false),
        ]
        return .object(fields + group.common.trailer)
    }

    public func render(_ rule: SecurityGroupRule) -> JSON {
        let fields: [(String, JSON)] = [
            ("id", .string(rule.common.id)), ("tenant_id", .string(rule.common.projectID)),
            ("project_id", .string(rule.common.projectID)), ("security_group_id", .string(rule.securityGroupID)),
            ("direction", .string(rule.direction)), ("ethertype", .string(rule.ethertype)),
            ("protocol", .optional(rule.proto)), ("port_range_min", rule.portRangeMin.map { .int(Int64($0)) } ?? .null),
            ("port_range_max", rule.portRangeMax.map { .int(Int64($0)) } ?? .null),
            ("remote_ip_prefix", .optional(rule.remoteIPPrefix)), ("remote_group_id", .optional(rule.remoteGroupID)),
            ("remote_address_group_id", nil), ("normalized_cidr", .optional(rule.remoteIPPrefix)),
            (
                "belongs_to_default_sg",
                .bool(securityGroups[rule.securityGroupID]?.common.name == "default")
            ),
        ]
        return .object(fields + rule.common.trailer.filter { $0.0 != "tags" })
    }

    /// Any resource by kind and id, rendered; nil when it does not exist.
    public func render(_ kind: ResourceKind, _ id: String) -> JSON? {
        switch kind {
        case .network: networks[id].map(render)
        case .subnet: subnets[id].map(render)
        case .subnetpool: subnetPools[id].map(render)
        case .port: ports[id].map(render)
        case .router: routers[id].map(render)
        case .floatingip: floatingIPs[id].map(render)
        case .securityGroup: securityGroups[id].map(render)
        case .securityGroupRule: rules[id].map(render)
        }
    }
}

/// What the network agents follow: networks, subnets, ports, routers, floating IPs and
/// security groups (their rules inside), as the API renders them to an admin.
public enum AgentView {
    public static let kinds: Set<ResourceKind> = [.network, .subnet, .port, .router, .floatingip, .securityGroup]

    public static func publish(_ state: NetworkState, _ kind: ResourceKind, _ id: String) -> (
        kind: String, body: JSON?
    )? {
        guard kinds.contains(kind) else { return nil }
        return (kind.rawValue, state.render(kind, id))
    }
}
