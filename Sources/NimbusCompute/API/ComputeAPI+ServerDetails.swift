import Foundation
import Hummingbird
import NimbusServiceKit

/// A server's metadata (`/servers/{id}/metadata[/{key}]`) and its interfaces as ports
/// (`/servers/{id}/os-interface[/{port}]`), as Nova serves them.
extension ComputeAPI {
    func serverDetailRoutes(on router: Hummingbird.Router<ServiceContext>) {
        // What the guest posted to the metadata service (encrypted with its key pair), and
        // its removal (`nova clear-password`).
        router.get("/v2.1/servers/:id/os-server-password") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            return Response.json(["password": .string(server.password ?? "")])
        }
        router.delete("/v2.1/servers/:id/os-server-password") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            _ = try visibleServer(id, caller)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:os-server-password:clear") }
            _ = try updateServer(id) { $0.password = nil }
            return Response(status: .noContent)
        }
        router.get("/v2.1/servers/:id/metadata") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            return Response.json(["metadata": Self.metadata(server.metadata)])
        }
        // PUT replaces every item, POST adds to them.
        router.put("/v2.1/servers/:id/metadata") { request, context in
            try await changeMetadata(request, context, replacing: true)
        }
        router.post("/v2.1/servers/:id/metadata") { request, context in
            try await changeMetadata(request, context, replacing: false)
        }
        router.get("/v2.1/servers/:id/metadata/:key") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let key = try context.parameters.require("key")
            guard let value = server.metadata[key] else { throw ComputeFault.notFound("Metadata item was not found") }
            return Response.json(["meta": .object([(key, .string(value))])])
        }
        router.put("/v2.1/servers/:id/metadata/:key") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let key = try context.parameters.require("key")
            _ = try visibleServer(id, caller)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:server-metadata:update") }
            let given = try member(try await body(request, context: context), "meta")
            guard let members = given.members, members.count == 1 else {
                throw ComputeFault.badRequest("Request body contains too many items")
            }
            guard members[0].0 == key else { throw ComputeFault.badRequest("Request body and URI mismatch") }
            let items = try Self.metadataItems(given)
            try updateServer(id) { server in
                server.metadata.merge(items) { $1 }
                try checkMetadataQuota(server.metadata.count, store.snapshot, project: server.projectID)
            }
            return Response.json(["meta": Self.metadata(items)])
        }
        router.delete("/v2.1/servers/:id/metadata/:key") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let key = try context.parameters.require("key")
            _ = try visibleServer(id, caller)
            guard caller.canWrite else { throw ComputeFault.policy("os_compute_api:server-metadata:delete") }
            try updateServer(id) { server in
                guard server.metadata.removeValue(forKey: key) != nil else {
                    throw ComputeFault.notFound("Metadata item was not found")
                }
            }
            return Response(status: .noContent)
        }
        router.get("/v2.1/servers/:id/os-interface") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let states = await portStates(server)
            return Response.json([
                "interfaceAttachments": .array(
                    server.ports.map { Self.interface($0, states[$0.id], Self.version(context)) })
            ])
        }
        router.get("/v2.1/servers/:id/os-interface/:port") { request, context in
            let caller = try await caller(request)
            let server = try visibleServer(try context.parameters.require("id"), caller)
            let portID = try context.parameters.require("port")
            guard let port = server.ports.first(where: { $0.id == portID }) else {
                throw ComputeFault.notFound("Instance \(server.id) is not attached to port \(portID).")
            }
            let states = await portStates(server)
            return Response.json(["interfaceAttachment": Self.interface(port, states[port.id], Self.version(context))])
        }
    }

    static func metadata(_ items: [String: String]) -> JSON {
        .object(items.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// The items of a `metadata`/`meta` object, each key and value a string of at most 255.
    static func metadataItems(_ given: JSON) throws -> [String: String] {
        guard let members = given.members else {
            throw ComputeFault.invalid("metadata", given, "metadata must be an object")
        }
        var items: [String: String] = [:]
        for (key, value) in members {
            guard !key.isEmpty, key.count <= 255, let text = value.string, text.count <= 255 else {
                throw ComputeFault.invalid(
                    "metadata", given, "Metadata keys and values must be strings of 1 to 255 characters")
            }
            items[key] = text
        }
        return items
    }

    /// Nova's 403 when a server would hold more metadata items than its project may.
    func checkMetadataQuota(_ count: Int, _ state: ComputeState, project: String) throws {
        let limit = quotas(state, project)["metadata_items"] ?? -1
        if limit >= 0, count > limit {
            throw ComputeFault(
                .forbidden, "Quota exceeded for metadata_items: too many metadata items (\(limit) allowed).")
        }
    }

    func changeMetadata(_ request: Request, _ context: ServiceContext, replacing: Bool) async throws -> Response {
        let caller = try await caller(request)
        let id = try context.parameters.require("id")
        _ = try visibleServer(id, caller)
        guard caller.canWrite else {
            throw ComputeFault.policy("os_compute_api:server-metadata:\(replacing ? "update_all" : "create")")
        }
        let items = try Self.metadataItems(try member(try await body(request, context: context), "metadata"))
        let server = try updateServer(id) { server in
            server.metadata = replacing ? items : server.metadata.merging(items) { $1 }
            try checkMetadataQuota(server.metadata.count, store.snapshot, project: server.projectID)
        }
        return Response.json(["metadata": Self.metadata(server.metadata)])
    }

    /// Changes a server (nothing the agent acts on: no new generation).
    @discardableResult
    func updateServer(_ id: String, _ change: (inout Server) throws -> Void) throws -> Server {
        let now = clock()
        return try store.write { transaction in
            guard var server = transaction.state.servers[id] else { throw Self.serverNotFound(id) }
            try change(&server)
            server.updatedAt = now
            transaction.state.servers[id] = server
            transaction.touch(.server, id)
            return server
        }
    }

    /// The network service's status of each of the server's ports (empty when it cannot
    /// be asked).
    func portStates(_ server: Server) async -> [String: String] {
        guard let peers, !server.ports.isEmpty,
            let answer = try? await peers.send(.network, .GET, "/v2.0/ports?device_id=\(server.id)"),
            answer.status == 200
        else { return [:] }
        var states: [String: String] = [:]
        for port in answer.body["ports"]?.array ?? [] {
            if let id = port["id"]?.string, let status = port["status"]?.string { states[id] = status }
        }
        return states
    }

    static func interface(_ port: ServerPort, _ state: String?, _ version: Microversion) -> JSON {
        var fields: [(String, JSON)] = [
            ("port_state", .string(state ?? "DOWN")),
            (
                "fixed_ips",
                .array(
                    port.addresses.map {
                        ["subnet_id": .optional($0.subnetID), "ip_address": .string($0.address)]
                    })
            ),
            ("port_id", .string(port.id)), ("net_id", .string(port.networkID)), ("mac_addr", .string(port.mac)),
        ]
        if version >= Microversion(2, 70) { fields.append(("tag", .null)) }
        return .object(fields)
    }
}
