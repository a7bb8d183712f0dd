import Foundation
import Hummingbird
import NimbusNetwork
import NimbusServiceKit
import Testing

@Suite("Network API")
struct NetworkAPITests {
    @Test("The root lists v2.0 alone with a trailing-slash link, and /v2.0/ names the core collections")
    func versions() async throws {
        let cloud = try await NetworkCloud()
        let root = try await cloud.send(.get, "/", token: nil)
        #expect(root.status == .ok)
        #expect(
            root.text
                == #"{"versions":[{"id":"v2.0","status":"CURRENT","links":[{"rel":"self","href":"http://nimbus.test:5000/v2.0/"}]}]}"#
        )
        let resources = try await cloud.send(.get, "/v2.0/", token: cloud.demo)
        let names = resources.json?["resources"]?.array?.compactMap { $0["name"]?.string } ?? []
        #expect(names == ["network", "subnet", "subnetpool", "port"])
        #expect(try await cloud.send(.get, "/v2.0/networks", token: nil).status == .unauthorized)
    }

    @Test("The notes' topology: external flat network, tenant network, router with gateway and interface")
    func topology() async throws {
        let cloud = try await NetworkCloud()
        let topology = try await cloud.topology()
        // The gateway holds an address from the external pool.
        let gatewayIP = try #require(topology.gateway["external_fixed_ips"]?.array?.first?["ip_address"]?.string)
        #expect(gatewayIP.hasPrefix("10.10.0.2"))
        #expect(topology.gateway["enable_snat"]?.bool == true)
        // The interface answer is not wrapped, and carries the subnet and the router.
        #expect(topology.interface["id"]?.string == topology.router)
        #expect(topology.interface["subnet_id"]?.string == topology.subnet)
        #expect(topology.interface["project_id"] != nil && topology.interface["tenant_id"] != nil)
        // The interface port holds the subnet's gateway .254; DHCP took the lowest free .1.
        let ports = try await cloud.send(.get, "/v2.0/ports?network_id=\(topology.internal)", token: cloud.demo)
        let byOwner = Dictionary(
            (ports.json?["ports"]?.array ?? []).map { ($0["device_owner"]?.string ?? "", $0) },
            uniquingKeysWith: { a, _ in a })
        #expect(
            byOwner["network:router_interface"]?["fixed_ips"]?.array?.first?["ip_address"]?.string == "192.168.0.254")
        #expect(byOwner["network:dhcp"]?["fixed_ips"]?.array?.first?["ip_address"]?.string == "192.168.0.1")
        // A member sees the external network without its provider attributes, and its subnet.
        let ext = try await cloud.send(.get, "/v2.0/networks/\(topology.external)", token: cloud.demo)
        #expect(ext.json?["network"]?["router:external"]?.bool == true)
        #expect(ext.json?["network"]?["provider:network_type"] == nil)
        let asAdmin = try await cloud.send(.get, "/v2.0/networks/\(topology.external)", token: cloud.admin)
        #expect(asAdmin.json?["network"]?["provider:physical_network"]?.string == "extnet")
        let tenant = try await cloud.send(.get, "/v2.0/networks/\(topology.internal)", token: cloud.admin)
        #expect(tenant.json?["network"]?["provider:network_type"]?.string == "vxlan")
        #expect(tenant.json?["network"]?["provider:segmentation_id"]?.int == 10)
        #expect(tenant.json?["network"]?["mtu"]?.int == 1450)
        // `router%3Aexternal=True`, as the SDK spells it, finds the external network only.
        let external = try await cloud.send(.get, "/v2.0/networks?router%3Aexternal=True", token: cloud.demo)
        #expect(external.json?["networks"]?.array?.compactMap { $0["id"]?.string } == [topology.external])
        // Tempest makes its routers with `external_gateway_info: {}`: no gateway.
        let bare = try await cloud.create(
            "routers", "router", token: cloud.demo,
            ["name": "bare", "admin_state_up": false, "external_gateway_info": [:]])
        #expect(bare["external_gateway_info"] == .null)
        let subnets = try await cloud.send(.get, "/v2.0/subnets?network_id=\(topology.external)", token: cloud.demo)
        #expect(subnets.json?["subnets"]?.array?.count == 1)
        // Seeing the external network is not using it: a member's port there is refused.
        let onExternal = try await cloud.failure(
            .post, "/v2.0/ports", token: cloud.demo, json: ["port": ["network_id": .string(topology.external)]],
            status: .forbidden)
        #expect(onExternal.message == "(rule:create_port) is disallowed by policy")
        // `openstack router add route` / `remove route`: added once, removed if there.
        let route: JSON = ["destination": "10.20.0.0/24", "nexthop": "192.168.0.10"]
        let path = "/v2.0/routers/\(topology.router)"
        for _ in 0..<2 {
            let added = try await cloud.send(
                .put, path + "/add_extraroutes", token: cloud.demo, json: ["router": ["routes": [route]]])
            #expect(added.json?["router"]?["routes"]?.array == [route], "\(added.text)")
        }
        let unreachable = try await cloud.failure(
            .put, path + "/add_extraroutes", token: cloud.demo,
            json: ["router": ["routes": [["destination": "10.30.0.0/24", "nexthop": "172.16.0.1"]]]],
            status: .badRequest)
        #expect(unreachable.message.contains("the nexthop is not connected with router"))
        let removed = try await cloud.send(
            .put, path + "/remove_extraroutes", token: cloud.demo,
            json: ["router": ["routes": [route, ["destination": "10.40.0.0/24", "nexthop": "192.168.0.11"]]]])
        #expect(removed.json?["router"]?["routes"]?.array == [], "\(removed.text)")
    }

    @Test(
        "A port takes a free pool address and the project's default group; a floating IP follows it through the router")
    func portsAndFloatingIPs() async throws {
        let cloud = try await NetworkCloud()
        let topology = try await cloud.topology()
        let port = try await cloud.create(
            "ports", "port", token: cloud.demo, ["network_id": .string(topology.internal)])
        let portID = try #require(port["id"]?.string)
        let address = try #require(port["fixed_ips"]?.array?.first?["ip_address"]?.string)
        #expect(address != "192.168.0.254" && address != "192.168.0.1" && address.hasPrefix("192.168.0."))
        #expect(port["mac_address"]?.string?.hasPrefix("fa:16:3e:") == true)
        #expect(port["status"]?.string == "DOWN")
        #expect(port["binding:host_id"] == nil)
        let groups = try await cloud.send(.get, "/v2.0/security-groups?name=default", token: cloud.demo)
        let defaultGroup = try #require(groups.json?["security_groups"]?.array?.first)
        #expect(port["security_groups"]?.array?.first?.string == defaultGroup["id"]?.string)
        #expect(defaultGroup["security_group_rules"]?.array?.count == 4)
        // Create equals show (Tempest compares them).
        let shown = try await cloud.send(.get, "/v2.0/ports/\(portID)", token: cloud.demo)
        #expect(shown.json?["port"] == port)
        // Re-sending only the subnet keeps the address (as `openstack port set` may).
        let kept = try await cloud.send(
            .put, "/v2.0/ports/\(portID)", token: cloud.demo,
            json: ["port": ["fixed_ips": [["subnet_id": .string(topology.subnet)]]]])
        #expect(kept.json?["port"]?["fixed_ips"]?.array?.first?["ip_address"]?.string == address, "\(kept.text)")

        let floating = try await cloud.create(
            "floatingips", "floatingip", token: cloud.demo, ["floating_network_id": .string(topology.external)])
        let floatingID = try #require(floating["id"]?.string)
        #expect(floating["floating_ip_address"]?.string?.hasPrefix("10.10.0.2") == true)
        #expect(floating["port_id"] == .null && floating["status"]?.string == "DOWN")
        let associated = try await cloud.send(
            .put, "/v2.0/floatingips/\(floatingID)", token: cloud.demo,
            json: ["floatingip": ["port_id": .string(portID)]])
        #expect(associated.json?["floatingip"]?["fixed_ip_address"]?.string == address)
        #expect(associated.json?["floatingip"]?["router_id"]?.string == topology.router)
        #expect(associated.json?["floatingip"]?["port_details"]?["mac_address"] == port["mac_address"])
        // The router cannot lose its interface or gateway while the floating IP needs them.
        let inUse = try await cloud.failure(
            .put, "/v2.0/routers/\(topology.router)/remove_router_interface", token: cloud.demo,
            json: ["subnet_id": .string(topology.subnet)], status: .conflict)
        #expect(inUse.type == "RouterInterfaceInUseByFloatingIP")
        let gateway = try await cloud.failure(
            .put, "/v2.0/routers/\(topology.router)", token: cloud.demo,
            json: ["router": ["external_gateway_info": [:]]], status: .conflict)
        #expect(gateway.type == "RouterExternalGatewayInUseByFloatingIp")
        // Deleting the port lets the floating IP go.
        #expect(try await cloud.send(.delete, "/v2.0/ports/\(portID)", token: cloud.demo).status == .noContent)
        let after = try await cloud.send(.get, "/v2.0/floatingips/\(floatingID)", token: cloud.demo)
        #expect(after.json?["floatingip"]?["port_id"] == .null && after.json?["floatingip"]?["router_id"] == .null)
    }

    @Test("extra_dhcp_opts: checked, kept, merged by name and version on update, a null value removing one")
    func dhcpOptions() async throws {
        let cloud = try await NetworkCloud()
        let topology = try await cloud.topology()
        let port = try await cloud.create(
            "ports", "port", token: cloud.demo,
            [
                "network_id": .string(topology.internal),
                "extra_dhcp_opts": [
                    ["opt_name": "bootfile-name", "opt_value": "pxelinux.0"],
                    ["opt_name": "tftp-server", "opt_value": "10.0.0.9", "ip_version": 4],
                    ["opt_name": "150", "opt_value": "10.0.0.9"],
                ],
            ])
        let id = try #require(port["id"]?.string)
        #expect(port["extra_dhcp_opts"]?.array?.count == 3, "\(port)")
        let updated = try await cloud.send(
            .put, "/v2.0/ports/\(id)", token: cloud.demo,
            json: [
                "port": [
                    "extra_dhcp_opts": [
                        ["opt_name": "bootfile-name", "opt_value": "grub.efi"],
                        ["opt_name": "tftp-server", "opt_value": nil], ["opt_name": "150", "opt_value": nil],
                    ]
                ]
            ])
        #expect(
            updated.json?["port"]?["extra_dhcp_opts"]
                == [["opt_name": "bootfile-name", "opt_value": "grub.efi", "ip_version": 4]], "\(updated.text)")
        for bad: JSON in [
            [["opt_value": "x"]], [["opt_name": "a,b", "opt_value": "x"]], [["opt_name": "a"]],
            [["opt_name": "bootfile-name", "opt_value": "x", "ip_version": 5]], "bootfile",
            [["opt_name": "no-such-option", "opt_value": "x"]], [["opt_name": "255", "opt_value": "x"]],
        ] {
            let refused = try await cloud.failure(
                .put, "/v2.0/ports/\(id)", token: cloud.demo, json: ["port": ["extra_dhcp_opts": bad]],
                status: .badRequest)
            #expect(refused.message.hasPrefix("Invalid input for extra_dhcp_opts."), "\(bad): \(refused.message)")
        }
    }

    @Test("An agent's admin_state_up and description are an admin's to set and kept; the rest is read-only")
    func agentSettings() async throws {
        let cloud = try await NetworkCloud()
        _ = try cloud.api.channel.registry.heartbeat(
            host: "net", type: "l3", startedAt: Date(), revision: 0, statuses: [])
        let listed = try await cloud.send(.get, "/v2.0/agents", token: cloud.admin)
        let id = try #require(listed.json?["agents"]?.array?.first?["id"]?.string, "\(listed.text)")
        let set = try await cloud.send(
            .put, "/v2.0/agents/\(id)", token: cloud.admin,
            json: ["agent": ["admin_state_up": false, "description": "draining"]])
        #expect(set.json?["agent"]?["admin_state_up"] == false, "\(set.text)")
        let shown = try await cloud.send(.get, "/v2.0/agents/\(id)", token: cloud.admin)
        #expect(shown.json?["agent"]?["description"]?.string == "draining", "\(shown.text)")
        let readOnly = try await cloud.failure(
            .put, "/v2.0/agents/\(id)", token: cloud.admin, json: ["agent": ["host": "other"]], status: .badRequest)
        #expect(readOnly.message == "Cannot update read-only attribute host")
        _ = try await cloud.failure(
            .put, "/v2.0/agents/\(id)", token: cloud.demo, json: ["agent": ["admin_state_up": true]],
            status: .notFound)
    }

    @Test("Conflicts and refusals answer Neutron's types")
    func refusals() async throws {
        let cloud = try await NetworkCloud()
        let topology = try await cloud.topology()
        let flat = try await cloud.failure(
            .post, "/v2.0/networks", token: cloud.admin,
            json: ["network": ["provider:network_type": "flat", "provider:physical_network": "extnet"]],
            status: .conflict)
        #expect(flat == ("FlatNetworkInUse", "Unable to create the flat network. Physical network extnet is in use."))
        let provider = try await cloud.failure(
            .post, "/v2.0/networks", token: cloud.demo, json: ["network": ["provider:network_type": "vxlan"]],
            status: .forbidden)
        #expect(provider.type == "HTTPForbidden")
        let unknown = try await cloud.failure(
            .post, "/v2.0/networks", token: cloud.demo, json: ["network": ["name": "x", "foo": 1]], status: .badRequest)
        #expect(unknown.message == "Unrecognized attribute(s) 'foo'")
        let overlap = try await cloud.failure(
            .post, "/v2.0/subnets", token: cloud.demo,
            json: ["subnet": ["network_id": .string(topology.internal), "ip_version": 4, "cidr": "192.168.0.128/25"]],
            status: .badRequest)
        #expect(overlap.message.contains("overlaps with another subnet"))
        let taken = try await cloud.failure(
            .post, "/v2.0/ports", token: cloud.demo,
            json: ["port": ["network_id": .string(topology.internal), "fixed_ips": [["ip_address": "192.168.0.254"]]]],
            status: .conflict)
        #expect(taken.type == "IpAddressAlreadyAllocated")
        let busy = try await cloud.failure(
            .delete, "/v2.0/networks/\(topology.internal)", token: cloud.demo, status: .conflict)
        #expect(busy.type == "NetworkInUse")
        #expect(busy.message.contains("There are one or more ports still in use on the network"))
        let router = try await cloud.failure(
            .delete, "/v2.0/routers/\(topology.router)", token: cloud.demo, status: .conflict)
        #expect(router.type == "RouterInUse")
        let interfacePort = try await cloud.send(
            .get, "/v2.0/ports?device_owner=network:router_interface", token: cloud.demo)
        let interfaceID = try #require(interfacePort.json?["ports"]?.array?.first?["id"]?.string)
        let servicePort = try await cloud.failure(
            .delete, "/v2.0/ports/\(interfaceID)", token: cloud.demo, status: .conflict)
        #expect(servicePort.type == "ServicePortInUse")
        // Another project's private network does not exist for the demo user.
        let hidden = try await cloud.create("networks", "network", token: cloud.admin, ["name": "private-admin"])
        let hiddenID = try #require(hidden["id"]?.string)
        let notFound = try await cloud.failure(.get, "/v2.0/networks/\(hiddenID)", token: cloud.demo, status: .notFound)
        #expect(notFound == ("NetworkNotFound", "Network \(hiddenID) could not be found."))
        let list = try await cloud.send(.get, "/v2.0/networks", token: cloud.demo)
        #expect(!(list.json?["networks"]?.array ?? []).contains { $0["id"]?.string == hiddenID })
        // VNIs run out: 10–12 configured, int1 took 10, hidden 11.
        _ = try await cloud.create("networks", "network", token: cloud.demo, ["name": "last"])
        let exhausted = try await cloud.failure(
            .post, "/v2.0/networks", token: cloud.demo, json: ["network": ["name": "one-too-many"]],
            status: .serviceUnavailable)
        #expect(exhausted.type == "NoNetworkAvailable")
    }

    @Test("Security groups: two egress rules on a new group, duplicates refused, protocols checked, default kept")
    func securityGroups() async throws {
        let cloud = try await NetworkCloud()
        let group = try await cloud.create("security-groups", "security_group", token: cloud.demo, ["name": "class1"])
        let groupID = try #require(group["id"]?.string)
        #expect(group["security_group_rules"]?.array?.map { $0["direction"]?.string } == ["egress", "egress"])
        let ssh: JSON = [
            "security_group_id": .string(groupID), "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22, "remote_ip_prefix": "0.0.0.0/0",
        ]
        let rule = try await cloud.create("security-group-rules", "security_group_rule", token: cloud.demo, ssh)
        #expect(rule["protocol"]?.string == "tcp" && rule["ethertype"]?.string == "IPv4")
        let duplicate = try await cloud.failure(
            .post, "/v2.0/security-group-rules", token: cloud.demo, json: ["security_group_rule": ssh],
            status: .conflict)
        let ruleID = rule["id"]?.string ?? ""
        #expect(duplicate.type == "SecurityGroupRuleExists")
        #expect(duplicate.message == "Security group rule already exists. Rule id is \(ruleID).")
        let bad = try await cloud.failure(
            .post, "/v2.0/security-group-rules", token: cloud.demo,
            json: [
                "security_group_rule": [
                    "security_group_id": .string(groupID), "direction": "ingress", "protocol": "bogus",
                ]
            ],
            status: .badRequest)
        #expect(bad.type == "SecurityGroupRuleInvalidProtocol")
        let conflict = try await cloud.failure(
            .post, "/v2.0/security-group-rules", token: cloud.demo,
            json: [
                "security_group_rule": [
                    "security_group_id": .string(groupID), "direction": "ingress", "ethertype": "IPv6",
                    "remote_ip_prefix": "10.0.0.0/8",
                ]
            ], status: .badRequest)
        #expect(conflict.message.hasPrefix("Conflicting value ethertype"))
        let all = try await cloud.create(
            "security-group-rules", "security_group_rule", token: cloud.demo,
            [
                "security_group_id": .string(groupID), "direction": "ingress", "protocol": "udp", "port_range_min": 1,
                "port_range_max": 65535,
            ])
        #expect(all["port_range_min"] == .null && all["port_range_max"] == .null)
        let named = try await cloud.failure(
            .post, "/v2.0/security-groups", token: cloud.demo, json: ["security_group": ["name": "Default"]],
            status: .conflict)
        #expect(named.type == "SecurityGroupDefaultAlreadyExists")
        let groups = try await cloud.send(.get, "/v2.0/security-groups?name=default", token: cloud.demo)
        let defaultID = try #require(groups.json?["security_groups"]?.array?.first?["id"]?.string)
        let remove = try await cloud.failure(
            .delete, "/v2.0/security-groups/\(defaultID)", token: cloud.demo, status: .conflict)
        #expect(remove.type == "SecurityGroupCannotRemoveDefault")
        #expect(
            try await cloud.send(.delete, "/v2.0/security-groups/\(groupID)", token: cloud.demo).status == .noContent)
    }

    @Test("Lists filter, sort, page with links and select fields")
    func listing() async throws {
        let cloud = try await NetworkCloud(settings: .init(vniRanges: [10...100]))
        let bulk = try await cloud.send(
            .post, "/v2.0/networks", token: cloud.demo,
            json: ["networks": [["name": "n3"], ["name": "n1"], ["name": "n2"], ["name": "n4"]]])
        #expect(bulk.status == .created)
        #expect(bulk.json?["networks"]?.array?.count == 4)
        let page = try await cloud.send(.get, "/v2.0/networks?sort_key=name&sort_dir=asc&limit=2", token: cloud.demo)
        #expect(page.json?["networks"]?.array?.compactMap { $0["name"]?.string } == ["n1", "n2"])
        let next = try #require(
            page.json?["networks_links"]?.array?.first { $0["rel"]?.string == "next" }?["href"]?.string)
        let second = try await cloud.send(.get, next, token: cloud.demo)
        #expect(second.json?["networks"]?.array?.compactMap { $0["name"]?.string } == ["n3", "n4"])
        let named = try await cloud.send(
            .get, "/v2.0/networks?name=n2&name=n4&fields=id&fields=name", token: cloud.demo)
        let items = named.json?["networks"]?.array ?? []
        #expect(items.count == 2)
        #expect(items.allSatisfy { $0.members?.map(\.0).sorted() == ["id", "name"] })
        let missing = try await cloud.failure(
            .get, "/v2.0/networks?marker=nope&limit=1", token: cloud.demo, status: .notFound)
        #expect(missing.type == "NetworkNotFound")
    }

    @Test("IPv6 SLAAC subnets give every port its EUI-64 address")
    func slaac() async throws {
        let cloud = try await NetworkCloud()
        let network = try await cloud.create("networks", "network", token: cloud.demo, ["name": "v6"])
        let networkID = try #require(network["id"]?.string)
        let subnet = try await cloud.create(
            "subnets", "subnet", token: cloud.demo,
            [
                "network_id": .string(networkID), "ip_version": 6, "cidr": "2001:db8::/64",
                "ipv6_ra_mode": "slaac", "ipv6_address_mode": "slaac",
            ])
        #expect(subnet["gateway_ip"]?.string == "2001:db8::")
        let port = try await cloud.create(
            "ports", "port", token: cloud.demo, ["network_id": .string(networkID), "mac_address": "fa:16:3e:11:22:33"])
        #expect(port["fixed_ips"]?.array?.first?["ip_address"]?.string == "2001:db8::f816:3eff:fe11:2233")
    }

    @Test("State survives a restart, and the agents' channel sees every change and deletion")
    func persistenceAndChannel() async throws {
        let path = NSTemporaryDirectory() + "nimbus-network-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var topology: NetworkCloud.Topology
        do {
            let cloud = try await NetworkCloud(path: path)
            topology = try await cloud.topology()
            let (_, items) = try cloud.api.store.log.list()
            let kinds = Set(items.map(\.kind))
            #expect(kinds.isSuperset(of: ["network", "subnet", "port", "router", "security_group"]))
            #expect(
                items.first { $0.id == topology.router }?.body?["external_gateway_info"]?["network_id"]?.string
                    == topology.external)
        }
        let reopened = try await NetworkCloud(path: path)
        let router = try await reopened.send(.get, "/v2.0/routers/\(topology.router)", token: reopened.admin)
        #expect(router.status == .ok)
        let (before, _) = try reopened.api.store.log.list()
        _ = try await reopened.send(
            .put, "/v2.0/routers/\(topology.router)/remove_router_interface", token: reopened.admin,
            json: ["subnet_id": .string(topology.subnet)])
        let (revision, changes) = try reopened.api.store.log.changes(since: before)
        #expect(revision > before)
        #expect(changes.contains { $0.kind == "port" && $0.body == nil })
    }
}
