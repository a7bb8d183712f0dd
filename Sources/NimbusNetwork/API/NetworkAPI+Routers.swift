import Hummingbird
import NimbusServiceKit

/// `/v2.0/routers`: routers with their external gateway (and its port on the external
/// network) and interfaces (ports holding each internal subnet's gateway address).
extension NetworkAPI {
    func routerRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/routers") { request, _ in
            let caller = try await caller(request)
            let state = store.snapshot
            return try list(request, .router, Array(state.routers.keys), state, caller)
        }
        router.get("/v2.0/routers/:id") { request, context in
            try await show(request, .router, try context.parameters.require("id"))
        }
        router.post("/v2.0/routers") { request, context in
            let caller = try await caller(request)
            let (items, bulk) = try creations(try await body(request, context: context), .router)
            let created = try store.write { transaction in
                try items.map { given in
                    var attributes = given
                    let project = try owner(&attributes, caller)
                    try checkQuota(transaction.state, .router, project: project)
                    var router = Router(
                        common: Common(
                            id: Self.newID(), projectID: project, name: try attributes.string("name") ?? "",
                            description: try attributes.string("description") ?? "", now: clock()),
                        adminStateUp: try attributes.bool("admin_state_up") ?? true, gateway: nil, routes: [])
                    for key in ["distributed", "ha"] {
                        if try attributes.bool(key) == true {
                            throw NeutronFault.badRequest(
                                "Invalid input for operation: \(key) routers are not supported.")
                        }
                    }
                    _ = try attributes.strings("availability_zone_hints")
                    _ = attributes.value("flavor_id")
                    _ = try attributes.bool("enable_ndp_proxy")
                    let info = attributes.value("external_gateway_info")
                    try attributes.finish(method: "POST")
                    router.common.revision = 1
                    transaction.state.routers[router.common.id] = router
                    // `{}` (what Tempest sends) and null both mean no gateway.
                    if let info, !info.isNull, info.members?.isEmpty != true {
                        try setGateway(router.common.id, info, caller, &transaction)
                    }
                    transaction.touch(.router, router.common.id)
                    return transaction.state.routers[router.common.id].map { transaction.state.render($0) } ?? .null
                }
            }
            return Self.created(.router, created, bulk: bulk)
        }
        router.put("/v2.0/routers/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            var attributes = try attributes(try await body(request, context: context), .router)
            let updated = try store.write { transaction -> JSON in
                try visible(transaction.state, .router, id, caller)
                guard var router = transaction.state.routers[id] else { throw NeutronFault.notFound(.router, id) }
                try modifiable(transaction.state, .router, id, owner: router.common.projectID, caller, "update")
                if let name = try attributes.string("name") { router.common.name = name }
                if let description = try attributes.string("description") { router.common.description = description }
                if let flag = try attributes.bool("admin_state_up") { router.adminStateUp = flag }
                if attributes.has("routes") {
                    // `routes: null` clears them, as `[]` does.
                    router.routes = try self.routes(
                        try attributes.objects("routes") ?? [], router: id, transaction.state)
                }
                for key in ["distributed", "ha"] where try attributes.bool(key) == true {
                    throw NeutronFault.badRequest("Invalid input for operation: \(key) routers are not supported.")
                }
                _ = attributes.value("enable_ndp_proxy")
                let info = attributes.value("external_gateway_info")
                try attributes.finish(method: "PUT", readOnly: ["tenant_id", "project_id"])
                router.common.updatedAt = clock()
                router.common.revision += 1
                transaction.state.routers[id] = router
                if let info {
                    if info.isNull || info.members?.isEmpty == true {
                        try clearGateway(id, &transaction)
                    } else {
                        try setGateway(id, info, caller, &transaction)
                    }
                }
                transaction.touch(.router, id)
                return transaction.state.routers[id].map { transaction.state.render($0) } ?? .null
            }
            return Response.json(["router": updated])
        }
        router.delete("/v2.0/routers/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in
                try visible(transaction.state, .router, id, caller)
                guard let router = transaction.state.routers[id] else { throw NeutronFault.notFound(.router, id) }
                try modifiable(transaction.state, .router, id, owner: router.common.projectID, caller, "delete")
                let attached = transaction.state.interfaces(of: id).map(\.common.id)
                guard attached.isEmpty else {
                    throw NeutronFault.conflict(
                        "RouterInUse", "Router \(id) has ports still attached: \(attached.joined(separator: ", "))")
                }
                try clearGateway(id, &transaction)
                transaction.state.routers[id] = nil
                transaction.touch(.router, id)
            }
            return Response.empty()
        }
        router.put("/v2.0/routers/:id/add_router_interface") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let body = try await body(request, context: context)
            let answer = try store.write { transaction in try addInterface(id, body, caller, &transaction) }
            return Response.json(answer)
        }
        router.put("/v2.0/routers/:id/remove_router_interface") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let body = try await body(request, context: context)
            let answer = try store.write { transaction in try removeInterface(id, body, caller, &transaction) }
            return Response.json(answer)
        }
        // extraroute-atomic: `openstack router add route` / `remove route`.
        router.put("/v2.0/routers/:id/add_extraroutes") { request, context in
            try await changeRoutes(request, context, adding: true)
        }
        router.put("/v2.0/routers/:id/remove_extraroutes") { request, context in
            try await changeRoutes(request, context, adding: false)
        }
    }

    /// Adds routes to a router's extra routes (those it has already stay once) or removes
    /// them (those it lacks are ignored); the answer is the whole router.
    func changeRoutes(_ request: Request, _ context: ServiceContext, adding: Bool) async throws -> Response {
        let caller = try await caller(request)
        let id = try context.parameters.require("id")
        let body = try await body(request, context: context)
        guard let given = body["router"]?["routes"]?.array else {
            throw NeutronFault.badRequest("Bad request: a router with its routes is required.")
        }
        let updated = try store.write { transaction -> JSON in
            try visible(transaction.state, .router, id, caller)
            guard var router = transaction.state.routers[id] else { throw NeutronFault.notFound(.router, id) }
            try modifiable(
                transaction.state, .router, id, owner: router.common.projectID, caller,
                adding ? "add_extraroutes" : "remove_extraroutes")
            if adding {
                for route in try routes(given, router: id, transaction.state) where !router.routes.contains(route) {
                    router.routes.append(route)
                }
            } else {
                let removed = try given.map { entry -> HostRoute in
                    guard let destination = entry["destination"]?.string, let nexthop = entry["nexthop"]?.string,
                        let network = IPNetwork(truncating: destination), IPAddress(nexthop) != nil
                    else {
                        throw NeutronFault.badRequest(
                            "Invalid input for routes. Reason: Invalid data format for hostroute '\(entry.text)'.")
                    }
                    return HostRoute(destination: network.description, nexthop: nexthop)
                }
                router.routes.removeAll { removed.contains($0) }
            }
            router.common.updatedAt = clock()
            router.common.revision += 1
            transaction.state.routers[id] = router
            transaction.touch(.router, id)
            return transaction.state.render(router)
        }
        return Response.json(["router": updated])
    }

    func routes(_ list: [JSON], router: String, _ state: NetworkState) throws -> [HostRoute] {
        try list.map { entry in
            guard let destination = entry["destination"]?.string, let nexthop = entry["nexthop"]?.string,
                let network = IPNetwork(truncating: destination), let hop = IPAddress(nexthop)
            else {
                throw NeutronFault.badRequest(
                    "Invalid input for routes. Reason: Invalid data format for hostroute '\(entry.text)'.")
            }
            let reachable = state.interfaces(of: router).flatMap(\.fixedIPs).contains { ip in
                state.subnets[ip.subnetID].flatMap { IPNetwork($0.cidr) }?.contains(hop) == true
            }
            guard reachable else {
                throw NeutronFault.badRequest(
                    "Invalid format for routes: [{'destination': '\(destination)', 'nexthop': '\(nexthop)'}], the nexthop is not connected with router"
                )
            }
            return HostRoute(destination: network.description, nexthop: nexthop)
        }
    }

    /// Sets (or changes) the router's external gateway: a port on the external network
    /// holding an address of its subnet(s).
    func setGateway(_ id: String, _ info: JSON, _ caller: Caller, _ transaction: inout NetworkStore.Transaction) throws
    {
        guard var router = transaction.state.routers[id] else { throw NeutronFault.notFound(.router, id) }
        guard let networkID = info["network_id"]?.string else {
            throw NeutronFault.badRequest("Invalid input for external_gateway_info. Reason: network_id is required.")
        }
        for key in info.members?.map(\.0) ?? []
        where !["network_id", "enable_snat", "external_fixed_ips"].contains(key) {
            throw NeutronFault.badRequest(
                "Invalid input for external_gateway_info. Reason: Unexpected keys supplied: \(key).")
        }
        if info["enable_snat"] != nil, !caller.isAdmin {
            throw NeutronFault.policy("update_router:external_gateway_info:enable_snat")
        }
        if info["external_fixed_ips"] != nil, !caller.isAdmin {
            throw NeutronFault.policy("update_router:external_gateway_info:external_fixed_ips")
        }
        guard let network = transaction.state.networks[networkID],
            canSee(transaction.state, .network, networkID, caller)
        else { throw NeutronFault.notFound(.network, networkID) }
        guard network.external else {
            throw NeutronFault.badRequest("Bad router request: Network \(networkID) is not an external network.")
        }
        var snat = router.gateway?.enableSNAT ?? true
        if let flag = info["enable_snat"] {
            guard let value = flag.bool else {
                throw NeutronFault.invalidInput("'\(flag.text)' cannot be converted to boolean")
            }
            snat = value
        }
        let requested = try info["external_fixed_ips"]?.array.map { list in
            try list.map { entry -> FixedIPRequest in
                guard entry.members != nil else {
                    throw NeutronFault.badRequest("Invalid input for external_fixed_ips.")
                }
                return FixedIPRequest(subnetID: entry["subnet_id"]?.string, address: entry["ip_address"]?.string)
            }
        }
        if let gateway = router.gateway, gateway.networkID == networkID, requested == nil {
            router.gateway?.enableSNAT = snat
            transaction.state.routers[id] = router
            transaction.touch(.router, id)
            return
        }
        if router.gateway != nil { try clearGateway(id, &transaction) }
        let port = try servicePort(
            network: networkID, project: "", owner: DeviceOwner.routerGateway, device: id, fixedIPs: requested,
            onlyIPv4: requested == nil, &transaction)
        guard !port.fixedIPs.isEmpty else {
            throw NeutronFault.badRequest("Bad router request: No IPs available for external network \(networkID).")
        }
        router = transaction.state.routers[id] ?? router
        router.gateway = ExternalGateway(
            networkID: networkID, enableSNAT: snat, fixedIPs: port.fixedIPs, portID: port.common.id)
        transaction.state.routers[id] = router
        transaction.touch(.router, id)
    }

    /// Removes the gateway and its port; refused while floating IPs go through it (moving
    /// the gateway to another network too, as Neutron refuses it).
    func clearGateway(_ id: String, _ transaction: inout NetworkStore.Transaction) throws {
        guard var router = transaction.state.routers[id], let gateway = router.gateway else { return }
        if transaction.state.floatingIPs.values.contains(where: { $0.routerID == id }) {
            throw NeutronFault.conflict(
                "RouterExternalGatewayInUseByFloatingIp",
                "Gateway cannot be updated for router \(id), since a gateway to external network \(gateway.networkID) is required by one or more floating IPs."
            )
        }
        transaction.state.ports[gateway.portID] = nil
        transaction.touch(.port, gateway.portID)
        router.gateway = nil
        transaction.state.routers[id] = router
        transaction.touch(.router, id)
    }

    /// `add_router_interface` by subnet (a port with the subnet's gateway address) or by
    /// port; the answer is not wrapped in `router`.
    func addInterface(_ id: String, _ body: JSON, _ caller: Caller, _ transaction: inout NetworkStore.Transaction)
        throws -> JSON
    {
        try visible(transaction.state, .router, id, caller)
        guard let router = transaction.state.routers[id] else { throw NeutronFault.notFound(.router, id) }
        try modifiable(transaction.state, .router, id, owner: router.common.projectID, caller, "add_router_interface")
        let subnetID = body["subnet_id"]?.string
        let portID = body["port_id"]?.string
        if subnetID != nil, portID != nil {
            throw NeutronFault.badRequest("Bad router request: Cannot specify both subnet-id and port-id.")
        }
        guard subnetID != nil || portID != nil else {
            throw NeutronFault.badRequest("Bad router request: Either subnet_id or port_id must be specified.")
        }
        let existing = transaction.state.interfaces(of: id)
        var port: Port
        if let subnetID {
            guard let subnet = transaction.state.subnets[subnetID], canSee(transaction.state, .subnet, subnetID, caller)
            else { throw NeutronFault.notFound(.subnet, subnetID) }
            guard let gateway = subnet.gatewayIP else {
                throw NeutronFault.badRequest("Bad router request: Subnet for router interface must have a gateway IP.")
            }
            if existing.contains(where: { $0.fixedIPs.contains { $0.subnetID == subnetID } }) {
                throw NeutronFault.badRequest("Bad router request: Router already has a port on subnet \(subnetID).")
            }
            try checkOverlap(subnet, router: id, existing, transaction.state)
            if let holder = transaction.state.ports.values.first(where: { candidate in
                candidate.fixedIPs.contains { $0.subnetID == subnetID && $0.ipAddress == gateway }
            }) {
                throw NeutronFault.conflict(
                    "IpAddressAlreadyAllocated",
                    "IP address \(gateway) already allocated in subnet \(subnetID) by port \(holder.common.id)")
            }
            port = try servicePort(
                network: subnet.networkID, project: router.common.projectID, owner: DeviceOwner.routerInterface,
                device: id, fixedIPs: [FixedIPRequest(subnetID: subnetID, address: gateway)], &transaction)
        } else {
            let portID = portID ?? ""
            guard var given = transaction.state.ports[portID], canSee(transaction.state, .port, portID, caller) else {
                throw NeutronFault.notFound(.port, portID)
            }
            guard given.deviceID.isEmpty, given.deviceOwner.isEmpty || given.deviceOwner == DeviceOwner.routerInterface
            else {
                throw NeutronFault.conflict(
                    "PortInUse",
                    "Unable to complete operation on port \(portID) for network \(given.networkID). Port already has an attached device \(given.deviceID)."
                )
            }
            guard !given.fixedIPs.isEmpty else {
                throw NeutronFault.badRequest("Bad router request: Router port must have at least one fixed IP.")
            }
            for ip in given.fixedIPs {
                if let subnet = transaction.state.subnets[ip.subnetID] {
                    if existing.contains(where: { $0.fixedIPs.contains { $0.subnetID == ip.subnetID } }) {
                        throw NeutronFault.badRequest(
                            "Bad router request: Router already has a port on subnet \(ip.subnetID).")
                    }
                    try checkOverlap(subnet, router: id, existing, transaction.state)
                }
            }
            given.deviceID = id
            given.deviceOwner = DeviceOwner.routerInterface
            given.securityGroups = []
            given.portSecurityEnabled = false
            given.common.revision += 1
            given.common.updatedAt = clock()
            transaction.state.ports[portID] = given
            transaction.touch(.port, portID)
            port = given
        }
        transaction.touch(.router, id)
        return Self.interfaceAnswer(router, port)
    }

    func checkOverlap(_ subnet: Subnet, router: String, _ existing: [Port], _ state: NetworkState) throws {
        guard let cidr = IPNetwork(subnet.cidr) else { return }
        for port in existing {
            for ip in port.fixedIPs {
                guard let other = state.subnets[ip.subnetID], let otherCIDR = IPNetwork(other.cidr),
                    otherCIDR.overlaps(cidr)
                else { continue }
                throw NeutronFault.badRequest(
                    "Bad router request: Cidr \(subnet.cidr) of subnet \(subnet.common.id) overlaps with cidr \(other.cidr) of subnet \(other.common.id)."
                )
            }
        }
    }

    static func interfaceAnswer(_ router: Router, _ port: Port) -> JSON {
        [
            "id": .string(router.common.id), "tenant_id": .string(router.common.projectID),
            "project_id": .string(router.common.projectID), "port_id": .string(port.common.id),
            "network_id": .string(port.networkID), "subnet_id": .optional(port.fixedIPs.first?.subnetID),
            "subnet_ids": .array(port.fixedIPs.map { .string($0.subnetID) }),
        ]
    }

    func removeInterface(_ id: String, _ body: JSON, _ caller: Caller, _ transaction: inout NetworkStore.Transaction)
        throws -> JSON
    {
        try visible(transaction.state, .router, id, caller)
        guard let router = transaction.state.routers[id] else { throw NeutronFault.notFound(.router, id) }
        try modifiable(
            transaction.state, .router, id, owner: router.common.projectID, caller, "remove_router_interface")
        let interfaces = transaction.state.interfaces(of: id)
        let port: Port
        if let portID = body["port_id"]?.string {
            guard let found = interfaces.first(where: { $0.common.id == portID }) else {
                throw NeutronFault(
                    .notFound, "RouterInterfaceNotFound", "Router \(id) does not have an interface with id \(portID)")
            }
            if let subnetID = body["subnet_id"]?.string, !found.fixedIPs.contains(where: { $0.subnetID == subnetID }) {
                throw NeutronFault.conflict(
                    "SubnetMismatchForPort", "Subnet \(subnetID) does not match with the port \(portID)")
            }
            port = found
        } else if let subnetID = body["subnet_id"]?.string {
            guard let found = interfaces.first(where: { $0.fixedIPs.contains { $0.subnetID == subnetID } }) else {
                throw NeutronFault(
                    .notFound, "RouterInterfaceNotFoundForSubnet", "Router \(id) has no interface on subnet \(subnetID)"
                )
            }
            port = found
        } else {
            throw NeutronFault.badRequest("Bad router request: Either subnet_id or port_id must be specified.")
        }
        // Floating IPs reaching ports of these subnets through the router need it.
        let subnets = Set(port.fixedIPs.map(\.subnetID))
        for floating in transaction.state.floatingIPs.values where floating.routerID == id {
            guard let target = floating.portID.flatMap({ transaction.state.ports[$0] }) else { continue }
            if target.fixedIPs.contains(where: {
                subnets.contains($0.subnetID) && $0.ipAddress == floating.fixedIPAddress
            }) {
                throw NeutronFault.conflict(
                    "RouterInterfaceInUseByFloatingIP",
                    "Router interface for subnet \(subnets.sorted().joined(separator: ",")) on router \(id) cannot be deleted, as it is required by one or more floating IPs."
                )
            }
        }
        transaction.state.ports[port.common.id] = nil
        transaction.touch(.port, port.common.id)
        transaction.touch(.router, id)
        return Self.interfaceAnswer(router, port)
    }
}
