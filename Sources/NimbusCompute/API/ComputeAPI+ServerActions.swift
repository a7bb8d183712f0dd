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
            switch action {
            case "os-getConsoleOutput":
                return Response.json(["output": .string(try consoleOutput(id, body[action]))])
            case "os-stop":
                try change(id, action: "stop", allowed: ["ACTIVE", "ERROR"]) { server in
                    server.power = "stopped"
                    server.task = "powering-off"
                }
            case "os-start":
                try change(id, action: "start", allowed: ["SHUTOFF"]) { server in
                    server.power = "running"
                    server.task = "powering-on"
                }
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
            case "addFixedIp", "removeFixedIp":
                guard Self.version(context) <= Microversion(2, 43) else {
                    throw ComputeFault.badRequest("There is no such action: \(action)")
                }
                try await changeFixedIP(id, adding: action == "addFixedIp", body[action] ?? .null)
            default:
                throw ComputeFault.badRequest("There is no such action: \(action)")
            }
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

    /// Applies an action to a server the agent holds: refused (409) unless its status is
    /// one of `allowed` and no other change is under way.
    func change(_ id: String, action: String, allowed: Set<String>, _ body: (inout Server) -> Void) throws {
        let reports = reports(id)
        try updateServer(id) { server in
            let shown = Self.display(server, reports[id])
            guard server.fault == nil, !server.host.isEmpty else {
                throw ComputeFault.conflict(
                    "Cannot '\(action)' instance \(id) while it is in vm_state \(shown.vmState)")
            }
            guard allowed.contains(shown.status), shown.task == nil || shown.status == "ERROR" else {
                if let task = shown.task {
                    throw ComputeFault.conflict("Cannot '\(action)' instance \(id) while it is in task_state \(task)")
                }
                throw ComputeFault.conflict(
                    "Cannot '\(action)' instance \(id) while it is in vm_state \(shown.vmState)")
            }
            body(&server)
            server.generation += 1
        }
    }
}
