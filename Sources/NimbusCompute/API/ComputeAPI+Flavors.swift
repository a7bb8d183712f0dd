import Foundation
import Hummingbird
import NimbusServiceKit

/// `/v2.1/flavors`: flavors with their extra specs and, for private ones, the projects
/// they are open to (`os-flavor-access`).
extension ComputeAPI {
    func flavorRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/flavors") { request, context in
            try await listFlavors(request, context, detail: false)
        }
        router.get("/v2.1/flavors/detail") { request, context in
            try await listFlavors(request, context, detail: true)
        }
        router.get("/v2.1/flavors/:id") { request, context in
            let caller = try await caller(request)
            let flavor = try visibleFlavor(store.snapshot, try context.parameters.require("id"), caller)
            return Response.json(["flavor": render(flavor, request.origin, Self.version(context))])
        }
        router.post("/v2.1/flavors") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-flavor-manage:create")
            let given = try member(try await body(request, context: context), "flavor")
            let version = Self.version(context)
            var flavor = try newFlavor(given, version)
            let created = try store.write { transaction -> Flavor in
                if let id = given["id"]?.string, transaction.state.flavors[id] != nil {
                    throw ComputeFault.conflict("Flavor with ID \(id) already exists.")
                }
                if transaction.state.flavors.values.contains(where: { $0.name == flavor.name }) {
                    throw ComputeFault.conflict("Flavor with name \(flavor.name) already exists.")
                }
                flavor.createdAt = clock()
                transaction.state.flavors[flavor.id] = flavor
                transaction.touch(.flavor, flavor.id)
                return flavor
            }
            return Response.json(["flavor": render(created, request.origin, version)])
        }
        router.put("/v2.1/flavors/:id") { request, context in
            let version = Self.version(context)
            guard version >= Microversion(2, 55) else { throw HTTPError(.notFound) }
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-flavor-manage:update")
            let id = try context.parameters.require("id")
            let given = try member(try await body(request, context: context), "flavor")
            guard let members = given.members, members.count == 1, let description = given["description"] else {
                throw ComputeFault.badRequest(
                    "Invalid input for field/attribute flavor. Only 'description' may be updated.")
            }
            let text = try Self.description(description)
            let updated = try store.write { transaction -> Flavor in
                guard var flavor = transaction.state.flavors[id] else { throw Self.flavorNotFound(id) }
                flavor.description = text
                transaction.state.flavors[id] = flavor
                transaction.touch(.flavor, id)
                return flavor
            }
            return Response.json(["flavor": render(updated, request.origin, version)])
        }
        router.delete("/v2.1/flavors/:id") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-flavor-manage:delete")
            let id = try context.parameters.require("id")
            try store.write { transaction in
                guard transaction.state.flavors.removeValue(forKey: id) != nil else { throw Self.flavorNotFound(id) }
                transaction.touch(.flavor, id)
            }
            return Response(status: .accepted)
        }
        flavorAccessRoutes(on: router)
        extraSpecRoutes(on: router)
    }

    static func flavorNotFound(_ id: String) -> ComputeFault { .notFound("Flavor \(id) could not be found.") }

    /// A flavor the caller may use: public, open to its project, or any for an admin.
    func visibleFlavor(_ state: ComputeState, _ id: String, _ caller: Caller) throws -> Flavor {
        guard let flavor = state.flavors[id], Self.canSee(flavor, caller) else { throw Self.flavorNotFound(id) }
        return flavor
    }

    static func canSee(_ flavor: Flavor, _ caller: Caller) -> Bool {
        caller.isAdmin || flavor.isPublic || caller.projectID.map(flavor.projects.contains) == true
    }

    /// A flavor as Nova shows it at `version`: extra specs from 2.61, the description from
    /// 2.55, swap as 0 rather than "" from 2.75.
    func render(_ flavor: Flavor, _ origin: String, _ version: Microversion) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", .string(flavor.id)), ("name", .string(flavor.name)), ("ram", .int(Int64(flavor.memoryMiB))),
            ("disk", .int(Int64(flavor.diskGiB))),
            ("swap", flavor.swapMiB == 0 && version < Microversion(2, 75) ? "" : .int(Int64(flavor.swapMiB))),
            ("OS-FLV-EXT-DATA:ephemeral", .int(Int64(flavor.ephemeralGiB))),
            ("OS-FLV-DISABLED:disabled", .bool(flavor.disabled)), ("vcpus", .int(Int64(flavor.vcpus))),
            ("os-flavor-access:is_public", .bool(flavor.isPublic)), ("rxtx_factor", .double(flavor.rxtxFactor)),
            ("links", Self.links(origin, "flavors", flavor.id)),
        ]
        if version >= Microversion(2, 55) {
            fields.append(("description", flavor.description.map(JSON.string) ?? .null))
        }
        if version >= Microversion(2, 61) {
            fields.append(
                (
                    "extra_specs",
                    .object(flavor.extraSpecs.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
                ))
        }
        return .object(fields)
    }

    /// `GET /flavors[/detail]` as Nova filters it: members see the public flavors and those
    /// open to their project, admins choose with `is_public` (`None`: all); `minRam`,
    /// `minDisk`, `sort_key`/`sort_dir`, `limit`/`marker`.
    func listFlavors(_ request: Request, _ context: ServiceContext, detail: Bool) async throws -> Response {
        let caller = try await caller(request)
        let query = ListQuery(request)
        var flavors = Array(store.snapshot.flavors.values)
        if caller.isAdmin {
            let openToCaller = { (flavor: Flavor) in
                flavor.isPublic || caller.projectID.map(flavor.projects.contains) == true
            }
            if query.value("is_public")?.lowercased() == "none" {
                // All of them.
            } else if let given = query.bool("is_public") {
                guard let flag = given else {
                    throw ComputeFault.badRequest("Invalid is_public filter [\(query.value("is_public") ?? "")]")
                }
                flavors = flavors.filter { flag ? openToCaller($0) : !$0.isPublic }
            } else {
                flavors = flavors.filter(openToCaller)
            }
        } else {
            flavors = flavors.filter { Self.canSee($0, caller) && !$0.disabled }
        }
        for (parameter, path) in [("minRam", \Flavor.memoryMiB), ("minDisk", \Flavor.diskGiB)] {
            guard let text = query.value(parameter) else { continue }
            guard let minimum = Int(text) else {
                throw ComputeFault.badRequest("Invalid \(parameter) filter [\(text)]")
            }
            flavors = flavors.filter { $0[keyPath: path] >= minimum }
        }
        if let name = query.value("name") { flavors = flavors.filter { $0.name == name } }
        let descending = query.value("sort_dir") == "desc"
        let key = query.value("sort_key") ?? "flavorid"
        flavors.sort { a, b in
            let ordered = Self.ordered(a, b, by: key)
            return descending ? Self.ordered(b, a, by: key) : ordered
        }
        if let marker = query.value("marker") {
            guard let index = flavors.firstIndex(where: { $0.id == marker }) else {
                throw ComputeFault.badRequest("marker [\(marker)] not found")
            }
            flavors = Array(flavors[(index + 1)...])
        }
        var limit: Int?
        if let text = query.value("limit") {
            guard let value = Int(text), value >= 0 else {
                throw ComputeFault.badRequest("limit param must be an integer")
            }
            limit = min(value, 1000)
        }
        if let limit { flavors = Array(flavors.prefix(limit)) }
        let version = Self.version(context)
        let items = flavors.map { flavor -> JSON in
            if detail { return render(flavor, request.origin, version) }
            var fields: [(String, JSON)] = [
                ("id", .string(flavor.id)), ("name", .string(flavor.name)),
                ("links", Self.links(request.origin, "flavors", flavor.id)),
            ]
            if version >= Microversion(2, 55) {
                fields.append(("description", flavor.description.map(JSON.string) ?? .null))
            }
            return .object(fields)
        }
        var document: [(String, JSON)] = [("flavors", .array(items))]
        if let limit, limit > 0, flavors.count == limit, let last = flavors.last {
            let path = detail ? "flavors/detail" : "flavors"
            document.append(
                (
                    "flavors_links",
                    [
                        [
                            "rel": "next",
                            "href": .string("\(request.origin)/v2.1/\(path)?limit=\(limit)&marker=\(last.id)"),
                        ]
                    ]
                ))
        }
        return Response.json(.object(document))
    }

    static func ordered(_ a: Flavor, _ b: Flavor, by key: String) -> Bool {
        switch key {
        case "name": (a.name, a.id) < (b.name, b.id)
        case "memory_mb": (a.memoryMiB, a.id) < (b.memoryMiB, b.id)
        case "root_gb": (a.diskGiB, a.id) < (b.diskGiB, b.id)
        case "vcpus": (a.vcpus, a.id) < (b.vcpus, b.id)
        case "swap": (a.swapMiB, a.id) < (b.swapMiB, b.id)
        case "ephemeral_gb": (a.ephemeralGiB, a.id) < (b.ephemeralGiB, b.id)
        case "created_at", "id": (a.createdAt, a.id) < (b.createdAt, b.id)
        default: a.id < b.id
        }
    }

    // MARK: Create

    /// A new flavor from the create body, checked as Nova's schema checks it.
    func newFlavor(_ given: JSON, _ version: Microversion) throws -> Flavor {
        var known = [
            "name", "id", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral", "swap", "rxtx_factor",
            "os-flavor-access:is_public",
        ]
        if version >= Microversion(2, 55) { known.append("description") }
        for (key, _) in given.members ?? [] where !known.contains(key) {
            throw ComputeFault.badRequest(
                "Invalid input for field/attribute flavor. Additional properties are not allowed ('\(key)' was unexpected)"
            )
        }
        guard let name = given["name"]?.string else {
            throw ComputeFault.invalid("flavor", given["name"], "'name' is a required property")
        }
        guard !name.isEmpty, name.count <= 255, name.trimmingCharacters(in: .whitespaces) == name else {
            throw ComputeFault.invalid("name", given["name"], "'\(name)' is not a valid name")
        }
        var id = UUID().uuidString.lowercased()
        if let value = given["id"], !value.isNull {
            guard let text = value.string, !text.isEmpty, text.count <= 255,
                text.trimmingCharacters(in: .whitespaces) == text,
                text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ". _-".contains($0)) })
            else {
                throw ComputeFault.invalid(
                    "id", value, "'\(value.text)' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'")
            }
            id = text
        }
        func number(_ key: String, minimum: Int, required: Bool) throws -> Int {
            guard let value = given[key], !value.isNull else {
                if required { throw ComputeFault.invalid("flavor", nil, "'\(key)' is a required property") }
                return 0
            }
            let parsed = value.int.map(Int.init) ?? value.string.flatMap { $0.allSatisfy(\.isNumber) ? Int($0) : nil }
            guard let parsed, parsed >= minimum, parsed <= Int(Int32.max) else {
                throw ComputeFault.invalid(key, value, "\(value.text) is not a valid integer of at least \(minimum)")
            }
            return parsed
        }
        let rxtx: Double
        if let value = given["rxtx_factor"], !value.isNull {
            guard let factor = Self.double(value), factor > 0 else {
                throw ComputeFault.invalid(
                    "rxtx_factor", value, "\(value.text) is less than or equal to the minimum of 0")
            }
            rxtx = factor
        } else {
            rxtx = 1
        }
        var isPublic = true
        if let value = given["os-flavor-access:is_public"], !value.isNull {
            guard let flag = value.bool else {
                throw ComputeFault.invalid(
                    "os-flavor-access:is_public", value, "\(value.text) is not of type 'boolean'")
            }
            isPublic = flag
        }
        return Flavor(
            id: id, name: name, memoryMiB: try number("ram", minimum: 1, required: true),
            vcpus: try number("vcpus", minimum: 1, required: true),
            diskGiB: try number("disk", minimum: 0, required: true),
            ephemeralGiB: try number("OS-FLV-EXT-DATA:ephemeral", minimum: 0, required: false),
            swapMiB: try number("swap", minimum: 0, required: false), rxtxFactor: rxtx, isPublic: isPublic,
            disabled: false, description: try given["description"].flatMap(Self.description), extraSpecs: [:],
            projects: [], createdAt: 0)
    }

    static func double(_ value: JSON) -> Double? {
        switch value {
        case .double(let number): number
        case .int(let number): Double(number)
        case .string(let text): Double(text)
        default: nil
        }
    }

    /// A description: null, or printable text of at most 65,535 characters.
    static func description(_ value: JSON) throws -> String? {
        if value.isNull { return nil }
        guard let text = value.string, text.count <= 65535,
            !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" })
        else { throw ComputeFault.invalid("description", value, "\(value.text) is not a valid description") }
        return text
    }
}
