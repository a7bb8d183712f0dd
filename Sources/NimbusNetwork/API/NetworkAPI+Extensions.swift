import Crypto
import Foundation
import Hummingbird
import NimbusServiceKit

/// The resources document, extensions, agents, availability zones, quotas and service
/// providers.
extension NetworkAPI {
    /// `GET /v2.0/`: the core collections.
    func resourcesDocument(_ request: Request) -> JSON {
        [
            "resources": .array(
                [("network", "networks"), ("subnet", "subnets"), ("subnetpool", "subnetpools"), ("port", "ports")].map {
                    member, collection in
                    [
                        "name": .string(member), "collection": .string(collection),
                        "links": [["rel": "self", "href": .string("\(request.origin)/v2.0/\(collection)")]],
                    ]
                })
        ]
    }

    /// What this service implements, as Neutron names it (alias, name, description, updated).
    static let extensions: [(String, String, String, String)] = [
        ("agent", "agent", "The agent management extension.", "2013-02-03T10:00:00-00:00"),
        (
            "allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs",
            "2013-07-23T10:00:00-00:00"
        ),
        ("availability_zone", "Availability Zone", "The availability zone extension.", "2015-01-01T10:00:00-00:00"),
        (
            "availability_zone_filter", "Availability Zone Filter Extension",
            "Add filter parameters to AvailabilityZone resource", "2018-06-22T10:00:00-00:00"
        ),
        (
            "binding", "Port Binding", "Expose port bindings of a virtual port to external application",
            "2014-02-03T10:00:00-00:00"
        ),
        (
            "external-net", "Neutron external network", "Adds external network attribute to network resource.",
            "2013-01-14T10:00:00-00:00"
        ),
        (
            "extra_dhcp_opt", "Neutron Extra DHCP options",
            "Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)",
            "2013-03-17T12:00:00-00:00"
        ),
        (
            "ext-gw-mode", "Neutron L3 Configurable external gateway mode",
            "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway",
            "2013-03-28T10:00:00-00:00"
        ),
        ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router", "2013-02-01T10:00:00-00:00"),
        (
            "extraroute-atomic", "Atomically add/remove extra routes",
            "Edit extra routes of a router on server side by atomically adding/removing extra routes",
            "2019-07-10T10:00:00-00:00"
        ),
        (
            "fip-port-details", "Floating IP Port Details Extension",
            "Add port_details attribute to Floating IP resource",
            "2018-04-09T10:00:00-00:00"
        ),
        (
            "ip-substring-filtering", "IP address substring filtering",
            "Provides IP address substring filtering when listing ports", "2017-11-28T09:00:00-00:00"
        ),
        ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource.", "2015-03-25T10:00:00-00:00"),
        (
            "net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource.",
            "2017-07-12T00:00:00-00:00"
        ),
        (
            "network_availability_zone", "Network Availability Zone", "Availability zone support for network.",
            "2015-01-01T10:00:00-00:00"
        ),
        (
            "pagination", "Pagination support", "Extension that indicates that pagination is enabled.",
            "2016-06-12T00:00:00-00:00"
        ),
        ("port-security", "Port Security", "Provides port security", "2012-07-23T10:00:00-00:00"),
        (
            "project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled.",
            "2016-09-09T09:09:09-09:09"
        ),
        (
            "provider", "Provider Network", "Expose mapping of virtual networks to physical networks",
            "2012-09-07T10:00:00-00:00"
        ),
        (
            "quotas", "Quota management support", "Expose functions for quotas management per project",
            "2012-07-29T10:00:00-00:00"
        ),
        (
            "quota_details", "Quota details management support",
            "Expose functions for quotas usage statistics per project",
            "2017-02-10T10:00:00-00:00"
        ),
        (
            "router", "Neutron L3 Router",
            "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.",
            "2012-07-20T10:00:00-00:00"
        ),
        (
            "router_availability_zone", "Router Availability Zone", "Availability zone support for router.",
            "2015-01-01T10:00:00-00:00"
        ),
        ("security-group", "security-group", "The security groups extension.", "2012-10-05T10:00:00-00:00"),
        (
            "security-groups-normalized-cidr", "Normalized CIDR field for security group rules",
            "Add new field with normalized remote_ip_prefix cidr in SG rule", "2020-07-28T10:00:00-00:00"
        ),
        (
            "security-groups-rules-belongs-to-default-sg",
            "Security group rule belongs to the project's default security group",
            "Flag to determine if the security group rule belongs to the project's default security group",
            "2023-05-23T10:00:00-00:00"
        ),
        (
            "service-type", "Neutron Service Type Management",
            "API for retrieving service providers for Neutron advanced services", "2013-01-20T00:00:00-00:00"
        ),
        (
            "sorting", "Sorting support", "Extension that indicates that sorting is enabled.",
            "2016-06-12T00:00:00-00:00"
        ),
        (
            "standard-attr-description", "standard-attr-description",
            "Extension to add descriptions to standard attributes", "2016-02-10T10:00:00-00:00"
        ),
        (
            "standard-attr-revisions", "Resource revision numbers",
            "This extension will display the revision number of neutron resources.", "2016-04-11T10:00:00-00:00"
        ),
        (
            "standard-attr-tag",
            "Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip",
            "Enables to set tag on resources with standard attribute.", "2017-01-01T00:00:00-00:00"
        ),
        (
            "standard-attr-timestamp", "Resource timestamps",
            "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.",
            "2016-09-12T10:00:00-00:00"
        ),
        (
            "stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not",
            "2019-11-26T09:00:00-00:00"
        ),
        (
            "subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet pool",
            "2015-03-30T10:00:00-00:00"
        ),
        (
            "subnet-external-network", "Subnet belongs to an external network",
            "Informs if the subnet belongs to an external network", "2024-02-05T18:00:00-00:00"
        ),
    ]

    static func extensionBody(_ entry: (String, String, String, String)) -> JSON {
        [
            "alias": .string(entry.0), "name": .string(entry.1), "description": .string(entry.2),
            "updated": .string(entry.3), "links": [],
        ]
    }

    /// The Neutron names of the agents Nimbus runs, by the type they heartbeat as.
    static let agentKinds: [String: (type: String, binary: String, topic: String)] = [
        "linuxbridge": ("Linux bridge agent", "neutron-linuxbridge-agent", "N/A"),
        "dhcp": ("DHCP agent", "neutron-dhcp-agent", "dhcp_agent"),
        "l3": ("L3 agent", "neutron-l3-agent", "l3_agent"),
    ]

    /// A stable id for an agent: a name-based UUID of its type and host.
    static func agentID(type: String, host: String) -> String { NameUUID.make("nimbus-agent/\(type)/\(host)") }

    static func agentTime(_ date: Date) -> String {
        Timestamp.utc(Int64(date.timeIntervalSince1970)).replacingOccurrences(of: "T", with: " ")
    }

    func agentBodies() throws -> [JSON] {
        let settings = store.snapshot.agentSettings
        return try agents.agents().compactMap { agent -> JSON? in
            guard let kind = Self.agentKinds[agent.type] else { return nil }
            let id = Self.agentID(type: agent.type, host: agent.host)
            return [
                "id": .string(id), "agent_type": .string(kind.type),
                "binary": .string(kind.binary), "topic": .string(kind.topic), "host": .string(agent.host),
                "admin_state_up": .bool(settings[id]?.adminStateUp ?? true), "alive": .bool(agent.alive),
                "availability_zone": agent.type == "linuxbridge" ? nil : "nova",
                "created_at": .string(Self.agentTime(agent.startedAt)),
                "started_at": .string(Self.agentTime(agent.startedAt)),
                "heartbeat_timestamp": .string(Self.agentTime(agent.heartbeatAt)), "configurations": [:],
                "description": .optional(settings[id]?.description),
                "resources_synced": nil,
            ]
        }
    }

    func extensionRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/extensions") { request, _ in
            _ = try await caller(request)
            return Response.json(["extensions": .array(Self.extensions.map(Self.extensionBody))])
        }
        router.get("/v2.0/extensions/:alias") { request, context in
            _ = try await caller(request)
            let alias = try context.parameters.require("alias")
            guard let entry = Self.extensions.first(where: { $0.0 == alias }) else {
                throw NeutronFault(.notFound, "HTTPNotFound", "Extension with alias \(alias) does not exist")
            }
            return Response.json(["extension": Self.extensionBody(entry)])
        }
        router.get("/v2.0/service-providers") { request, _ in
            _ = try await caller(request)
            return Response.json(["service_providers": []])
        }
        router.get("/v2.0/availability_zones") { request, _ in
            _ = try await caller(request)
            let zones: [JSON] = ["network", "router"].map {
                ["name": .string(NetworkState.zone), "resource": .string($0), "state": "available"]
            }
            return try NeutronListing(
                query: ListQuery(request), collection: "availability_zones", path: "/v2.0/availability_zones"
            )
            .respond(zones, sorted: false)
        }
        router.get("/v2.0/agents") { request, _ in
            let caller = try await caller(request)
            guard caller.isAdmin else { return Response.json(["agents": []]) }
            return try NeutronListing(query: ListQuery(request), collection: "agents", path: "/v2.0/agents")
                .respond(try agentBodies(), caseInsensitive: ["agent_type"])
        }
        router.get("/v2.0/agents/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            guard caller.isAdmin, let agent = try agentBodies().first(where: { $0["id"]?.string == id }) else {
                throw NeutronFault(.notFound, "AgentNotFound", "Agent \(id) could not be found.")
            }
            return Response.json(["agent": agent])
        }
        router.delete("/v2.0/agents/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            guard caller.isAdmin,
                let agent = try agents.agents().first(where: { Self.agentID(type: $0.type, host: $0.host) == id })
            else { throw NeutronFault(.notFound, "AgentNotFound", "Agent \(id) could not be found.") }
            _ = try agents.remove(host: agent.host, type: agent.type)
            try store.write { transaction in
                transaction.state.agentSettings[id] = nil
                transaction.touchAgent(id)
            }
            return Response.empty()
        }
        // An admin sets `admin_state_up` and `description`; the rest is the agent's own.
        router.put("/v2.0/agents/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            guard caller.isAdmin, try agentBodies().contains(where: { $0["id"]?.string == id }) else {
                throw NeutronFault(.notFound, "AgentNotFound", "Agent \(id) could not be found.")
            }
            let given = try await body(request, context: context)
            guard let members = given["agent"]?.members else {
                throw NeutronFault.badRequest("Resource body required")
            }
            var setting = store.snapshot.agentSettings[id] ?? AgentSetting(adminStateUp: true, description: nil)
            for (key, value) in members {
                switch key {
                case "admin_state_up":
                    guard let flag = value.bool else {
                        throw NeutronFault.badRequest(
                            "Invalid input for admin_state_up. Reason: '\(value.text)' is not a valid boolean value.")
                    }
                    setting.adminStateUp = flag
                case "description":
                    guard value.isNull || (value.string?.count ?? 256) <= 255 else {
                        throw NeutronFault.badRequest(
                            "Invalid input for description. Reason: '\(value.text)' is not a valid string.")
                    }
                    setting.description = value.string
                default:
                    throw NeutronFault.badRequest("Cannot update read-only attribute \(key)")
                }
            }
            try store.write { transaction in
                transaction.state.agentSettings[id] = setting
                transaction.touchAgent(id)
            }
            let agent = try agentBodies().first { $0["id"]?.string == id } ?? [:]
            return Response.json(["agent": agent])
        }
        quotaRoutes(on: router)
    }

    // MARK: Quotas

    func quotaBody(_ state: NetworkState, project: String) -> JSON {
        .object(
            settings.quotas.keys.sorted().map { key in
                (key, .int(Int64(state.quotas[project]?.limits[key] ?? settings.quotas[key] ?? -1)))
            })
    }

    func quotaRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/quotas") { request, _ in
            let caller = try await caller(request)
            guard caller.isAdmin else { throw NeutronFault.policy("get_quota") }
            let state = store.snapshot
            return Response.json([
                "quotas": .array(
                    state.quotas.keys.sorted().map { project in
                        var body = quotaBody(state, project: project).members ?? []
                        body += [("project_id", .string(project)), ("tenant_id", .string(project))]
                        return .object(body)
                    })
            ])
        }
        router.get("/v2.0/quotas/project") { request, _ in
            let caller = try await caller(request)
            return Response.json([
                "project": ["project_id": .optional(caller.projectID), "tenant_id": .optional(caller.projectID)]
            ])
        }
        router.get("/v2.0/quotas/:project") { request, context in
            let caller = try await caller(request)
            let project = try context.parameters.require("project")
            guard caller.isAdmin || caller.owns(project) else { throw NeutronFault.policy("get_quota") }
            return Response.json(["quota": quotaBody(store.snapshot, project: project)])
        }
        router.get("/v2.0/quotas/:project/default") { request, context in
            let caller = try await caller(request)
            let project = try context.parameters.require("project")
            guard caller.isAdmin || caller.owns(project) else { throw NeutronFault.policy("get_quota") }
            return Response.json([
                "quota": .object(settings.quotas.keys.sorted().map { ($0, .int(Int64(settings.quotas[$0] ?? -1))) })
            ])
        }
        router.get("/v2.0/quotas/:project/details") { request, context in
            let caller = try await caller(request)
            let project = try context.parameters.require("project")
            guard caller.isAdmin || caller.owns(project) else {
                throw NeutronFault(
                    .forbidden, "AdminRequired",
                    "User does not have admin privileges: Non-admin is not authorized to access quotas for another project."
                )
            }
            let state = store.snapshot
            let counted = Dictionary(uniqueKeysWithValues: ResourceKind.allCases.map { ($0.member, $0) })
            return Response.json([
                "quota": .object(
                    settings.quotas.keys.sorted().map { key in
                        let used = counted[key].map { state.count($0, project: project) } ?? 0
                        let limit = state.quotas[project]?.limits[key] ?? settings.quotas[key] ?? -1
                        return (key, ["limit": .int(Int64(limit)), "used": .int(Int64(used)), "reserved": 0])
                    })
            ])
        }
        router.put("/v2.0/quotas/:project") { request, context in
            let caller = try await caller(request)
            let project = try context.parameters.require("project")
            guard caller.isAdmin else { throw NeutronFault.policy("update_quota") }
            let body = try await body(request, context: context)
            guard let members = body["quota"]?.members else {
                throw NeutronFault.badRequest("Unable to find 'quota' in request body")
            }
            var limits: [String: Int] = [:]
            for (key, value) in members {
                guard settings.quotas[key] != nil else {
                    throw NeutronFault.badRequest("Unrecognized attribute(s) '\(key)'")
                }
                guard let number = value.int ?? value.string.flatMap({ Int64($0) }), number >= -1,
                    number <= Int64(Int32.max)
                else {
                    throw NeutronFault.badRequest(
                        "Invalid input for \(key). Reason: '\(value.string ?? value.text)' is not an integer.")
                }
                limits[key] = Int(number)
            }
            let answer = try store.write { transaction -> JSON in
                var quota = transaction.state.quotas[project] ?? Quota(projectID: project, limits: [:])
                quota.limits.merge(limits) { _, new in new }
                transaction.state.quotas[project] = quota
                transaction.touchQuota(project)
                return quotaBody(transaction.state, project: project)
            }
            return Response.json(["quota": answer])
        }
        router.delete("/v2.0/quotas/:project") { request, context in
            let caller = try await caller(request)
            let project = try context.parameters.require("project")
            guard caller.isAdmin else { throw NeutronFault.policy("delete_quota") }
            try store.write { transaction in
                transaction.state.quotas[project] = nil
                transaction.touchQuota(project)
            }
            return Response.empty()
        }
    }

    // MARK: Tags

    func tagRoutes(on router: Hummingbird.Router<ServiceContext>) {
        let kinds: [ResourceKind] = [.network, .subnet, .subnetpool, .port, .router, .floatingip, .securityGroup]
        for kind in kinds {
            let base = "/v2.0/\(kind.path)/:id/tags"
            router.get(RouterPath(base)) { request, context in
                let caller = try await caller(request)
                let id = try context.parameters.require("id")
                let state = store.snapshot
                try tagTarget(state, kind, id, caller)
                return Response.json(["tags": .array(Self.tags(state, kind, id).map(JSON.string))])
            }
            router.get(RouterPath(base + "/:tag")) { request, context in
                let caller = try await caller(request)
                let id = try context.parameters.require("id")
                let tag = try context.parameters.require("tag")
                let state = store.snapshot
                try tagTarget(state, kind, id, caller)
                guard Self.tags(state, kind, id).contains(tag) else {
                    throw NeutronFault(.notFound, "TagNotFound", "Tag \(tag) could not be found.")
                }
                return Response.empty()
            }
            router.put(RouterPath(base)) { request, context in
                let caller = try await caller(request)
                let id = try context.parameters.require("id")
                let body = try await body(request, context: context)
                guard let list = body["tags"]?.array else {
                    throw NeutronFault.badRequest("Invalid input for tags. Reason: Invalid data format for tags.")
                }
                let tags = try list.map { value in
                    guard let tag = value.string else {
                        throw NeutronFault.badRequest(
                            "Invalid input for tags. Reason: '\(value.text)' is not a valid string.")
                    }
                    return tag
                }
                let stored = try store.write { transaction in
                    try setTags(kind, id, caller, &transaction) { _ in tags }
                }
                return Response.json(["tags": .array(stored.map(JSON.string))])
            }
            router.put(RouterPath(base + "/:tag")) { request, context in
                let caller = try await caller(request)
                let id = try context.parameters.require("id")
                let tag = try context.parameters.require("tag")
                _ = try store.write { transaction in try setTags(kind, id, caller, &transaction) { $0 + [tag] } }
                return Response.empty(.created)
            }
            router.delete(RouterPath(base)) { request, context in
                let caller = try await caller(request)
                let id = try context.parameters.require("id")
                _ = try store.write { transaction in try setTags(kind, id, caller, &transaction) { _ in [] } }
                return Response.empty()
            }
            router.delete(RouterPath(base + "/:tag")) { request, context in
                let caller = try await caller(request)
                let id = try context.parameters.require("id")
                let tag = try context.parameters.require("tag")
                _ = try store.write { transaction in
                    try setTags(kind, id, caller, &transaction) { tags in
                        guard tags.contains(tag) else {
                            throw NeutronFault(.notFound, "TagNotFound", "Tag \(tag) could not be found.")
                        }
                        return tags.filter { $0 != tag }
                    }
                }
                return Response.empty()
            }
        }
    }

    func tagTarget(_ state: NetworkState, _ kind: ResourceKind, _ id: String, _ caller: Caller) throws {
        guard state.render(kind, id) != nil, canSee(state, kind, id, caller) else {
            throw NeutronFault(.notFound, "TagResourceNotFound", "Resource \(id) could not be found.")
        }
    }

    static func tags(_ state: NetworkState, _ kind: ResourceKind, _ id: String) -> [String] {
        (state.common(kind, id)?.tags ?? []).sorted()
    }

    /// Replaces a resource's tags with what `change` makes of them (at most 50, each at
    /// most 255 characters, no duplicates).
    func setTags(
        _ kind: ResourceKind, _ id: String, _ caller: Caller, _ transaction: inout NetworkStore.Transaction,
        _ change: ([String]) throws -> [String]
    ) throws -> [String] {
        try tagTarget(transaction.state, kind, id, caller)
        guard var common = transaction.state.common(kind, id) else { throw NeutronFault.notFound(kind, id) }
        guard PolicyRule.project(.member).allows(caller, owner: common.projectID) else {
            throw NeutronFault.policy("update_\(kind.member)_tags")
        }
        var seen = Set<String>()
        let tags = try change(common.tags).filter { seen.insert($0).inserted }
        for tag in tags where tag.isEmpty || tag.count > 255 || tag.contains(",") {
            throw NeutronFault.badRequest("Invalid input for operation: '\(tag)' is not a valid tag.")
        }
        guard tags.count <= 50 else {
            throw NeutronFault.badRequest("Invalid input for operation: Number of tags exceeds the maximum of 50.")
        }
        common.tags = tags
        common.revision += 1
        common.updatedAt = clock()
        transaction.state.setCommon(kind, id, common)
        transaction.touch(kind, id)
        return tags.sorted()
    }
}

extension NetworkState {
    func common(_ kind: ResourceKind, _ id: String) -> Common? {
        switch kind {
        case .network: networks[id]?.common
        case .subnet: subnets[id]?.common
        case .subnetpool: subnetPools[id]?.common
        case .port: ports[id]?.common
        case .router: routers[id]?.common
        case .floatingip: floatingIPs[id]?.common
        case .securityGroup: securityGroups[id]?.common
        case .securityGroupRule: rules[id]?.common
        }
    }

    mutating func setCommon(_ kind: ResourceKind, _ id: String, _ common: Common) {
        switch kind {
        case .network: networks[id]?.common = common
        case .subnet: subnets[id]?.common = common
        case .subnetpool: subnetPools[id]?.common = common
        case .port: ports[id]?.common = common
        case .router: routers[id]?.common = common
        case .floatingip: floatingIPs[id]?.common = common
        case .securityGroup: securityGroups[id]?.common = common
        case .securityGroupRule: rules[id]?.common = common
        }
    }
}
