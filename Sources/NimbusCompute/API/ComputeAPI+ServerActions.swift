import Foundation
import Hummingbird
import NimbusServiceKit

/// `POST /v2.1/servers/{id}/action`: `os-stop`, `os-start` and `reboot` (SOFT or HARD), each
/// checked against the server's state as Nova checks it (409 otherwise), then handed to
/// the host's agent as a new generation of the server; `os-getConsoleOutput`, the console
/// tail the agent last reported.
extension ComputeAPI {
    func serverActionRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.post("/v2.1/servers/:id/action") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            _ = try visibleServer(id, caller)
            let body = try await body(request, context: context)
            guard let action = body.members?.first?.0 else {
                throw ComputeFault.badRequest("There is no such action: none")
            }
            // Reading the console is looking; everything else changes the server.
            guard caller.canWrite || action == "os-getConsoleOutput" else {
                throw ComputeFault.policy("os_compute_api:servers:\(action)")
            }
            if let wanted = Self.powerActions[action] {
                try change(id, action: wanted.nova, allowed: wanted.allowed) { server in
                    server.power = wanted.power
                    server.task = wanted.task
                }
                try record(action, on: id, caller, context)
                return Response(status: .accepted)
            }
            switch action {
            case "os-getConsoleOutput":
                return Response.json(["output": .string(try consoleOutput(id, body[action]))])
            case "reboot":
                let type = body["reboot"]?["type"]?.string?.uppercased() ?? ""
                guard type == "SOFT" || type == "HARD" else {
                    throw ComputeFault.invalid(
                        "type", body["reboot"]?["type"], "'\(type)' is not one of ['HARD', 'Hard', 'SOFT', 'Soft']")
                }
                let allowed: Set<String> = type == "SOFT" ? ["ACTIVE"] : ["ACTIVE", "SHUTOFF", "ERROR", "REBOOT"]
                try change(id, action: "reboot", allowed: allowed) { server in
                    server.power = "running"
                    server.reboots += 1
                    server.rebootType = type
                    server.task = type == "SOFT" ? "reboot_started" : "reboot_started_hard"
                }
            case "addSecurityGroup", "removeSecurityGroup":
                try await changeSecurityGroup(
                    id, adding: action == "addSecurityGroup", body[action] ?? .null,
                    token: request.headers[.xAuthToken] ?? "")
            case "createImage":
                let image = try await createImage(id, body[action] ?? .null, caller, request)
                guard Self.version(context) >= Microversion(2, 45) else {
                    try record(action, on: id, caller, context)
                    var headers = HTTPFields()
                    headers[.location] = "\(peers?.imageURL ?? "")/v2/images/\(image)"
                    return Response(status: .accepted, headers: headers)
                }
                try record(action, on: id, caller, context)
                return Response.json(["image_id": .string(image)], status: .accepted)
            case "addFixedIp", "removeFixedIp":
                guard Self.version(context) <= Microversion(2, 43) else {
                    throw ComputeFault.badRequest("There is no such action: \(action)")
                }
                try await changeFixedIP(id, adding: action == "addFixedIp", body[action] ?? .null)
            default:
                throw ComputeFault.badRequest("There is no such action: \(action)")
            }
            try record(action, on: id, caller, context)
            return Response(status: .accepted)
        }
    }

    /// The console's tail its agent last reported (`length` lines of it; all when null or
    /// -1), as Nova's `os-getConsoleOutput` gives it.
    func consoleOutput(_ id: String, _ given: JSON?) throws -> String {
        var length: Int?
        if let value = given?["length"], !value.isNull {
            guard let number = value.int ?? value.string.flatMap({ Int64($0) }), number >= -1 else {
                throw ComputeFault.invalid("length", value, "It must be an integer of at least -1")
            }
            length = number == -1 ? nil : Int(number)
        }
        let text = reports.get(kind: "console", id: id)?["output"]?.string ?? ""
        guard let length else { return text }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        return lines.suffix(length).map { $0 + "\n" }.joined()
    }

    /// `addFixedIp` (`networkId`: one more address on the server's port on that network)
    /// and `removeFixedIp` (`address`), through the network service; to 2.43, as in Nova.
    func changeFixedIP(_ id: String, adding: Bool, _ given: JSON) async throws {
        guard let peers else { throw ComputeFault(.serviceUnavailable, "The compute service has no network service.") }
        guard let server = store.snapshot.servers[id] else { throw Self.serverNotFound(id) }
        let port: ServerPort
        var fixed: [JSON]
        if adding {
            guard let network = given["networkId"]?.string else {
                throw ComputeFault.invalid("networkId", given["networkId"], "'networkId' is a required property")
            }
            guard let found = server.ports.first(where: { $0.networkID == network }) else {
                throw ComputeFault.badRequest("Network \(network) could not be found.")
            }
            port = found
            fixed = port.addresses.map { ["subnet_id": .optional($0.subnetID), "ip_address": .string($0.address)] }
            let subnet = port.addresses.first?.subnetID
            fixed.append(subnet.map { ["subnet_id": .string($0)] } ?? [:])
        } else {
            guard let address = given["address"]?.string else {
                throw ComputeFault.invalid("address", given["address"], "'address' is a required property")
            }
            guard let found = server.ports.first(where: { $0.addresses.contains { $0.address == address } }) else {
                throw ComputeFault.badRequest("Unable to find address \(address)")
            }
            port = found
            fixed = port.addresses.filter { $0.address != address }.map {
                ["subnet_id": .optional($0.subnetID), "ip_address": .string($0.address)]
            }
        }
        let answer = try await peers.send(
            .network, .PUT, "/v2.0/ports/\(port.id)", body: ["port": ["fixed_ips": .array(fixed)]])
        try Self.check(answer)
        let addresses = try await self.addresses(of: answer.body["port"] ?? .null, peers: peers)
        try updateServer(id) { server in
            guard let index = server.ports.firstIndex(where: { $0.id == port.id }) else { return }
            server.ports[index].addresses = addresses
        }
    }

    /// `createImage`: an image in the image service, made with the caller's token as Nova
    /// makes it (private, qcow2, `image_type=snapshot`, `instance_uuid`, `base_image_ref`,
    /// `min_disk` and `min_ram` of the flavor and the image it came from, the given
    /// metadata), which the host's agent then fills with the instance's disk. The id of the
    /// image, queued until the upload ends.
    func createImage(_ id: String, _ given: JSON, _ caller: Caller, _ request: Request) async throws -> String {
        guard let name = given["name"]?.string, !name.isEmpty, name.count <= 255 else {
            throw ComputeFault.invalid("name", given["name"], "'name' must be a string of 1 to 255 characters")
        }
        guard let peers else { throw ComputeFault(.serviceUnavailable, "The compute service has no image service.") }
        var properties: [(String, JSON)] = []
        if let metadata = given["metadata"], !metadata.isNull {
            for (key, value) in try Self.metadataItems(metadata).sorted(by: { $0.key < $1.key }) {
                properties.append((key, .string(value)))
            }
        }
        let allowed: Set = ["ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED"]
        try change(id, action: "createImage", allowed: allowed, dryRun: true) { _ in }
        guard let server = store.snapshot.servers[id] else { throw Self.serverNotFound(id) }
        let token = request.headers[.xAuthToken] ?? ""
        let source = try? await peers.send(.image, .GET, "/v2/images/\(server.imageID)", token: token)
        let base = source?.status == 200 ? source?.body : nil
        var image: [(String, JSON)] = [
            ("name", .string(name)), ("visibility", "private"),
            ("container_format", .string(base?["container_format"]?.string ?? "bare")),
            ("disk_format", "qcow2"),
            ("min_disk", .int(Int64(max(server.flavor.diskGiB, Int(base?["min_disk"]?.int ?? 0))))),
            ("min_ram", .int(base?["min_ram"]?.int ?? 0)), ("image_type", "snapshot"),
            ("instance_uuid", .string(id)), ("base_image_ref", .string(server.imageID)),
            ("user_id", .string(caller.userID)),
        ]
        let taken = Set(image.map(\.0))
        image += properties.filter { !taken.contains($0.0) }
        let made = try await peers.send(.image, .POST, "/v2/images", token: token, body: .object(image))
        guard made.status == 201, let imageID = made.body["id"]?.string else {
            let message = made.body["message"]?.string ?? "the image service answered \(made.status)"
            throw ComputeFault(made.status == 413 ? .forbidden : .badRequest, "Cannot create the snapshot: \(message)")
        }
        do {
            try change(id, action: "createImage", allowed: allowed) { server in
                server.snapshotImage = imageID
                server.task = "image_uploading"
            }
        } catch {
            _ = try? await peers.send(.image, .DELETE, "/v2/images/\(imageID)", token: token)
            throw error
        }
        return imageID
    }

    /// The actions that only change the power state asked of a server: Nova's name, the
    /// statuses it is allowed from, the power asked, the task shown until the agent applied it.
    static let powerActions: [String: (nova: String, allowed: Set<String>, power: String, task: String)] = [
        "os-stop": ("stop", ["ACTIVE", "ERROR"], "stopped", "powering-off"),
        "os-start": ("start", ["SHUTOFF"], "running", "powering-on"),
        "pause": ("pause", ["ACTIVE"], "paused", "pausing"),
        "unpause": ("unpause", ["PAUSED"], "running", "unpausing"),
        "suspend": ("suspend", ["ACTIVE"], "suspended", "suspending"),
        "resume": ("resume", ["SUSPENDED"], "running", "resuming"),
    ]

    /// The instance actions Nova records (its names: `stop`, `start`, `reboot`, `pause`,
    /// `createImage`, …), with the request that asked.
    static let recorded: [String: String] = [
        "os-stop": "stop", "os-start": "start", "reboot": "reboot", "pause": "pause", "unpause": "unpause",
        "suspend": "suspend", "resume": "resume", "createImage": "createImage",
    ]

    func record(_ action: String, on id: String, _ caller: Caller, _ context: ServiceContext) throws {
        guard let name = Self.recorded[action] else { return }
        let entry = InstanceAction(
            action: name, requestID: context.requestID ?? "", userID: caller.userID,
            projectID: caller.projectID ?? "", startTime: clock())
        try updateServer(id) { server in server.actions = (server.actions ?? []) + [entry] }
    }

    /// `os-instance-actions`: a server's actions, newest first, and one of them by its
    /// request id with its event (Nova's `compute_<action>`, finished as the agent applied it).
    static func actionBody(_ action: InstanceAction, _ server: Server, _ version: Microversion) -> [(String, JSON)] {
        var fields: [(String, JSON)] = [
            ("action", .string(action.action)), ("instance_uuid", .string(server.id)), ("message", .null),
            ("project_id", .string(action.projectID)), ("request_id", .string(action.requestID)),
            ("start_time", .string(Timestamp.utc(action.startTime))), ("user_id", .string(action.userID)),
        ]
        if version >= Microversion(2, 58) { fields.append(("updated_at", .string(Timestamp.utc(action.startTime)))) }
        return fields
    }

    func instanceActionRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/servers/:id/os-instance-actions") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let version = Self.version(context)
            let actions = (server.actions ?? []).reversed().map { JSON.object(Self.actionBody($0, server, version)) }
            return Response.json(["instanceActions": .array(actions)])
        }
        router.get("/v2.1/servers/:id/os-instance-actions/:request") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let wanted = try context.parameters.require("request")
            guard let action = server.actions?.last(where: { $0.requestID == wanted }) else {
                throw ComputeFault.notFound("Action \(wanted) on instance \(server.id) not found")
            }
            let version = Self.version(context)
            var fields = Self.actionBody(action, server, version)
            var event: [(String, JSON)] = [
                ("event", .string("compute_" + action.action)),
                ("start_time", .string(Timestamp.utc(action.startTime))),
                ("finish_time", .string(Timestamp.utc(action.startTime))), ("result", "Success"),
            ]
            if caller.isAdmin { event.append(("traceback", .null)) }
            if version >= Microversion(2, 62) {
                event.append(("hostId", .string(Self.hostID(server))))
                if caller.isAdmin { event.append(("host", .string(server.host))) }
            }
            fields.append(("events", .array([.object(event)])))
            return Response.json(["instanceAction": .object(fields)])
        }
    }

    /// `addSecurityGroup` / `removeSecurityGroup` (`name`: a group's name or id): every port
    /// of the server gets the group or loses it, through the network service with the
    /// caller's token, as Nova does; 404 for a group the caller cannot see, 400 when the
    /// server already has it (or has it not).
    func changeSecurityGroup(_ id: String, adding: Bool, _ given: JSON, token: String) async throws {
        guard let peers else { throw ComputeFault(.serviceUnavailable, "The compute service has no network service.") }
        guard let name = given["name"]?.string, !name.isEmpty else {
            throw ComputeFault.invalid("name", given["name"], "'name' is a required property")
        }
        guard let server = store.snapshot.servers[id] else { throw Self.serverNotFound(id) }
        let group: (id: String, name: String)
        do { group = try await resolveGroups([name], token: token, peers: peers)[0] } catch let fault as ComputeFault
            where fault.status == .badRequest
        {
            throw ComputeFault.notFound("Security group \(name) not found for project \(server.projectID).")
        }
        var changed = false
        for port in server.ports {
            let shown = try await peers.send(.network, .GET, "/v2.0/ports/\(port.id)", token: token)
            try Self.check(shown)
            var groups = (shown.body["port"]?["security_groups"]?.array ?? []).compactMap(\.string)
            guard groups.contains(group.id) != adding else { continue }
            if adding { groups.append(group.id) } else { groups.removeAll { $0 == group.id } }
            let answer = try await peers.send(
                .network, .PUT, "/v2.0/ports/\(port.id)", token: token,
                body: ["port": ["security_groups": .array(groups.map(JSON.string))]])
            try Self.check(answer)
            changed = true
        }
        guard changed || server.ports.isEmpty else {
            throw ComputeFault.badRequest(
                adding
                    ? "Security group \(group.name) is already associated with the instance \(id)"
                    : "Security group \(group.name) not associated with the instance \(id)")
        }
        try updateServer(id) { server in
            if adding {
                if !server.securityGroups.contains(group.name) { server.securityGroups.append(group.name) }
            } else {
                server.securityGroups.removeAll { $0 == group.name }
            }
        }
    }

    /// Applies an action to a server the agent holds: refused (409) unless its status is
    /// one of `allowed` and no other change is under way.
    /// With `dryRun` only the check is made.
    func change(
        _ id: String, action: String, allowed: Set<String>, dryRun: Bool = false, _ body: (inout Server) -> Void
    ) throws {
        let reports = reports(id)
        if dryRun {
            guard let server = store.snapshot.servers[id] else { throw Self.serverNotFound(id) }
            try Self.check(server, reports[id], action: action, allowed: allowed)
            return
        }
        try updateServer(id) { server in
            try Self.check(server, reports[id], action: action, allowed: allowed)
            // A snapshot asked for before is done by now.
            server.snapshotImage = nil
            body(&server)
            server.generation += 1
        }
    }

    /// Refuses (409) an action on a server whose status is not one of `allowed`, or with
    /// a change under way.
    static func check(_ server: Server, _ reported: Reported?, action: String, allowed: Set<String>) throws {
        let id = server.id
        let shown = display(server, reported)
        guard server.fault == nil, !server.host.isEmpty else {
            throw ComputeFault.conflict("Cannot '\(action)' instance \(id) while it is in vm_state \(shown.vmState)")
        }
        guard allowed.contains(shown.status), shown.task == nil || shown.status == "ERROR" else {
            if let task = shown.task {
                throw ComputeFault.conflict("Cannot '\(action)' instance \(id) while it is in task_state \(task)")
            }
            throw ComputeFault.conflict("Cannot '\(action)' instance \(id) while it is in vm_state \(shown.vmState)")
        }
    }
}
