import Hummingbird
import NimbusServiceKit

/// `/v2.0/networks`: networks and their segments (flat on a physical network, or VXLAN
/// with a VNI from the configured ranges).
extension NetworkAPI {
    func networkRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/networks") { request, _ in
            let caller = try await caller(request)
            let state = store.snapshot
            return try list(request, .network, Array(state.networks.keys), state, caller)
        }
        router.get("/v2.0/networks/:id") { request, context in
            try await show(request, .network, try context.parameters.require("id"))
        }
        router.post("/v2.0/networks") { request, context in
            let caller = try await caller(request)
            let (items, bulk) = try creations(try await body(request, context: context), .network)
            // Neutron makes the project's default group when it first makes a network.
            try ensureDefaultGroup(caller.projectID)
            let created = try store.write { transaction in
                try items.map { attributes in
                    let network = try createNetwork(attributes, caller, &transaction)
                    return view(transaction.state.render(network), caller)
                }
            }
            return Self.created(.network, created, bulk: bulk)
        }
        router.put("/v2.0/networks/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            var attributes = try attributes(try await body(request, context: context), .network)
            let updated = try store.write { transaction in
                try updateNetwork(id, &attributes, caller, &transaction)
            }
            return Response.json(["network": view(updated, caller)])
        }
        router.delete("/v2.0/networks/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in try deleteNetwork(id, caller, &transaction) }
            return Response.empty()
        }
    }

    /// Admin-only attributes of a network.
    static let networkAdminAttributes = [
        "provider:network_type", "provider:physical_network", "provider:segmentation_id", "router:external", "shared",
        "is_default",
    ]

    func createNetwork(_ given: Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction) throws
        -> Network
    {
        var attributes = given
        for key in Self.networkAdminAttributes where attributes.has(key) && !caller.isAdmin {
            // Neutron lets anyone send shared=false and router:external=false.
            if key == "shared" || key == "router:external", attributes.peekBool(key) == false { continue }
            throw NeutronFault.policy("create_network:\(key)")
        }
        let project = try owner(&attributes, caller)
        try checkQuota(transaction.state, .network, project: project)
        let name = try attributes.string("name") ?? ""
        let description = try attributes.string("description") ?? ""
        let adminStateUp = try attributes.bool("admin_state_up") ?? true
        let shared = try attributes.bool("shared") ?? false
        let external = try attributes.bool("router:external") ?? false
        let isDefault = try attributes.bool("is_default") ?? false
        let portSecurity = try attributes.bool("port_security_enabled") ?? true
        let type = try attributes.string("provider:network_type")
        let physical = try attributes.string("provider:physical_network")
        let segment = try attributes.int("provider:segmentation_id")
        let requestedMTU = try attributes.int("mtu")
        _ = try attributes.strings("availability_zone_hints")
        _ = try attributes.string("dns_domain")
        _ = attributes.value("qos_policy_id")
        _ = try attributes.bool("vlan_transparent")
        try attributes.finish(method: "POST")

        let (networkType, physicalNetwork, segmentationID) = try allocateSegment(
            type: type, physical: physical, segment: segment, state: transaction.state)
        let maximum = networkType == "vxlan" ? settings.physicalMTU - 50 : settings.physicalMTU
        if let requestedMTU {
            guard requestedMTU >= 68 else {
                throw NeutronFault.invalidInput("'\(requestedMTU)' is too small - must be at least '68'")
            }
            guard requestedMTU <= maximum else {
                throw NeutronFault.invalidInput("Requested MTU is too big, maximum is \(maximum)")
            }
        }
        var network = Network(
            common: Common(id: Self.newID(), projectID: project, name: name, description: description, now: clock()),
            adminStateUp: adminStateUp, shared: shared, external: external, mtu: requestedMTU ?? maximum,
            portSecurityEnabled: portSecurity, networkType: networkType, physicalNetwork: physicalNetwork,
            segmentationID: segmentationID, isDefault: isDefault)
        network.common.revision = 1
        transaction.state.networks[network.common.id] = network
        transaction.touch(.network, network.common.id)
        return network
    }

    /// The network's segment: what an admin asked for, checked, or the next free VNI.
    func allocateSegment(type: String?, physical: String?, segment: Int?, state: NetworkState) throws -> (
        String, String?, Int?
    ) {
        let type = type ?? (physical != nil ? "flat" : "vxlan")
        switch type {
        case "flat":
            guard let physical, !physical.isEmpty else {
                throw NeutronFault.invalidInput("physical_network required for flat provider network")
            }
            guard segment == nil else {
                throw NeutronFault.invalidInput("segmentation_id prohibited for flat provider network")
            }
            guard settings.flatNetworks.contains("*") || settings.flatNetworks.contains(physical) else {
                throw NeutronFault.invalidInput("physical_network '\(physical)' unknown for flat provider network")
            }
            guard !state.networks.values.contains(where: { $0.networkType == "flat" && $0.physicalNetwork == physical })
            else {
                throw NeutronFault.conflict(
                    "FlatNetworkInUse", "Unable to create the flat network. Physical network \(physical) is in use.")
            }
            return ("flat", physical, nil)
        case "vxlan":
            guard physical == nil else {
                throw NeutronFault.invalidInput("provider:physical_network specified for vxlan network")
            }
            let used = Set(state.networks.values.filter { $0.networkType == "vxlan" }.compactMap(\.segmentationID))
            if let segment {
                guard (1...16_777_215).contains(segment) else {
                    throw NeutronFault.invalidInput("\(segment) is not a valid VXLAN VNI, use 1 to 16777215")
                }
                guard !used.contains(segment) else {
                    throw NeutronFault.conflict(
                        "TunnelIdInUse", "Unable to create the network. The tunnel ID \(segment) is in use.")
                }
                return ("vxlan", nil, segment)
            }
            for range in settings.vniRanges {
                if let free = range.first(where: { !used.contains($0) }) { return ("vxlan", nil, free) }
            }
            throw NeutronFault(
                .serviceUnavailable, "NoNetworkAvailable",
                "Unable to create the network. No project network is available for allocation.")
        default:
            throw NeutronFault.invalidInput("network_type value '\(type)' not supported")
        }
    }

    func updateNetwork(
        _ id: String, _ attributes: inout Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction
    ) throws -> JSON {
        try visible(transaction.state, .network, id, caller)
        guard var network = transaction.state.networks[id] else { throw NeutronFault.notFound(.network, id) }
        try modifiable(transaction.state, .network, id, owner: network.common.projectID, caller, "update")
        for key in ["shared", "router:external", "is_default"] where attributes.has(key) && !caller.isAdmin {
            throw NeutronFault.policy("update_network:\(key)")
        }
        for key in ["provider:network_type", "provider:physical_network", "provider:segmentation_id"]
        where attributes.has(key) {
            throw NeutronFault.invalidInput(
                "Plugin does not support updating the following provider network attributes: ['\(key)']")
        }
        if let name = try attributes.string("name") { network.common.name = name }
        if let description = try attributes.string("description") { network.common.description = description }
        if let flag = try attributes.bool("admin_state_up") { network.adminStateUp = flag }
        if let flag = try attributes.bool("port_security_enabled") { network.portSecurityEnabled = flag }
        if let flag = try attributes.bool("is_default") { network.isDefault = flag }
        if let flag = try attributes.bool("shared") {
            if !flag, network.shared {
                let others = transaction.state.ports(of: id).contains {
                    $0.common.projectID != network.common.projectID && !DeviceOwner.isNetworkOwned($0.deviceOwner)
                }
                if others {
                    throw NeutronFault.conflict(
                        "InvalidSharedSetting",
                        "Unable to reconfigure sharing settings for network \(id). Multiple tenants are using it.")
                }
            }
            network.shared = flag
        }
        if let flag = try attributes.bool("router:external") {
            if !flag, network.external,
                transaction.state.floatingIPs.values.contains(where: { $0.floatingNetworkID == id })
                    || transaction.state.routers.values.contains(where: { $0.gateway?.networkID == id })
            {
                throw NeutronFault.conflict(
                    "ExternalNetworkInUse",
                    "External network \(id) cannot be updated to be made non-external, since it has existing gateway ports."
                )
            }
            network.external = flag
        }
        if let mtu = try attributes.int("mtu") {
            let maximum = network.networkType == "vxlan" ? settings.physicalMTU - 50 : settings.physicalMTU
            guard (68...maximum).contains(mtu) else {
                throw NeutronFault.invalidInput("Requested MTU is too big, maximum is \(maximum)")
            }
            network.mtu = mtu
        }
        _ = try attributes.string("dns_domain")
        _ = attributes.value("qos_policy_id")
        try attributes.finish(method: "PUT", readOnly: ["tenant_id", "project_id"])
        network.common.updatedAt = clock()
        network.common.revision += 1
        transaction.state.networks[id] = network
        transaction.touch(.network, id)
        return transaction.state.render(network)
    }

    func deleteNetwork(_ id: String, _ caller: Caller, _ transaction: inout NetworkStore.Transaction) throws {
        try visible(transaction.state, .network, id, caller)
        guard let network = transaction.state.networks[id] else { throw NeutronFault.notFound(.network, id) }
        try modifiable(transaction.state, .network, id, owner: network.common.projectID, caller, "delete")
        // An external network's floating IPs that no port uses go with it (Neutron's
        // `_process_l3_delete`); an associated one keeps its port and holds the network.
        for floating in transaction.state.floatingIPs.values
        where floating.floatingNetworkID == id && floating.portID == nil {
            transaction.state.ports[floating.floatingPortID] = nil
            transaction.touch(.port, floating.floatingPortID)
            transaction.state.floatingIPs[floating.common.id] = nil
            transaction.touch(.floatingip, floating.common.id)
        }
        let ports = transaction.state.ports(of: id)
        let busy = ports.filter { $0.deviceOwner != DeviceOwner.dhcp }.map(\.common.id).sorted()
        guard busy.isEmpty else {
            throw NeutronFault.conflict(
                "NetworkInUse",
                "Unable to complete operation on network \(id). There are one or more ports still in use on the network, id for these ports is: \(busy.joined(separator: ","))."
            )
        }
        for port in ports {
            transaction.state.ports[port.common.id] = nil
            transaction.touch(.port, port.common.id)
        }
        for subnet in transaction.state.subnets(of: id) {
            transaction.state.subnets[subnet.common.id] = nil
            transaction.touch(.subnet, subnet.common.id)
        }
        transaction.state.networks[id] = nil
        transaction.touch(.network, id)
    }
}
