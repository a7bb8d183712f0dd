import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix
import NimbusServiceKit

extension ImageAPI {
    func dataRoutes(on router: Router<ServiceContext>) {
        router.put("/v2/images/:id/file") { request, context in try await upload(request, context: context) }
        router.get("/v2/images/:id/file") { request, context in try await download(request, context: context) }
    }

    // MARK: Upload

    /// Streams the body into the upload store while hashing it (md5 for `checksum`, sha512
    /// for `os_hash_value`): the data is never held in memory, and a failed or cut-off
    /// upload leaves the image queued with nothing stored.
    func upload(_ request: Request, context: ServiceContext) async throws -> Response {
        let caller = try await caller(request)
        let id = try context.parameters.require("id")
        let contentType = request.header("Content-Type")?.split(separator: ";").first.map(String.init)
        guard contentType == nil || contentType == "application/octet-stream" else {
            throw GlanceFault(
                .unsupportedMediaType, "Unsupported Content-Type \(contentType ?? ""); use application/octet-stream")
        }
        let image = try modifiableImage(id, caller, action: "upload_image")
        let declared = request.header("X-OpenStack-Image-Size").flatMap { Int64($0) }
        if let declared, declared > sizeCap {
            throw GlanceFault(.contentTooLarge, "Image exceeds the storage quota: \(declared) > \(sizeCap) bytes.")
        }
        // queued → saving, atomically: a second upload at once gets 409.
        try store.write { db in
            guard var current = try Image.fetchOne(db, key: id) else { throw GlanceFault.notFound(id) }
            guard current.status == "queued" else {
                throw GlanceFault(
                    .conflict, "Image status transition from \(current.status) to saving is not allowed")
            }
            current.status = "saving"
            current.updatedAt = clock()
            try current.update(db)
        }
        let data = uploadStore
        do {
            let written = try await receive(request.body, id: id, declared: declared, into: data)
            let stored = try store.write { db -> Bool in
                guard var current = try Image.fetchOne(db, key: id) else { return false }
                current.status = "active"
                current.size = written.size
                current.virtualSize = Self.virtualSize(
                    header: written.header, format: image.diskFormat, size: written.size)
                current.checksum = written.md5
                current.osHashAlgo = "sha512"
                current.osHashValue = written.sha512
                current.store = data.kind
                current.updatedAt = clock()
                try current.update(db)
                return true
            }
            guard stored else {
                await data.delete(id)
                throw GlanceFault(.gone, "Image \(id) was deleted while its data was being uploaded.")
            }
            return Response.empty()
        } catch {
            try? store.write { db in
                if var current = try Image.fetchOne(db, key: id), current.status == "saving" {
                    current.status = "queued"
                    try current.update(db)
                }
            }
            throw error
        }
    }

    struct Written {
        var size: Int64
        var md5: String
        var sha512: String
        /// The first bytes (a disk image's header).
        var header: [UInt8]
    }

    func receive(_ body: RequestBody, id: String, declared: Int64?, into data: any ImageDataStore) async throws
        -> Written
    {
        var md5 = Insecure.MD5()
        var sha512 = SHA512()
        var header: [UInt8] = []
        let size: Int64
        do {
            size = try await data.put(id, body: body, declaredSize: declared, limit: sizeCap) { bytes in
                md5.update(bufferPointer: bytes)
                sha512.update(bufferPointer: bytes)
                if header.count < 32 { header += bytes.prefix(32 - header.count) }
            }
        } catch DataFile.Failure.tooLarge {
            throw GlanceFault(.contentTooLarge, "Image exceeds the storage quota of \(sizeCap) bytes.")
        } catch let failure as DataFile.Failure {
            throw GlanceFault(.internalServerError, "Storing image data failed: \(failure).")
        } catch let fault as GlanceFault {
            throw fault
        } catch {
            throw GlanceFault(.serviceUnavailable, "Storing image data in the \(data.kind) store failed: \(error).")
        }
        return Written(size: size, md5: md5.finalize().hex, sha512: sha512.finalize().hex, header: header)
    }

    /// The disk size a guest sees: a qcow2 header's size field, a raw image's length.
    static func virtualSize(header: [UInt8], format: String?, size: Int64) -> Int64? {
        switch format {
        case "raw": return size
        case "qcow2":
            guard header.count == 32, Array(header.prefix(4)) == [0x51, 0x46, 0x49, 0xFB] else { return nil }
            return header[24..<32].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        default: return nil
        }
    }

    // MARK: Start-up

    /// What `recoverInterruptedUploads` did, for the start-up log.
    public struct UploadRecovery: Sendable, Equatable {
        /// The images set back from `saving` to `queued`.
        public var requeued: [String] = []
        /// Partial data a store could not remove (it is left behind; a new upload of the
        /// image replaces it), one line per store.
        public var problems: [String] = []

        public init(requeued: [String] = [], problems: [String] = []) {
            self.requeued = requeued
            self.problems = problems
        }
    }

    /// Images left `saving` by an upload the previous process never finished go back to
    /// `queued`, as Glance does when an upload fails, so that they can be uploaded again;
    /// whatever of their data reached a store is removed, best effort. Run at start,
    /// before serving: no upload of this process can be under way.
    public func recoverInterruptedUploads() async throws -> UploadRecovery {
        let now = clock()
        let requeued = try store.write { db -> [String] in
            let ids = try String.fetchAll(db, sql: "SELECT id FROM image WHERE status = 'saving' ORDER BY id")
            try db.execute(
                sql: "UPDATE image SET status = 'queued', updated_at = ? WHERE status = 'saving'", arguments: [now])
            return ids
        }
        var recovery = UploadRecovery(requeued: requeued)
        // The upload store may have changed since: every store is asked.
        for (kind, data) in dataStores.sorted(by: { $0.key < $1.key }) {
            do {
                try await data.removeInterrupted(requeued)
            } catch {
                recovery.problems.append("\(kind) store: \(error)")
            }
        }
        return recovery
    }

    // MARK: Download

    func download(_ request: Request, context: ServiceContext) async throws -> Response {
        let caller = try await caller(request)
        let id = try context.parameters.require("id")
        let image = try visibleImage(id, caller)
        if image.status == "deactivated", !caller.isAdmin {
            throw GlanceFault.forbidden(
                "The requested image has been deactivated. Image data download is forbidden.")
        }
        guard image.status == "active" || image.status == "deactivated", let size = image.size else {
            return Response.empty()
        }
        var headers: HTTPFields = [:]
        headers[.contentType] = "application/octet-stream"
        if let checksum = image.checksum { headers[.contentMD5] = checksum }
        var start: Int64 = 0
        var end = size - 1
        var status = HTTPResponse.Status.ok
        if let range = request.header("Range"), size > 0 {
            guard let (first, last) = DataFile.byteRange(range, size: size) else {
                headers[.contentRange] = "bytes */\(size)"
                return Response.empty(.rangeNotSatisfiable, headers: headers)
            }
            (start, end) = (first, last)
            status = .partialContent
            headers[.contentRange] = "bytes \(start)-\(end)/\(size)"
        }
        let kind = image.store ?? "file"
        guard let data = dataStores[kind] else {
            throw GlanceFault(
                .serviceUnavailable,
                "The data of image \(id) is in the \(kind) store, which this image service is not configured for.")
        }
        let length = size == 0 ? 0 : end - start + 1
        let body: ResponseBody
        do {
            body = try await data.get(id, offset: start, length: length)
        } catch let fault as GlanceFault {
            throw fault
        } catch {
            throw GlanceFault(.serviceUnavailable, "Reading image data from the \(kind) store failed: \(error).")
        }
        return Response(status: status, headers: headers, body: body)
    }
}
