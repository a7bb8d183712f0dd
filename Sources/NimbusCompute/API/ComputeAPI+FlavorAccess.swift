import Hummingbird
import NimbusServiceKit

/// `os-flavor-access` (which projects may use a private flavor, admin only) and
/// `os-extra_specs` (a flavor's key/value properties: anyone who sees the flavor reads
/// them, admins change them).
extension ComputeAPI {
    func flavorAccessRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/flavors/:id/os-flavor-access") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-flavor-access")
            let id = try context.parameters.require("id")
            guard let flavor = store.snapshot.flavors[id] else { throw Self.flavorNotFound(id) }
            guard !flavor.isPublic else { throw ComputeFault.notFound("Access list not available for public flavors.") }
            return Response.json(["flavor_access": Self.access(flavor)])
        }
        // The CLI's addTenantAccess carries no microversion header; any version is served.
        router.post("/v2.1/flavors/:id/action") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let body = try await body(request, context: context)
            let adding: Bool
            let action: JSON
            if let add = body["addTenantAccess"] {
                (adding, action) = (true, add)
            } else if let remove = body["removeTenantAccess"] {
                (adding, action) = (false, remove)
            } else {
                throw ComputeFault.badRequest("There is no such action: \(body.members?.first?.0 ?? "")")
            }
            try requireAdmin(
                caller, "os_compute_api:os-flavor-access:\(adding ? "add" : "remove")_tenant_access")
            guard let project = action["tenant"]?.string, !project.isEmpty else {
                throw ComputeFault.invalid("tenant", action["tenant"], "'tenant' is a required property")
            }
            let flavor = try store.write { transaction -> Flavor in
                guard var flavor = transaction.state.flavors[id] else { throw Self.flavorNotFound(id) }
                if adding {
                    guard !flavor.isPublic else {
                        throw ComputeFault.conflict("Can not add access to a public flavor.")
                    }
                    guard !flavor.projects.contains(project) else {
                        throw ComputeFault.conflict(
                            "Flavor access already exists for flavor \(id) and project \(project) combination.")
                    }
                    flavor.projects.append(project)
                } else {
                    guard let index = flavor.projects.firstIndex(of: project) else {
                        throw ComputeFault.notFound("Flavor access not found for \(id) / \(project) combination.")
                    }
                    flavor.projects.remove(at: index)
                }
                transaction.state.flavors[id] = flavor
                transaction.touch(.flavor, id)
                return flavor
            }
            return Response.json(["flavor_access": Self.access(flavor)])
        }
    }

    static func access(_ flavor: Flavor) -> JSON {
        .array(flavor.projects.map { ["flavor_id": .string(flavor.id), "tenant_id": .string($0)] })
    }

    func extraSpecRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/flavors/:id/os-extra_specs") { request, context in
            let caller = try await caller(request)
            let flavor = try visibleFlavor(store.snapshot, try context.parameters.require("id"), caller)
            return Response.json(["extra_specs": Self.specs(flavor.extraSpecs)])
        }
        router.get("/v2.1/flavors/:id/os-extra_specs/:key") { request, context in
            let caller = try await caller(request)
            let id = try context.parameters.require("id")
            let key = try context.parameters.require("key")
            let flavor = try visibleFlavor(store.snapshot, id, caller)
            guard let value = flavor.extraSpecs[key] else {
                throw ComputeFault.notFound("Flavor \(id) has no extra specs with key \(key).")
            }
            return Response.json([key: .string(value)])
        }
        router.post("/v2.1/flavors/:id/os-extra_specs") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-flavor-extra-specs:create")
            let id = try context.parameters.require("id")
            let given = try Self.specs(try member(try await body(request, context: context), "extra_specs"))
            try store.write { transaction in
                guard var flavor = transaction.state.flavors[id] else { throw Self.flavorNotFound(id) }
                flavor.extraSpecs.merge(given) { $1 }
                transaction.state.flavors[id] = flavor
                transaction.touch(.flavor, id)
            }
            return Response.json(["extra_specs": Self.specs(given)])
        }
        router.put("/v2.1/flavors/:id/os-extra_specs/:key") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-flavor-extra-specs:update")
            let id = try context.parameters.require("id")
            let key = try context.parameters.require("key")
            let given = try Self.specs(try await body(request, context: context))
            guard given.count == 1, let value = given[key] else {
                throw ComputeFault.badRequest(
                    given.count > 1 ? "Request body contains too many items" : "Request body and URI mismatch")
            }
            try store.write { transaction in
                guard var flavor = transaction.state.flavors[id] else { throw Self.flavorNotFound(id) }
                flavor.extraSpecs[key] = value
                transaction.state.flavors[id] = flavor
                transaction.touch(.flavor, id)
            }
            return Response.json([key: .string(value)])
        }
        router.delete("/v2.1/flavors/:id/os-extra_specs/:key") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-flavor-extra-specs:delete")
            let id = try context.parameters.require("id")
            let key = try context.parameters.require("key")
            try store.write { transaction in
                guard var flavor = transaction.state.flavors[id] else { throw Self.flavorNotFound(id) }
                guard flavor.extraSpecs.removeValue(forKey: key) != nil else {
                    throw ComputeFault.notFound("Flavor \(id) has no extra specs with key \(key).")
                }
                transaction.state.flavors[id] = flavor
                transaction.touch(.flavor, id)
            }
            return Response(status: .accepted)
        }
    }

    static func specs(_ specs: [String: String]) -> JSON {
        .object(specs.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// Extra specs from a body: keys of 1–255 characters of `[a-zA-Z0-9-_:. ]`, values
    /// strings of at most 255 (numbers and booleans are taken as their text, as Nova does).
    static func specs(_ body: JSON) throws -> [String: String] {
        guard let members = body.members else { throw ComputeFault.badRequest("Malformed extra specs") }
        var specs: [String: String] = [:]
        for (key, value) in members {
            guard !key.isEmpty, key.count <= 255,
                key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_:. ".contains($0)) })
            else { throw ComputeFault.invalid("extra_specs", .string(key), "'\(key)' is not a valid extra spec key") }
            let text: String
            switch value {
            case .string(let string): text = string
            case .int(let number): text = "\(number)"
            case .double(let number): text = "\(number)"
            case .bool(let flag): text = flag ? "True" : "False"
            default:
                throw ComputeFault.invalid(
                    key, value, "\(value.text) is not of type 'string', 'integer', 'number', 'boolean'")
            }
            guard text.count <= 255 else { throw ComputeFault.invalid(key, value, "'\(text)' is too long") }
            specs[key] = text
        }
        return specs
    }
}
