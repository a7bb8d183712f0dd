import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// Glance's metadata definitions catalog (`/v2/metadefs`): namespaces, each with resource
/// type associations, objects, properties and tags, which dashboards read to offer typed
/// metadata for images, flavors and volumes. Anyone reads the public namespaces (and their
/// project's private ones); only admins write, as Glance's default policy says. A protected
/// namespace and its contents cannot be deleted until it is unprotected.
extension ImageAPI {
    /// The resource types every Glance knows, made by the first migration's seed.
    static let standardResourceTypes = [
        "OS::Cinder::Volume", "OS::Glance::Image", "OS::Nova::Aggregate", "OS::Nova::Flavor", "OS::Nova::Server",
    ]
    static let propertyTypes: Set = ["array", "boolean", "integer", "number", "object", "string"]

    func metadefRoutes(on router: Router<ServiceContext>) {
        let base = "/v2/metadefs/namespaces/:namespace"
        router.get("/v2/metadefs/resource_types") { request, _ in
            _ = try await caller(request)
            let types = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM metadef_resource_type ORDER BY name").map { row in
                    JSON.object([
                        ("name", .string(row["name"])), ("created_at", .string(Self.timestamp(row["created_at"]))),
                        ("updated_at", .string(Self.timestamp(row["updated_at"]))),
                    ])
                }
            }
            return Response.json(["resource_types": .array(types)])
        }
        router.get("/v2/metadefs/namespaces") { request, _ in try await listNamespaces(request) }
        router.post("/v2/metadefs/namespaces") { request, context in
            let caller = try await adminCaller(request, "add_metadef_namespace")
            let body = try await Self.metadefBody(request, context: context)
            let name = try namespaceName(body)
            try store.write { db in
                if try Self.exists(db, "metadef_namespace", namespace: name) {
                    throw GlanceFault(.conflict, "Namespace \(name) already exists.")
                }
                let now = clock()
                try db.execute(
                    sql: """
                        INSERT INTO metadef_namespace (namespace, display_name, description, visibility, protected,
                          owner, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        name, body["display_name"]?.string, body["description"]?.string,
                        try visibility(body["visibility"]), body["protected"]?.bool ?? false,
                        body["owner"]?.string ?? caller.projectID, now, now,
                    ])
                for association in body["resource_type_associations"]?.array ?? [] {
                    try associate(name, association, db: db)
                }
                for object in body["objects"]?.array ?? [] { _ = try putObject(name, nil, object, db: db) }
                for (key, property) in body["properties"]?.members ?? [] {
                    try putProperty(name, nil, property, key: key, db: db)
                }
                for tag in body["tags"]?.array ?? [] { try addTag(name, tag["name"]?.string, db: db) }
            }
            return Response.json(
                try store.read { db in try renderNamespace(name, db: db, full: true) }, status: .created)
        }
        router.get(RouterPath(base)) { request, context in
            Response.json(
                try await withNamespace(request, context, .read) { name, db in
                    try renderNamespace(name, db: db, full: true)
                })
        }
        router.put(RouterPath(base)) { request, context in
            var renamed = ""
            try await withNamespace(request, context, .write("modify_metadef_namespace")) { name, body, db in
                renamed = body["namespace"]?.string ?? name
                guard !renamed.isEmpty, renamed.count <= 80 else {
                    throw GlanceFault.badRequest("A namespace name is 1 to 80 characters.")
                }
                if renamed != name, try Self.exists(db, "metadef_namespace", namespace: renamed) {
                    throw GlanceFault(.conflict, "Namespace \(renamed) already exists.")
                }
                try db.execute(
                    sql: """
                        UPDATE metadef_namespace SET namespace = ?, display_name = ?, description = ?,
                          visibility = ?, protected = ?, owner = COALESCE(?, owner), updated_at = ?
                        WHERE namespace = ?
                        """,
                    arguments: [
                        renamed, body["display_name"]?.string, body["description"]?.string,
                        try visibility(body["visibility"]), body["protected"]?.bool ?? false, body["owner"]?.string,
                        clock(), name,
                    ])
            }
            return Response.json(try store.read { db in try renderNamespace(renamed, db: db, full: false) })
        }
        router.delete(RouterPath(base)) { request, context in
            try await withNamespace(request, context, .delete("delete_metadef_namespace")) { name, db in
                try db.execute(sql: "DELETE FROM metadef_namespace WHERE namespace = ?", arguments: [name])
            }
            return Response.empty()
        }
        for (part, table) in [
            ("objects", "metadef_object"), ("properties", "metadef_property"), ("tags", "metadef_tag"),
        ] {
            router.delete(RouterPath("\(base)/\(part)")) { request, context in
                try await withNamespace(request, context, .delete("delete_metadef_\(part)")) { name, db in
                    try db.execute(sql: "DELETE FROM \(table) WHERE namespace = ?", arguments: [name])
                }
                return Response.empty()
            }
        }
        associationRoutes(on: router, base: base)
        objectRoutes(on: router, base: base)
        propertyRoutes(on: router, base: base)
        tagRoutes(on: router, base: base)
    }

    // MARK: Namespaces

    func listNamespaces(_ request: Request) async throws -> Response {
        let caller = try await caller(request)
        let query = request.uri.queryParameters
        let paging: PageRequest
        do { paging = try PageRequest(ListQuery(request), defaultLimit: 1000, maxLimit: 1000) } catch {
            throw GlanceFault.badRequest("limit must be a positive integer.")
        }
        guard paging.limit != 0 else { throw GlanceFault.badRequest("limit must be a positive integer.") }
        let visibilityFilter = try query.get("visibility").map { try visibility(.string($0)) }
        let resourceTypes = query.get("resource_types").map { Set($0.split(separator: ",").map(String.init)) }
        let names: [String] = try store.read { db in
            var rows = try Row.fetchAll(
                db,
                sql: "SELECT namespace, visibility, owner FROM metadef_namespace ORDER BY created_at DESC, namespace")
            rows = rows.filter { row in
                canSee(visibility: row["visibility"], owner: row["owner"], caller)
                    && (visibilityFilter == nil || row["visibility"] == visibilityFilter)
            }
            var names: [String] = rows.map { $0["namespace"] }
            if let resourceTypes {
                names = try names.filter { name in
                    let associated = try String.fetchAll(
                        db, sql: "SELECT name FROM metadef_association WHERE namespace = ?", arguments: [name])
                    return !resourceTypes.isDisjoint(with: associated)
                }
            }
            return names
        }
        let page: Page<String>
        do { page = try names.page(paging, id: { $0 }) } catch {
            throw GlanceFault.badRequest("Namespace \(paging.marker ?? "") (the marker) could not be found.")
        }
        let rendered = try store.read { db in try page.items.map { try renderNamespace($0, db: db, full: false) } }
        var body: [(String, JSON)] = [
            ("namespaces", .array(rendered)), ("first", "/v2/metadefs/namespaces"),
            ("schema", "/v2/schemas/metadefs/namespaces"),
        ]
        if page.hasMore, let last = page.items.last {
            body.append(
                (
                    "next",
                    .string(ListQuery(request).link(path: "/v2/metadefs/namespaces", marker: last, limit: paging.limit))
                ))
        }
        return Response.json(.object(body))
    }

    func renderNamespace(_ name: String, db: Database, full: Bool) throws -> JSON {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM metadef_namespace WHERE namespace = ?", arguments: [name])
        else { throw Self.namespaceNotFound(name) }
        var members: [(String, JSON)] = [("namespace", .string(name))]
        if let display: String = row["display_name"] { members.append(("display_name", .string(display))) }
        if let description: String = row["description"] { members.append(("description", .string(description))) }
        members += [
            ("visibility", .string(row["visibility"])), ("protected", .bool(row["protected"])),
            ("owner", .optional(row["owner"])), ("created_at", .string(Self.timestamp(row["created_at"]))),
            ("updated_at", .string(Self.timestamp(row["updated_at"]))),
            ("schema", "/v2/schemas/metadefs/namespace"), ("self", .string("/v2/metadefs/namespaces/\(name)")),
        ]
        let associations = try associations(of: name, db: db)
        if !associations.isEmpty { members.append(("resource_type_associations", .array(associations))) }
        if full {
            let properties = try properties(of: name, db: db)
            if !properties.isEmpty { members.append(("properties", .object(properties))) }
            let objects = try Row.fetchAll(
                db, sql: "SELECT * FROM metadef_object WHERE namespace = ? ORDER BY name", arguments: [name])
            if !objects.isEmpty { members.append(("objects", .array(objects.map { renderObject($0) }))) }
            let tags = try Row.fetchAll(
                db, sql: "SELECT * FROM metadef_tag WHERE namespace = ? ORDER BY created_at, name", arguments: [name])
            if !tags.isEmpty { members.append(("tags", .array(tags.map { ["name": .string($0["name"])] }))) }
        }
        return .object(members)
    }

    static func namespaceNotFound(_ name: String) -> GlanceFault {
        GlanceFault(.notFound, "Metadata definition namespace=\(name) was not found.")
    }

    func canSee(visibility: String, owner: String?, _ caller: Caller) -> Bool {
        visibility == "public" || PolicyRule.adminOrOwner.allows(caller, owner: owner)
    }

    /// The namespace's row, if the caller may see it (404 otherwise).
    @discardableResult
    func visibleNamespace(_ name: String, _ caller: Caller, db: Database) throws -> Row {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM metadef_namespace WHERE namespace = ?", arguments: [name]),
            canSee(visibility: row["visibility"], owner: row["owner"], caller)
        else { throw Self.namespaceNotFound(name) }
        return row
    }

    /// What a request does with the namespace in its path: read it (whoever may see it),
    /// write in it (admins: the policy action named), or delete from it (admins, and not
    /// while it is protected).
    enum NamespaceAccess {
        case read
        case write(String)
        case delete(String)
    }

    /// Runs `body` with the namespace named in the path, once the caller may: 401 without a
    /// token, 403 for a write by anyone but an admin, 404 when the caller may not see the
    /// namespace, 403 for a delete from a protected one. Reads run on a reader, writes and
    /// deletes in one transaction.
    @discardableResult
    func withNamespace<T>(
        _ request: Request, _ context: ServiceContext, _ access: NamespaceAccess,
        _ body: (_ namespace: String, _ db: Database) throws -> T
    ) async throws -> T {
        let caller = try await namespaceCaller(request, access)
        return try inNamespace(try context.parameters.require("namespace"), caller, access, body)
    }

    /// The same, for a request with a JSON object body (read once the caller is checked).
    @discardableResult
    func withNamespace<T>(
        _ request: Request, _ context: ServiceContext, _ access: NamespaceAccess,
        _ body: (_ namespace: String, _ json: JSON, _ db: Database) throws -> T
    ) async throws -> T {
        let caller = try await namespaceCaller(request, access)
        let json = try await Self.metadefBody(request, context: context)
        return try inNamespace(try context.parameters.require("namespace"), caller, access) { name, db in
            try body(name, json, db)
        }
    }

    func namespaceCaller(_ request: Request, _ access: NamespaceAccess) async throws -> Caller {
        switch access {
        case .read: try await caller(request)
        case .write(let action), .delete(let action): try await adminCaller(request, action)
        }
    }

    func inNamespace<T>(
        _ name: String, _ caller: Caller, _ access: NamespaceAccess, _ body: (String, Database) throws -> T
    ) throws -> T {
        if case .read = access {
            return try store.read { db in
                try visibleNamespace(name, caller, db: db)
                return try body(name, db)
            }
        }
        return try store.write { db in
            let row = try visibleNamespace(name, caller, db: db)
            if case .delete = access, row["protected"] as Bool {
                throw GlanceFault.forbidden("Namespace \(name) is protected and cannot be deleted.")
            }
            return try body(name, db)
        }
    }

    /// Whether `table` has a row for the namespace (and `name`, when given).
    static func exists(_ db: Database, _ table: String, namespace: String, name: String? = nil) throws -> Bool {
        guard let name else {
            return try Row.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE namespace = ?", arguments: [namespace])
                != nil
        }
        return try Row.fetchOne(
            db, sql: "SELECT 1 FROM \(table) WHERE namespace = ? AND name = ?", arguments: [namespace, name]) != nil
    }

    func adminCaller(_ request: Request, _ action: String) async throws -> Caller {
        let caller = try await caller(request)
        guard caller.isAdmin else { throw GlanceFault.policy(action) }
        return caller
    }

    func namespaceName(_ body: JSON) throws -> String {
        guard let name = body["namespace"]?.string, !name.isEmpty, name.count <= 80 else {
            throw GlanceFault.badRequest("The body must name the namespace (1 to 80 characters).")
        }
        return name
    }

    func visibility(_ value: JSON?) throws -> String {
        guard let value, !value.isNull else { return "private" }
        guard let text = value.string, text == "public" || text == "private" else {
            throw GlanceFault.badRequest("Invalid visibility \(value.text): it is public or private.")
        }
        return text
    }

    static func metadefBody(_ request: Request, context: ServiceContext) async throws -> JSON {
        let body = try await Self.body(request, context: context)
        guard case .object = body else { throw GlanceFault.badRequest("The request body must be a JSON object.") }
        return body
    }

    // MARK: Resource type associations

    func associationRoutes(on router: Router<ServiceContext>, base: String) {
        router.get(RouterPath("\(base)/resource_types")) { request, context in
            Response.json(
                try await withNamespace(request, context, .read) { name, db in
                    ["resource_type_associations": .array(try associations(of: name, db: db))]
                })
        }
        router.post(RouterPath("\(base)/resource_types")) { request, context in
            Response.json(
                try await withNamespace(request, context, .write("add_metadef_resource_type_association")) {
                    name, body, db in try associate(name, body, db: db)
                }, status: .created)
        }
        router.delete(RouterPath("\(base)/resource_types/:type")) { request, context in
            let type = try context.parameters.require("type")
            try await withNamespace(request, context, .delete("remove_metadef_resource_type_association")) {
                name, db in
                try db.execute(
                    sql: "DELETE FROM metadef_association WHERE namespace = ? AND name = ?", arguments: [name, type])
                guard db.changesCount > 0 else {
                    throw GlanceFault(.notFound, "Resource type \(type) is not associated with namespace \(name).")
                }
            }
            return Response.empty()
        }
    }

    func associations(of name: String, db: Database) throws -> [JSON] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM metadef_association WHERE namespace = ? ORDER BY name", arguments: [name]
        ).map(renderAssociation)
    }

    func renderAssociation(_ row: Row) -> JSON {
        var members: [(String, JSON)] = [("name", .string(row["name"]))]
        if let prefix: String = row["prefix"] { members.append(("prefix", .string(prefix))) }
        if let target: String = row["properties_target"] { members.append(("properties_target", .string(target))) }
        members += [
            ("created_at", .string(Self.timestamp(row["created_at"]))),
            ("updated_at", .string(Self.timestamp(row["updated_at"]))),
        ]
        return .object(members)
    }

    /// Associates a resource type (made if new) with the namespace.
    @discardableResult
    func associate(_ namespace: String, _ body: JSON, db: Database) throws -> JSON {
        guard let type = body["name"]?.string, !type.isEmpty, type.count <= 80 else {
            throw GlanceFault.badRequest("A resource type association names the resource type (1 to 80 characters).")
        }
        let now = clock()
        try db.execute(
            sql: """
                INSERT INTO metadef_resource_type (name, protected, created_at, updated_at) VALUES (?, 0, ?, ?)
                ON CONFLICT (name) DO NOTHING
                """, arguments: [type, now, now])
        if try Self.exists(db, "metadef_association", namespace: namespace, name: type) {
            throw GlanceFault(.conflict, "Resource type \(type) is already associated with namespace \(namespace).")
        }
        try db.execute(
            sql: """
                INSERT INTO metadef_association (namespace, name, prefix, properties_target, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [namespace, type, body["prefix"]?.string, body["properties_target"]?.string, now, now])
        let row = try Row.fetchOne(
            db, sql: "SELECT * FROM metadef_association WHERE namespace = ? AND name = ?", arguments: [namespace, type])
        return row.map(renderAssociation) ?? .null
    }

    // MARK: Objects

    func objectRoutes(on router: Router<ServiceContext>, base: String) {
        router.get(RouterPath("\(base)/objects")) { request, context in
            let objects = try await withNamespace(request, context, .read) { name, db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM metadef_object WHERE namespace = ? ORDER BY name", arguments: [name])
            }
            return Response.json([
                "objects": .array(objects.map { renderObject($0) }), "schema": "/v2/schemas/metadefs/objects",
            ])
        }
        router.post(RouterPath("\(base)/objects")) { request, context in
            let row = try await withNamespace(request, context, .write("add_metadef_object")) { name, body, db in
                try putObject(name, nil, body, db: db)
            }
            return Response.json(renderObject(row), status: .created)
        }
        router.get(RouterPath("\(base)/objects/:object")) { request, context in
            let object = try context.parameters.require("object")
            let row = try await withNamespace(request, context, .read) { name, db in
                try objectRow(name, object, db: db)
            }
            return Response.json(renderObject(row))
        }
        router.put(RouterPath("\(base)/objects/:object")) { request, context in
            let object = try context.parameters.require("object")
            let row = try await withNamespace(request, context, .write("modify_metadef_object")) { name, body, db in
                _ = try objectRow(name, object, db: db)
                return try putObject(name, object, body, db: db)
            }
            return Response.json(renderObject(row))
        }
        router.delete(RouterPath("\(base)/objects/:object")) { request, context in
            let object = try context.parameters.require("object")
            try await withNamespace(request, context, .delete("delete_metadef_object")) { name, db in
                _ = try objectRow(name, object, db: db)
                try db.execute(
                    sql: "DELETE FROM metadef_object WHERE namespace = ? AND name = ?", arguments: [name, object])
            }
            return Response.empty()
        }
    }

    func objectRow(_ namespace: String, _ name: String, db: Database) throws -> Row {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM metadef_object WHERE namespace = ? AND name = ?", arguments: [namespace, name])
        else {
            throw GlanceFault(.notFound, "Metadata definition object=\(name) was not found in namespace=\(namespace).")
        }
        return row
    }

    /// Creates an object (`existing` nil) or replaces one, possibly renaming it; returns its row.
    func putObject(_ namespace: String, _ existing: String?, _ body: JSON, db: Database) throws -> Row {
        guard let name = body["name"]?.string, !name.isEmpty, name.count <= 80 else {
            throw GlanceFault.badRequest("An object needs a name (1 to 80 characters).")
        }
        let required = body["required"] ?? []
        guard required.array?.allSatisfy({ $0.string != nil }) == true else {
            throw GlanceFault.badRequest("required is a list of property names.")
        }
        let properties = body["properties"] ?? [:]
        for (key, property) in properties.members ?? [] { _ = try Self.checkedProperty(property, key: key) }
        guard properties.members != nil else { throw GlanceFault.badRequest("properties is an object.") }
        if name != existing,
            try Self.exists(db, "metadef_object", namespace: namespace, name: name)
        {
            throw GlanceFault(.conflict, "Object \(name) already exists in namespace \(namespace).")
        }
        let now = clock()
        if let existing {
            try db.execute(
                sql: """
                    UPDATE metadef_object SET name = ?, description = ?, required = ?, properties = ?, updated_at = ?
                    WHERE namespace = ? AND name = ?
                    """,
                arguments: [
                    name, body["description"]?.string, required.text, properties.text, now, namespace, existing,
                ])
        } else {
            try db.execute(
                sql: """
                    INSERT INTO metadef_object (namespace, name, description, required, properties, created_at,
                      updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [namespace, name, body["description"]?.string, required.text, properties.text, now, now])
        }
        return try objectRow(namespace, name, db: db)
    }

    func renderObject(_ row: Row) -> JSON {
        let namespace: String = row["namespace"]
        let name: String = row["name"]
        var members: [(String, JSON)] = [("name", .string(name))]
        if let description: String = row["description"] { members.append(("description", .string(description))) }
        members += [
            ("required", (try? JSON.parse(Array((row["required"] as String).utf8))) ?? []),
            ("properties", (try? JSON.parse(Array((row["properties"] as String).utf8))) ?? [:]),
            ("created_at", .string(Self.timestamp(row["created_at"]))),
            ("updated_at", .string(Self.timestamp(row["updated_at"]))),
            ("schema", "/v2/schemas/metadefs/object"),
            ("self", .string("/v2/metadefs/namespaces/\(namespace)/objects/\(name)")),
        ]
        return .object(members)
    }

    // MARK: Properties

    func propertyRoutes(on router: Router<ServiceContext>, base: String) {
        router.get(RouterPath("\(base)/properties")) { request, context in
            let listed = try await withNamespace(request, context, .read) { name, db in
                try properties(of: name, db: db)
            }
            return Response.json(["properties": .object(listed)])
        }
        router.post(RouterPath("\(base)/properties")) { request, context in
            Response.json(
                try await withNamespace(request, context, .write("add_metadef_property")) { name, body, db in
                    try putProperty(name, nil, body, key: nil, db: db)
                }, status: .created)
        }
        router.get(RouterPath("\(base)/properties/:property")) { request, context in
            let property = try context.parameters.require("property")
            return Response.json(
                try await withNamespace(request, context, .read) { name, db in
                    try propertyJSON(name, property, db: db)
                })
        }
        router.put(RouterPath("\(base)/properties/:property")) { request, context in
            let property = try context.parameters.require("property")
            return Response.json(
                try await withNamespace(request, context, .write("modify_metadef_property")) { name, body, db in
                    _ = try propertyJSON(name, property, db: db)
                    return try putProperty(name, property, body, key: nil, db: db)
                })
        }
        router.delete(RouterPath("\(base)/properties/:property")) { request, context in
            let property = try context.parameters.require("property")
            try await withNamespace(request, context, .delete("remove_metadef_property")) { name, db in
                _ = try propertyJSON(name, property, db: db)
                try db.execute(
                    sql: "DELETE FROM metadef_property WHERE namespace = ? AND name = ?", arguments: [name, property])
            }
            return Response.empty()
        }
    }

    /// name → definition (without its name), as a namespace and the properties list show them.
    func properties(of namespace: String, db: Database) throws -> [(String, JSON)] {
        try Row.fetchAll(
            db, sql: "SELECT name, body FROM metadef_property WHERE namespace = ? ORDER BY name", arguments: [namespace]
        ).map { row in (row["name"], (try? JSON.parse(Array((row["body"] as String).utf8))) ?? [:]) }
    }

    func propertyJSON(_ namespace: String, _ name: String, db: Database) throws -> JSON {
        guard
            let body = try String.fetchOne(
                db, sql: "SELECT body FROM metadef_property WHERE namespace = ? AND name = ?",
                arguments: [namespace, name]),
            case .object(let members) = (try? JSON.parse(Array(body.utf8))) ?? .null
        else {
            throw GlanceFault(
                .notFound, "Metadata definition property=\(name) was not found in namespace=\(namespace).")
        }
        return .object([("name", .string(name))] + members)
    }

    /// A property definition checked as Glance's schema does: a title and a JSON-schema type.
    /// Returns the definition without its name.
    static func checkedProperty(_ body: JSON, key: String?) throws -> JSON {
        guard case .object(let members) = body else { throw GlanceFault.badRequest("A property is an object.") }
        guard let title = body["title"]?.string, !title.isEmpty else {
            throw GlanceFault.badRequest("Property \(key ?? body["name"]?.string ?? "") needs a title.")
        }
        guard let type = body["type"]?.string, propertyTypes.contains(type) else {
            throw GlanceFault.badRequest(
                "Property \(title): type must be one of \(propertyTypes.sorted().joined(separator: ", ")).")
        }
        if let values = body["enum"], values.array == nil { throw GlanceFault.badRequest("enum is a list.") }
        return .object(members.filter { $0.0 != "name" })
    }

    /// Creates a property (`existing` nil) or replaces one, possibly renaming it. `key` is
    /// its name when it comes from a namespace's `properties` object.
    @discardableResult
    func putProperty(_ namespace: String, _ existing: String?, _ body: JSON, key: String?, db: Database) throws
        -> JSON
    {
        guard let name = key ?? body["name"]?.string, !name.isEmpty, name.count <= 80 else {
            throw GlanceFault.badRequest("A property needs a name (1 to 80 characters).")
        }
        let definition = try Self.checkedProperty(body, key: key)
        if name != existing,
            try Self.exists(db, "metadef_property", namespace: namespace, name: name)
        {
            throw GlanceFault(.conflict, "Property \(name) already exists in namespace \(namespace).")
        }
        if let existing {
            try db.execute(
                sql: "UPDATE metadef_property SET name = ?, body = ? WHERE namespace = ? AND name = ?",
                arguments: [name, definition.text, namespace, existing])
        } else {
            try db.execute(
                sql: "INSERT INTO metadef_property (namespace, name, body) VALUES (?, ?, ?)",
                arguments: [namespace, name, definition.text])
        }
        return try propertyJSON(namespace, name, db: db)
    }

    // MARK: Tags

    func tagRoutes(on router: Router<ServiceContext>, base: String) {
        router.get(RouterPath("\(base)/tags")) { request, context in
            let tags = try await withNamespace(request, context, .read) { name, db in
                try Row.fetchAll(
                    db, sql: "SELECT * FROM metadef_tag WHERE namespace = ? ORDER BY created_at, name",
                    arguments: [name])
            }
            return Response.json(["tags": .array(tags.map(renderTag))])
        }
        // Several at once: they replace the namespace's tags (added to them with
        // `X-Openstack-Append: true`).
        router.post(RouterPath("\(base)/tags")) { request, context in
            let append = request.header("X-Openstack-Append")?.lowercased() == "true"
            let rows = try await withNamespace(request, context, .write("add_metadef_tags")) { name, body, db in
                guard let tags = body["tags"]?.array else {
                    throw GlanceFault.badRequest("The body is {\"tags\": [{\"name\": …}, …]}.")
                }
                let names = tags.map { $0["name"]?.string }
                guard Set(names).count == names.count else { throw GlanceFault(.conflict, "A tag is named twice.") }
                if !append { try db.execute(sql: "DELETE FROM metadef_tag WHERE namespace = ?", arguments: [name]) }
                return try names.map { try addTag(name, $0, db: db) }
            }
            return Response.json(["tags": .array(rows.map(renderTag))], status: .created)
        }
        router.post(RouterPath("\(base)/tags/:tag")) { request, context in
            let tag = try context.parameters.require("tag")
            let row = try await withNamespace(request, context, .write("add_metadef_tag")) { name, db in
                try addTag(name, tag, db: db)
            }
            return Response.json(renderTag(row), status: .created)
        }
        router.get(RouterPath("\(base)/tags/:tag")) { request, context in
            let tag = try context.parameters.require("tag")
            let row = try await withNamespace(request, context, .read) { name, db in try tagRow(name, tag, db: db) }
            return Response.json(renderTag(row))
        }
        router.put(RouterPath("\(base)/tags/:tag")) { request, context in
            let tag = try context.parameters.require("tag")
            let row = try await withNamespace(request, context, .write("modify_metadef_tag")) { name, body, db in
                guard let renamed = body["name"]?.string, !renamed.isEmpty, renamed.count <= 255 else {
                    throw GlanceFault.badRequest("A tag needs a name (1 to 255 characters).")
                }
                _ = try tagRow(name, tag, db: db)
                if renamed != tag, try Self.exists(db, "metadef_tag", namespace: name, name: renamed) {
                    throw GlanceFault(.conflict, "Tag \(renamed) already exists in namespace \(name).")
                }
                try db.execute(
                    sql: "UPDATE metadef_tag SET name = ?, updated_at = ? WHERE namespace = ? AND name = ?",
                    arguments: [renamed, clock(), name, tag])
                return try tagRow(name, renamed, db: db)
            }
            return Response.json(renderTag(row))
        }
        router.delete(RouterPath("\(base)/tags/:tag")) { request, context in
            let tag = try context.parameters.require("tag")
            try await withNamespace(request, context, .delete("delete_metadef_tag")) { name, db in
                _ = try tagRow(name, tag, db: db)
                try db.execute(sql: "DELETE FROM metadef_tag WHERE namespace = ? AND name = ?", arguments: [name, tag])
            }
            return Response.empty()
        }
    }

    func tagRow(_ namespace: String, _ name: String, db: Database) throws -> Row {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM metadef_tag WHERE namespace = ? AND name = ?", arguments: [namespace, name])
        else {
            throw GlanceFault(.notFound, "Metadata definition tag=\(name) was not found in namespace=\(namespace).")
        }
        return row
    }

    @discardableResult
    func addTag(_ namespace: String, _ name: String?, db: Database) throws -> Row {
        guard let name, !name.isEmpty, name.count <= 255 else {
            throw GlanceFault.badRequest("A tag needs a name (1 to 255 characters).")
        }
        if try Self.exists(db, "metadef_tag", namespace: namespace, name: name) {
            throw GlanceFault(.conflict, "Tag \(name) already exists in namespace \(namespace).")
        }
        let now = clock()
        try db.execute(
            sql: "INSERT INTO metadef_tag (namespace, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
            arguments: [namespace, name, now, now])
        return try tagRow(namespace, name, db: db)
    }

    func renderTag(_ row: Row) -> JSON {
        [
            "name": .string(row["name"]), "created_at": .string(Self.timestamp(row["created_at"])),
            "updated_at": .string(Self.timestamp(row["updated_at"])),
        ]
    }
}
