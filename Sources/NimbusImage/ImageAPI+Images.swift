import Foundation
import HTTPTypes
import Hummingbird
import NimbusServiceKit

extension ImageAPI {
    func imageRoutes(on router: Router<ServiceContext>) {
        router.post("/v2/images") { request, context in try await create(request, context: context) }
        router.get("/v2/images") { request, _ in
            // `/v2/images/` is an image with an empty id, which does not exist.
            guard !request.uri.path.hasSuffix("/") else { throw GlanceFault.notFound("") }
            return try await list(request)
        }
        router.get("/v2/images/:id") { request, context in
            let caller = try await caller(request)
            return Response.json(render(try visibleImage(try context.parameters.require("id"), caller)))
        }
        router.patch("/v2/images/:id") { request, context in try await update(request, context: context) }
        router.delete("/v2/images/:id") { request, context in
            try await delete(try context.parameters.require("id"), caller(request))
        }
        router.put("/v2/images/:id/tags/:tag") { request, context in
            try await tag(request, context: context, add: true)
        }
        router.delete("/v2/images/:id/tags/:tag") { request, context in
            try await tag(request, context: context, add: false)
        }
        router.post("/v2/images/:id/actions/:action") { request, context in
            try await action(request, context: context)
        }
    }

    // MARK: Create

    func create(_ request: Request, context: ServiceContext) async throws -> Response {
        let caller = try await caller(request)
        guard caller.canWrite else { throw GlanceFault.policy("add_image") }
        guard case .object(let fields) = try await Self.body(request, context: context) else {
            throw GlanceFault.badRequest("The request body must be a JSON object.")
        }
        let now = clock()
        var image = Image(
            id: UUID().uuidString.lowercased(), name: nil, status: "queued", visibility: "shared", protected: false,
            osHidden: false, owner: caller.projectID, diskFormat: nil, containerFormat: nil, minDisk: 0, minRAM: 0,
            size: nil, virtualSize: nil, checksum: nil, osHashAlgo: nil, osHashValue: nil, tags: "[]", properties: "{}",
            createdAt: now, updatedAt: now, store: nil)
        var properties: [(String, String)] = []
        for (key, value) in fields {
            try Self.checkWritable(key)
            if key == "id" {
                guard let id = value.string, UUID(uuidString: id) != nil else {
                    throw GlanceFault.badRequest("Invalid value for id: it must be a UUID.")
                }
                image.id = id.lowercased()
            } else if Self.core.contains(key) {
                try set(key, value, on: &image, caller: caller)
            } else {
                properties.append((key, try Self.property(key, value)))
            }
        }
        image.propertyList = properties
        if image.owner == nil, !caller.isAdmin { throw GlanceFault.forbidden("A project-scoped token is required.") }
        let stored = image
        try store.write { db in
            if try Image.exists(db, key: stored.id) {
                throw GlanceFault(.conflict, "An image with identifier \(stored.id) already exists")
            }
            try stored.insert(db)
        }
        var headers: HTTPFields = [:]
        headers[.location] = "\(request.origin)/v2/images/\(image.id)"
        return Response.json(render(image), status: .created, headers: headers)
    }

    /// Sets a core attribute from a request (create or update), checking type and policy.
    func set(_ key: String, _ value: JSON, on image: inout Image, caller: Caller) throws {
        func text() throws -> String? {
            if value.isNull { return nil }
            guard let text = value.string else {
                throw GlanceFault.badRequest("Invalid value for \(key): not a string.")
            }
            guard text.count <= 255 else {
                throw GlanceFault.badRequest("Invalid value for \(key): over 255 characters.")
            }
            return text
        }
        func flag() throws -> Bool {
            guard let flag = value.bool else {
                throw GlanceFault.badRequest("Invalid value for \(key): not a boolean.")
            }
            return flag
        }
        func count() throws -> Int {
            guard let number = value.int, number >= 0, number <= Int64(Int32.max) else {
                throw GlanceFault.badRequest("Invalid value for \(key): not a non-negative integer.")
            }
            return Int(number)
        }
        switch key {
        case "name": image.name = try text()
        case "visibility":
            guard let visibility = value.string, Self.visibilities.contains(visibility) else {
                throw GlanceFault.badRequest(
                    "Invalid value '\(value.text)' for visibility: one of public, private, shared, community.")
            }
            if visibility == "public", !caller.isAdmin, image.visibility != "public" {
                throw GlanceFault.policy("publicize_image")
            }
            image.visibility = visibility
        case "protected": image.protected = try flag()
        case "os_hidden": image.osHidden = try flag()
        case "owner":
            guard caller.isAdmin else { throw GlanceFault.forbidden("Attribute 'owner' can only be set by an admin.") }
            image.owner = try text()
        case "disk_format", "container_format":
            let format = try text()
            let known = key == "disk_format" ? Self.diskFormats : Self.containerFormats
            if let format, !known.contains(format) {
                throw GlanceFault.badRequest(
                    "Invalid value '\(format)' for \(key): one of \(known.sorted().joined(separator: ", ")).")
            }
            guard
                image.status == "queued" || format == (key == "disk_format" ? image.diskFormat : image.containerFormat)
            else {
                throw GlanceFault.forbidden("Attribute \(key) can be only replaced for a queued image.")
            }
            if key == "disk_format" { image.diskFormat = format } else { image.containerFormat = format }
        case "min_disk": image.minDisk = try count()
        case "min_ram": image.minRAM = try count()
        case "tags":
            guard let items = value.array, items.allSatisfy({ $0.string != nil }) else {
                throw GlanceFault.badRequest("Invalid value for tags: a list of strings.")
            }
            var tags: [String] = []
            for tag in items.compactMap(\.string) where !tags.contains(tag) {
                guard tag.count <= 255 else { throw GlanceFault.badRequest("Tag '\(tag)' is over 255 characters.") }
                tags.append(tag)
            }
            image.tagList = tags
        default:
            throw GlanceFault.badRequest("Unknown attribute \(key).")
        }
    }

    /// A free-form property's value: Glance keeps strings only.
    static func property(_ key: String, _ value: JSON) throws -> String {
        guard !key.isEmpty, key.count <= 255 else { throw GlanceFault.badRequest("Invalid property name '\(key)'.") }
        guard let text = value.string else {
            throw GlanceFault.badRequest("Invalid value for property \(key): \(value.text) is not of type 'string'.")
        }
        return text
    }

    // MARK: List

    /// Query parameters that are not property filters.
    static let listParameters: Set = [
        "limit", "marker", "sort_key", "sort_dir", "sort", "name", "visibility", "status", "owner", "id",
        "member_status", "tag", "os_hidden", "disk_format", "container_format", "protected", "size_min", "size_max",
        "created_at", "updated_at",
    ]

    func list(_ request: Request) async throws -> Response {
        let caller = try await caller(request)
        let query = request.uri.queryParameters
        func value(_ name: String) -> String? { query.get(name) }

        let paging: PageRequest
        do { paging = try PageRequest(ListQuery(request), defaultLimit: 25, maxLimit: 1000) } catch {
            throw GlanceFault.badRequest("limit param must be an integer")
        }
        let visibility = value("visibility")
        if let visibility, !(Self.visibilities.contains(visibility) || visibility == "all") {
            throw GlanceFault.badRequest("Invalid visibility value: \(visibility)")
        }
        let memberStatus = value("member_status") ?? "accepted"
        guard ["accepted", "pending", "rejected", "all"].contains(memberStatus) else {
            throw GlanceFault.badRequest("Invalid status value: \(memberStatus)")
        }
        let sorts = try Self.sortOrder(query)

        let (images, memberships) = try store.read { db in
            (
                try Image.fetchAll(db),
                try ImageMember.filter(sql: "member_id = ?", arguments: [caller.projectID ?? ""]).fetchAll(db)
            )
        }
        let mine = Dictionary(memberships.map { ($0.imageID, $0.status) }, uniquingKeysWith: { first, _ in first })
        let project = caller.projectID

        var ids: Set<String>?
        if let id = value("id") {
            ids = Set((id.hasPrefix("in:") ? String(id.dropFirst(3)) : id).split(separator: ",").map(String.init))
        }
        let tags = query.getAll("tag")
        let propertyFilters = query.filter { !Self.listParameters.contains(String($0.key)) }
            .map { (String($0.key), String($0.value)) }
        let hidden = value("os_hidden").map { $0.lowercased() == "true" }

        let filtered = images.filter { image in
            // Which images a listing shows (Glance's rules).
            let owned = project != nil && image.owner == project
            let sharedStatus = mine[image.id]
            let shared =
                image.visibility == "shared" && sharedStatus != nil
                && (memberStatus == "all" || sharedStatus == memberStatus)
            switch visibility {
            case nil:
                guard
                    caller.isAdmin || image.visibility == "public" || owned || shared
                else { return false }
            case "all":
                guard
                    caller.isAdmin || image.visibility == "public" || image.visibility == "community" || owned || shared
                else { return false }
            case "shared":
                guard image.visibility == "shared", caller.isAdmin || owned || shared else { return false }
            case "community", "public":
                guard image.visibility == visibility else { return false }
            default:  // private
                guard image.visibility == "private", caller.isAdmin || owned else { return false }
            }
            if let hidden { if image.osHidden != hidden { return false } } else if image.osHidden { return false }
            if let name = value("name"), image.name != name { return false }
            if let status = value("status"), image.status != status { return false }
            if let owner = value("owner"), image.owner != owner { return false }
            if let format = value("disk_format"), image.diskFormat != format { return false }
            if let format = value("container_format"), image.containerFormat != format { return false }
            if let flag = value("protected"), String(image.protected) != flag.lowercased() { return false }
            if let ids, !ids.contains(image.id) { return false }
            if let low = value("size_min").flatMap({ Int64($0) }), (image.size ?? -1) < low { return false }
            if let high = value("size_max").flatMap({ Int64($0) }), (image.size ?? Int64.max) > high { return false }
            if !tags.isEmpty, !Set(tags.map { String($0) }).isSubset(of: Set(image.tagList)) { return false }
            if !propertyFilters.isEmpty {
                let properties = Dictionary(image.propertyList, uniquingKeysWith: { first, _ in first })
                for (key, wanted) in propertyFilters where properties[key] != wanted { return false }
            }
            return true
        }
        let sorted = filtered.sorted { Self.precedes($0, $1, by: sorts) }
        let page: Page<Image>
        do { page = try sorted.page(paging, id: \.id) } catch {
            throw GlanceFault.badRequest("marker \(paging.marker ?? "") could not be found.")
        }
        var body: [(String, JSON)] = [
            ("images", .array(page.items.map(render))), ("first", "/v2/images"), ("schema", "/v2/schemas/images"),
        ]
        // Glance links on whenever a page came back full.
        if let limit = paging.limit, limit > 0, page.items.count == limit, let last = page.items.last {
            body.append(("next", .string(ListQuery(request).link(path: "/v2/images", marker: last.id, limit: limit))))
        }
        return Response.json(.object(body))
    }

    /// The sort keys of a listing: `sort=name:asc,size` or `sort_key`/`sort_dir` (repeatable);
    /// created_at descending by default, the id last so that pages are stable.
    static func sortOrder(_ query: Parameters) throws -> [(key: String, ascending: Bool)] {
        let keys: Set = [
            "name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at", "owner",
            "visibility", "min_disk", "min_ram", "virtual_size",
        ]
        var order: [(key: String, ascending: Bool)] = []
        if let sort = query.get("sort") {
            for part in sort.split(separator: ",") {
                let pieces = part.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                let direction = pieces.count > 1 ? pieces[1] : "desc"
                guard keys.contains(pieces[0]), ["asc", "desc"].contains(direction) else {
                    throw GlanceFault.badRequest("Invalid sort: \(part)")
                }
                order.append((pieces[0], direction == "asc"))
            }
        } else {
            let directions = query.getAll("sort_dir").map { String($0) }
            for (index, key) in query.getAll("sort_key").map({ String($0) }).enumerated() {
                let direction = index < directions.count ? directions[index] : (directions.first ?? "desc")
                guard keys.contains(key), ["asc", "desc"].contains(direction) else {
                    throw GlanceFault.badRequest("Invalid sort key or direction: \(key) \(direction)")
                }
                order.append((key, direction == "asc"))
            }
        }
        if order.isEmpty { order = [("created_at", false)] }
        if !order.contains(where: { $0.key == "id" }) { order.append(("id", order.last?.ascending ?? false)) }
        return order
    }

    static func precedes(_ a: Image, _ b: Image, by order: [(key: String, ascending: Bool)]) -> Bool {
        for (key, ascending) in order {
            let comparison: Int
            switch key {
            case "size": comparison = compare(a.size ?? -1, b.size ?? -1)
            case "virtual_size": comparison = compare(a.virtualSize ?? -1, b.virtualSize ?? -1)
            case "min_disk": comparison = compare(a.minDisk, b.minDisk)
            case "min_ram": comparison = compare(a.minRAM, b.minRAM)
            case "created_at": comparison = compare(a.createdAt, b.createdAt)
            case "updated_at": comparison = compare(a.updatedAt, b.updatedAt)
            default: comparison = compare(text(a, key), text(b, key))
            }
            if comparison != 0 { return ascending ? comparison < 0 : comparison > 0 }
        }
        return false
    }

    static func compare<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }

    static func text(_ image: Image, _ key: String) -> String {
        switch key {
        case "name": image.name ?? ""
        case "status": image.status
        case "container_format": image.containerFormat ?? ""
        case "disk_format": image.diskFormat ?? ""
        case "owner": image.owner ?? ""
        case "visibility": image.visibility
        default: image.id
        }
    }

    // MARK: Update (JSON patch, both dialects)

    func update(_ request: Request, context: ServiceContext) async throws -> Response {
        let caller = try await caller(request)
        let id = try context.parameters.require("id")
        let contentType = request.header("Content-Type")?.split(separator: ";").first.map(String.init) ?? ""
        let dialect: Int
        switch contentType {
        case "application/openstack-images-v2.1-json-patch": dialect = 1
        case "application/openstack-images-v2.0-json-patch": dialect = 0
        default:
            throw GlanceFault(
                .unsupportedMediaType,
                "Unsupported Content-Type \(contentType); use application/openstack-images-v2.1-json-patch")
        }
        guard let operations = try await Self.body(request, context: context).array else {
            throw GlanceFault.badRequest("A JSON patch is a list of operations.")
        }
        var image = try modifiableImage(id, caller, action: "modify_image")
        var properties = image.propertyList
        for operation in operations {
            var op: String?
            var path: String?
            if dialect == 1 {
                op = operation["op"]?.string
                path = operation["path"]?.string
            } else {
                for name in ["add", "replace", "remove"] where operation[name] != nil {
                    op = name
                    path = operation[name]?.string
                }
            }
            guard let op, ["add", "replace", "remove"].contains(op) else {
                throw GlanceFault.badRequest("Operations must be add, replace or remove: \(operation.text)")
            }
            guard let path, path.hasPrefix("/"), path.count > 1 else {
                throw GlanceFault.badRequest("Invalid JSON pointer for this resource: '\(path ?? "")'")
            }
            let key = String(path.dropFirst()).replacingOccurrences(of: "~1", with: "/")
                .replacingOccurrences(of: "~0", with: "~")
            try Self.checkWritable(key)
            if key == "id" { throw GlanceFault.forbidden("Attribute 'id' is read-only.") }
            if Self.core.contains(key) {
                guard op != "remove" else { throw GlanceFault.forbidden("Attribute '\(key)' cannot be removed.") }
                guard let value = operation["value"] else {
                    throw GlanceFault.badRequest("Operation \(op) of \(path) needs a value.")
                }
                try set(key, value, on: &image, caller: caller)
                continue
            }
            let index = properties.firstIndex { $0.0 == key }
            switch op {
            case "remove":
                guard let index else { throw GlanceFault(.conflict, "Property \(key) does not exist.") }
                properties.remove(at: index)
            case "replace" where index == nil:
                throw GlanceFault(.conflict, "Property \(key) does not exist.")
            default:
                guard let value = operation["value"] else {
                    throw GlanceFault.badRequest("Operation \(op) of \(path) needs a value.")
                }
                let text = try Self.property(key, value)
                if let index { properties[index].1 = text } else { properties.append((key, text)) }
            }
        }
        image.propertyList = properties
        image.updatedAt = clock()
        let updated = image
        try store.write { db in
            guard try Image.exists(db, key: id) else { throw GlanceFault.notFound(id) }
            try updated.update(db)
        }
        return Response.json(render(image))
    }

    // MARK: Delete, tags, actions

    func delete(_ id: String, _ caller: Caller) async throws -> Response {
        let image = try modifiableImage(id, caller, action: "delete_image")
        guard !image.protected else { throw GlanceFault.forbidden("Image \(id) is protected and cannot be deleted.") }
        // The record first: once it is gone nobody reads the data, which then goes too. An
        // upload still in progress finds the record gone and removes what it stored.
        let deleted = try store.write { db in try Image.deleteOne(db, key: id) }
        if deleted, let kind = image.store, let data = dataStores[kind] { await data.delete(id) }
        return Response.empty()
    }

    func tag(_ request: Request, context: ServiceContext, add: Bool) async throws -> Response {
        let caller = try await caller(request)
        let id = try context.parameters.require("id")
        let tag = try context.parameters.require("tag")
        var image = try modifiableImage(id, caller, action: "modify_image")
        var tags = image.tagList
        if add {
            guard tag.count <= 255 else { throw GlanceFault.badRequest("Tag '\(tag)' is over 255 characters.") }
            if !tags.contains(tag) { tags.append(tag) }
        } else {
            guard let index = tags.firstIndex(of: tag) else { throw GlanceFault(.notFound, "Tag \(tag) not found.") }
            tags.remove(at: index)
        }
        image.tagList = tags
        image.updatedAt = clock()
        let updated = image
        try store.write { db in try updated.update(db) }
        return Response.empty()
    }

    /// `deactivate` (an active image's data can no longer be downloaded but by admins) and
    /// `reactivate`.
    func action(_ request: Request, context: ServiceContext) async throws -> Response {
        let caller = try await caller(request)
        let id = try context.parameters.require("id")
        let action = try context.parameters.require("action")
        var image = try visibleImage(id, caller)
        // The image's owner (a member of its project) or an admin, as Glance's default policy.
        guard canModify(image, caller) else {
            throw GlanceFault.policy(action == "deactivate" ? "deactivate" : "reactivate")
        }
        switch (action, image.status) {
        case ("deactivate", "active"), ("deactivate", "deactivated"): image.status = "deactivated"
        case ("reactivate", "deactivated"), ("reactivate", "active"): image.status = "active"
        case ("deactivate", _), ("reactivate", _):
            throw GlanceFault.forbidden("Not allowed to \(action) an image in status '\(image.status)'.")
        default:
            throw GlanceFault(.notFound, "The resource could not be found.")
        }
        image.updatedAt = clock()
        let updated = image
        try store.write { db in try updated.update(db) }
        return Response.empty()
    }
}
