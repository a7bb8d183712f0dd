import Crypto
import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v2.1/servers`: create, list (`detail` too), show, rename, delete, and the addresses
/// (`ips`). A server's status is what its host's agent last reported for the server's
/// latest change; until it has, the change under way shows (`BUILD`, `powering-off`, …).
extension ComputeAPI {
    /// What a compute agent reported of a server: its state for one generation.
    struct Reported {
        var state: String
        var generation: Int
        var message: String
    }

    /// The reports of the agents, by server.
    func reports(_ id: String? = nil) -> [String: Reported] {
        var result: [String: Reported] = [:]
        for (server, status) in (try? agents.statuses(kind: "instance", id: id)) ?? [] {
            let parts = status.detail.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let generation = Int(parts.first ?? "") ?? 0
            if let known = result[server], known.generation >= generation { continue }
            result[server] = Reported(
                state: status.state, generation: generation, message: parts.count > 1 ? String(parts[1]) : "")
        }
        return result
    }

    /// Nova's status, vm_state, task_state and power_state of a server, and its fault.
    struct Display {
        var status: String
        var vmState: String
        var task: String?
        var power: Int
        var fault: String?
    }

    static func display(_ server: Server, _ reported: Reported?) -> Display {
        if let fault = server.fault { return Display(status: "ERROR", vmState: "error", power: 0, fault: fault) }
        if let reported, reported.generation >= server.generation {
            switch reported.state {
            case "ACTIVE": return Display(status: "ACTIVE", vmState: "active", power: 1)
            case "SHUTOFF": return Display(status: "SHUTOFF", vmState: "stopped", power: 4)
            case "PAUSED": return Display(status: "PAUSED", vmState: "paused", power: 3)
            case "SUSPENDED": return Display(status: "SUSPENDED", vmState: "suspended", power: 4)
            default:
                return Display(status: "ERROR", vmState: "error", power: 0, fault: reported.message)
            }
        }
        switch server.task {
        case "networking", "spawning": return Display(status: "BUILD", vmState: "building", task: server.task, power: 0)
        case "powering-off": return Display(status: "ACTIVE", vmState: "active", task: server.task, power: 1)
        case "powering-on": return Display(status: "SHUTOFF", vmState: "stopped", task: server.task, power: 4)
        case "reboot_started": return Display(status: "REBOOT", vmState: "active", task: server.task, power: 1)
        case "reboot_started_hard":
            return Display(status: "HARD_REBOOT", vmState: "active", task: server.task, power: 1)
        case "pausing", "suspending": return Display(status: "ACTIVE", vmState: "active", task: server.task, power: 1)
        case "unpausing": return Display(status: "PAUSED", vmState: "paused", task: server.task, power: 3)
        case "resuming": return Display(status: "SUSPENDED", vmState: "suspended", task: server.task, power: 4)
        case "image_uploading": return resting(server, task: server.task)
        default: return resting(server, task: nil)
        }
    }

    /// Nova's `hostId`: the host, hashed with the project (56 hex digits; empty without a host).
    static func hostID(_ server: Server) -> String {
        guard !server.host.isEmpty else { return "" }
        return SHA256.hash(data: Array((server.projectID + server.host).utf8)).prefix(28).map {
            String(format: "%02x", $0)
        }.joined()
    }

    /// What a server shows in the power state asked of it, with `task` under way.
    static func resting(_ server: Server, task: String?) -> Display {
        switch server.power {
        case "stopped": Display(status: "SHUTOFF", vmState: "stopped", task: task, power: 4)
        case "paused": Display(status: "PAUSED", vmState: "paused", task: task, power: 3)
        case "suspended": Display(status: "SUSPENDED", vmState: "suspended", task: task, power: 4)
        default: Display(status: "ACTIVE", vmState: "active", task: task, power: 1)
        }
    }

    /// The floating addresses on the servers' ports (port id → addresses); empty when the
    /// network service cannot be asked.
    func floatingAddresses(_ servers: [Server]) async -> [String: [String]] {
        guard let peers, servers.contains(where: { !$0.ports.isEmpty }) else { return [:] }
        guard let answer = try? await peers.send(.network, .GET, "/v2.0/floatingips"), answer.status == 200 else {
            return [:]
        }
        var result: [String: [String]] = [:]
        for floating in answer.body["floatingips"]?.array ?? [] {
            guard let port = floating["port_id"]?.string, let address = floating["floating_ip_address"]?.string else {
                continue
            }
            result[port, default: []].append(address)
        }
        return result
    }

    /// `addresses`: each network's fixed addresses, then its floating ones.
    static func addresses(_ server: Server, floating: [String: [String]]) -> JSON {
        var networks: [(String, [JSON])] = []
        for port in server.ports {
            var entries: [JSON] = port.addresses.map {
                [
                    "version": .int(Int64($0.version)), "addr": .string($0.address), "OS-EXT-IPS:type": "fixed",
                    "OS-EXT-IPS-MAC:mac_addr": .string(port.mac),
                ]
            }
            entries += (floating[port.id] ?? []).map {
                [
                    "version": 4, "addr": .string($0), "OS-EXT-IPS:type": "floating",
                    "OS-EXT-IPS-MAC:mac_addr": .string(port.mac),
                ]
            }
            if let index = networks.firstIndex(where: { $0.0 == port.networkName }) {
                networks[index].1 += entries
            } else {
                networks.append((port.networkName, entries))
            }
        }
        return .object(networks.map { ($0.0, .array($0.1)) })
    }

    /// A server as `GET /servers/{id}` shows it at `version`.
    func render(
        _ server: Server, _ reported: Reported?, floating: [String: [String]], caller: Caller, origin: String,
        version: Microversion
    ) -> JSON {
        let shown = Self.display(server, reported)
        let time = { (seconds: Int64) in JSON.string(Timestamp.utc(seconds)) }
        var flavor: JSON
        if version >= Microversion(2, 47) {
            var fields: [(String, JSON)] = [
                ("vcpus", .int(Int64(server.flavor.vcpus))), ("ram", .int(Int64(server.flavor.memoryMiB))),
                ("disk", .int(Int64(server.flavor.diskGiB))), ("ephemeral", .int(Int64(server.flavor.ephemeralGiB))),
                ("swap", .int(Int64(server.flavor.swapMiB))), ("original_name", .string(server.flavor.name)),
            ]
            fields.append(
                (
                    "extra_specs",
                    .object(server.flavor.extraSpecs.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
                ))
            flavor = .object(fields)
        } else {
            flavor = ["id": .string(server.flavor.id), "links": [Self.bookmark(origin, "flavors", server.flavor.id)]]
        }
        let hostID = Self.hostID(server)
        var fields: [(String, JSON)] = [
            ("id", .string(server.id)), ("name", .string(server.name)), ("status", .string(shown.status)),
            ("tenant_id", .string(server.projectID)), ("user_id", .string(server.userID)),
            ("metadata", .object(server.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("hostId", .string(hostID)),
            (
                "image",
                ["id": .string(server.imageID), "links": [Self.bookmark(origin, "images", server.imageID)]]
            ),
            ("flavor", flavor), ("created", time(server.createdAt)), ("updated", time(server.updatedAt)),
            ("addresses", Self.addresses(server, floating: floating)), ("accessIPv4", .string(server.accessIPv4)),
            ("accessIPv6", .string(server.accessIPv6)), ("links", Self.links(origin, "servers", server.id)),
            ("OS-DCF:diskConfig", .string(server.diskConfig)),
            ("OS-EXT-AZ:availability_zone", .string(server.shownZone)),
            ("config_drive", .string(server.configDrive ?? true ? "True" : "")),
            ("key_name", .optional(server.keyName)),
            (
                "OS-SRV-USG:launched_at",
                shown.status == "BUILD" || shown.status == "ERROR"
                    ? .null : .string(Timestamp.utc(server.createdAt) + ".000000")
            ),
            ("OS-SRV-USG:terminated_at", .null),
            ("security_groups", .array(server.securityGroups.map { ["name": .string($0)] })),
            ("OS-EXT-STS:task_state", .optional(shown.task)), ("OS-EXT-STS:vm_state", .string(shown.vmState)),
            ("OS-EXT-STS:power_state", .int(Int64(shown.power))),
            (
                "os-extended-volumes:volumes_attached",
                .array(
                    (server.volumes ?? []).map { volume in
                        version >= Microversion(2, 3)
                            ? [
                                "id": .string(volume.volumeID),
                                "delete_on_termination": .bool(volume.deleteOnTermination),
                            ] : ["id": .string(volume.volumeID)]
                    })
            ),
        ]
        if ["BUILD", "ACTIVE"].contains(shown.status) { fields.append(("progress", 0)) }
        if caller.isAdmin {
            fields += [
                ("OS-EXT-SRV-ATTR:host", .optional(server.host.isEmpty ? nil : server.host)),
                ("OS-EXT-SRV-ATTR:hypervisor_hostname", .optional(server.host.isEmpty ? nil : server.host)),
                ("OS-EXT-SRV-ATTR:instance_name", .string(server.instanceName)),
            ]
            if version >= Microversion(2, 3) {
                fields += [
                    ("OS-EXT-SRV-ATTR:reservation_id", .string(server.reservationID)),
                    ("OS-EXT-SRV-ATTR:launch_index", .int(Int64(server.launchIndex))),
                    ("OS-EXT-SRV-ATTR:hostname", .string(server.hostname)),
                    ("OS-EXT-SRV-ATTR:kernel_id", ""), ("OS-EXT-SRV-ATTR:ramdisk_id", ""),
                    ("OS-EXT-SRV-ATTR:root_device_name", "/dev/vda"),
                    ("OS-EXT-SRV-ATTR:user_data", .optional(server.userData)),
                ]
            }
            if version >= Microversion(2, 16) { fields.append(("host_status", server.host.isEmpty ? "" : "UP")) }
        }
        if version >= Microversion(2, 9) { fields.append(("locked", false)) }
        if version >= Microversion(2, 19) { fields.append(("description", .null)) }
        if version >= Microversion(2, 26) { fields.append(("tags", [])) }
        if version >= Microversion(2, 63) { fields.append(("trusted_image_certificates", .null)) }
        if version >= Microversion(2, 71) {
            fields.append(("server_groups", .array(server.group.map { [.string($0)] } ?? [])))
        }
        if version >= Microversion(2, 73) { fields.append(("locked_reason", .null)) }
        if version >= Microversion(2, 96) {
            fields.append(("pinned_availability_zone", .optional(server.requestedZone)))
        }
        if let fault = shown.fault {
            fields.append(("fault", ["code": 500, "created": time(server.updatedAt), "message": .string(fault)]))
        }
        return .object(fields)
    }

    /// A resource's bookmark link (without the version).
    static func bookmark(_ origin: String, _ collection: String, _ id: String) -> JSON {
        ["rel": "bookmark", "href": .string("\(origin)/\(collection)/\(id)")]
    }

    static func serverNotFound(_ id: String) -> ComputeFault { .notFound("Instance \(id) could not be found.") }

    /// The server, when the caller may see it (its project's, or any for an admin).
    func visibleServer(_ id: String, _ caller: Caller) throws -> Server {
        guard let server = store.snapshot.servers[id], caller.isAdmin || server.projectID == caller.projectID else {
            throw Self.serverNotFound(id)
        }
        return server
    }

    func serverRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.post("/v2.1/servers") { request, context in
            let caller = try await caller(request)
            let version = Self.version(context)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:servers:create") }
            let body = try await body(request, context: context)
            let given = try member(body, "server")
            var parsed = try parseServer(given, store.snapshot, caller, version)
            try parseHints(body, into: &parsed, store.snapshot, caller)
            let token = request.headers[.xAuthToken] ?? ""
            let reservation = "r-" + UUID().uuidString.lowercased().prefix(8)
            let servers = try await createServers(
                parsed, caller, token: token, reservation: reservation,
                requestID: context.requestID ?? "")
            if given["return_reservation_id"]?.bool == true {
                return Response.json(["reservation_id": .string(reservation)], status: .accepted)
            }
            let server = servers[0]
            let origin = request.origin
            let password = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12))
            var headers = HTTPFields()
            headers[.location] = "\(origin)/v2.1/servers/\(server.id)"
            return Response.json(
                [
                    "server": [
                        "id": .string(server.id), "links": Self.links(origin, "servers", server.id),
                        "OS-DCF:diskConfig": .string(server.diskConfig),
                        "security_groups": .array(server.securityGroups.map { ["name": .string($0)] }),
                        "adminPass": .string(password),
                    ]
                ], status: .accepted, headers: headers)
        }
        router.get("/v2.1/servers") { request, context in
            try await listServers(request, context, detailed: false)
        }
        router.get("/v2.1/servers/detail") { request, context in
            try await listServers(request, context, detailed: true)
        }
        router.get("/v2.1/servers/:id") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            return await shown(server, caller, request, context)
        }
        router.put("/v2.1/servers/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            _ = try visibleServer(id, caller)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:servers:update") }
            let given = try member(try await body(request, context: context), "server")
            let name = try given["name"].map { try Self.serverName($0) }
            let server = try updateServer(id) { server in
                if let name { server.name = name }
                if given["accessIPv4"] != nil {
                    server.accessIPv4 = try Self.accessIP(given["accessIPv4"], family: AF_INET, field: "accessIPv4")
                }
                if given["accessIPv6"] != nil {
                    server.accessIPv6 = try Self.accessIP(given["accessIPv6"], family: AF_INET6, field: "accessIPv6")
                }
            }
            return await shown(server, caller, request, context)
        }
        router.delete("/v2.1/servers/:id") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            _ = try visibleServer(id, caller)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:servers:delete") }
            let removed = try store.write { transaction -> Server? in
                guard let server = transaction.state.servers.removeValue(forKey: id) else { return nil }
                transaction.touch(.server, id)
                return server
            }
            reports.remove(kind: "console", id: id)
            if let removed, let peers {
                await releaseVolumes(of: removed, peers: peers)
                await unplug(removed.ports, peers: peers)
                // A port made for it whose answer never came back (the server in ERROR) is
                // found by its device id, as Nova finds it.
                if let left = try? await peers.send(.network, .GET, "/v2.0/ports?device_id=\(id)"), left.status == 200 {
                    for port in left.body["ports"]?.array ?? [] where port["device_owner"]?.string == "compute:nova" {
                        if let portID = port["id"]?.string {
                            _ = try? await peers.send(.network, .DELETE, "/v2.0/ports/\(portID)")
                        }
                    }
                }
            }
            return Response(status: .noContent)
        }
        router.get("/v2.1/servers/:id/ips") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let addresses = Self.addresses(server, floating: await floatingAddresses([server]))
            return Response.json(["addresses": addresses])
        }
        router.get("/v2.1/servers/:id/ips/:network") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let network = try context.parameters.require("network")
            let addresses = Self.addresses(server, floating: await floatingAddresses([server]))
            guard let entries = addresses[network] else {
                throw ComputeFault.notFound("Instance is not a member of specified network")
            }
            return Response.json(.object([(network, entries)]))
        }
    }

    /// The answer showing one server (`GET` and `PUT /servers/{id}`).
    func shown(_ server: Server, _ caller: Caller, _ request: Request, _ context: ServiceContext) async -> Response {
        let floating = await floatingAddresses([server])
        return Response.json([
            "server": render(
                server, reports(server.id)[server.id], floating: floating, caller: caller, origin: request.origin,
                version: Self.version(context))
        ])
    }

    /// A server's name as Nova's schema takes it: a string of 1 to 255 characters.
    static func serverName(_ value: JSON?) throws -> String {
        guard let text = value?.string, !text.isEmpty, text.count <= 255 else {
            throw ComputeFault.invalid("name", value, "'name' must be a string of 1 to 255 characters")
        }
        return text
    }

    /// `GET /servers[/detail]`: the caller's project's servers (an admin's with
    /// `all_tenants`), newest first, filtered by what Nova filters on; unknown filters are
    /// ignored, as the CLI sends some (`deleted=False`).
    func listServers(_ request: Request, _ context: ServiceContext, detailed: Bool) async throws -> Response {
        let caller = try await caller(request)
        let query = ListQuery(request)
        let version = Self.version(context)
        let everyone = caller.isAdmin && ["1", "true", "True", ""].contains(query.value("all_tenants") ?? "-")
        var servers = store.snapshot.servers.values.filter { everyone || $0.projectID == caller.projectID }
        if caller.isAdmin, let project = query.value("project_id") ?? query.value("tenant_id") {
            servers = store.snapshot.servers.values.filter { $0.projectID == project }
        }
        if let pattern = query.value("name"), !pattern.isEmpty {
            let regex = try? NSRegularExpression(pattern: pattern)
            servers = servers.filter { server in
                guard let regex else { return server.name.contains(pattern) }
                return regex.firstMatch(
                    in: server.name, range: NSRange(server.name.startIndex..., in: server.name)) != nil
            }
        }
        let reports = reports()
        if let status = query.value("status")?.uppercased() {
            servers = servers.filter { Self.display($0, reports[$0.id]).status == status }
        }
        if caller.isAdmin, let host = query.value("host") { servers = servers.filter { $0.host == host } }
        if caller.isAdmin, let zone = query.value("availability_zone") {
            servers = servers.filter { $0.shownZone == zone }
        }
        if let flavor = query.value("flavor") { servers = servers.filter { $0.flavor.id == flavor } }
        if let image = query.value("image") { servers = servers.filter { $0.imageID == image } }
        if let reservation = query.value("reservation_id") {
            servers = servers.filter { $0.reservationID == reservation }
        }
        servers.sort { ($0.createdAt, $0.serial) > ($1.createdAt, $1.serial) }
        if let marker = query.value("marker") {
            guard let index = servers.firstIndex(where: { $0.id == marker }) else {
                throw ComputeFault.badRequest("marker [\(marker)] not found")
            }
            servers = Array(servers[(index + 1)...])
        }
        var limit: Int?
        if let text = query.value("limit") {
            guard let value = Int(text), value >= 0 else {
                throw ComputeFault.badRequest("limit param must be an integer")
            }
            limit = min(value, 1000)
            servers = Array(servers.prefix(min(value, 1000)))
        }
        let origin = request.origin
        let floating = detailed ? await floatingAddresses(servers) : [:]
        let items: [JSON] = servers.map { server in
            detailed
                ? render(
                    server, reports[server.id], floating: floating, caller: caller, origin: origin, version: version)
                : [
                    "id": .string(server.id), "name": .string(server.name),
                    "links": Self.links(origin, "servers", server.id),
                ]
        }
        var document: [(String, JSON)] = [("servers", .array(items))]
        if let limit, limit > 0, servers.count == limit, let last = servers.last {
            let path = detailed ? "servers/detail" : "servers"
            document.append(
                (
                    "servers_links",
                    [["rel": "next", "href": .string("\(origin)/v2.1/\(path)?limit=\(limit)&marker=\(last.id)")]]
                ))
        }
        return Response.json(.object(document))
    }
}
