import Hummingbird
import NimbusServiceKit

/// `/v2.0/subnets` and `/v2.0/subnetpools`: addressing checked and completed by IPAM, and
/// the network's DHCP port holding an address on every subnet that serves DHCP.
extension NetworkAPI {
    func subnetRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/subnets") { request, _ in
            let caller = try await caller(request)
            let state = store.snapshot
            return try list(request, .subnet, Array(state.subnets.keys), state, caller)
        }
        router.get("/v2.0/subnets/:id") { request, context in
            try await show(request, .subnet, try context.parameters.require("id"))
        }
        router.post("/v2.0/subnets") { request, context in
            let caller = try await caller(request)
            let (items, bulk) = try creations(try await body(request, context: context), .subnet)
            let created = try store.write { transaction in
                try items.map { given in
                    var attributes = given
                    let subnet = try createSubnet(&attributes, caller, &transaction)
                    return transaction.state.render(subnet)
                }
            }
            return Self.created(.subnet, created, bulk: bulk)
        }
        router.put("/v2.0/subnets/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            var attributes = try attributes(try await body(request, context: context), .subnet)
            let updated = try store.write { transaction in try updateSubnet(id, &attributes, caller, &transaction) }
            return Response.json(["subnet": updated])
        }
        router.delete("/v2.0/subnets/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in try deleteSubnet(id, caller, &transaction) }
            return Response.empty()
        }
    }

    static func subnetIPVersion(_ value: Int?) throws -> IPVersion {
        guard let value, let version = IPVersion(rawValue: value) else {
            throw NeutronFault.badRequest(
                "Invalid input for ip_version. Reason: '\(value.map(String.init) ?? "None")' is not in [4, 6].")
        }
        return version
    }

    /// The `allocation_pools`, `dns_nameservers` and `host_routes` of a request, checked.
    func addressing(_ attributes: inout Attributes) throws -> (
        pools: [IPAM.PoolBounds]?, dns: [IPAddress]?, routes: [IPAM.HostRoute]?
    ) {
        do {
            let pools = try attributes.objects("allocation_pools").map { list in
                try IPAM.Attributes.allocationPools(
                    list.map { (start: $0["start"]?.string ?? "", end: $0["end"]?.string ?? "") })
            }
            let dns = try attributes.strings("dns_nameservers").map { try IPAM.Attributes.dnsNameservers($0) }
            let routes = try attributes.objects("host_routes").map { list in
                try IPAM.Attributes.hostRoutes(
                    list.map { (destination: $0["destination"]?.string ?? "", nexthop: $0["nexthop"]?.string ?? "") })
            }
            return (pools, dns, routes)
        } catch let error as IPAM.Error { throw Self.fault(error) }
    }

    func createSubnet(_ attributes: inout Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction)
        throws -> Subnet
    {
        try attributes.require("network_id")
        let networkID = try attributes.string("network_id") ?? ""
        guard let network = transaction.state.networks[networkID],
            canSee(transaction.state, .network, networkID, caller)
        else { throw NeutronFault.notFound(.network, networkID) }
        guard PolicyRule.project(.member).allows(caller, owner: network.common.projectID) else {
            throw NeutronFault.policy("create_subnet")
        }
        let project = try owner(&attributes, caller)
        try checkQuota(transaction.state, .subnet, project: project)
        var request: IPAM.SubnetRequest
        do {
            let cidrText = try attributes.string("cidr")
            let cidr = try cidrText.map { text throws(IPAM.Error) in try IPAM.Attributes.cidr(text) }
            let versionValue = try attributes.int("ip_version")
            let version: IPVersion
            if let versionValue {
                version = try Self.subnetIPVersion(versionValue)
            } else if let cidr {
                version = cidr.version
            } else {
                throw NeutronFault.badRequest(
                    "Bad subnets request: ip_version must be specified in the absence of cidr and subnetpool_id.")
            }
            request = IPAM.SubnetRequest(ipVersion: version, cidr: cidr)
            request.prefixLength = try attributes.int("prefixlen")
            if attributes.has("gateway_ip") {
                if let text = try attributes.string("gateway_ip") {
                    request.gateway = .address(try IPAM.Attributes.ipAddress(text, attribute: "gateway_ip"))
                } else {
                    request.gateway = .none
                }
            }
            let (pools, dns, routes) = try addressing(&attributes)
            request.allocationPools = pools
            request.dnsNameservers = dns ?? []
            request.hostRoutes = routes ?? []
            request.enableDHCP = try attributes.bool("enable_dhcp") ?? true
            if let mode = try attributes.string("ipv6_ra_mode") {
                request.ipv6RAMode = try IPAM.Attributes.ipv6Mode(mode, attribute: "ipv6_ra_mode")
            }
            if let mode = try attributes.string("ipv6_address_mode") {
                request.ipv6AddressMode = try IPAM.Attributes.ipv6Mode(mode, attribute: "ipv6_address_mode")
            }
        } catch let error as IPAM.Error { throw Self.fault(error) }
        var poolID = try attributes.string("subnetpool_id")
        if try attributes.bool("use_default_subnetpool") == true {
            poolID =
                transaction.state.subnetPools.values.first {
                    $0.isDefault && $0.ipVersion == request.ipVersion.rawValue
                }?.common.id
            if poolID == nil {
                throw NeutronFault.badRequest(
                    "Bad subnets request: No default subnetpool found for IPv\(request.ipVersion).")
            }
        }
        var poolState: IPAM.PoolState?
        if let poolID {
            guard let pool = transaction.state.subnetPools[poolID],
                canSee(transaction.state, .subnetpool, poolID, caller)
            else { throw NeutronFault.notFound(.subnetpool, poolID) }
            poolState = try self.poolState(pool, transaction.state, project: project)
        }
        let name = try attributes.string("name") ?? ""
        let description = try attributes.string("description") ?? ""
        _ = try attributes.strings("service_types")
        _ = attributes.value("segment_id")
        _ = try attributes.bool("dns_publish_fixed_ip")
        try attributes.finish(method: "POST")
        let id = Self.newID()
        let existing = transaction.state.subnets(of: networkID).compactMap(Self.ipam)
        let made: IPAM.Subnet
        do {
            made = try IPAM.createSubnet(request, id: id, networkID: networkID, existing: existing, pool: poolState)
        } catch { throw Self.fault(error) }
        var subnet = Self.model(
            made, common: Common(id: id, projectID: project, name: name, description: description, now: clock()))
        subnet.common.revision = 1
        transaction.state.subnets[id] = subnet
        transaction.touch(.subnet, id)
        transaction.touch(.network, networkID)
        // Ports already on the network get their EUI-64 address on a SLAAC subnet.
        if made.isAutoAddress {
            for var port in transaction.state.ports(of: networkID)
            where !IPAM.routerPortOwners.contains(port.deviceOwner) {
                guard let mac = MACAddress(port.macAddress), let address = try? made.eui64Address(for: mac) else {
                    continue
                }
                port.fixedIPs.append(FixedIP(subnetID: id, ipAddress: address.description))
                port.common.revision += 1
                transaction.state.ports[port.common.id] = port
                transaction.touch(.port, port.common.id)
            }
        }
        try syncDHCPPort(networkID, &transaction)
        return subnet
    }

    static func model(_ subnet: IPAM.Subnet, common: Common) -> Subnet {
        Subnet(
            common: common, networkID: subnet.networkID, ipVersion: subnet.cidr.version.rawValue,
            cidr: subnet.cidr.description, gatewayIP: subnet.gateway?.description,
            allocationPools: subnet.allocationPools.map {
                AllocationPool(start: $0.first.description, end: $0.last.description)
            }, dnsNameservers: subnet.dnsNameservers.map(\.description),
            hostRoutes: subnet.hostRoutes.map {
                HostRoute(destination: $0.destination.description, nexthop: $0.nexthop.description)
            }, enableDHCP: subnet.enableDHCP, ipv6RAMode: subnet.ipv6RAMode?.rawValue,
            ipv6AddressMode: subnet.ipv6AddressMode?.rawValue, subnetpoolID: subnet.subnetPoolID)
    }

    func updateSubnet(
        _ id: String, _ attributes: inout Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction
    )
        throws -> JSON
    {
        try visible(transaction.state, .subnet, id, caller)
        guard var subnet = transaction.state.subnets[id], let current = Self.ipam(subnet) else {
            throw NeutronFault.notFound(.subnet, id)
        }
        let networkOwner = transaction.state.networks[subnet.networkID]?.common.projectID
        guard
            PolicyRule.project(.member).allows(caller, owner: subnet.common.projectID)
                || PolicyRule.project(.member).allows(caller, owner: networkOwner)
        else { throw NeutronFault.policy("update_subnet") }
        var update = IPAM.SubnetUpdate()
        do {
            if attributes.has("gateway_ip") {
                update.gateway = .some(
                    try (try attributes.string("gateway_ip")).map { text throws(IPAM.Error) in
                        try IPAM.Attributes.ipAddress(text, attribute: "gateway_ip")
                    })
            }
            let (pools, dns, routes) = try addressing(&attributes)
            update.allocationPools = pools
            update.dnsNameservers = dns
            update.hostRoutes = routes
            update.enableDHCP = try attributes.bool("enable_dhcp")
        } catch let error as IPAM.Error { throw Self.fault(error) }
        if let name = try attributes.string("name") { subnet.common.name = name }
        if let description = try attributes.string("description") { subnet.common.description = description }
        _ = try attributes.strings("service_types")
        try attributes.finish(
            method: "PUT",
            readOnly: [
                "network_id", "ip_version", "cidr", "ipv6_ra_mode", "ipv6_address_mode", "subnetpool_id", "tenant_id",
                "project_id", "prefixlen",
            ])
        // The gateway a router interface holds cannot move under it.
        let holder = transaction.state.ports.values.first { port in
            IPAM.routerPortOwners.contains(port.deviceOwner)
                && port.fixedIPs.contains { $0.subnetID == id && $0.ipAddress == subnet.gatewayIP }
        }
        let updated: IPAM.Subnet
        do { updated = try current.applying(update, gatewayPortID: holder?.common.id) } catch {
            throw Self.fault(error)
        }
        var common = subnet.common
        common.updatedAt = clock()
        common.revision += 1
        subnet = Self.model(updated, common: common)
        transaction.state.subnets[id] = subnet
        transaction.touch(.subnet, id)
        try syncDHCPPort(subnet.networkID, &transaction)
        return transaction.state.render(subnet)
    }

    func deleteSubnet(_ id: String, _ caller: Caller, _ transaction: inout NetworkStore.Transaction) throws {
        try visible(transaction.state, .subnet, id, caller)
        guard let subnet = transaction.state.subnets[id] else { throw NeutronFault.notFound(.subnet, id) }
        let networkOwner = transaction.state.networks[subnet.networkID]?.common.projectID
        guard
            PolicyRule.project(.member).allows(caller, owner: subnet.common.projectID)
                || PolicyRule.project(.member).allows(caller, owner: networkOwner)
        else { throw NeutronFault.policy("delete_subnet") }
        let automatic = Self.ipam(subnet)?.isAutoAddress ?? false
        let holders = transaction.state.ports.values.filter { port in
            port.fixedIPs.contains { $0.subnetID == id } && port.deviceOwner != DeviceOwner.dhcp
                && (!automatic || IPAM.routerPortOwners.contains(port.deviceOwner))
        }
        guard holders.isEmpty else {
            throw NeutronFault.conflict(
                "SubnetInUse",
                "Unable to complete operation on subnet \(id): One or more ports have an IP allocation from this subnet."
            )
        }
        // SLAAC addresses and the DHCP port's address go with the subnet.
        for var port in transaction.state.ports.values where port.fixedIPs.contains(where: { $0.subnetID == id }) {
            port.fixedIPs.removeAll { $0.subnetID == id }
            port.common.revision += 1
            transaction.state.ports[port.common.id] = port
            transaction.touch(.port, port.common.id)
        }
        transaction.state.subnets[id] = nil
        transaction.touch(.subnet, id)
        transaction.touch(.network, subnet.networkID)
        try syncDHCPPort(subnet.networkID, &transaction)
    }

    /// The network's DHCP port: present while a subnet serves DHCP, with one address on
    /// each such subnet (the lowest free), gone when none does.
    func syncDHCPPort(_ network: String, _ transaction: inout NetworkStore.Transaction) throws {
        guard let owner = transaction.state.networks[network]?.common.projectID else { return }
        let served = transaction.state.subnets(of: network).filter(\.enableDHCP)
        let existing = transaction.state.ports(of: network).first { $0.deviceOwner == DeviceOwner.dhcp }
        guard !served.isEmpty else {
            if let existing {
                transaction.state.ports[existing.common.id] = nil
                transaction.touch(.port, existing.common.id)
            }
            return
        }
        guard var port = existing else {
            _ = try servicePort(
                network: network, project: owner, owner: DeviceOwner.dhcp, device: "dhcp-\(network)",
                fixedIPs: served.map { FixedIPRequest(subnetID: $0.common.id, address: nil) }, prefer: true,
                &transaction)
            return
        }
        let wanted = Set(served.map(\.common.id))
        var ips = port.fixedIPs.filter { wanted.contains($0.subnetID) }
        let missing = served.filter { subnet in !ips.contains { $0.subnetID == subnet.common.id } }
        if !missing.isEmpty {
            ips += try allocate(
                on: network, requested: missing.map { FixedIPRequest(subnetID: $0.common.id, address: nil) },
                mac: MACAddress(port.macAddress) ?? .neutronBase, deviceOwner: DeviceOwner.dhcp,
                state: transaction.state,
                port: port.common.id, prefer: true)
        }
        guard ips != port.fixedIPs else { return }
        port.fixedIPs = ips
        port.common.revision += 1
        port.common.updatedAt = clock()
        transaction.state.ports[port.common.id] = port
        transaction.touch(.port, port.common.id)
    }

    // MARK: Subnet pools

    func poolState(_ pool: SubnetPool, _ state: NetworkState, project: String) throws -> IPAM.PoolState {
        let typed: IPAM.SubnetPool
        do {
            typed = try IPAM.SubnetPool(
                id: pool.common.id, prefixes: pool.prefixes.compactMap { IPNetwork($0) },
                minPrefixLength: pool.minPrefixlen, maxPrefixLength: pool.maxPrefixlen,
                defaultPrefixLength: pool.defaultPrefixlen, defaultQuota: pool.defaultQuota)
        } catch { throw Self.fault(error) }
        let carved = state.subnets.values.filter { $0.subnetpoolID == pool.common.id }
        return IPAM.PoolState(
            pool: typed, allocated: carved.compactMap { IPNetwork($0.cidr) },
            quotaUsage: carved.filter { $0.common.projectID == project }.compactMap { IPNetwork($0.cidr) })
    }

    func subnetPoolRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/subnetpools") { request, _ in
            let caller = try await caller(request)
            let state = store.snapshot
            return try list(request, .subnetpool, Array(state.subnetPools.keys), state, caller)
        }
        router.get("/v2.0/subnetpools/:id") { request, context in
            try await show(request, .subnetpool, try context.parameters.require("id"))
        }
        router.post("/v2.0/subnetpools") { request, context in
            let caller = try await caller(request)
            let (items, bulk) = try creations(try await body(request, context: context), .subnetpool)
            let created = try store.write { transaction in
                try items.map { given in
                    var attributes = given
                    try attributes.require("name")
                    try attributes.require("prefixes")
                    for key in ["shared", "is_default"] where attributes.peekBool(key) == true && !caller.isAdmin {
                        throw NeutronFault.policy("create_subnetpool:\(key)")
                    }
                    let project = try owner(&attributes, caller)
                    let id = Self.newID()
                    let typed: IPAM.SubnetPool
                    do {
                        let prefixes = try IPAM.Attributes.subnetPoolPrefixes(try attributes.strings("prefixes") ?? [])
                        typed = try IPAM.SubnetPool(
                            id: id, prefixes: prefixes, minPrefixLength: try attributes.int("min_prefixlen"),
                            maxPrefixLength: try attributes.int("max_prefixlen"),
                            defaultPrefixLength: try attributes.int("default_prefixlen"),
                            defaultQuota: try attributes.int("default_quota"))
                    } catch let error as IPAM.Error { throw Self.fault(error) }
                    var pool = SubnetPool(
                        common: Common(
                            id: id, projectID: project, name: try attributes.string("name") ?? "",
                            description: try attributes.string("description") ?? "", now: clock()),
                        prefixes: typed.prefixes.map(\.description), ipVersion: typed.ipVersion.rawValue,
                        minPrefixlen: typed.minPrefixLength, maxPrefixlen: typed.maxPrefixLength,
                        defaultPrefixlen: typed.defaultPrefixLength, shared: try attributes.bool("shared") ?? false,
                        isDefault: try attributes.bool("is_default") ?? false, defaultQuota: typed.defaultQuota,
                        addressScopeID: nil)
                    _ = attributes.value("address_scope_id")
                    try attributes.finish(method: "POST")
                    pool.common.revision = 1
                    transaction.state.subnetPools[id] = pool
                    transaction.touch(.subnetpool, id)
                    return transaction.state.render(pool)
                }
            }
            return Self.created(.subnetpool, created, bulk: bulk)
        }
        router.put("/v2.0/subnetpools/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            var attributes = try attributes(try await body(request, context: context), .subnetpool)
            let updated = try store.write { transaction -> JSON in
                try visible(transaction.state, .subnetpool, id, caller)
                guard var pool = transaction.state.subnetPools[id] else { throw NeutronFault.notFound(.subnetpool, id) }
                try modifiable(transaction.state, .subnetpool, id, owner: pool.common.projectID, caller, "update")
                let state = try poolState(pool, transaction.state, project: pool.common.projectID)
                let typed: IPAM.SubnetPool
                do {
                    let prefixes = try (try attributes.strings("prefixes")).map { texts throws(IPAM.Error) in
                        try IPAM.Attributes.subnetPoolPrefixes(texts)
                    }
                    let quota: Int?? =
                        attributes.has("default_quota") ? .some(try attributes.int("default_quota")) : nil
                    typed = try state.pool.updating(
                        prefixes: prefixes, minPrefixLength: try attributes.int("min_prefixlen"),
                        maxPrefixLength: try attributes.int("max_prefixlen"),
                        defaultPrefixLength: try attributes.int("default_prefixlen"), defaultQuota: quota)
                } catch let error as IPAM.Error { throw Self.fault(error) }
                if let name = try attributes.string("name") { pool.common.name = name }
                if let description = try attributes.string("description") { pool.common.description = description }
                if let flag = try attributes.bool("is_default") {
                    guard caller.isAdmin else { throw NeutronFault.policy("update_subnetpool:is_default") }
                    pool.isDefault = flag
                }
                _ = attributes.value("address_scope_id")
                try attributes.finish(method: "PUT", readOnly: ["shared", "ip_version", "tenant_id", "project_id"])
                pool.prefixes = typed.prefixes.map(\.description)
                pool.minPrefixlen = typed.minPrefixLength
                pool.maxPrefixlen = typed.maxPrefixLength
                pool.defaultPrefixlen = typed.defaultPrefixLength
                pool.defaultQuota = typed.defaultQuota
                pool.common.updatedAt = clock()
                pool.common.revision += 1
                transaction.state.subnetPools[id] = pool
                transaction.touch(.subnetpool, id)
                return transaction.state.render(pool)
            }
            return Response.json(["subnetpool": updated])
        }
        router.delete("/v2.0/subnetpools/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in
                try visible(transaction.state, .subnetpool, id, caller)
                guard let pool = transaction.state.subnetPools[id] else { throw NeutronFault.notFound(.subnetpool, id) }
                try modifiable(transaction.state, .subnetpool, id, owner: pool.common.projectID, caller, "delete")
                if transaction.state.subnets.values.contains(where: { $0.subnetpoolID == id }) {
                    throw NeutronFault.conflict(
                        "SubnetPoolInUse",
                        "Unable to complete operation on subnet pool \(id). Subnets are allocated from it.")
                }
                transaction.state.subnetPools[id] = nil
                transaction.touch(.subnetpool, id)
            }
            return Response.empty()
        }
    }
}
