import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import NimbusServiceKit

extension HTTPRequest.Method {
    static let copy = HTTPRequest.Method("COPY")!
}

extension ObjectAPI {
    func objectRequest(_ request: Request, _ target: Target, _ access: Access) async throws -> Response {
        guard try target.objectName().utf8.count <= limits.maxObjectNameLength else {
            throw SwiftFault.badRequest(
                "Object name length of \(try target.objectName().utf8.count) longer than \(limits.maxObjectNameLength)")
        }
        switch request.method {
        case .get, .head: return try await read(request, target, access)
        case .put: return try await put(request, target, access)
        case .post: return try post(request, target, access)
        case .delete: return try delete(request, target, access)
        case .copy: return try await copyMethod(request, target, access)
        default: throw SwiftFault(.methodNotAllowed, "The method is not allowed for this resource.")
        }
    }

    // MARK: Permissions

    func mayRead(_ access: Access, _ container: ContainerRecord?) -> Bool {
        let acl = container?.meta["X-Container-Read"]
        return access.canRead || access.named(in: acl) || ACL.allowsAnyone(acl)
    }

    func mayWrite(_ access: Access, _ container: ContainerRecord?) -> Bool {
        access.isOwner || access.named(in: container?.meta["X-Container-Write"])
    }

    /// The container, once the caller is known to be allowed (refusal first, then 404).
    func allowedContainer(_ target: Target, _ access: Access, write: Bool) throws -> ContainerRecord {
        let container = try containerRecord(target)
        guard write ? mayWrite(access, container) : mayRead(access, container) else { throw access.refusal }
        guard let container else { throw SwiftFault.notFound }
        return container
    }

    /// The object unless it is missing or expired.
    func liveObject(_ target: Target) throws -> ObjectRecord? {
        let now = clock() / 1_000_000
        return try store.read { db in
            try ObjectRecord.fetchOne(
                db,
                key: [
                    "account": target.account, "container": try target.containerName(), "name": try target.objectName(),
                ])
        }.flatMap { object in object.deleteAt.map { $0 > now } ?? true ? object : nil }
    }

    // MARK: Content

    /// What a GET sends: the object's own file, or for a large object its segments.
    struct Content {
        var pieces: [DataFile.Piece]
        var size: Int64
        /// As the ETag header shows it (quoted for large objects).
        var etag: String
    }

    /// The content of `object` for `access`; a large object's is refused (401 or 403, before any
    /// byte is sent) unless the caller may read every container its segments are in.
    func content(of object: ObjectRecord, account: String, access: Access) throws -> Content {
        if let manifest = object.meta["X-Object-Manifest"] {
            return try dynamicContent(manifest, account: account, access: access)
        }
        if let slo = object.slo {
            var pieces: [DataFile.Piece] = []
            // Each segment's container must be readable by this caller, as Swift checks every
            // segment request: a manifest in a public container exposes nothing private.
            var readable: [String: Bool] = [:]
            for segment in try Segment.list(slo) {
                let target = try Segment.target(segment.name, account: account)
                let container = target.container ?? ""
                if readable[container] == nil {
                    readable[container] = mayRead(access, try containerRecord(target))
                }
                guard readable[container] == true else { throw access.refusal }
                guard let stored = try liveObject(target), stored.etag == segment.hash else {
                    throw SwiftFault(.conflict, "The segment \(segment.name) changed or is missing.")
                }
                let (first, last) = segment.bounds
                if let file = stored.file, last >= first {
                    pieces.append(.init(path: objectPath(file), offset: first, length: last - first + 1))
                }
            }
            return Content(pieces: pieces, size: object.size, etag: "\"\(object.etag)\"")
        }
        let pieces = object.file.map { [DataFile.Piece(path: objectPath($0), offset: 0, length: object.size)] }
        return Content(pieces: pieces ?? [], size: object.size, etag: object.etag)
    }

    /// A dynamic large object: every object of `container/prefix`, in name order, if the
    /// caller may read that container.
    func dynamicContent(_ manifest: String, account: String, access: Access) throws -> Content {
        let parts = manifest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let container = String(parts[0]).removingPercentEncoding ?? String(parts[0])
        let prefix = parts.count > 1 ? String(parts[1]).removingPercentEncoding ?? String(parts[1]) : ""
        let record = try containerRecord(Target(account: account, container: container))
        guard mayRead(access, record) else { throw access.refusal }
        let now = clock() / 1_000_000
        // Names starting with the prefix: from it up to (not including) its successor.
        var sql = "SELECT * FROM object WHERE account = ? AND container = ? AND name >= ?"
        var arguments: StatementArguments = [account, container, prefix]
        if let end = ListingQuery.successor(prefix) {
            sql += " AND name < ?"
            arguments += [end]
        }
        sql += " AND (delete_at IS NULL OR delete_at > ?) ORDER BY name LIMIT ?"
        arguments += [now, limits.listingLimit]
        let segments = try store.read { db in try ObjectRecord.fetchAll(db, sql: sql, arguments: arguments) }
        var md5 = Insecure.MD5()
        var pieces: [DataFile.Piece] = []
        var size: Int64 = 0
        for segment in segments {
            md5.update(data: Array(segment.etag.utf8))
            size += segment.size
            if let file = segment.file { pieces.append(.init(path: objectPath(file), offset: 0, length: segment.size)) }
        }
        return Content(pieces: pieces, size: size, etag: "\"\(md5.finalize().hex)\"")
    }

    /// The pieces covering bytes `first...last` of the whole.
    static func slice(_ pieces: [DataFile.Piece], first: Int64, last: Int64) -> [DataFile.Piece] {
        var result: [DataFile.Piece] = []
        var position: Int64 = 0
        for piece in pieces {
            let start = max(first, position)
            let end = min(last, position + piece.length - 1)
            if start <= end {
                var part = piece
                part.offset += start - position
                part.length = end - start + 1
                result.append(part)
            }
            position += piece.length
        }
        return result
    }

    // MARK: GET and HEAD

    func objectHeaders(_ object: ObjectRecord) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = object.contentType
        headers[.eTag] = object.etag
        headers[.lastModified] = Self.lastModified(object.timestamp)
        headers[.xTimestamp] = Self.xTimestamp(object.timestamp)
        headers[.acceptRanges] = "bytes"
        for (key, value) in object.meta {
            if let name = HTTPField.Name(key) { headers[name] = value }
        }
        if let deleteAt = object.deleteAt { headers[.xDeleteAt] = String(deleteAt) }
        if object.slo != nil { headers[.xStaticLargeObject] = "True" }
        return headers
    }

    func read(_ request: Request, _ target: Target, _ access: Access) async throws -> Response {
        _ = try allowedContainer(target, access, write: false)
        guard let object = try liveObject(target) else { throw SwiftFault.notFound }
        var headers = objectHeaders(object)
        if let slo = object.slo, request.query("multipart-manifest") == "get" {
            let segments = try Segment.list(slo)
            let raw = request.query("format") == "raw"
            let body = JSON.array(segments.map { raw ? $0.putForm : $0.json }).bytes
            headers[.contentType] = "application/json; charset=utf-8"
            headers[.eTag] = Insecure.MD5.hash(data: body).hex
            return Self.answer(.ok, headers: headers, body: request.method == .head ? [] : body)
        }
        let content = try content(of: object, account: target.account, access: access)
        headers[.eTag] = content.etag
        if let failed = try preconditions(request, etag: content.etag, timestamp: object.timestamp) {
            return Self.answer(failed, headers: headers)
        }
        var pieces = content.pieces
        var status = HTTPResponse.Status.ok
        if let range = request.header("Range"), !range.contains(",") {
            guard let (first, last) = DataFile.byteRange(range, size: content.size) else {
                var fault = SwiftFault(.rangeNotSatisfiable, "The Range requested is not available.")
                fault.headers[.contentRange] = "bytes */\(content.size)"
                throw fault
            }
            pieces = Self.slice(pieces, first: first, last: last)
            status = .partialContent
            headers[.contentRange] = "bytes \(first)-\(last)/\(content.size)"
        }
        let length = pieces.reduce(Int64(0)) { $0 + $1.length }
        headers[.contentLength] = String(length)
        if request.method == .head { return Response(status: status, headers: headers, body: .init()) }
        // A plain object's file is opened now: replaced after this, it is still read whole.
        if object.slo == nil, object.meta["X-Object-Manifest"] == nil, pieces.count == 1 {
            let descriptor = open(pieces[0].path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw SwiftFault(.internalServerError, "The object's data is missing from the store.")
            }
            pieces[0].descriptor = descriptor
        }
        return Response(status: status, headers: headers, body: DataFile.body(pieces))
    }

    /// `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`: the status to
    /// answer instead (304 or 412), nil to go on.
    func preconditions(_ request: Request, etag: String, timestamp: Int64) throws -> HTTPResponse.Status? {
        func matches(_ header: String) -> Bool {
            let bare = etag.trimmingCharacters(in: ["\""])
            return header.split(separator: ",").contains { tag in
                let tag = tag.trimmingCharacters(in: .whitespaces)
                return tag == "*" || tag.trimmingCharacters(in: ["\""]) == bare
            }
        }
        let modified = Self.lastModifiedSeconds(timestamp)
        if let header = request.header("If-Match"), !matches(header) { return .preconditionFailed }
        if let header = request.header("If-None-Match"), matches(header) { return .notModified }
        if let header = request.header("If-Unmodified-Since"), let date = HTTPDate.parse(header), modified > date {
            return .preconditionFailed
        }
        if let header = request.header("If-Modified-Since"), let date = HTTPDate.parse(header), modified <= date {
            return .notModified
        }
        return nil
    }

    // MARK: PUT

    /// `X-Delete-At` / `X-Delete-After` as seconds since 1970 (400 when in the past).
    func deleteAt(_ request: Request) throws -> Int64? {
        let now = clock() / 1_000_000
        if let after = request.header("X-Delete-After") {
            guard let seconds = Int64(after) else { throw SwiftFault.badRequest("Non-integer X-Delete-After") }
            guard seconds > 0 else { throw SwiftFault.badRequest("X-Delete-After in past") }
            return now + seconds
        }
        if let at = request.header("X-Delete-At") {
            guard let seconds = Double(at).map({ Int64($0) }) else {
                throw SwiftFault.badRequest("Non-integer X-Delete-At")
            }
            guard seconds > now else { throw SwiftFault.badRequest("X-Delete-At in past") }
            return seconds
        }
        return nil
    }

    /// The stored headers of a PUT, POST or copy: user metadata and the few system headers
    /// Swift keeps (`Content-Disposition`, `Content-Encoding`, `X-Object-Manifest`).
    func objectMetadata(_ request: Request, base: Metadata = [:]) throws -> Metadata {
        var changes = try metadataHeaders(request, prefix: "X-Object-Meta-")
        try systemHeaders(request, into: &changes)
        return try merged(base, changes, prefix: "X-Object-Meta-", keepEmpty: true)
    }

    /// `Content-Disposition`, `Content-Encoding` and `X-Object-Manifest` (checked) of a PUT,
    /// POST or copy.
    func systemHeaders(_ request: Request, into changes: inout Metadata) throws {
        for header in ["Content-Disposition", "Content-Encoding", "X-Object-Manifest"] {
            if let value = request.header(header) { changes[header] = value.isEmpty ? Self.removal : value }
        }
        if let manifest = changes["X-Object-Manifest"], manifest != Self.removal {
            let parts = manifest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !manifest.contains("?"), !manifest.contains("&") else {
                throw SwiftFault.badRequest("X-Object-Manifest must be in the format container/prefix")
            }
        }
    }

    func contentType(_ request: Request, name: String) -> String {
        if let given = request.header("Content-Type"), !given.isEmpty,
            !Self.isTrue(request.header("X-Detect-Content-Type"))
        {
            return given
        }
        return ContentTypes.guess(name)
    }

    func put(_ request: Request, _ target: Target, _ access: Access) async throws -> Response {
        _ = try allowedContainer(target, access, write: true)
        if let source = request.header("X-Copy-From") {
            let account = request.header("X-Copy-From-Account") ?? target.account
            let from = try Self.copyTarget(source, account: account, header: "X-Copy-From")
            return try await copy(request, from: from, to: target, destinationAccess: access)
        }
        if request.query("multipart-manifest") == "put" {
            return try await putManifest(request, target, access)
        }
        let deleteAt = try deleteAt(request)
        let metadata = try objectMetadata(request)
        let declared = request.header("Content-Length").flatMap { Int64($0) }
        let chunked = request.header("Transfer-Encoding")?.lowercased().contains("chunked") == true
        guard declared != nil || chunked else { throw SwiftFault(.lengthRequired, "Length Required") }
        if let declared, declared > limits.maxFileSize {
            throw SwiftFault(.contentTooLarge, "Your request is too large.")
        }
        if request.header("If-None-Match") == "*", try liveObject(target) != nil {
            throw SwiftFault.preconditionFailed
        }
        if let declared { try checkQuotas(target, adding: declared) }
        let temporary = temporaryPath()
        var md5 = Insecure.MD5()
        let size: Int64
        do {
            size = try await DataFile.receive(request.body, into: temporary, limit: limits.maxFileSize) { bytes in
                md5.update(bufferPointer: bytes)
            }
        } catch {
            unlink(temporary)
            switch error {
            case DataFile.Failure.tooLarge: throw SwiftFault(.contentTooLarge, "Your request is too large.")
            case let failure as DataFile.Failure:
                throw SwiftFault(.internalServerError, "Storing the object failed: \(failure).")
            default: throw error
            }
        }
        let etag = md5.finalize().hex
        if let declared, declared != size {
            unlink(temporary)
            throw SwiftFault(.badRequest, "The body was \(size) bytes, but Content-Length said \(declared).")
        }
        if let expected = request.header("ETag"), expected.trimmingCharacters(in: ["\""]).lowercased() != etag {
            unlink(temporary)
            throw SwiftFault(
                .unprocessableContent,
                "The request was well-formed but was unable to be followed due to semantic errors.")
        }
        let file = try await place(temporary, size: size)
        let record = ObjectRecord(
            account: target.account, container: try target.containerName(), name: try target.objectName(), file: file,
            size: size,
            etag: etag, contentType: contentType(request, name: try target.objectName()), timestamp: clock(),
            metadata: metadata.json, deleteAt: deleteAt, slo: nil)
        try commit(record)
        return created(record, etag: etag)
    }

    /// Moves a finished temporary file to its place in the store, durably (its directory
    /// fsynced, so the row committed next never names a lost file); nil (and nothing kept)
    /// for an empty object.
    func place(_ temporary: String, size: Int64) async throws -> String? {
        guard size > 0 else {
            unlink(temporary)
            return nil
        }
        do {
            let file = try newFile()
            try await DataFile.rename(temporary, to: objectPath(file))
            return file
        } catch {
            unlink(temporary)
            throw SwiftFault(.internalServerError, "Storing the object failed: \(error).")
        }
    }

    func created(_ record: ObjectRecord, etag: String) -> Response {
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.lastModified] = Self.lastModified(record.timestamp)
        headers[.xTimestamp] = Self.xTimestamp(record.timestamp)
        return Self.answer(.created, headers: headers)
    }

    /// 413 when `size` more bytes (and one more object) would go over a quota.
    func checkQuotas(_ target: Target, adding size: Int64) throws {
        try store.read { db in
            let exists = try ObjectRecord.exists(
                db,
                key: [
                    "account": target.account, "container": try target.containerName(), "name": try target.objectName(),
                ])
            try checkQuotas(db, target, adding: size, isNew: !exists)
        }
    }

    func checkQuotas(_ db: Database, _ target: Target, adding size: Int64, isNew: Bool) throws {
        guard
            let container = try ContainerRecord.fetchOne(
                db, key: ["account": target.account, "name": try target.containerName()])
        else { throw SwiftFault.notFound }
        let meta = container.meta
        if let quota = meta["X-Container-Meta-Quota-Bytes"].flatMap({ Int64($0) }), container.bytesUsed + size > quota {
            throw SwiftFault.overQuota
        }
        if isNew, let quota = meta["X-Container-Meta-Quota-Count"].flatMap({ Int64($0) }),
            container.objectCount + 1 > quota
        {
            throw SwiftFault.overQuota
        }
        let accountMeta = Metadata(json: try AccountRecord.fetchOne(db, key: target.account)?.metadata ?? "{}")
        if let quota = (accountMeta["X-Account-Quota-Bytes"] ?? accountMeta["X-Account-Meta-Quota-Bytes"]).flatMap({
            Int64($0)
        }) {
            let used =
                try Int64.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(bytes_used), 0) FROM container WHERE account = ?",
                    arguments: [target.account]) ?? 0
            if used + size > quota { throw SwiftFault.overQuota }
        }
        if isNew, let quota = accountMeta["X-Account-Quota-Count"].flatMap({ Int64($0) }) {
            let count =
                try Int64.fetchOne(
                    db, sql: "SELECT COALESCE(SUM(object_count), 0) FROM container WHERE account = ?",
                    arguments: [target.account]) ?? 0
            if count + 1 > quota { throw SwiftFault.overQuota }
        }
    }

    /// Stores the object's row (quotas checked again, counts kept), replacing an earlier one,
    /// whose file goes once the new row is committed. On failure the new file goes.
    func commit(_ record: ObjectRecord) throws {
        let target = Target(account: record.account, container: record.container, object: record.name)
        let replaced: String?
        do {
            replaced = try store.write { db -> String? in
                let previous = try ObjectRecord.fetchOne(
                    db, key: ["account": record.account, "container": record.container, "name": record.name])
                try checkQuotas(db, target, adding: record.size, isNew: previous == nil)
                try record.save(db)
                try db.execute(
                    sql: """
                        UPDATE container SET object_count = object_count + ?, bytes_used = bytes_used + ?,
                          updated_at = ? WHERE account = ? AND name = ?
                        """,
                    arguments: [
                        previous == nil ? 1 : 0, record.size - (previous?.size ?? 0), record.timestamp,
                        record.account, record.container,
                    ])
                return previous?.file
            }
        } catch {
            if let file = record.file { unlink(objectPath(file)) }
            throw error
        }
        if let replaced, replaced != record.file { unlink(objectPath(replaced)) }
    }

    // MARK: POST and DELETE

    func post(_ request: Request, _ target: Target, _ access: Access) throws -> Response {
        _ = try allowedContainer(target, access, write: true)
        var changes = try metadataHeaders(request, prefix: "X-Object-Meta-")
        try systemHeaders(request, into: &changes)
        let deleteAt = try deleteAt(request)
        let removeDeleteAt = request.header("X-Remove-Delete-At") != nil
        let now = clock()
        try store.write { db in
            guard
                var object = try ObjectRecord.fetchOne(
                    db,
                    key: [
                        "account": target.account, "container": try target.containerName(),
                        "name": try target.objectName(),
                    ]),
                object.deleteAt.map({ $0 > now / 1_000_000 }) ?? true
            else { throw SwiftFault.notFound }
            // A POST replaces the user metadata as a whole.
            let meta = object.meta.filter { !$0.key.hasPrefix("X-Object-Meta-") }
            object.meta = try merged(meta, changes, prefix: "X-Object-Meta-", keepEmpty: true)
            if let type = request.header("Content-Type"), !type.isEmpty { object.contentType = type }
            if let deleteAt {
                object.deleteAt = deleteAt
            } else if removeDeleteAt {
                object.deleteAt = nil
            }
            object.timestamp = now
            try object.update(db)
        }
        return Self.answer(.accepted)
    }

    func delete(_ request: Request, _ target: Target, _ access: Access) throws -> Response {
        _ = try allowedContainer(target, access, write: true)
        guard let object = try liveObject(target) else { throw SwiftFault.notFound }
        if let slo = object.slo, request.query("multipart-manifest") == "delete" {
            var deleted = 0
            var missing = 0
            for segment in try Segment.list(slo) {
                let segmentTarget = try Segment.target(segment.name, account: target.account)
                guard mayWrite(access, try containerRecord(segmentTarget)) else { throw access.refusal }
                if try remove(segmentTarget) { deleted += 1 } else { missing += 1 }
            }
            if try remove(target) { deleted += 1 } else { missing += 1 }
            let wantsJSON = request.header("Accept")?.contains("application/json") == true
            let summary: [UInt8] =
                wantsJSON
                ? JSON.object([
                    ("Number Deleted", .int(Int64(deleted))), ("Number Not Found", .int(Int64(missing))),
                    ("Response Body", ""), ("Response Status", "200 OK"), ("Errors", []),
                ]).bytes
                : Array(
                    "Number Deleted: \(deleted)\nNumber Not Found: \(missing)\nResponse Body: \nResponse Status: 200 OK\nErrors:\n"
                        .utf8)
            return Self.answer(
                .ok, body: summary, contentType: wantsJSON ? "application/json; charset=utf-8" : "text/plain")
        }
        guard try remove(target) else { throw SwiftFault.notFound }
        return Self.answer(.noContent)
    }

    /// Deletes the object's row (counts kept) and then its file; false if there was none.
    @discardableResult
    func remove(_ target: Target) throws -> Bool {
        let removed = try store.write { db -> ObjectRecord? in
            guard
                let object = try ObjectRecord.fetchOne(
                    db,
                    key: [
                        "account": target.account, "container": try target.containerName(),
                        "name": try target.objectName(),
                    ])
            else { return nil }
            try object.delete(db)
            try db.execute(
                sql: """
                    UPDATE container SET object_count = object_count - 1, bytes_used = bytes_used - ?, updated_at = ?
                    WHERE account = ? AND name = ?
                    """, arguments: [object.size, clock(), target.account, try target.containerName()])
            return object
        }
        if let file = removed?.file { unlink(objectPath(file)) }
        return removed != nil
    }

    /// Removes objects whose `X-Delete-At` has passed; the number removed.
    public func sweepExpired() throws -> Int {
        let now = clock() / 1_000_000
        let expired = try store.read { db in
            try Row.fetchAll(
                db, sql: "SELECT account, container, name FROM object WHERE delete_at <= ? LIMIT 1000",
                arguments: [now])
        }
        for row in expired {
            try remove(Target(account: row[0], container: row[1], object: row[2]))
        }
        return expired.count
    }

    /// Removes what an interrupted upload left behind: temporary files, and data files no
    /// object names (written but never committed). Run at start.
    public func removeLeftovers() throws -> Int {
        var removed = 0
        let files = FileManager.default
        for name in (try? files.contentsOfDirectory(atPath: "\(dataDirectory)/tmp")) ?? [] {
            if unlink("\(dataDirectory)/tmp/\(name)") == 0 { removed += 1 }
        }
        let known = Set(
            try store.read { db in try String.fetchAll(db, sql: "SELECT file FROM object WHERE file IS NOT NULL") })
        for directory in (try? files.contentsOfDirectory(atPath: "\(dataDirectory)/objects")) ?? [] {
            let path = "\(dataDirectory)/objects/\(directory)"
            for name in (try? files.contentsOfDirectory(atPath: path)) ?? [] where !known.contains(name) {
                if unlink("\(path)/\(name)") == 0 { removed += 1 }
            }
        }
        return removed
    }
}

/// `/info` content types: a small table of the usual extensions (Python's `mimetypes`, which
/// Swift uses, gives the same answers for these).
enum ContentTypes {
    static let byExtension: [String: String] = [
        "txt": "text/plain", "text": "text/plain", "log": "text/plain", "conf": "text/plain", "md": "text/markdown",
        "html": "text/html", "htm": "text/html", "css": "text/css", "csv": "text/csv", "js": "text/javascript",
        "json": "application/json", "xml": "application/xml", "pdf": "application/pdf", "zip": "application/zip",
        "gz": "application/gzip", "tgz": "application/x-tar", "tar": "application/x-tar", "bz2": "application/x-bzip2",
        "xz": "application/x-xz", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "svg": "image/svg+xml", "ico": "image/vnd.microsoft.icon", "webp": "image/webp", "mp3": "audio/mpeg",
        "wav": "audio/x-wav", "mp4": "video/mp4", "iso": "application/x-iso9660-image",
        "img": "application/octet-stream",
        "qcow2": "application/octet-stream", "sh": "application/x-sh", "py": "text/x-python",
        "yaml": "application/yaml",
        "yml": "application/yaml",
    ]

    static func guess(_ name: String) -> String {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return "application/octet-stream" }
        return byExtension[base[base.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}
