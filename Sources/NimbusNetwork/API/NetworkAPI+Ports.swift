import Hummingbird
import NimbusServiceKit

/// `/v2.0/ports`: ports with their fixed IPs, MAC, security groups, address pairs and
/// binding; the ports the service makes itself (DHCP, router, floating IP) cannot be
/// deleted here.
extension NetworkAPI {
    func portRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/ports") { request, _ in
            let caller = try await caller(request)
            let state = store.snapshot
            return try list(request, .port, Array(state.ports.keys), state, caller)
        }
        router.get("/v2.0/ports/:id") { request, context in
            try await show(request, .port, try context.parameters.require("id"))
        }
        router.post("/v2.0/ports") { request, context in
            let caller = try await caller(request)
            let (items, bulk) = try creations(try await body(request, context: context), .port)
            try ensureDefaultGroup(caller.projectID)
            let created = try store.write { transaction in
                try items.map { given in
                    var attributes = given
                    let port = try createPort(&attributes, caller, &transaction)
                    return view(transaction.state.render(port), caller)
                }
            }
            return Self.created(.port, created, bulk: bulk)
        }
        router.put("/v2.0/ports/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            var attributes = try attributes(try await body(request, context: context), .port)
            let updated = try store.write { transaction in try updatePort(id, &attributes, caller, &transaction) }
            return Response.json(["port": view(updated, caller)])
        }
        router.delete("/v2.0/ports/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in
                try visible(transaction.state, .port, id, caller)
                guard let port = transaction.state.ports[id] else { throw NeutronFault.notFound(.port, id) }
                try modifiable(transaction.state, .port, id, owner: port.common.projectID, caller, "delete")
                if [DeviceOwner.routerInterface, DeviceOwner.routerGateway, DeviceOwner.floatingIP].contains(
                    port.deviceOwner)
                {
                    throw NeutronFault.conflict(
                        "ServicePortInUse",
                        "Port \(id) cannot be deleted directly via the port API: has device owner \(port.deviceOwner).")
                }
                removePort(id, &transaction)
            }
            return Response.empty()
        }
    }

    /// Removes a port, letting go of any floating IP bound to it.
    func removePort(_ id: String, _ transaction: inout NetworkStore.Transaction) {
        for var floating in transaction.state.floatingIPs.values where floating.portID == id {
            floating.portID = nil
            floating.fixedIPAddress = nil
            floating.routerID = nil
            floating.common.revision += 1
            floating.common.updatedAt = clock()
            transaction.state.floatingIPs[floating.common.id] = floating
            transaction.touch(.floatingip, floating.common.id)
        }
        transaction.state.ports[id] = nil
        transaction.touch(.port, id)
    }

    /// The `fixed_ips` of a request.
    func fixedIPRequests(_ attributes: inout Attributes) throws -> [FixedIPRequest]? {
        guard let list = try attributes.objects("fixed_ips") else { return nil }
        return try list.map { entry in
            for key in entry.members?.map(\.0) ?? [] where key != "subnet_id" && key != "ip_address" {
                throw NeutronFault.badRequest("Invalid input for fixed_ips. Reason: Unrecognized attribute '\(key)'.")
            }
            return FixedIPRequest(subnetID: entry["subnet_id"]?.string, address: entry["ip_address"]?.string)
        }
    }

    func addressPairs(_ attributes: inout Attributes, mac: String) throws -> [AddressPair]? {
        guard let list = try attributes.objects("allowed_address_pairs") else { return nil }
        return try list.map { entry in
            guard let ip = entry["ip_address"]?.string else {
                throw NeutronFault.badRequest("AllowedAddressPair must contain ip_address")
            }
            guard IPAddress(ip) != nil || IPNetwork(truncating: ip) != nil else {
                throw NeutronFault.badRequest(
                    "Invalid input for ip_address. Reason: '\(ip)' is not a valid IP address.")
            }
            let pairMAC = entry["mac_address"]?.string ?? mac
            guard MACAddress(pairMAC) != nil else {
                throw NeutronFault.badRequest(
                    "Invalid input for mac_address. Reason: '\(pairMAC)' is not a valid MAC address.")
            }
            return AddressPair(ipAddress: ip, macAddress: pairMAC.lowercased())
        }
    }

    /// The groups a port names, each visible to the caller.
    func groups(_ ids: [String], _ state: NetworkState, _ caller: Caller) throws -> [String] {
        for id in ids where state.securityGroups[id] == nil || !canSee(state, .securityGroup, id, caller) {
            throw NeutronFault.notFound(.securityGroup, id)
        }
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    func createPort(_ attributes: inout Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction)
        throws -> Port
    {
        try attributes.require("network_id")
        let networkID = try attributes.string("network_id") ?? ""
        guard let network = transaction.state.networks[networkID],
            canSee(transaction.state, .network, networkID, caller)
        else { throw NeutronFault.notFound(.network, networkID) }
        let project = try owner(&attributes, caller)
        let networkOwner = caller.isAdmin || caller.owns(network.common.projectID)
        // Seeing a network (an external one, say) is not using it: a port goes on one's own
        // network or a shared one.
        guard networkOwner || network.shared else { throw NeutronFault.policy("create_port") }
        for key in ["binding:host_id", "binding:profile"] where attributes.has(key) && !caller.isAdmin {
            throw NeutronFault.policy("create_port:\(key)")
        }
        if attributes.has("mac_address"), !networkOwner { throw NeutronFault.policy("create_port:mac_address") }
        try checkQuota(transaction.state, .port, project: project)
        let deviceOwner = try attributes.string("device_owner") ?? ""
        if DeviceOwner.isNetworkOwned(deviceOwner), !networkOwner {
            throw NeutronFault.policy("create_port:device_owner")
        }
        var mac = newMAC(on: networkID, transaction.state)
        if let text = try attributes.string("mac_address") {
            guard let given = MACAddress(text) else {
                throw NeutronFault.badRequest(
                    "Invalid input for mac_address. Reason: '\(text)' is not a valid MAC address.")
            }
            guard !transaction.state.ports(of: networkID).contains(where: { $0.macAddress == given.description }) else {
                throw NeutronFault.conflict(
                    "MacAddressInUse",
                    "Unable to complete operation for network \(networkID). The mac address \(given) is in use.")
            }
            mac = given
        }
        let requested = try fixedIPRequests(&attributes)
        if let requested, !networkOwner, requested.contains(where: { $0.address != nil }) {
            throw NeutronFault.policy("create_port:fixed_ips:ip_address")
        }
        let fixedIPs = try allocate(
            on: networkID, requested: requested, mac: mac, deviceOwner: deviceOwner, state: transaction.state)
        let portSecurity = try attributes.bool("port_security_enabled") ?? network.portSecurityEnabled
        let pairs = try addressPairs(&attributes, mac: mac.description) ?? []
        var groupIDs = try attributes.strings("security_groups")
        if groupIDs == nil, portSecurity, !DeviceOwner.isNetworkOwned(deviceOwner) {
            groupIDs = [try defaultGroup(project, &transaction).common.id]
        }
        let groups = try groups(groupIDs ?? [], transaction.state, caller)
        if !portSecurity, !groups.isEmpty {
            throw NeutronFault.badRequest(
                "Port security must be enabled and port must have an IP address in order to use security groups.")
        }
        if !portSecurity, !pairs.isEmpty {
            throw NeutronFault.conflict(
                "AddressPairAndPortSecurityRequired",
                "Port Security must be enabled in order to have allowed address pairs on a port.")
        }
        let profile = attributes.value("binding:profile").map { $0.isNull ? "{}" : $0.text } ?? "{}"
        let dhcpOptions = try Self.dhcpOptions(attributes.value("extra_dhcp_opts"), merging: []).text
        let port = Port(
            common: Common(
                id: Self.newID(), projectID: project, name: try attributes.string("name") ?? "",
                description: try attributes.string("description") ?? "", now: clock()),
            networkID: networkID, macAddress: mac.description,
            adminStateUp: try attributes.bool("admin_state_up") ?? true,
            status: "DOWN", deviceID: try attributes.string("device_id") ?? "", deviceOwner: deviceOwner,
            fixedIPs: fixedIPs, allowedAddressPairs: pairs, securityGroups: groups, portSecurityEnabled: portSecurity,
            bindingHostID: try attributes.string("binding:host_id") ?? "",
            bindingVNICType: try attributes.string("binding:vnic_type") ?? "normal", bindingProfile: profile,
            extraDHCPOpts: dhcpOptions, dnsName: try attributes.string("dns_name") ?? "")
        _ = attributes.value("qos_policy_id")
        _ = try attributes.bool("propagate_uplink_status")
        try attributes.finish(method: "POST")
        var stored = port
        stored.common.revision = 1
        transaction.state.ports[port.common.id] = stored
        transaction.touch(.port, port.common.id)
        return stored
    }

    func updatePort(
        _ id: String, _ attributes: inout Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction
    )
        throws -> JSON
    {
        try visible(transaction.state, .port, id, caller)
        guard var port = transaction.state.ports[id] else { throw NeutronFault.notFound(.port, id) }
        try modifiable(transaction.state, .port, id, owner: port.common.projectID, caller, "update")
        let networkOwner = caller.isAdmin || caller.owns(transaction.state.networks[port.networkID]?.common.projectID)
        for key in ["binding:host_id", "binding:profile"] where attributes.has(key) && !caller.isAdmin {
            throw NeutronFault.policy("update_port:\(key)")
        }
        if let name = try attributes.string("name") { port.common.name = name }
        if let description = try attributes.string("description") { port.common.description = description }
        if let flag = try attributes.bool("admin_state_up") { port.adminStateUp = flag }
        if attributes.has("device_id") { port.deviceID = try attributes.string("device_id") ?? "" }
        if attributes.has("device_owner") {
            let owner = try attributes.string("device_owner") ?? ""
            if DeviceOwner.isNetworkOwned(owner), !networkOwner {
                throw NeutronFault.policy("update_port:device_owner")
            }
            port.deviceOwner = owner
        }
        if attributes.has("binding:host_id") { port.bindingHostID = try attributes.string("binding:host_id") ?? "" }
        if let profile = attributes.value("binding:profile") {
            port.bindingProfile = profile.isNull ? "{}" : profile.text
        }
        if let type = try attributes.string("binding:vnic_type") { port.bindingVNICType = type }
        if let dns = try attributes.string("dns_name") { port.dnsName = dns }
        if let options = attributes.value("extra_dhcp_opts") {
            let current = (try? JSON.parse(Array(port.extraDHCPOpts.utf8)))?.array ?? []
            port.extraDHCPOpts = try Self.dhcpOptions(options, merging: current).text
        }
        if let text = try attributes.string("mac_address") {
            guard caller.isAdmin else { throw NeutronFault.policy("update_port:mac_address") }
            guard let mac = MACAddress(text) else {
                throw NeutronFault.badRequest(
                    "Invalid input for mac_address. Reason: '\(text)' is not a valid MAC address.")
            }
            guard port.bindingHostID.isEmpty else {
                throw NeutronFault.conflict(
                    "PortBound",
                    "Unable to complete operation on port \(id), port is already bound, port type: bridge, old_mac \(port.macAddress), new_mac \(mac)."
                )
            }
            if transaction.state.ports(of: port.networkID).contains(where: {
                $0.macAddress == mac.description && $0.common.id != id
            }) {
                throw NeutronFault.conflict(
                    "MacAddressInUse",
                    "Unable to complete operation for network \(port.networkID). The mac address \(mac) is in use.")
            }
            port.macAddress = mac.description
        }
        if let requested = try fixedIPRequests(&attributes) {
            if !networkOwner, requested.contains(where: { $0.address != nil }) {
                throw NeutronFault.policy("update_port:fixed_ips:ip_address")
            }
            // An entry naming an address the port holds, or only a subnet it has an address
            // on, keeps that address (Neutron's `_get_changed_ips_for_port`); the rest are
            // allocated.
            var ips: [FixedIP] = []
            var fresh: [FixedIPRequest] = []
            for entry in requested {
                let held = port.fixedIPs.first { ip in
                    !ips.contains(ip)
                        && (entry.address.map { $0 == ip.ipAddress } ?? true)
                        && (entry.subnetID.map { $0 == ip.subnetID } ?? true)
                        && (entry.address != nil || entry.subnetID != nil)
                }
                if let held { ips.append(held) } else { fresh.append(entry) }
            }
            if !fresh.isEmpty {
                var state = transaction.state
                state.ports[id]?.fixedIPs = ips
                ips += try allocate(
                    on: port.networkID, requested: fresh, mac: MACAddress(port.macAddress) ?? .neutronBase,
                    deviceOwner: port.deviceOwner, state: state, port: id)
            }
            port.fixedIPs = ips
        }
        if let flag = try attributes.bool("port_security_enabled") { port.portSecurityEnabled = flag }
        if let pairs = try addressPairs(&attributes, mac: port.macAddress) { port.allowedAddressPairs = pairs }
        if let ids = try attributes.strings("security_groups") {
            port.securityGroups = try groups(ids, transaction.state, caller)
        }
        if !port.portSecurityEnabled, !port.securityGroups.isEmpty {
            throw NeutronFault.conflict(
                "PortSecurityPortHasSecurityGroup",
                "Port has security group associated. Cannot disable port security or ip address until security group is removed"
            )
        }
        if !port.portSecurityEnabled, !port.allowedAddressPairs.isEmpty {
            throw NeutronFault.conflict(
                "AddressPairAndPortSecurityRequired",
                "Port Security must be enabled in order to have allowed address pairs on a port.")
        }
        _ = attributes.value("qos_policy_id")
        _ = try attributes.bool("propagate_uplink_status")
        try attributes.finish(method: "PUT", readOnly: ["network_id", "tenant_id", "project_id"])
        port.common.updatedAt = clock()
        port.common.revision += 1
        transaction.state.ports[id] = port
        transaction.touch(.port, id)
        // A floating IP follows its fixed IP; one whose address the port gave up is let go.
        for var floating in transaction.state.floatingIPs.values where floating.portID == id {
            if let fixed = floating.fixedIPAddress, !port.fixedIPs.contains(where: { $0.ipAddress == fixed }) {
                floating.portID = nil
                floating.fixedIPAddress = nil
                floating.routerID = nil
                floating.common.revision += 1
                transaction.state.floatingIPs[floating.common.id] = floating
                transaction.touch(.floatingip, floating.common.id)
            }
        }
        return transaction.state.render(port)
    }

    /// A port the service makes for itself (DHCP, router interface or gateway, floating
    /// IP), owned by `project` ('' for the gateway and floating IP ports, as Neutron).
    func servicePort(
        network: String, project: String, owner: String, device: String, fixedIPs: [FixedIPRequest]?,
        prefer: Bool = false, onlyIPv4: Bool = false, _ transaction: inout NetworkStore.Transaction
    ) throws -> Port {
        let mac = newMAC(on: network, transaction.state)
        let ips = try allocate(
            on: network, requested: fixedIPs, mac: mac, deviceOwner: owner, state: transaction.state, prefer: prefer,
            onlyIPv4: onlyIPv4)
        var port = Port(
            common: Common(id: Self.newID(), projectID: project, now: clock()), networkID: network,
            macAddress: mac.description, adminStateUp: true, status: "DOWN", deviceID: device, deviceOwner: owner,
            fixedIPs: ips, allowedAddressPairs: [], securityGroups: [], portSecurityEnabled: false, bindingHostID: "",
            bindingVNICType: "normal", bindingProfile: "{}", extraDHCPOpts: "[]", dnsName: "")
        port.common.revision = 1
        transaction.state.ports[port.common.id] = port
        transaction.touch(.port, port.common.id)
        return port
    }
}

extension NetworkAPI {
    /// `extra_dhcp_opts` checked as Neutron checks them (`opt_name` a non-empty string,
    /// `opt_value` a string or null, `ip_version` 4 or 6) and merged into `current` as
    /// Neutron merges them: an option of the same name and version is replaced, one with
    /// a null value removed, a new one added. Null: none.
    static func dhcpOptions(_ given: JSON?, merging current: [JSON]) throws -> JSON {
        try dhcpOptions(given, current)
    }

    /// The IPv4 option names dnsmasq knows (`dnsmasq --help dhcp`).
    static let dhcpOptionNames: Set<String> = [
        "netmask", "time-offset", "router", "dns-server", "log-server", "lpr-server", "boot-file-size", "domain-name",
        "swap-server", "root-path", "extension-path", "ip-forward-enable", "non-local-source-routing", "policy-filter",
        "max-datagram-reassembly", "default-ttl", "mtu", "all-subnets-local", "router-discovery", "router-solicitation",
        "static-route", "trailer-encapsulation", "arp-timeout", "ethernet-encap", "tcp-ttl", "tcp-keepalive",
        "nis-domain", "nis-server", "ntp-server", "netbios-ns", "netbios-dd", "netbios-nodetype", "netbios-scope",
        "x-windows-fs", "x-windows-dm", "T1", "T2", "vendor-class", "nis+-domain", "nis+-server", "tftp-server",
        "bootfile-name", "mobile-ip-home", "smtp-server", "pop3-server", "nntp-server", "irc-server", "user-class",
        "rapid-commit", "client-arch", "client-interface-id", "client-machine-id", "posix-timezone", "tzdb-timezone",
        "ipv6-only", "domain-search", "sip-server", "classless-static-route", "vendor-id-encap", "tftp-server-address",
        "server-ip-address",
    ]

    private static func dhcpOptions(_ given: JSON?, _ current: [JSON]) throws -> JSON {
        guard let given else { return .array(current) }
        if given.isNull { return [] }
        guard let entries = given.array else {
            throw Attributes.invalid("extra_dhcp_opts", "'\(given.text)' is not a list")
        }
        var result = current
        for entry in entries {
            guard let name = entry["opt_name"]?.string, !name.isEmpty,
                name.count <= 64, !name.contains(where: { $0 == "," || $0.isNewline })
            else {
                throw Attributes.invalid("extra_dhcp_opts", "'\(entry.text)' has no valid opt_name")
            }
            let value = entry["opt_value"]
            guard let value,
                value.isNull || (value.string.map { $0.count <= 255 && !$0.contains(where: \.isNewline) } ?? false)
            else {
                throw Attributes.invalid("extra_dhcp_opts", "'\(entry.text)' has no valid opt_value")
            }
            let version = entry["ip_version"].flatMap { $0.int ?? $0.string.flatMap { Int64($0) } } ?? 4
            guard version == 4 || version == 6 else {
                throw Attributes.invalid("extra_dhcp_opts", "ip_version \(version) is not 4 or 6")
            }
            // dnsmasq refuses a file with an option it does not know: the network's DHCP
            // would stop for one port's typo.
            guard version == 6 || Self.dhcpOptionNames.contains(name) || UInt8(name).map({ $0 > 0 && $0 < 255 }) == true
            else {
                throw Attributes.invalid(
                    "extra_dhcp_opts", "'\(name)' is no DHCP option dnsmasq knows (a name or 1–254)")
            }
            result.removeAll { ($0["opt_name"]?.string, $0["ip_version"]?.int ?? 4) == (name, version) }
            if !value.isNull {
                result.append(["opt_name": .string(name), "opt_value": value, "ip_version": .int(version)])
            }
        }
        return .array(result)
    }
}
