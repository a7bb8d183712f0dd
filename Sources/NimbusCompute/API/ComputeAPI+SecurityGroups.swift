import Foundation
import Hummingbird
import NimbusServiceKit

/// Nova's security group proxy (`os-security-groups`, `os-security-group-rules`, a
/// server's `os-security-groups`), up to microversion 2.35 as in Nova (404 above): each
/// call goes to the network service with the caller's token, and the answers are put in
/// Nova's shape (ingress rules only, `from_port`/`to_port` -1 for "any").
extension ComputeAPI {
    func securityGroupRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/os-security-groups") { request, context in
            let (peers, token) = try await proxy(request, context)
            let answer = try await peers.send(.network, .GET, "/v2.0/security-groups", token: token)
            try Self.check(answer)
            let groups = answer.body["security_groups"]?.array ?? []
            let names = Self.groupNames(groups)
            return Response.json(["security_groups": .array(groups.map { Self.novaGroup($0, names: names) })])
        }
        router.post("/v2.1/os-security-groups") { request, context in
            let (peers, token) = try await proxy(request, context)
            let given = try member(try await body(request, context: context), "security_group")
            guard let name = given["name"]?.string, !name.isEmpty, name.count <= 255 else {
                throw ComputeFault.badRequest("Security group name is a required string of 1 to 255 characters.")
            }
            let description = given["description"]?.string ?? ""
            guard description.count <= 255 else {
                throw ComputeFault.badRequest("Security group description is at most 255 characters.")
            }
            let answer = try await peers.send(
                .network, .POST, "/v2.0/security-groups", token: token,
                body: ["security_group": ["name": .string(name), "description": .string(description)]])
            try Self.check(answer)
            let group = answer.body["security_group"] ?? .null
            return Response.json(["security_group": Self.novaGroup(group, names: Self.groupNames([group]))])
        }
        router.get("/v2.1/os-security-groups/:id") { request, context in
            let (peers, token) = try await proxy(request, context)
            let id = try context.parameters.require("id")
            let group = try await securityGroup(id, peers: peers, token: token)
            let all = try await peers.send(.network, .GET, "/v2.0/security-groups", token: token)
            let names = Self.groupNames(all.body["security_groups"]?.array ?? [group])
            return Response.json(["security_group": Self.novaGroup(group, names: names)])
        }
        router.put("/v2.1/os-security-groups/:id") { request, context in
            let (peers, token) = try await proxy(request, context)
            let id = try context.parameters.require("id")
            let given = try member(try await body(request, context: context), "security_group")
            var fields: [(String, JSON)] = []
            if let name = given["name"]?.string { fields.append(("name", .string(name))) }
            if let description = given["description"]?.string { fields.append(("description", .string(description))) }
            let answer = try await peers.send(
                .network, .PUT, "/v2.0/security-groups/\(id)", token: token,
                body: ["security_group": .object(fields)])
            try Self.check(answer, notFound: "Security group \(id) not found.")
            let group = answer.body["security_group"] ?? .null
            return Response.json(["security_group": Self.novaGroup(group, names: Self.groupNames([group]))])
        }
        router.delete("/v2.1/os-security-groups/:id") { request, context in
            let (peers, token) = try await proxy(request, context)
            let id = try context.parameters.require("id")
            let answer = try await peers.send(.network, .DELETE, "/v2.0/security-groups/\(id)", token: token)
            try Self.check(answer, notFound: "Security group \(id) not found.")
            return Response(status: .accepted)
        }
        router.post("/v2.1/os-security-group-rules") { request, context in
            let (peers, token) = try await proxy(request, context)
            let given = try member(try await body(request, context: context), "security_group_rule")
            let rule = try Self.neutronRule(given)
            let parent = rule["security_group_id"]?.string ?? ""
            _ = try await securityGroup(parent, peers: peers, token: token)
            let answer = try await peers.send(
                .network, .POST, "/v2.0/security-group-rules", token: token, body: ["security_group_rule": rule])
            if answer.status == 409 {
                throw ComputeFault.badRequest("Security group rule already exists. Group id is \(parent).")
            }
            try Self.check(answer)
            let made = answer.body["security_group_rule"] ?? .null
            let all = try await peers.send(.network, .GET, "/v2.0/security-groups", token: token)
            let names = Self.groupNames(all.body["security_groups"]?.array ?? [])
            return Response.json(["security_group_rule": Self.novaRule(made, names: names)])
        }
        router.delete("/v2.1/os-security-group-rules/:id") { request, context in
            let (peers, token) = try await proxy(request, context)
            let id = try context.parameters.require("id")
            let answer = try await peers.send(.network, .DELETE, "/v2.0/security-group-rules/\(id)", token: token)
            try Self.check(answer, notFound: "Security group rule \(id) not found.")
            return Response(status: .accepted)
        }
        router.get("/v2.1/servers/:id/os-security-groups") { request, context in
            let (peers, token) = try await proxy(request, context)
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let answer = try await peers.send(.network, .GET, "/v2.0/security-groups", token: token)
            let groups = (answer.body["security_groups"]?.array ?? []).filter {
                server.securityGroups.contains($0["name"]?.string ?? "")
            }
            let names = Self.groupNames(answer.body["security_groups"]?.array ?? [])
            return Response.json(["security_groups": .array(groups.map { Self.novaGroup($0, names: names) })])
        }
    }

    /// The network service and the caller's token, for a request at 2.35 or below.
    func proxy(_ request: Request, _ context: ServiceContext) async throws -> (ComputePeers, String) {
        _ = try await caller(request)
        guard Self.version(context) <= Microversion(2, 35) else {
            throw ComputeFault.notFound("The resource could not be found.")
        }
        guard let peers else {
            throw ComputeFault(.serviceUnavailable, "The compute service has no network service to ask.")
        }
        return (peers, request.headers[.xAuthToken] ?? "")
    }

    func securityGroup(_ id: String, peers: ComputePeers, token: String) async throws -> JSON {
        let answer = try await peers.send(.network, .GET, "/v2.0/security-groups/\(id)", token: token)
        if answer.status == 404 || answer.status == 400 {
            throw ComputeFault.notFound("Security group \(id) not found.")
        }
        try Self.check(answer)
        return answer.body["security_group"] ?? .null
    }

    /// The network service's refusal as Nova passes it on.
    static func check(_ answer: (status: Int, body: JSON), notFound: String? = nil) throws {
        switch answer.status {
        case 200...299: return
        case 404: throw ComputeFault.notFound(notFound ?? ComputePeers.message(answer.body))
        case 409: throw ComputeFault.conflict(ComputePeers.message(answer.body))
        case 400: throw ComputeFault.badRequest(ComputePeers.message(answer.body))
        case 401, 403: throw ComputeFault(.forbidden, ComputePeers.message(answer.body))
        default:
            throw ComputeFault(
                .serviceUnavailable,
                "The network service answered \(answer.status): \(ComputePeers.message(answer.body))")
        }
    }

    /// Group id → (name, project), for the `group` of a rule naming a remote group.
    static func groupNames(_ groups: [JSON]) -> [String: (name: String, project: String)] {
        var names: [String: (name: String, project: String)] = [:]
        for group in groups {
            if let id = group["id"]?.string {
                names[id] = (group["name"]?.string ?? "", group["project_id"]?.string ?? "")
            }
        }
        return names
    }

    static func novaGroup(_ group: JSON, names: [String: (name: String, project: String)]) -> JSON {
        let rules = (group["security_group_rules"]?.array ?? []).filter { $0["direction"]?.string == "ingress" }
        return [
            "id": .string(group["id"]?.string ?? ""), "name": .string(group["name"]?.string ?? ""),
            "description": .string(group["description"]?.string ?? ""),
            "tenant_id": .string(group["project_id"]?.string ?? group["tenant_id"]?.string ?? ""),
            "rules": .array(rules.map { novaRule($0, names: names) }),
        ]
    }

    static func novaRule(_ rule: JSON, names: [String: (name: String, project: String)]) -> JSON {
        var group: JSON = [:]
        if let remote = rule["remote_group_id"]?.string, let named = names[remote] {
            group = ["name": .string(named.name), "tenant_id": .string(named.project)]
        }
        let prefix = rule["remote_ip_prefix"]?.string
        return [
            "id": .string(rule["id"]?.string ?? ""),
            "parent_group_id": .string(rule["security_group_id"]?.string ?? ""),
            "ip_protocol": .optional(rule["protocol"]?.string),
            "from_port": .int(rule["port_range_min"]?.int ?? -1), "to_port": .int(rule["port_range_max"]?.int ?? -1),
            "ip_range": prefix.map { ["cidr": .string($0)] }
                ?? (rule["remote_group_id"]?.string == nil
                    ? ["cidr": "0.0.0.0/0"] : [:]),
            "group": group,
        ]
    }

    /// A Nova rule request as the network service's ingress rule, checked as Nova checks it.
    static func neutronRule(_ given: JSON) throws -> JSON {
        guard let parent = given["parent_group_id"].flatMap({ $0.string ?? $0.int.map(String.init) }), !parent.isEmpty
        else { throw ComputeFault.badRequest("parent_group_id is required.") }
        let proto = given["ip_protocol"]?.string?.lowercased()
        func port(_ key: String) throws -> Int64? {
            guard let value = given[key], !value.isNull else { return nil }
            guard let number = value.int ?? value.string.flatMap({ Int64($0) }) else {
                throw ComputeFault.badRequest("Invalid port range: \(key) must be an integer.")
            }
            return number
        }
        let from = try port("from_port")
        let to = try port("to_port")
        var fields: [(String, JSON)] = [("security_group_id", .string(parent)), ("direction", "ingress")]
        let cidr = given["cidr"]?.string
        let remoteGroup = given["group_id"]?.string
        if cidr != nil, remoteGroup != nil {
            throw ComputeFault.badRequest("Invalid input received: cidr and group_id cannot both be given.")
        }
        fields.append(("ethertype", cidr?.contains(":") == true ? "IPv6" : "IPv4"))
        if let proto {
            guard ["tcp", "udp", "icmp"].contains(proto) || Int(proto) != nil else {
                throw ComputeFault.badRequest("Invalid IP protocol \(proto).")
            }
            fields.append(("protocol", .string(proto)))
            if proto == "tcp" || proto == "udp" {
                guard let from, let to, (1...65535).contains(from), (1...65535).contains(to), from <= to else {
                    throw ComputeFault.badRequest(
                        "Invalid port range \(from.map(String.init) ?? "None"):\(to.map(String.init) ?? "None"). Valid TCP ports should be between 1-65535"
                    )
                }
                fields += [("port_range_min", .int(from)), ("port_range_max", .int(to))]
            } else if proto == "icmp" {
                if let from, from != -1 {
                    guard (0...255).contains(from) else { throw ComputeFault.badRequest("Invalid ICMP type \(from).") }
                    fields.append(("port_range_min", .int(from)))
                }
                if let to, to != -1 {
                    guard (0...255).contains(to) else { throw ComputeFault.badRequest("Invalid ICMP code \(to).") }
                    fields.append(("port_range_max", .int(to)))
                }
            }
        }
        if let remoteGroup {
            fields.append(("remote_group_id", .string(remoteGroup)))
        } else {
            fields.append(("remote_ip_prefix", .string(cidr ?? "0.0.0.0/0")))
        }
        return .object(fields)
    }
}
