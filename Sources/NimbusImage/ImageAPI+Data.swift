import Crypto
import Foundation
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

    func dataPath(_ id: String) -> String { "\(dataDirectory)/\(id)" }

    // MARK: Upload

    /// Streams the body to a temporary file while hashing it (md5 for `checksum`, sha512 for
    /// `os_hash_value`), fsyncs it and renames it into place: the data is never held in
    /// memory, and a failed or cut-off upload leaves the image queued with nothing stored.
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
        let temporary = "\(dataDirectory)/.upload-\(id)-\(UUID().uuidString)"
        do {
            let written = try await receive(request.body, into: temporary)
            if let declared, declared != written.size {
                throw GlanceFault.badRequest(
                    "The image is \(written.size) bytes, but X-OpenStack-Image-Size said \(declared).")
            }
            guard rename(temporary, dataPath(id)) == 0 else {
                throw GlanceFault(
                    .internalServerError, "Storing the image failed: \(String(cString: strerror(errno))).")
            }
            let virtualSize = Self.virtualSize(of: dataPath(id), format: image.diskFormat, size: written.size)
            let stored = try store.write { db -> Bool in
                guard var current = try Image.fetchOne(db, key: id) else { return false }
                current.status = "active"
                current.size = written.size
                current.virtualSize = virtualSize
                current.checksum = written.md5
                current.osHashAlgo = "sha512"
                current.osHashValue = written.sha512
                current.updatedAt = clock()
                try current.update(db)
                return true
            }
            guard stored else {
                unlink(dataPath(id))
                throw GlanceFault(.gone, "Image \(id) was deleted while its data was being uploaded.")
            }
            return Response.empty()
        } catch {
            unlink(temporary)
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
    }

    func receive(_ body: RequestBody, into path: String) async throws -> Written {
        var md5 = Insecure.MD5()
        var sha512 = SHA512()
        let size: Int64
        do {
            size = try await DataFile.receive(body, into: path, limit: sizeCap) { bytes in
                md5.update(bufferPointer: bytes)
                sha512.update(bufferPointer: bytes)
            }
        } catch DataFile.Failure.tooLarge {
            throw GlanceFault(.contentTooLarge, "Image exceeds the storage quota of \(sizeCap) bytes.")
        } catch let failure as DataFile.Failure {
            throw GlanceFault(.internalServerError, "Storing image data failed: \(failure).")
        }
        return Written(size: size, md5: md5.finalize().hex, sha512: sha512.finalize().hex)
    }

    /// The disk size a guest sees: a qcow2 header's size field, a raw image's length.
    static func virtualSize(of path: String, format: String?, size: Int64) -> Int64? {
        switch format {
        case "raw": return size
        case "qcow2":
            guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
            defer { try? handle.close() }
            guard let header = try? handle.read(upToCount: 32), header.count == 32,
                Array(header.prefix(4)) == [0x51, 0x46, 0x49, 0xFB]
            else { return nil }
            return header[24..<32].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        default: return nil
        }
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
        if let checksum = image.checksum { headers[HTTPField.Name("Content-MD5")!] = checksum }
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
        let descriptor = open(dataPath(id), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw GlanceFault(.internalServerError, "The data of image \(id) is missing from the store.")
        }
        let length = size == 0 ? 0 : end - start + 1
        return Response(
            status: status, headers: headers,
            body: DataFile.body([.init(path: dataPath(id), offset: start, length: length, descriptor: descriptor)]))
    }
}
