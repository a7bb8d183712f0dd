import Hummingbird
import NimbusServiceKit

/// `/v2.0/security-groups` and `/v2.0/security-group-rules`, with each project's `default`
/// group made on first use, as Neutron does.
extension NetworkAPI {
    func securityGroupRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/security-groups") { request, _ in
            let caller = try await caller(request)
            try ensureDefaultGroup(caller.projectID)
            let state = store.snapshot
            return try list(request, .securityGroup, Array(state.securityGroups.keys), state, caller)
        }
        router.get("/v2.0/security-groups/:id") { request, context in
            let caller = try await caller(request)
            try ensureDefaultGroup(caller.projectID)
            return try await show(request, .securityGroup, try context.parameters.require("id"))
        }
        router.post("/v2.0/security-groups") { request, context in
            let caller = try await caller(request)
            let (items, bulk) = try creations(try await body(request, context: context), .securityGroup)
            let created = try store.write { transaction in
                try items.map { given in
                    var attributes = given
                    let project = try owner(&attributes, caller)
                    _ = try defaultGroup(project, &transaction)
                    let name = try attributes.string("name") ?? ""
                    guard name.lowercased() != "default" else {
                        throw NeutronFault.conflict(
                            "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
                    }
                    try checkQuota(transaction.state, .securityGroup, project: project)
                    let group = SecurityGroup(
                        common: Common(
                            id: Self.newID(), projectID: project, name: name,
                            description: try attributes.string("description") ?? "", now: clock()),
                        stateful: try attributes.bool("stateful") ?? true)
                    try attributes.finish(method: "POST")
                    transaction.state.securityGroups[group.common.id] = group
                    for ethertype in ["IPv4", "IPv6"] {
                        addRule(to: group, direction: "egress", ethertype: ethertype, remoteGroup: nil, &transaction)
                    }
                    transaction.touch(.securityGroup, group.common.id)
                    return transaction.state.render(group)
                }
            }
            return Self.created(.securityGroup, created, bulk: bulk)
        }
        router.put("/v2.0/security-groups/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            var attributes = try attributes(try await body(request, context: context), .securityGroup)
            let updated = try store.write { transaction -> JSON in
                guard var group = transaction.state.securityGroups[id] else {
                    throw NeutronFault.notFound(.securityGroup, id)
                }
                try modifiable(transaction.state, .securityGroup, id, owner: group.common.projectID, caller, "update")
                if let name = try attributes.string("name") {
                    if group.common.name == "default", name != "default" {
                        throw NeutronFault.conflict(
                            "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
                    }
                    if name.lowercased() == "default", group.common.name != "default" {
                        throw NeutronFault.conflict(
                            "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
                    }
                    group.common.name = name
                }
                if let description = try attributes.string("description") { group.common.description = description }
                if let stateful = try attributes.bool("stateful") { group.stateful = stateful }
                try attributes.finish(method: "PUT", readOnly: ["tenant_id", "project_id"])
                group.common.updatedAt = clock()
                group.common.revision += 1
                transaction.state.securityGroups[id] = group
                transaction.touch(.securityGroup, id)
                return transaction.state.render(group)
            }
            return Response.json(["security_group": updated])
        }
        router.delete("/v2.0/security-groups/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in
                guard let group = transaction.state.securityGroups[id] else {
                    throw NeutronFault.notFound(.securityGroup, id)
                }
                try modifiable(transaction.state, .securityGroup, id, owner: group.common.projectID, caller, "delete")
                if group.common.name == "default", !caller.isAdmin {
                    throw NeutronFault.conflict(
                        "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.")
                }
                guard !transaction.state.ports.values.contains(where: { $0.securityGroups.contains(id) }) else {
                    throw NeutronFault.conflict("SecurityGroupInUse", "Security Group \(id) in use.")
                }
                for rule in transaction.state.rules.values
                where rule.securityGroupID == id || rule.remoteGroupID == id {
                    transaction.state.rules[rule.common.id] = nil
                    transaction.touch(.securityGroupRule, rule.common.id)
                    if rule.securityGroupID != id { transaction.touch(.securityGroup, rule.securityGroupID) }
                }
                transaction.state.securityGroups[id] = nil
                transaction.touch(.securityGroup, id)
            }
            return Response.empty()
        }
        ruleRoutes(on: router)
    }

    func ruleRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.0/security-group-rules") { request, _ in
            let caller = try await caller(request)
            try ensureDefaultGroup(caller.projectID)
            let state = store.snapshot
            return try list(request, .securityGroupRule, Array(state.rules.keys), state, caller)
        }
        router.get("/v2.0/security-group-rules/:id") { request, context in
            try await show(request, .securityGroupRule, try context.parameters.require("id"))
        }
        router.post("/v2.0/security-group-rules") { request, context in
            let caller = try await caller(request)
            let (items, bulk) = try creations(try await body(request, context: context), .securityGroupRule)
            let created = try store.write { transaction in
                try items.map { given in
                    var attributes = given
                    let rule = try createRule(&attributes, caller, &transaction)
                    return transaction.state.render(rule)
                }
            }
            return Self.created(.securityGroupRule, created, bulk: bulk)
        }
        router.delete("/v2.0/security-group-rules/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            try store.write { transaction in
                guard let rule = transaction.state.rules[id] else {
                    throw NeutronFault.notFound(.securityGroupRule, id)
                }
                try modifiable(
                    transaction.state, .securityGroupRule, id, owner: rule.common.projectID, caller, "delete")
                transaction.state.rules[id] = nil
                transaction.touch(.securityGroupRule, id)
                transaction.touch(.securityGroup, rule.securityGroupID)
            }
            return Response.empty()
        }
    }

    /// Makes the project's `default` group when it has none (a write only then).
    func ensureDefaultGroup(_ project: String?) throws {
        guard let project, store.snapshot.defaultGroup(of: project) == nil else { return }
        _ = try store.write { transaction in try defaultGroup(project, &transaction).common.id }
    }

    /// The project's `default` group, made with Neutron's four rules when missing: ingress
    /// from members of the group and egress anywhere, IPv4 and IPv6.
    func defaultGroup(_ project: String, _ transaction: inout NetworkStore.Transaction) throws -> SecurityGroup {
        if let group = transaction.state.defaultGroup(of: project) { return group }
        let group = SecurityGroup(
            common: Common(
                id: Self.newID(), projectID: project, name: "default", description: "Default security group",
                now: clock()),
            stateful: true)
        transaction.state.securityGroups[group.common.id] = group
        for ethertype in ["IPv4", "IPv6"] {
            addRule(to: group, direction: "ingress", ethertype: ethertype, remoteGroup: group.common.id, &transaction)
            addRule(to: group, direction: "egress", ethertype: ethertype, remoteGroup: nil, &transaction)
        }
        transaction.touch(.securityGroup, group.common.id)
        return group
    }

    func addRule(
        to group: SecurityGroup, direction: String, ethertype: String, remoteGroup: String?,
        _ transaction: inout NetworkStore.Transaction
    ) {
        let rule = SecurityGroupRule(
            common: Common(id: Self.newID(), projectID: group.common.projectID, now: clock()),
            securityGroupID: group.common.id, direction: direction, ethertype: ethertype, proto: nil,
            portRangeMin: nil, portRangeMax: nil, remoteIPPrefix: nil, remoteGroupID: remoteGroup)
        transaction.state.rules[rule.common.id] = rule
        transaction.touch(.securityGroupRule, rule.common.id)
    }

    /// The protocol names Neutron accepts (and their numbers).
    static let protocolNumbers: [String: Int] = [
        "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1, "igmp": 2, "ip": 0,
        "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
        "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17,
        "udplite": 136, "vrrp": 112,
    ]

    func createRule(_ attributes: inout Attributes, _ caller: Caller, _ transaction: inout NetworkStore.Transaction)
        throws -> SecurityGroupRule
    {
        try attributes.require("security_group_id")
        try attributes.require("direction")
        guard let groupID = try attributes.string("security_group_id") else {
            throw NeutronFault.badRequest(
                "Failed to parse request. Required attribute 'security_group_id' not specified")
        }
        if let project = caller.projectID { _ = try defaultGroup(project, &transaction) }
        guard let group = transaction.state.securityGroups[groupID],
            canSee(transaction.state, .securityGroup, groupID, caller)
        else { throw NeutronFault.notFound(.securityGroup, groupID) }
        try modifiable(transaction.state, .securityGroup, groupID, owner: group.common.projectID, caller, "create")
        var project = group.common.projectID
        if caller.isAdmin, let given = try attributes.string("project_id") ?? attributes.string("tenant_id") {
            project = given
        } else {
            _ = try attributes.string("project_id")
            _ = try attributes.string("tenant_id")
        }
        try checkQuota(transaction.state, .securityGroupRule, project: group.common.projectID)
        let direction = try attributes.string("direction") ?? ""
        guard direction == "ingress" || direction == "egress" else {
            throw NeutronFault.badRequest(
                "Invalid input for direction. Reason: '\(direction)' is not in ['ingress', 'egress'].")
        }
        let givenEthertype = try attributes.string("ethertype") ?? "IPv4"
        let ethertype =
            givenEthertype.lowercased() == "ipv4" ? "IPv4" : givenEthertype.lowercased() == "ipv6" ? "IPv6" : ""
        guard !ethertype.isEmpty else {
            throw NeutronFault(
                .badRequest, "SecurityGroupRuleInvalidEtherType",
                "Security group rule for ethertype '\(givenEthertype)' not supported. Allowed values are ['IPv4', 'IPv6']."
            )
        }
        var proto: String?
        if let value = attributes.value("protocol"), !value.isNull {
            let text = value.string ?? (value.int.map { String($0) } ?? value.text)
            if let number = Int(text) {
                guard (0...255).contains(number) else { throw Self.unsupportedProtocol(text) }
            } else {
                guard Self.protocolNumbers[text.lowercased()] != nil || text.lowercased() == "any" else {
                    throw Self.unsupportedProtocol(text)
                }
            }
            proto = text.lowercased() == "any" ? nil : text.lowercased()
        }
        var low = try attributes.int("port_range_min")
        var high = try attributes.int("port_range_max")
        try Self.checkPorts(proto: proto, low: low, high: high)
        // The whole port range is the same as none (Neutron stores null/null).
        if low == 1, high == 65535, Self.portProtocols.contains(proto ?? "") {
            low = nil
            high = nil
        }
        var prefix = try attributes.string("remote_ip_prefix")
        let remoteGroup = try attributes.string("remote_group_id")
        _ = try attributes.string("description")
        _ = attributes.value("remote_address_group_id")
        if prefix != nil, remoteGroup != nil {
            throw NeutronFault.badRequest(
                "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.")
        }
        if let text = prefix {
            guard let network = IPNetwork(truncating: text) else {
                throw NeutronFault(.badRequest, "InvalidCIDR", "Invalid CIDR \(text) given as IP prefix.")
            }
            guard (network.version == .v4) == (ethertype == "IPv4") else {
                throw NeutronFault(
                    .badRequest, "SecurityGroupRuleParameterConflict",
                    "Conflicting value ethertype \(ethertype) for CIDR \(text)")
            }
            prefix = network.description
        }
        if let remoteGroup, transaction.state.securityGroups[remoteGroup] == nil {
            throw NeutronFault.notFound(.securityGroup, remoteGroup)
        }
        if ethertype == "IPv6" {
            if proto == "icmp" || proto == "icmpv6" { proto = "ipv6-icmp" }
            if proto == "1" { proto = "58" }
        }
        try attributes.finish(method: "POST")
        var rule = SecurityGroupRule(
            common: Common(id: Self.newID(), projectID: project, now: clock()), securityGroupID: groupID,
            direction: direction, ethertype: ethertype, proto: proto, portRangeMin: low, portRangeMax: high,
            remoteIPPrefix: prefix, remoteGroupID: remoteGroup)
        rule.common.description = attributes.members.first { $0.0 == "description" }?.1.string ?? ""
        if let same = transaction.state.rules(of: groupID).first(where: { Self.sameRule($0, rule) }) {
            throw NeutronFault.conflict(
                "SecurityGroupRuleExists", "Security group rule already exists. Rule id is \(same.common.id).")
        }
        transaction.state.rules[rule.common.id] = rule
        transaction.touch(.securityGroupRule, rule.common.id)
        transaction.touch(.securityGroup, groupID)
        return rule
    }

    static func unsupportedProtocol(_ text: String) -> NeutronFault {
        let names = ["None", "'any'"] + protocolNumbers.keys.sorted().map { "'\($0)'" }
        return NeutronFault(
            .badRequest, "SecurityGroupRuleInvalidProtocol",
            "Security group rule protocol \(text) not supported. Only protocol values [\(names.joined(separator: ", "))] and integer representations [0 to 255] are supported."
        )
    }

    /// Protocols with ports (names and numbers).
    static let portProtocols: Set = ["tcp", "udp", "sctp", "dccp", "udplite", "6", "17", "132", "33", "136"]

    static func checkPorts(proto: String?, low: Int?, high: Int?) throws {
        guard low != nil || high != nil else { return }
        guard let proto else { throw NeutronFault.badRequest("Must also specify protocol if port range is given.") }
        switch proto {
        case _ where portProtocols.contains(proto):
            for port in [low, high].compactMap({ $0 }) where !(1...65535).contains(port) {
                throw NeutronFault(.badRequest, "SecurityGroupInvalidPortValue", "Invalid value for port \(port).")
            }
            guard let low, let high, low <= high else {
                throw NeutronFault(
                    .badRequest, "SecurityGroupInvalidPortRange",
                    "For TCP/UDP protocols, port_range_min must be <= port_range_max")
            }
        case "icmp", "ipv6-icmp", "icmpv6", "1", "58":
            if let low, !(0...255).contains(low) {
                throw NeutronFault.badRequest(
                    "Invalid value for ICMP type (port-range-min) \(low). It must be 0 to 255.")
            }
            if let high, !(0...255).contains(high) {
                throw NeutronFault.badRequest(
                    "Invalid value for ICMP code (port-range-max) \(high). It must be 0 to 255.")
            }
            if low == nil, high != nil {
                throw NeutronFault.badRequest(
                    "ICMP code (port-range-max) \(high ?? 0) is provided but ICMP type (port-range-min) is missing.")
            }
        default:
            throw NeutronFault.badRequest("Ports cannot be specified for protocol \(proto).")
        }
    }

    /// Two rules that allow the same traffic (Neutron compares all but ids and description).
    static func sameRule(_ a: SecurityGroupRule, _ b: SecurityGroupRule) -> Bool {
        func number(_ proto: String?) -> Int? { proto.flatMap { Int($0) ?? protocolNumbers[$0] } }
        return a.direction == b.direction && a.ethertype == b.ethertype && number(a.proto) == number(b.proto)
            && a.portRangeMin == b.portRangeMin && a.portRangeMax == b.portRangeMax
            && a.remoteIPPrefix == b.remoteIPPrefix && a.remoteGroupID == b.remoteGroupID
    }
}
