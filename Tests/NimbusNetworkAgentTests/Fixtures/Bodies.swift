import NimbusServiceKit

/// Resource bodies shaped as the network API renders them to an admin (the fields the
/// agents read, and a few they do not, as the API sends them).
enum Body {
    static func network(
        _ id: String, type: String, physnet: String? = nil, vni: Int? = nil, mtu: Int, external: Bool = false,
        project: String = "p1"
    ) -> JSON {
        [
            "id": .string(id), "name": "net", "tenant_id": .string(project), "project_id": .string(project),
            "admin_state_up": true, "status": "ACTIVE", "shared": false, "router:external": .bool(external),
            "mtu": .int(Int64(mtu)), "port_security_enabled": true, "provider:network_type": .string(type),
            "provider:physical_network": .optional(physnet),
            "provider:segmentation_id": vni.map { .int(Int64($0)) } ?? .null,
        ]
    }

    static func subnet(
        _ id: String, network: String, cidr: String, gateway: String?, dhcp: Bool = true, dns: [String] = [],
        routes: [(String, String)] = []
    ) -> JSON {
        [
            "id": .string(id), "name": "sub", "network_id": .string(network), "ip_version": 4, "cidr": .string(cidr),
            "gateway_ip": .optional(gateway), "allocation_pools": [], "dns_nameservers": .array(dns.map(JSON.string)),
            "host_routes": .array(routes.map { ["destination": .string($0.0), "nexthop": .string($0.1)] }),
            "enable_dhcp": .bool(dhcp), "ipv6_ra_mode": nil, "ipv6_address_mode": nil,
        ]
    }

    static func port(
        _ id: String, network: String, mac: String, ips: [(subnet: String, ip: String)], owner: String = "",
        device: String = "", host: String = "", groups: [String] = [], security: Bool = true, up: Bool = true,
        pairs: [(String, String?)] = []
    ) -> JSON {
        [
            "id": .string(id), "name": "", "network_id": .string(network), "mac_address": .string(mac),
            "admin_state_up": .bool(up), "status": "DOWN", "device_id": .string(device),
            "device_owner": .string(owner),
            "fixed_ips": .array(ips.map { ["subnet_id": .string($0.subnet), "ip_address": .string($0.ip)] }),
            "allowed_address_pairs": .array(
                pairs.map { ["ip_address": .string($0.0), "mac_address": $0.1.map(JSON.string) ?? .string(mac)] }),
            "security_groups": .array(groups.map(JSON.string)), "port_security_enabled": .bool(security),
            "binding:host_id": .string(host), "binding:vif_type": .string(host.isEmpty ? "unbound" : "bridge"),
        ]
    }

    static func router(
        _ id: String, gateway network: String?, snat: Bool = true, external ips: [(String, String)] = [],
        up: Bool = true
    ) -> JSON {
        let info: JSON =
            network.map { network in
                [
                    "network_id": .string(network), "enable_snat": .bool(snat),
                    "external_fixed_ips": .array(
                        ips.map { ["subnet_id": .string($0.0), "ip_address": .string($0.1)] }),
                ]
            } ?? .null
        return [
            "id": .string(id), "name": "router", "project_id": "p1", "admin_state_up": .bool(up), "status": "ACTIVE",
            "external_gateway_info": info, "routes": [],
        ]
    }

    static func floatingIP(
        _ id: String, address: String, fixed: String?, port: String?, router: String?, network: String
    ) -> JSON {
        [
            "id": .string(id), "project_id": "p1", "floating_network_id": .string(network),
            "floating_ip_address": .string(address), "fixed_ip_address": .optional(fixed), "port_id": .optional(port),
            "router_id": .optional(router), "status": port == nil ? "DOWN" : "ACTIVE",
        ]
    }

    static func securityGroup(_ id: String, rules: [JSON]) -> JSON {
        ["id": .string(id), "name": "sg", "project_id": "p1", "security_group_rules": .array(rules), "stateful": true]
    }

    static func rule(
        _ id: String, _ direction: String, ethertype: String = "IPv4", proto: String? = nil, min: Int? = nil,
        max: Int? = nil, prefix: String? = nil, group: String? = nil
    ) -> JSON {
        [
            "id": .string(id), "direction": .string(direction), "ethertype": .string(ethertype),
            "protocol": .optional(proto), "port_range_min": min.map { .int(Int64($0)) } ?? .null,
            "port_range_max": max.map { .int(Int64($0)) } ?? .null, "remote_ip_prefix": .optional(prefix),
            "remote_group_id": .optional(group),
        ]
    }

    static func agent(host: String, type: String = "l2", tunnel: String) -> JSON {
        ["host": .string(host), "type": .string(type), "configuration": ["tunneling_ip": .string(tunnel)]]
    }
}
