import Foundation
import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// The image service (Glance v2): image records in SQLite, image data in a data store (files
/// on this host, or object storage), callers vouched for by the identity service.
public struct ImageAPI: Sendable {
    let store: ImageStore
    let validator: TokenValidator
    /// Where uploads go.
    let uploadStore: any ImageDataStore
    /// Every store images may be in, by kind (the upload store among them).
    let dataStores: [String: any ImageDataStore]
    /// The identity URL named in 401 answers.
    let identityURI: String
    /// Largest image accepted, in bytes (Glance's `image_size_cap`).
    let sizeCap: Int64
    let clock: @Sendable () -> Int64

    public init(
        store: ImageStore, validator: TokenValidator, dataStores: [any ImageDataStore], identityURI: String,
        sizeCap: Int64 = 1 << 40,
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) {
        self.store = store
        self.validator = validator
        guard let first = dataStores.first else { preconditionFailure("an image service needs a data store") }
        uploadStore = first
        self.dataStores = Dictionary(dataStores.map { ($0.kind, $0) }) { earlier, _ in earlier }
        self.identityURI = identityURI
        self.sizeCap = sizeCap
        self.clock = clock
    }

    static let diskFormats: Set = ["ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"]
    static let containerFormats: Set = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"]
    static let visibilities: Set = ["public", "private", "shared", "community"]
    /// Attributes the service sets; a client naming one is refused (403).
    static let readOnly: Set = [
        "status", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "created_at", "updated_at",
        "self", "file", "schema", "direct_url", "locations", "location",
    ]
    /// Refuses (403) what a client may not set: the service's own attributes and Glance's
    /// reserved `os_glance_*` namespace.
    static func checkWritable(_ key: String) throws {
        if readOnly.contains(key) { throw GlanceFault.forbidden("Attribute '\(key)' is read-only.") }
        if key.hasPrefix("os_glance") {
            throw GlanceFault.forbidden("Attribute '\(key)' is reserved.")
        }
    }

    /// Attributes with a column of their own.
    static let core: Set = [
        "id", "name", "visibility", "protected", "os_hidden", "owner", "disk_format", "container_format", "min_disk",
        "min_ram", "tags",
    ]

    // MARK: Callers and access

    /// The caller of a request, from `X-Auth-Token`; 401 without a valid one.
    func caller(_ request: Request) async throws -> Caller {
        guard let token = request.headers[.xAuthToken], !token.isEmpty else {
            throw GlanceFault.unauthorized(identityURI)
        }
        do {
            guard let caller = try await validator.caller(token: token) else {
                throw GlanceFault.unauthorized(identityURI)
            }
            return caller
        } catch let error as TokenValidator.Unavailable {
            throw GlanceFault(.serviceUnavailable, "\(error)")
        }
    }

    func members(of imageID: String) throws -> [ImageMember] {
        try store.read { db in
            try ImageMember.filter(sql: "image_id = ?", arguments: [imageID]).order(sql: "created_at").fetchAll(db)
        }
    }

    /// Whether the caller may see the image at all.
    func canSee(_ image: Image, _ caller: Caller) throws -> Bool {
        if caller.isAdmin || image.visibility == "public" || image.visibility == "community" { return true }
        guard let project = caller.projectID else { return false }
        if image.owner == project { return true }
        guard image.visibility == "shared" else { return false }
        return try members(of: image.id).contains { $0.memberID == project }
    }

    /// Whether the caller may change the image (its owner's members, or an admin).
    func canModify(_ image: Image, _ caller: Caller) -> Bool {
        PolicyRule.project(.member).allows(caller, owner: image.owner)
    }

    /// The image by id, if the caller may see it (404 otherwise, as Glance does).
    func visibleImage(_ id: String, _ caller: Caller) throws -> Image {
        guard let image = try store.read({ db in try Image.fetchOne(db, key: id) }), try canSee(image, caller) else {
            throw GlanceFault.notFound(id)
        }
        return image
    }

    /// The image, which the caller must be allowed to change (403 if it only may see it).
    func modifiableImage(_ id: String, _ caller: Caller, action: String) throws -> Image {
        let image = try visibleImage(id, caller)
        guard canModify(image, caller) else { throw GlanceFault.policy(action) }
        return image
    }

    // MARK: Rendering

    /// `2026-11-22T10:37:30Z`.
    static func timestamp(_ millis: Int64) -> String { Timestamp.utc(millis / 1000) + "Z" }

    func render(_ image: Image) -> JSON {
        var members: [(String, JSON)] = [
            ("id", .string(image.id)), ("name", .optional(image.name)), ("status", .string(image.status)),
            ("visibility", .string(image.visibility)), ("protected", .bool(image.protected)),
            ("os_hidden", .bool(image.osHidden)), ("owner", .optional(image.owner)),
            ("disk_format", .optional(image.diskFormat)), ("container_format", .optional(image.containerFormat)),
            ("min_disk", .int(Int64(image.minDisk))), ("min_ram", .int(Int64(image.minRAM))),
            ("size", image.size.map(JSON.int) ?? .null), ("virtual_size", image.virtualSize.map(JSON.int) ?? .null),
            ("checksum", .optional(image.checksum)), ("os_hash_algo", .optional(image.osHashAlgo)),
            ("os_hash_value", .optional(image.osHashValue)), ("tags", .array(image.tagList.map(JSON.string))),
            ("created_at", .string(Self.timestamp(image.createdAt))),
            ("updated_at", .string(Self.timestamp(image.updatedAt))), ("self", .string("/v2/images/\(image.id)")),
            ("file", .string("/v2/images/\(image.id)/file")), ("schema", "/v2/schemas/image"),
        ]
        for (key, value) in image.propertyList where !members.contains(where: { $0.0 == key }) {
            members.append((key, .string(value)))
        }
        return .object(members)
    }

    func render(_ member: ImageMember) -> JSON {
        [
            "created_at": .string(Self.timestamp(member.createdAt)), "image_id": .string(member.imageID),
            "member_id": .string(member.memberID), "schema": "/v2/schemas/member", "status": .string(member.status),
            "updated_at": .string(Self.timestamp(member.updatedAt)),
        ]
    }

    /// A request body that must be a JSON value (400 otherwise).
    static func body(_ request: Request, context: ServiceContext) async throws -> JSON {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        do {
            return try JSON.parse(buffer.readableBytesView)
        } catch {
            throw GlanceFault.badRequest("Malformed JSON in request body: \(error)")
        }
    }
}
