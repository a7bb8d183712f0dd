import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// The image service's routes: version discovery, schemas, images, their data and members.
public func buildImageRouter(api: ImageAPI) -> Router<ServiceContext> {
    let router = Router(context: ServiceContext.self)
    router.add(middleware: FaultMiddleware { status, message in GlanceFault.page(status, message) })
    router.get("/") { request, _ in
        var headers: HTTPFields = [:]
        headers[.location] = "\(request.origin)/v2/"
        return Response.json(versions(request), status: .multipleChoices, headers: headers)
    }
    router.get("/versions") { request, _ in Response.json(versions(request)) }
    router.get("/healthz") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: .init(string: "OK")))
    }
    router.get("/v2/schemas/:schema") { _, context in
        guard let schema = schemas[try context.parameters.require("schema")] else {
            throw GlanceFault(.notFound, "The resource could not be found.")
        }
        return Response.json(schema)
    }
    api.imageRoutes(on: router)
    api.dataRoutes(on: router)
    router.get("/v2/schemas/metadefs/:schema") { _, context in
        let name = try context.parameters.require("schema")
        guard let schema = metadefSchemas[name] else {
            throw GlanceFault(.notFound, "The resource could not be found.")
        }
        return Response.json(schema)
    }
    api.memberRoutes(on: router)
    api.metadefRoutes(on: router)
    return router
}

/// Glance's version list: v2.17 current, the earlier 2.x supported, all rooted at `/v2/`.
func versions(_ request: Request) -> JSON {
    APIVersion.list(
        (0...17).reversed().map { minor in
            APIVersion(id: "v2.\(minor)", status: minor == 17 ? "CURRENT" : "SUPPORTED", path: "/v2/")
        }, origin: request.origin)
}

/// The metadata definitions' schemas, by the name in `/v2/schemas/metadefs/<name>`; each
/// has Glance's `name` (the resource type schemas are about associations).
let metadefSchemas: [String: JSON] = {
    let string: JSON = ["type": "string"]
    let stamps: [(String, JSON)] = [
        ("created_at", ["type": "string", "readOnly": true, "format": "date-time"]),
        ("updated_at", ["type": "string", "readOnly": true, "format": "date-time"]),
    ]
    let property: JSON = [
        "name": "property",
        "properties": .object(
            [
                ("name", ["type": "string", "maxLength": 80]), ("title", string), ("description", string),
                (
                    "type",
                    ["type": "string", "enum": ["array", "boolean", "integer", "number", "object", "string", nil]]
                ),
                ("enum", ["type": "array"]), ("default", [:]), ("readonly", ["type": "boolean"]),
                ("operators", ["type": "array", "items": string]),
            ]),
        "required": ["name", "title", "type"],
    ]
    let object: JSON = [
        "name": "object",
        "properties": .object(
            [
                ("name", ["type": "string", "maxLength": 80]), ("description", string),
                ("required", ["type": "array", "items": string]), ("properties", ["type": "object"]),
                ("schema", ["type": "string", "readOnly": true]), ("self", ["type": "string", "readOnly": true]),
            ] + stamps),
        "required": ["name"],
    ]
    let association: JSON = [
        "name": "resource_type_association",
        "properties": .object(
            [
                ("name", ["type": "string", "maxLength": 80]), ("prefix", ["type": "string", "maxLength": 80]),
                ("properties_target", ["type": "string", "maxLength": 80]),
            ] + stamps),
        "required": ["name"],
    ]
    let tag: JSON = [
        "name": "tag", "properties": .object([("name", ["type": "string", "maxLength": 255])] + stamps),
        "required": ["name"],
    ]
    let namespace: JSON = [
        "name": "namespace",
        "properties": .object(
            [
                ("namespace", ["type": "string", "maxLength": 80]), ("display_name", string),
                ("description", string), ("visibility", ["type": "string", "enum": ["public", "private"]]),
                ("protected", ["type": "boolean"]), ("owner", string),
                ("resource_type_associations", ["type": "array", "items": association]),
                ("properties", ["type": "object", "additionalProperties": property]),
                ("objects", ["type": "array", "items": object]), ("tags", ["type": "array", "items": tag]),
                ("schema", ["type": "string", "readOnly": true]), ("self", ["type": "string", "readOnly": true]),
            ] + stamps),
        "required": ["namespace"],
    ]
    func list(_ name: String, _ item: JSON) -> JSON {
        [
            "name": .string(name),
            "properties": [
                name: ["type": "array", "items": item], "first": string, "next": string,
                "schema": string,
            ],
            "links": [
                ["rel": "first", "href": "{first}"], ["rel": "next", "href": "{next}"],
                ["rel": "describedby", "href": "{schema}"],
            ],
        ]
    }
    return [
        "namespace": namespace, "namespaces": list("namespaces", namespace), "object": object,
        "objects": list("objects", object), "property": property, "properties": list("properties", property),
        "tag": tag, "tags": list("tags", tag), "resource_type": association,
        "resource_types": list("resource_type_associations", association),
    ]
}()

/// The JSON schemas Glance publishes (clients and Tempest read the image and member ones).
let schemas: [String: JSON] = {
    func property(_ type: JSON, _ description: String, extra: [(String, JSON)] = []) -> JSON {
        .object([("type", type), ("description", .string(description))] + extra)
    }
    let nullableString: JSON = ["null", "string"]
    let image: JSON = [
        "name": "image",
        "additionalProperties": ["type": "string"],
        "properties": [
            "id": property("string", "An identifier for the image", extra: [("pattern", "^[0-9a-f-]{36}$")]),
            "name": property(nullableString, "Descriptive name for the image", extra: [("maxLength", 255)]),
            "status": property(
                "string", "Status of the image",
                extra: [
                    ("readOnly", true),
                    (
                        "enum",
                        [
                            "queued", "saving", "active", "killed", "deleted", "uploading", "importing",
                            "pending_delete", "deactivated",
                        ]
                    ),
                ]),
            "visibility": property(
                "string", "Scope of image accessibility",
                extra: [("enum", ["community", "public", "private", "shared"])]),
            "protected": property("boolean", "If true, image will not be deletable."),
            "os_hidden": property("boolean", "If true, image will not appear in default image list response."),
            "checksum": property(nullableString, "md5 hash of image contents.", extra: [("readOnly", true)]),
            "os_hash_algo": property(
                nullableString, "Algorithm to calculate the os_hash_value", extra: [("readOnly", true)]),
            "os_hash_value": property(nullableString, "Hexdigest of the image contents", extra: [("readOnly", true)]),
            "owner": property(nullableString, "Owner of the image", extra: [("maxLength", 255)]),
            "size": property(["null", "integer"], "Size of image file in bytes", extra: [("readOnly", true)]),
            "virtual_size": property(
                ["null", "integer"], "Virtual size of image in bytes", extra: [("readOnly", true)]),
            "container_format": property(
                nullableString, "Format of the container",
                extra: [("enum", [nil, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"])]),
            "disk_format": property(
                nullableString, "Format of the disk",
                extra: [
                    ("enum", [nil, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"])
                ]),
            "created_at": property("string", "Date and time of image registration", extra: [("readOnly", true)]),
            "updated_at": property(
                "string", "Date and time of the last image modification", extra: [("readOnly", true)]),
            "tags": property(
                "array", "List of strings related to the image",
                extra: [("items", ["type": "string", "maxLength": 255])]),
            "min_ram": property("integer", "Amount of ram (in MB) required to boot image."),
            "min_disk": property("integer", "Amount of disk space (in GB) required to boot image."),
            "self": property("string", "An image self url", extra: [("readOnly", true)]),
            "file": property("string", "An image file url", extra: [("readOnly", true)]),
            "schema": property("string", "An image schema url", extra: [("readOnly", true)]),
        ],
        "links": [
            ["rel": "self", "href": "{self}"], ["rel": "enclosure", "href": "{file}"],
            ["rel": "describedby", "href": "{schema}"],
        ],
    ]
    let member: JSON = [
        "name": "member",
        "properties": [
            "created_at": property("string", "Date and time of image member creation"),
            "image_id": property("string", "An identifier for the image"),
            "member_id": property("string", "An identifier for the image member (tenantId)"),
            "schema": property("string", "", extra: [("readOnly", true)]),
            "status": property(
                "string", "The status of this image member", extra: [("enum", ["pending", "accepted", "rejected"])]),
            "updated_at": property("string", "Date and time of last modification of image member"),
        ],
    ]
    return [
        "image": image,
        "images": [
            "name": "images",
            "properties": [
                "images": ["type": "array", "items": image], "schema": ["type": "string"], "first": ["type": "string"],
                "next": ["type": "string"],
            ],
            "links": [
                ["rel": "first", "href": "{first}"], ["rel": "next", "href": "{next}"],
                ["rel": "describedby", "href": "{schema}"],
            ],
        ],
        "member": member,
        "members": [
            "name": "members",
            "properties": ["members": ["type": "array", "items": member], "schema": ["type": "string"]],
            "links": [["rel": "self", "href": "{self}"], ["rel": "schema", "href": "{schema}"]],
        ],
    ]
}()
