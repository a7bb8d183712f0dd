import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v3/{project_id}/types`: the volume types (`__DEFAULT__` from the start), the default
/// one, and an admin's create, update and delete with their extra specs.
extension BlockStorageAPI {
    func typeRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v3/:project/types") { request, context in
            let caller = try await caller(request, context)
            // Public ones; an admin asks for the private ones with is_public=false or none.
            let asked = caller.isAdmin ? ListQuery(request).value("is_public")?.lowercased() : nil
            let types = store.snapshot.types.values.filter { type in
                switch asked {
                case "none": true
                case .some(let value) where Self.falseWords.contains(value): !type.isPublic
                default: type.isPublic || (!caller.isAdmin && visible(type, caller))
                }
            }.sorted { $0.name < $1.name }
            return Response.json(["volume_types": .array(types.map { render($0, caller) })])
        }
        router.get("/v3/:project/types/:id") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            let state = store.snapshot
            let type = id == "default" ? state.defaultType : state.types[id]
            guard let type, visible(type, caller) else { throw Self.noType(id) }
            return Response.json(["volume_type": render(type, caller)])
        }
        router.post("/v3/:project/types") { request, context in
            let caller = try await caller(request, context)
            try requireAdmin(caller, "volume_extension:types_manage")
            let given = try member(try await body(request, context: context), "volume_type")
            try Self.onlyKeys(given, ["name", "description", "extra_specs", "os-volume-type-access:is_public"])
            guard let name = try Self.text(given["name"], "name"), !name.isEmpty else {
                throw VolumeFault.invalid("name", given["name"], "'name' is a required property")
            }
            let description = try Self.text(given["description"], "description")
            var specs: [String: String] = [:]
            if let given = given["extra_specs"], !given.isNull { specs = try Self.metadata(given) }
            let isPublic = try given["os-volume-type-access:is_public"].map { try Self.bool($0, "is_public") } ?? true
            let type = try store.write { transaction -> VolumeType in
                guard !transaction.state.types.values.contains(where: { $0.name == name }) else {
                    throw VolumeFault(.conflict, "Volume Type \(name) already exists.")
                }
                let type = VolumeType(
                    id: UUID().uuidString.lowercased(), name: name, description: description, isPublic: isPublic,
                    extraSpecs: specs, projects: [])
                transaction.state.types[type.id] = type
                transaction.touch(.type, type.id)
                return type
            }
            return Response.json([
                "volume_type": [
                    "id": .string(type.id), "name": .string(type.name), "is_public": .bool(type.isPublic),
                    "extra_specs": Self.json(type.extraSpecs), "description": .optional(type.description),
                    "os-volume-type-access:is_public": .bool(type.isPublic),
                ]
            ])
        }
        router.delete("/v3/:project/types/:id") { request, context in
            let caller = try await caller(request, context)
            try requireAdmin(caller, "volume_extension:types_manage")
            let id = try context.parameters.require("id")
            try store.write { transaction in
                guard let type = transaction.state.types[id] else { throw Self.noType(id) }
                guard type.name != VolumeType.defaultName else {
                    throw VolumeFault.badRequest(
                        "The volume type \(id) is a default volume type and cannot be deleted.")
                }
                guard !transaction.state.volumes.values.contains(where: { $0.typeID == id }) else {
                    throw VolumeFault.badRequest("Target volume type is still in use.")
                }
                transaction.state.types[id] = nil
                transaction.touch(.type, id)
            }
            return Response(status: .accepted)
        }
        router.get("/v3/:project/types/:id/extra_specs") { request, context in
            let caller = try await caller(request, context)
            let id = try context.parameters.require("id")
            guard let type = store.snapshot.types[id], visible(type, caller) else { throw Self.noType(id) }
            return Response.json(["extra_specs": Self.json(caller.isAdmin ? type.extraSpecs : [:])])
        }
        router.post("/v3/:project/types/:id/extra_specs") { request, context in
            let caller = try await caller(request, context)
            try requireAdmin(caller, "volume_extension:types_extra_specs:create")
            let id = try context.parameters.require("id")
            let specs = try Self.metadata(try member(try await body(request, context: context), "extra_specs"))
            try store.write { transaction in
                guard var type = transaction.state.types[id] else { throw Self.noType(id) }
                type.extraSpecs.merge(specs) { $1 }
                transaction.state.types[id] = type
                transaction.touch(.type, id)
            }
            return Response.json(["extra_specs": Self.json(specs)])
        }
    }

    func visible(_ type: VolumeType, _ caller: Caller) -> Bool {
        type.isPublic || caller.isAdmin || caller.projectID.map(type.projects.contains) == true
    }

    static func noType(_ id: String) -> VolumeFault { VolumeFault.notFound("Volume type \(id) could not be found.") }

    func render(_ type: VolumeType, _ caller: Caller) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", .string(type.id)), ("name", .string(type.name)), ("description", .optional(type.description)),
            ("is_public", .bool(type.isPublic)), ("os-volume-type-access:is_public", .bool(type.isPublic)),
            ("extra_specs", Self.json(caller.isAdmin ? type.extraSpecs : [:])),
        ]
        if caller.isAdmin { fields.append(("qos_specs_id", .null)) }
        return .object(fields)
    }
}
