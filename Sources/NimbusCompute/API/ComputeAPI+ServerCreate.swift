import Foundation
import Hummingbird
import NimbusServiceKit

/// `POST /v2.1/servers`: the request checked as Nova checks it (flavor, image, key pair,
/// networks, security groups, quota), the server placed by the scheduler, its ports made
/// and bound to the chosen host by the network service, then handed to that host's agent.
extension ComputeAPI {
    /// A server create request, checked.
    struct ServerRequest {
        var name: String
        var flavor: Flavor
        var imageID: String
        var keyName: String?
        var networks: Networks
        /// Names or ids, as the client gave them (the CLI sends ids in `name`).
        var securityGroups: [String]
        var metadata: [String: String]
        var userData: String?
        var accessIPv4: String
        var accessIPv6: String
        var diskConfig: String
        var configDrive: Bool
        var count: Int
        /// The zone asked for (`availability_zone`), and a host an admin forced (`zone:host`).
        var zone: String? = nil
        var forcedHost: String? = nil
        /// The scheduler hints: a server group, servers to be beside or away from.
        var group: ServerGroup? = nil
        var sameHost: [String] = []
        var differentHost: [String] = []

        enum Networks {
            case auto, none
            case list([(network: String?, port: String?, fixedIP: String?)])
        }
    }

    func parseServer(_ given: JSON, _ state: ComputeState, _ caller: Caller, _ version: Microversion) throws
        -> ServerRequest
    {
        let name = try Self.serverName(given["name"])
        // flavorRef: an id or a link ending in one.
        let flavorRef = given["flavorRef"].flatMap { $0.string ?? $0.int.map(String.init) } ?? ""
        guard !flavorRef.isEmpty else {
            throw ComputeFault.invalid("flavorRef", given["flavorRef"], "'flavorRef' is a required property")
        }
        let flavorID = flavorRef.split(separator: "/").last.map(String.init) ?? flavorRef
        guard let flavor = state.flavors[flavorID], Self.canSee(flavor, caller) else {
            throw ComputeFault.badRequest("Flavor \(flavorID) could not be found.")
        }
        // The image: imageRef, or the boot-index-0 image of block_device_mapping_v2.
        var imageID = given["imageRef"]?.string ?? ""
        for mapping in given["block_device_mapping_v2"]?.array ?? [] {
            let source = mapping["source_type"]?.string ?? ""
            let destination = mapping["destination_type"]?.string ?? "local"
            if source == "image", destination == "local", imageID.isEmpty {
                imageID = mapping["uuid"]?.string ?? ""
            } else if source != "image" || destination != "local" {
                throw ComputeFault.badRequest(
                    "Booting from a volume is not supported by this cloud: boot from an image, then attach the volume (openstack server add volume)."
                )
            }
        }
        imageID = imageID.split(separator: "/").last.map(String.init) ?? imageID
        guard !imageID.isEmpty else { throw ComputeFault.badRequest("Missing imageRef attribute") }
        var keyName: String?
        if let key = given["key_name"], !key.isNull {
            guard let text = key.string, let user = caller.userID as String?,
                state.keyPairs[KeyPair.key(user: user, name: text)] != nil
            else { throw ComputeFault.badRequest("Invalid key_name provided.") }
            keyName = text
        }
        let networks: ServerRequest.Networks
        switch given["networks"] {
        case nil:
            guard version < Microversion(2, 37) else {
                throw ComputeFault.invalid("networks", nil, "'networks' is a required property")
            }
            networks = .auto
        case .string("auto"): networks = .auto
        case .string("none"): networks = .none
        case .array(let list):
            networks = .list(
                try list.map { entry in
                    let network = entry["uuid"]?.string
                    let port = entry["port"]?.string
                    let fixedIP = entry["fixed_ip"]?.string
                    guard network != nil || port != nil else {
                        throw ComputeFault.badRequest("Bad network format: missing 'uuid'")
                    }
                    return (network, port, fixedIP)
                })
        case let other:
            throw ComputeFault.invalid("networks", other, "It must be 'auto', 'none' or a list of networks")
        }
        var groups: [String] = []
        for group in given["security_groups"]?.array ?? [] {
            guard let name = group["name"]?.string, !name.isEmpty else {
                throw ComputeFault.invalid("security_groups", group, "'name' is a required property")
            }
            if !groups.contains(name) { groups.append(name) }
        }
        var metadata: [String: String] = [:]
        if let given = given["metadata"], !given.isNull { metadata = try Self.metadataItems(given) }
        try checkMetadataQuota(metadata.count, state, project: caller.projectID ?? "")
        var userData: String?
        if let data = given["user_data"], !data.isNull {
            guard let text = data.string, text.count <= 65535, Data(base64Encoded: text) != nil else {
                throw ComputeFault.badRequest("User data needs to be valid base 64.")
            }
            userData = text
        }
        let diskConfig = given["OS-DCF:diskConfig"]?.string ?? "MANUAL"
        guard ["AUTO", "MANUAL"].contains(diskConfig) else {
            throw ComputeFault.invalid("OS-DCF:diskConfig", given["OS-DCF:diskConfig"], "It must be AUTO or MANUAL")
        }
        let configDrive: Bool
        switch given["config_drive"] {
        case nil, .some(.null): configDrive = false
        case .some(.bool(let value)): configDrive = value
        case .some(.string(let text)) where Self.trueWords.contains(text) || Self.falseWords.contains(text):
            configDrive = Self.trueWords.contains(text)
        case .some(let other):
            throw ComputeFault.invalid("config_drive", other, "It must be a boolean")
        }
        let (zone, forcedHost) = try parseZone(given["availability_zone"], state, caller)
        let minimum = Int(given["min_count"]?.int ?? given["min_count"]?.string.flatMap { Int64($0) } ?? 1)
        let maximum = Int(given["max_count"]?.int ?? given["max_count"]?.string.flatMap { Int64($0) } ?? Int64(minimum))
        guard minimum >= 1, maximum >= minimum, maximum <= 100 else {
            throw ComputeFault.badRequest("min_count must be 1 or more and no more than max_count (at most 100)")
        }
        return ServerRequest(
            name: name, flavor: flavor, imageID: imageID, keyName: keyName, networks: networks,
            securityGroups: groups.isEmpty ? ["default"] : groups, metadata: metadata, userData: userData,
            accessIPv4: try Self.accessIP(given["accessIPv4"], family: AF_INET, field: "accessIPv4"),
            accessIPv6: try Self.accessIP(given["accessIPv6"], family: AF_INET6, field: "accessIPv6"),
            diskConfig: diskConfig, configDrive: configDrive, count: maximum, zone: zone, forcedHost: forcedHost)
    }

    /// `availability_zone` as Nova reads it: `zone`, `zone:host`, `zone:host:node` or
    /// `:host` (a forced host, admins only); the zone one an enabled host is in.
    func parseZone(_ given: JSON?, _ state: ComputeState, _ caller: Caller) throws -> (String?, String?) {
        guard let given, !given.isNull else { return (nil, nil) }
        guard let text = given.string, !text.isEmpty, text.count <= 255 else {
            throw ComputeFault.invalid("availability_zone", given, "It must be a string of 1 to 255 characters")
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let zone = parts[0].isEmpty ? nil : parts[0]
        let host = parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil
        let known = try hosts()
        if let host {
            guard caller.isAdmin else { throw ComputeFault.policy("os_compute_api:servers:create:forced_host") }
            guard known.contains(where: { $0.name == host }) else {
                throw ComputeFault.badRequest("Compute host \(host) could not be found.")
            }
            if let zone, zone != state.zone(of: host) {
                throw ComputeFault.badRequest(
                    "Host '\(host)' is not a member of availability zone '\(zone)'.")
            }
        }
        if let zone {
            let zones = Set(
                known.filter { state.hostSettings[$0.name]?.disabled != true }.map { state.zone(of: $0.name) })
            guard zones.contains(zone) || (zones.isEmpty && zone == ComputeState.defaultZone) else {
                throw ComputeFault.badRequest("The requested availability zone is not available")
            }
        }
        return (zone, host)
    }

    /// The scheduler hints (`os:scheduler_hints`, or `OS-SCH-HNT:scheduler_hints`):
    /// `group` (a server group the caller sees), `same_host` and `different_host` (servers).
    func parseHints(_ body: JSON, into request: inout ServerRequest, _ state: ComputeState, _ caller: Caller) throws {
        guard let hints = body["os:scheduler_hints"] ?? body["OS-SCH-HNT:scheduler_hints"], !hints.isNull else {
            return
        }
        guard hints.members != nil else {
            throw ComputeFault.invalid("os:scheduler_hints", hints, "It must be an object")
        }
        func servers(_ key: String) throws -> [String] {
            guard let value = hints[key], !value.isNull else { return [] }
            let ids = value.array?.compactMap(\.string) ?? value.string.map { [$0] } ?? []
            for id in ids where state.servers[id] == nil {
                throw ComputeFault.badRequest("Instance \(id) could not be found.")
            }
            return ids
        }
        request.sameHost = try servers("same_host")
        request.differentHost = try servers("different_host")
        if let group = hints["group"], !group.isNull {
            let id = group.string ?? group.array?.first?.string ?? ""
            guard let found = state.serverGroups[id], caller.isAdmin || found.projectID == caller.projectID else {
                throw ComputeFault.badRequest("Instance group \(id) could not be found.")
            }
            request.group = found
        }
    }

    /// The scheduler's rule for one more server of `request`, over the servers placed so far.
    func rule(for request: ServerRequest, _ state: ComputeState, hosts: [String]) -> Scheduler.Rule {
        var rule = Scheduler.Rule()
        if let host = request.forcedHost {
            rule.hosts = [host]
        } else if let zone = request.zone {
            rule.hosts = Set(hosts.filter { state.zone(of: $0) == zone })
        }
        if !request.sameHost.isEmpty {
            let beside = Set(request.sameHost.compactMap { state.servers[$0]?.host })
            rule.hosts = rule.hosts.map { $0.intersection(beside) } ?? beside
        }
        rule.avoiding = Set(request.differentHost.compactMap { state.servers[$0]?.host })
        if let group = request.group {
            rule.policy = group.policy
            rule.maxPerHost = group.maxServersPerHost ?? 1
            rule.memberHosts = state.memberHosts(of: group.id)
        }
        return rule
    }

    /// The words Nova's schema reads as a boolean (`parameter_types.boolean`; `""` is false).
    static let trueWords: Set = ["True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"]
    static let falseWords: Set = ["False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no", ""]

    /// An access address in its canonical form (`::babe:dc0c:1602`, as Nova stores it
    /// through netaddr); empty when none is given.
    static func accessIP(_ given: JSON?, family: Int32, field: String) throws -> String {
        guard let given, !given.isNull else { return "" }
        guard let text = given.string else { throw ComputeFault.invalid(field, given, "It must be a string") }
        if text.isEmpty { return "" }
        var buffer = [UInt8](repeating: 0, count: 16)
        var output = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_pton(family, text, &buffer) == 1,
            inet_ntop(family, buffer, &output, socklen_t(output.count)) != nil
        else {
            throw ComputeFault.invalid(
                field, given, "'\(text)' is not a valid IPv\(family == AF_INET ? 4 : 6) address")
        }
        return String(decoding: output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Nova's 403 when the project's instances, cores or RAM would pass its limits.
    func checkQuota(_ state: ComputeState, _ flavor: Flavor, count: Int, project: String) throws {
        let limits = quotas(state, project)
        let used = usage(state, project)
        for (resource, each) in [("instances", 1), ("cores", flavor.vcpus), ("ram", flavor.memoryMiB)] {
            guard let limit = limits[resource], limit >= 0 else { continue }
            let inUse = used[resource] ?? 0
            if inUse + each * count > limit {
                throw ComputeFault(
                    .forbidden,
                    "Quota exceeded for \(resource): Requested \(each * count), but already used \(inUse) of \(limit) \(resource)"
                )
            }
        }
    }

    /// What the image service says of the image, seen with the caller's token.
    func checkImage(_ id: String, for flavor: Flavor, token: String, peers: ComputePeers) async throws -> String {
        let answer = try await peers.send(.image, .GET, "/v2/images/\(id)", token: token)
        guard answer.status == 200 else {
            if answer.status == 404 || answer.status == 403 || answer.status == 400 {
                throw ComputeFault.badRequest("Image \(id) could not be found.")
            }
            throw ComputeFault(.serviceUnavailable, "The image service answered \(answer.status) for image \(id).")
        }
        let image = answer.body
        guard image["status"]?.string == "active" else { throw ComputeFault.badRequest("Image \(id) is not active.") }
        if let minRAM = image["min_ram"]?.int, minRAM > flavor.memoryMiB {
            throw ComputeFault.badRequest("Flavor's memory is too small for requested image.")
        }
        if flavor.diskGiB > 0 {
            let minDisk = image["min_disk"]?.int ?? 0
            let size = image["size"]?.int ?? 0
            if minDisk > flavor.diskGiB || size > Int64(flavor.diskGiB) << 30 {
                throw ComputeFault.badRequest("Flavor's disk is too small for requested image.")
            }
        }
        return image["name"]?.string ?? ""
    }

    /// The networks a request names, as the caller sees them: `auto` takes the one
    /// network of the caller's project (or the one shared one) there is.
    func resolveNetworks(_ requested: ServerRequest.Networks, token: String, project: String, peers: ComputePeers)
        async throws -> [(network: JSON, port: JSON?, fixedIP: String?)]
    {
        switch requested {
        case .none: return []
        case .auto:
            let answer = try await peers.send(.network, .GET, "/v2.0/networks", token: token)
            let usable = (answer.body["networks"]?.array ?? []).filter {
                $0["router:external"]?.bool != true
                    && ($0["project_id"]?.string == project || $0["shared"]?.bool == true)
            }
            let own = usable.filter { $0["project_id"]?.string == project }
            let candidates = own.isEmpty ? usable : own
            guard !candidates.isEmpty else {
                throw ComputeFault.badRequest("Unable to automatically allocate a network for project \(project)")
            }
            guard candidates.count == 1 else {
                throw ComputeFault.conflict("Multiple possible networks found, use a Network ID to be more specific.")
            }
            return [(candidates[0], nil, nil)]
        case .list(let entries):
            var result: [(network: JSON, port: JSON?, fixedIP: String?)] = []
            for entry in entries {
                var port: JSON?
                var networkID = entry.network ?? ""
                if let portID = entry.port {
                    let answer = try await peers.send(.network, .GET, "/v2.0/ports/\(portID)", token: token)
                    guard answer.status == 200, let found = answer.body["port"] else {
                        throw ComputeFault.badRequest("Port id \(portID) could not be found.")
                    }
                    if let device = found["device_id"]?.string, !device.isEmpty {
                        throw ComputeFault.conflict("Port \(portID) is still in use.")
                    }
                    port = found
                    networkID = found["network_id"]?.string ?? ""
                }
                let answer = try await peers.send(.network, .GET, "/v2.0/networks/\(networkID)", token: token)
                guard answer.status == 200, let network = answer.body["network"] else {
                    throw ComputeFault.badRequest("Network \(networkID) could not be found.")
                }
                guard port != nil || network["project_id"]?.string == project || network["shared"]?.bool == true
                else {
                    throw ComputeFault(.forbidden, "Network \(networkID) is neither shared nor of project \(project).")
                }
                result.append((network, port, entry.fixedIP))
            }
            return result
        }
    }

    /// The ids of the named security groups, as the caller sees them.
    func resolveGroups(_ names: [String], token: String, peers: ComputePeers) async throws -> [(
        id: String, name: String
    )] {
        let answer = try await peers.send(.network, .GET, "/v2.0/security-groups", token: token)
        let groups = answer.body["security_groups"]?.array ?? []
        return try names.map { name in
            let matches = groups.filter { $0["id"]?.string == name || $0["name"]?.string == name }
            guard let match = matches.first(where: { $0["id"]?.string == name }) ?? matches.first,
                let id = match["id"]?.string
            else { throw ComputeFault.badRequest("Unable to find security_group with name or id '\(name)'") }
            guard matches.count == 1 || matches.contains(where: { $0["id"]?.string == name }) else {
                throw ComputeFault.conflict(
                    "Multiple security groups found matching '\(name)'. Use an ID to be more specific.")
            }
            return (id, match["name"]?.string ?? name)
        }
    }

    /// Makes (or takes over) the server's ports, bound to its host, as compute's own user;
    /// the ports made so far are deleted again when one fails.
    func plugPorts(
        _ server: Server, _ wanted: [(network: JSON, port: JSON?, fixedIP: String?)], groups: [String],
        peers: ComputePeers
    ) async throws -> [ServerPort] {
        var made: [ServerPort] = []
        do {
            for (network, given, fixedIP) in wanted {
                let networkID = network["id"]?.string ?? ""
                let answer: (status: Int, body: JSON)
                let binding: [(String, JSON)] = [
                    ("device_id", .string(server.id)), ("device_owner", "compute:nova"),
                    ("binding:host_id", .string(server.host)),
                ]
                if let given, let portID = given["id"]?.string {
                    answer = try await peers.send(
                        .network, .PUT, "/v2.0/ports/\(portID)", body: ["port": .object(binding)])
                } else {
                    var fields: [(String, JSON)] =
                        [
                            ("network_id", .string(networkID)), ("project_id", .string(server.projectID)),
                            ("security_groups", .array(groups.map(JSON.string))),
                        ] + binding
                    if let fixedIP { fields.append(("fixed_ips", [["ip_address": .string(fixedIP)]])) }
                    answer = try await peers.send(.network, .POST, "/v2.0/ports", body: ["port": .object(fields)])
                }
                guard answer.status == 200 || answer.status == 201, let port = answer.body["port"] else {
                    throw ComputeFault(
                        answer.status == 409 ? .conflict : .badRequest,
                        "The network service refused a port on network \(networkID): \(ComputePeers.message(answer.body))"
                    )
                }
                let addresses = try await self.addresses(of: port, peers: peers)
                made.append(
                    ServerPort(
                        id: port["id"]?.string ?? "", networkID: networkID, networkName: network["name"]?.string ?? "",
                        mac: port["mac_address"]?.string ?? "", mtu: Int(network["mtu"]?.int ?? 1450),
                        addresses: addresses, madeHere: given == nil))
            }
        } catch {
            await unplug(made, peers: peers)
            throw error
        }
        return made
    }

    /// A port's fixed addresses with their subnets' shapes (for the config drive).
    func addresses(of port: JSON, peers: ComputePeers) async throws -> [ServerAddress] {
        var addresses: [ServerAddress] = []
        for fixed in port["fixed_ips"]?.array ?? [] {
            guard let address = fixed["ip_address"]?.string, let subnetID = fixed["subnet_id"]?.string else {
                continue
            }
            let subnet = try await peers.send(.network, .GET, "/v2.0/subnets/\(subnetID)").body["subnet"]
            let cidr = subnet?["cidr"]?.string ?? ""
            addresses.append(
                ServerAddress(
                    address: address, subnetID: subnetID, version: address.contains(":") ? 6 : 4,
                    prefixLength: Int(cidr.split(separator: "/").last ?? "") ?? (address.contains(":") ? 64 : 24),
                    gateway: subnet?["gateway_ip"]?.string, dhcp: subnet?["enable_dhcp"]?.bool ?? true,
                    nameservers: (subnet?["dns_nameservers"]?.array ?? []).compactMap(\.string)))
        }
        return addresses
    }

    /// Deletes the ports compute made and hands back the others unbound.
    func unplug(_ ports: [ServerPort], peers: ComputePeers) async {
        for port in ports {
            if port.madeHere {
                _ = try? await peers.send(.network, .DELETE, "/v2.0/ports/\(port.id)")
            } else {
                _ = try? await peers.send(
                    .network, .PUT, "/v2.0/ports/\(port.id)",
                    body: ["port": ["device_id": "", "device_owner": "", "binding:host_id": ""]])
            }
        }
    }

    /// The compute hosts as the scheduler sees them.
    func candidates() throws -> [Scheduler.Candidate] {
        try hosts().map { host in
            Scheduler.Candidate(
                host: host.name, alive: host.agent.alive, vcpus: Int(host.hypervisor["vcpus"]?.int ?? 0),
                memoryMiB: Int(host.hypervisor["memory_mb"]?.int ?? 0),
                diskGiB: Int(host.hypervisor["local_gb"]?.int ?? 0))
        }
    }

    /// Creates the servers of a request: each placed and recorded first (so two requests
    /// at once never share the last room on a host), then networked, then handed over.
    func createServers(
        _ request: ServerRequest, _ caller: Caller, token: String, reservation: String, requestID: String = ""
    ) async throws
        -> [Server]
    {
        guard let peers else {
            throw ComputeFault(
                .serviceUnavailable,
                "Servers cannot be made: the compute service has no login to the network and image services.")
        }
        guard let project = caller.projectID else {
            throw ComputeFault.badRequest("A project-scoped token is required.")
        }
        let imageName = try await checkImage(request.imageID, for: request.flavor, token: token, peers: peers)
        let wanted = try await resolveNetworks(request.networks, token: token, project: project, peers: peers)
        if request.count > 1, wanted.contains(where: { $0.port != nil || $0.fixedIP != nil }) {
            throw ComputeFault.badRequest("A port or fixed address can be given to one server only.")
        }
        let groups = wanted.isEmpty ? [] : try await resolveGroups(request.securityGroups, token: token, peers: peers)
        let publicKey = request.keyName.flatMap {
            store.snapshot.keyPairs[KeyPair.key(user: caller.userID, name: $0)]?.publicKey
        }
        let candidates = try candidates()
        let now = clock()
        let servers = try store.write { transaction -> [Server] in
            try checkQuota(transaction.state, request.flavor, count: request.count, project: project)
            if let group = request.group {
                let limit = quotas(transaction.state, group.projectID)["server_group_members"] ?? -1
                let members = transaction.state.servers.values.count { $0.group == group.id }
                guard limit < 0 || members + request.count <= limit else {
                    throw ComputeFault(.forbidden, "Quota exceeded, too many servers in group")
                }
            }
            let settings = transaction.state.hostSettings
            let candidates = candidates.map { host in
                var host = host
                host.enabled = settings[host.host]?.disabled != true
                host.alive = host.alive && settings[host.host]?.forcedDown != true
                return host
            }
            var made: [Server] = []
            for index in 0..<request.count {
                let rule = rule(for: request, transaction.state, hosts: candidates.map(\.host))
                let host = scheduler.place(
                    request.flavor, on: candidates, servers: transaction.state.servers.values, rule: rule)
                let server = Server(
                    id: UUID().uuidString.lowercased(),
                    name: request.count > 1 ? "\(request.name)-\(index + 1)" : request.name, projectID: project,
                    userID: caller.userID, flavor: request.flavor, imageID: request.imageID, imageName: imageName,
                    keyName: request.keyName, publicKey: publicKey, securityGroups: groups.map(\.name),
                    metadata: request.metadata, userData: request.userData, accessIPv4: request.accessIPv4,
                    accessIPv6: request.accessIPv6, diskConfig: request.diskConfig, host: host ?? "", ports: [],
                    power: "running", reboots: 0, rebootType: "SOFT", generation: 1,
                    task: host == nil ? nil : "networking",
                    fault: host == nil ? "No valid host was found. There are not enough hosts available." : nil,
                    serial: transaction.state.nextSerial, launchIndex: index, reservationID: reservation,
                    createdAt: now, updatedAt: now, configDrive: request.configDrive || forceConfigDrive,
                    actions: [
                        InstanceAction(
                            action: "create", requestID: requestID, userID: caller.userID, projectID: project,
                            startTime: now)
                    ], zone: host.map(transaction.state.zone(of:)) ?? request.zone, requestedZone: request.zone,
                    group: request.group?.id)
                transaction.state.servers[server.id] = server
                transaction.touch(.server, server.id)
                made.append(server)
            }
            return made
        }
        var result: [Server] = []
        for var server in servers {
            guard server.fault == nil else {
                result.append(server)
                continue
            }
            do {
                server.ports = try await plugPorts(server, wanted, groups: groups.map(\.id), peers: peers)
                server.task = "spawning"
            } catch let fault as ComputeFault {
                server.fault = "Build of instance \(server.id) aborted: \(fault.message)"
                server.task = nil
            }
            let ready = server
            let kept = try store.write { transaction -> Bool in
                // Deleted meanwhile: its ports go too.
                guard transaction.state.servers[ready.id] != nil else { return false }
                transaction.state.servers[ready.id] = ready
                transaction.touch(.server, ready.id)
                return true
            }
            if !kept { await unplug(server.ports, peers: peers) }
            result.append(server)
        }
        return result
    }
}
