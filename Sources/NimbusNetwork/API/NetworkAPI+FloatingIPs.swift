import Hummingbird
import NimbusServiceKit

/// `/v2.0/floatingips`: an address from an external network's pool (held by a port of
/// its own), associated with a port's fixed IPv4 address through the router that joins
/// the two networks.
extension NetworkAPI {
    func floatingIPRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/floatingips") { request, _ in
            let caller = try await caller(request)
            let state = store.snapshot
            return try list(request, .floatingip, Array(state.floatingIPs.keys), state, caller)
        }
        router.get("/v2.0/floatingips/:id") { request, context in
            try await show(request, .floatingip, try context.parameters.require("id"))
        }
        router.post("/v2.0/floatingips") { request, context in
            let caller = try await caller(request)
            var attributes = try attributes(try await body(request, context: context), .floatingip)
            let created = try store.write { transaction in
                transaction.state.render(try createFloatingIP(&attributes, caller, &transaction))
            }
            return Response.json(["floatingip": created], status: .created)
        }
        router.put("/v2.0/floatingips/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            var attributes = try attributes(try await body(request, context: context), .floatingip)
            let updated = try store.write { transaction -> JSON in
                try visible(transaction.state, .floatingip, id, caller)
                guard var floating = transaction.state.floatingIPs[id] else {
                    throw NeutronFault.notFound(.floatingip, id)
                }
                try modifiable(transaction.state, .floatingip, id, owner: floating.common.projectID, caller, "update")
                if let description = try attributes.string("description") { floating.common.description = description }
                if attributes.has("port_id") {
                    let port = try attributes.string("port_id")
                    let fixed = try attributes.string("fixed_ip_address")
                    try associate(&floating, port: port, fixedIP: fixed, caller, transaction.state)
                } else if attributes.has("fixed_ip_address") {
                    let fixed = try attributes.string("fixed_ip_address")
                    try associate(&floating, port: floating.portID, fixedIP: fixed, caller, transaction.state)
                }
                _ = attributes.value("qos_policy_id")
                try attributes.finish(
                    method: "PUT",
                    readOnly: ["floating_network_id", "floating_ip_address", "tenant_id", "project_id", "subnet_id"])
                floating.common.updatedAt = clock()
                floating.common.revision += 1
                transaction.state.floatingIPs[id] = floating
                transaction.touch(.floatingip, id)
                return transaction.state.render(floating)
            }
            return Response.json(["floatingip": updated])
        }
        router.delete("/v2.0/floatingips/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in
                try visible(transaction.state, .floatingip, id, caller)
                guard let floating = transaction.state.floatingIPs[id] else {
                    throw NeutronFault.notFound(.floatingip, id)
                }
                try modifiable(transaction.state, .floatingip, id, owner: floating.common.projectID, caller, "delete")
                transaction.state.ports[floating.floatingPortID] = nil
                transaction.touch(.port, floating.floatingPortID)
                transaction.state.floatingIPs[id] = nil
                transaction.touch(.floatingip, id)
            }
            return Response.empty()
        }
    }

    func createFloatingIP(
        _ attributes: inout Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction
    )
        throws -> FloatingIP
    {
        try attributes.require("floating_network_id")
        let networkID = try attributes.string("floating_network_id") ?? ""
        guard let network = transaction.state.networks[networkID],
            canSee(transaction.state, .network, networkID, caller)
        else { throw NeutronFault.notFound(.network, networkID) }
        guard network.external else {
            throw NeutronFault.badRequest(
                "Bad floatingip request: Network \(networkID) is not a valid external network.")
        }
        if attributes.has("floating_ip_address"), !caller.isAdmin {
            throw NeutronFault.policy("create_floatingip:floating_ip_address")
        }
        let project = try owner(&attributes, caller)
        try checkQuota(transaction.state, .floatingip, project: project)
        let address = try attributes.string("floating_ip_address")
        let subnet = try attributes.string("subnet_id")
        let portID = try attributes.string("port_id")
        let fixed = try attributes.string("fixed_ip_address")
        if fixed != nil, portID == nil {
            throw NeutronFault.badRequest(
                "Bad floatingip request: fixed_ip_address cannot be specified without a port_id.")
        }
        let description = try attributes.string("description") ?? ""
        _ = attributes.value("qos_policy_id")
        _ = try attributes.string("dns_name")
        _ = try attributes.string("dns_domain")
        try attributes.finish(method: "POST")
        guard transaction.state.subnets(of: networkID).contains(where: { $0.ipVersion == 4 }) else {
            throw NeutronFault.badRequest(
                "Bad floatingip request: Network \(networkID) does not contain any IPv4 subnet.")
        }
        let id = Self.newID()
        var requested: [FixedIPRequest]?
        if address != nil || subnet != nil { requested = [FixedIPRequest(subnetID: subnet, address: address)] }
        var port = try servicePort(
            network: networkID, project: "", owner: DeviceOwner.floatingIP, device: id, fixedIPs: requested,
            onlyIPv4: true, &transaction)
        guard let ip = port.fixedIPs.first(where: { IPAddress($0.ipAddress)?.version == .v4 }) else {
            throw Self.fault(.ipAddressGenerationFailureOnNetwork(networkID: networkID))
        }
        port.status = "N/A"
        transaction.state.ports[port.common.id] = port
        var floating = FloatingIP(
            common: Common(id: id, projectID: project, description: description, now: clock()),
            floatingNetworkID: networkID, floatingIPAddress: ip.ipAddress, floatingPortID: port.common.id, portID: nil,
            fixedIPAddress: nil, routerID: nil, dnsName: "", dnsDomain: "")
        floating.common.revision = 1
        if let portID { try associate(&floating, port: portID, fixedIP: fixed, caller, transaction.state) }
        transaction.state.floatingIPs[id] = floating
        transaction.touch(.floatingip, id)
        return floating
    }

    /// Binds the floating IP to a port's fixed IPv4 address (nil port: unbinds), through
    /// the router with a gateway on the floating network and an interface on that
    /// address's subnet.
    func associate(
        _ floating: inout FloatingIP, port portID: String?, fixedIP: String?, _ caller: Caller, _ state: NetworkState
    ) throws {
        guard let portID else {
            floating.portID = nil
            floating.fixedIPAddress = nil
            floating.routerID = nil
            return
        }
        guard let port = state.ports[portID], canSee(state, .port, portID, caller) else {
            throw NeutronFault.notFound(.port, portID)
        }
        if !caller.isAdmin, port.common.projectID != floating.common.projectID {
            throw NeutronFault.badRequest(
                "Bad floatingip request: Cannot process floating IP association with Port \(portID), since that port is owned by a different project."
            )
        }
        if DeviceOwner.isNetworkOwned(port.deviceOwner) {
            throw NeutronFault.badRequest(
                "Bad floatingip request: Port \(portID) is unable to be assigned a floating IP.")
        }
        let v4 = port.fixedIPs.filter { IPAddress($0.ipAddress)?.version == .v4 }
        let chosen: FixedIP
        if let fixedIP {
            guard let match = port.fixedIPs.first(where: { $0.ipAddress == fixedIP }) else {
                throw NeutronFault.badRequest(
                    "Bad floatingip request: Port \(portID) does not have fixed ip \(fixedIP).")
            }
            guard IPAddress(fixedIP)?.version == .v4 else {
                throw NeutronFault.badRequest(
                    "Bad floatingip request: Cannot add floating IP to port \(portID) using fixed IP \(fixedIP), since that is not an IPv4 address."
                )
            }
            chosen = match
        } else {
            guard !v4.isEmpty else {
                throw NeutronFault.badRequest(
                    "Bad floatingip request: Cannot add floating IP to port \(portID) that has no fixed IPv4 addresses."
                )
            }
            guard v4.count == 1, let only = v4.first else {
                throw NeutronFault.badRequest(
                    "Bad floatingip request: Port \(portID) has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP."
                )
            }
            chosen = only
        }
        // The router: a gateway on the floating network and an interface on the subnet,
        // the one holding the subnet's gateway address first.
        let gatewayIP = state.subnets[chosen.subnetID]?.gatewayIP
        let candidates = state.routers.values.filter { router in
            router.gateway?.networkID == floating.floatingNetworkID
                && state.interfaces(of: router.common.id).contains {
                    $0.fixedIPs.contains { $0.subnetID == chosen.subnetID }
                }
        }.sorted { a, b in
            let aHolds = state.interfaces(of: a.common.id).contains {
                $0.fixedIPs.contains { $0.ipAddress == gatewayIP }
            }
            let bHolds = state.interfaces(of: b.common.id).contains {
                $0.fixedIPs.contains { $0.ipAddress == gatewayIP }
            }
            return aHolds && !bHolds || (aHolds == bHolds && a.common.id < b.common.id)
        }
        guard let router = candidates.first else {
            throw NeutronFault(
                .notFound, "ExternalGatewayForFloatingIPNotFound",
                "External network \(floating.floatingNetworkID) is not reachable from subnet \(chosen.subnetID).  Therefore, cannot associate Port \(portID) with a Floating IP."
            )
        }
        if let other = state.floatingIPs.values.first(where: {
            $0.common.id != floating.common.id && $0.portID == portID && $0.fixedIPAddress == chosen.ipAddress
                && $0.floatingNetworkID == floating.floatingNetworkID
        }) {
            throw NeutronFault.conflict(
                "FloatingIPPortAlreadyAssociated",
                "Cannot associate floating IP \(floating.floatingIPAddress) (\(floating.common.id)) with port \(portID) using fixed IP \(chosen.ipAddress), as that fixed IP already has a floating IP on external network \(other.floatingNetworkID)."
            )
        }
        floating.portID = portID
        floating.fixedIPAddress = chosen.ipAddress
        floating.routerID = router.common.id
    }
}
