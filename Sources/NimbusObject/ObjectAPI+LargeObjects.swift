import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOPosix
import NimbusServiceKit

/// One segment of a static large object, as its manifest is stored.
struct Segment {
    /// `/container/object`.
    var name: String
    var hash: String
    var bytes: Int64
    var contentType: String
    var lastModified: String
    /// `first-last` within the segment, if only part of it is used.
    var range: (Int64, Int64)?

    /// The bytes of the segment used.
    var bounds: (Int64, Int64) { range ?? (0, bytes - 1) }

    var json: JSON {
        var members: [(String, JSON)] = [
            ("name", .string(name)), ("hash", .string(hash)), ("bytes", .int(bytes)),
            ("content_type", .string(contentType)), ("last_modified", .string(lastModified)),
        ]
        if let range { members.append(("range", .string("\(range.0)-\(range.1)"))) }
        return .object(members)
    }

    /// The form a client PUTs (`?multipart-manifest=get&format=raw`).
    var putForm: JSON {
        var members: [(String, JSON)] = [("path", .string(name)), ("etag", .string(hash)), ("size_bytes", .int(bytes))]
        if let range { members.append(("range", .string("\(range.0)-\(range.1)"))) }
        return .object(members)
    }

    static func list(_ text: String) throws -> [Segment] {
        guard let items = (try? JSON.parse(Array(text.utf8)))?.array else {
            throw SwiftFault(.internalServerError, "The large object's manifest is damaged.")
        }
        return items.compactMap { item in
            guard let name = item["name"]?.string, let hash = item["hash"]?.string, let bytes = item["bytes"]?.int
            else { return nil }
            let range = item["range"]?.string.flatMap { Self.parseRange($0, size: bytes) }
            return Segment(
                name: name, hash: hash, bytes: bytes, contentType: item["content_type"]?.string ?? "",
                lastModified: item["last_modified"]?.string ?? "", range: range)
        }
    }

    static func parseRange(_ text: String, size: Int64) -> (Int64, Int64)? {
        DataFile.byteRange("bytes=" + text, size: size)
    }

    /// `/container/object` (or without the leading slash) in `account`.
    static func target(_ path: String, account: String) throws -> ObjectAPI.Target {
        let trimmed = path.hasPrefix("/") ? String(path.dropFirst()) : path
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw SwiftFault.badRequest("Segment path \(path) is not of the form /container/object")
        }
        return ObjectAPI.Target(account: account, container: String(parts[0]), object: String(parts[1]))
    }
}

extension ObjectAPI {
    // MARK: Static large objects

    /// `PUT ?multipart-manifest=put`: a JSON list of segments (`path`, optional `etag`,
    /// `size_bytes`, `range`), each checked against what is stored.
    func putManifest(_ request: Request, _ target: Target, _ access: Access) async throws -> Response {
        let buffer = try await request.body.collect(upTo: limits.maxManifestSize)
        guard let items = (try? JSON.parse(buffer.readableBytesView))?.array else {
            throw SwiftFault.badRequest("Manifest must be valid JSON.")
        }
        guard !items.isEmpty, items.count <= limits.maxManifestSegments else {
            throw SwiftFault.badRequest("Manifest must list between 1 and \(limits.maxManifestSegments) segments.")
        }
        var segments: [Segment] = []
        var errors: [String] = []
        for item in items {
            guard let path = item["path"]?.string else {
                errors.append("Index \(segments.count + errors.count): segment has no path")
                continue
            }
            let segmentTarget = try Segment.target(path.removingPercentEncoding ?? path, account: target.account)
            guard mayRead(access, try containerRecord(segmentTarget)), let stored = try liveObject(segmentTarget) else {
                errors.append("\(path), 404 Not Found")
                continue
            }
            if let etag = item["etag"]?.string, etag.trimmingCharacters(in: ["\""]) != stored.etag {
                errors.append("\(path), Etag Mismatch")
                continue
            }
            if let size = item["size_bytes"]?.int, size != stored.size {
                errors.append("\(path), Size Mismatch")
                continue
            }
            var range: (Int64, Int64)?
            if let text = item["range"]?.string {
                guard let parsed = Segment.parseRange(text, size: stored.size) else {
                    errors.append("\(path), Unsatisfiable Range")
                    continue
                }
                range = parsed
            }
            segments.append(
                Segment(
                    name: "/\(segmentTarget.container!)/\(segmentTarget.object!)", hash: stored.etag,
                    bytes: stored.size, contentType: stored.contentType,
                    lastModified: Self.listingTime(stored.timestamp),
                    range: range))
        }
        guard errors.isEmpty else {
            throw SwiftFault(.badRequest, "Errors:\n" + errors.joined(separator: "\n"))
        }
        var md5 = Insecure.MD5()
        var size: Int64 = 0
        for segment in segments {
            let (first, last) = segment.bounds
            size += last - first + 1
            md5.update(data: Array((segment.range == nil ? segment.hash : "\(segment.hash):\(first)-\(last);").utf8))
        }
        guard size <= limits.maxFileSize * Int64(limits.maxManifestSegments) else {
            throw SwiftFault(.contentTooLarge, "Your request is too large.")
        }
        let etag = md5.finalize().hex
        let record = ObjectRecord(
            account: target.account, container: try target.containerName(), name: try target.objectName(), file: nil,
            size: size,
            etag: etag, contentType: contentType(request, name: try target.objectName()), timestamp: clock(),
            metadata: try objectMetadata(request).json, deleteAt: try deleteAt(request),
            slo: JSON.array(segments.map(\.json)).text)
        try commit(record)
        return created(record, etag: "\"\(etag)\"")
    }

    // MARK: Copy

    /// `container/object` of `X-Copy-From` or `Destination` (percent-encoded, leading slash
    /// optional).
    static func copyTarget(_ value: String, account: String, header: String) throws -> Target {
        let decoded = value.removingPercentEncoding ?? value
        let trimmed = decoded.hasPrefix("/") ? String(decoded.dropFirst()) : decoded
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw SwiftFault(
                .preconditionFailed, "\(header) header must be of the form <container name>/<object name>")
        }
        return Target(account: account, container: String(parts[0]), object: String(parts[1]))
    }

    /// `COPY` with `Destination: container/object` (and `Destination-Account`).
    func copyMethod(_ request: Request, _ source: Target, _ access: Access) async throws -> Response {
        guard let destination = request.header("Destination") else {
            throw SwiftFault(.preconditionFailed, "Destination header required")
        }
        let account = request.header("Destination-Account") ?? source.account
        let target = try Self.copyTarget(destination, account: account, header: "Destination")
        let destinationAccess = account == source.account ? access : try await self.access(request, target)
        _ = try allowedContainer(target, destinationAccess, write: true)
        return try await copy(
            request, from: source, to: target, sourceAccess: access, destinationAccess: destinationAccess)
    }

    /// Copies an object: a plain object's file is hard-linked (no bytes move); a large
    /// object's segments are joined into a new file unless `multipart-manifest=get` asks for
    /// the manifest itself.
    func copy(
        _ request: Request, from source: Target, to target: Target, sourceAccess: Access? = nil,
        destinationAccess: Access
    ) async throws -> Response {
        var resolved = sourceAccess ?? destinationAccess
        if sourceAccess == nil, source.account != target.account { resolved = try await access(request, source) }
        let sourceAccess = resolved
        _ = try allowedContainer(source, sourceAccess, write: false)
        guard let original = try liveObject(source) else { throw SwiftFault.notFound }
        let keepManifest = request.query("multipart-manifest") == "get"
        var base = Self.isTrue(request.header("X-Fresh-Metadata")) ? [:] : original.meta
        var file: String?
        var size = original.size
        var etag = original.etag
        var slo: String?
        if original.slo != nil, keepManifest {
            slo = original.slo
        } else if original.slo != nil || original.meta["X-Object-Manifest"] != nil {
            let content = try content(of: original, account: source.account, access: sourceAccess)
            let joined = try await join(content.pieces)
            (file, size, etag) = (joined.file, content.size, joined.etag)
            base["X-Object-Manifest"] = nil
        } else if let originalFile = original.file {
            let linked = try newFile()
            do {
                try await DataFile.link(objectPath(originalFile), to: objectPath(linked))
            } catch {
                throw SwiftFault(.internalServerError, "Copying failed: \(error).")
            }
            file = linked
        }
        if size > 0, file == nil, slo == nil {
            throw SwiftFault(.internalServerError, "The source object's data is missing.")
        }
        let record = ObjectRecord(
            account: target.account, container: try target.containerName(), name: try target.objectName(), file: file,
            size: size,
            etag: etag,
            contentType: request.header("Content-Type").flatMap { $0.isEmpty ? nil : $0 } ?? original.contentType,
            timestamp: clock(), metadata: try objectMetadata(request, base: base).json, deleteAt: try deleteAt(request),
            slo: slo)
        try commit(record)
        var response = created(record, etag: slo == nil ? etag : "\"\(etag)\"")
        // The answer describes the new object, its metadata included (as Swift's does).
        for (key, value) in record.meta {
            if let name = HTTPField.Name(key) { response.headers[name] = value }
        }
        let quote = { (text: String) in
            text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? text
        }
        response.headers[.xCopiedFrom] = "\(quote(try source.containerName()))/\(quote(try source.objectName()))"
        response.headers[.xCopiedFromLastModified] = Self.lastModified(original.timestamp)
        if source.account != target.account {
            response.headers[.xCopiedFromAccount] = source.account
        }
        return response
    }

    /// The pieces written into one new file (on the thread pool), with its md5.
    func join(_ pieces: [DataFile.Piece]) async throws -> (file: String?, etag: String) {
        let temporary = temporaryPath()
        let size: Int64
        let etag: String
        do {
            (size, etag) = try await NIOThreadPool.singleton.runIfActive { () throws -> (Int64, String) in
                let output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
                guard output >= 0 else { throw SwiftFault(.internalServerError, "Cannot create a temporary file.") }
                defer { close(output) }
                var md5 = Insecure.MD5()
                var total: Int64 = 0
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)
                defer { buffer.deallocate() }
                for piece in pieces {
                    let input = open(piece.path, O_RDONLY | O_CLOEXEC)
                    guard input >= 0 else { throw SwiftFault(.conflict, "A segment went missing during the copy.") }
                    defer { close(input) }
                    var offset = piece.offset
                    while offset < piece.offset + piece.length {
                        let wanted = Int(min(Int64(buffer.count), piece.offset + piece.length - offset))
                        let count = pread(input, buffer.baseAddress, wanted, off_t(offset))
                        guard count > 0 else { throw SwiftFault(.conflict, "A segment ended early during the copy.") }
                        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                        md5.update(bufferPointer: chunk)
                        try DataFile.writeAll(output, chunk)
                        offset += Int64(count)
                    }
                    total += piece.length
                }
                guard fsync(output) == 0 else { throw SwiftFault(.internalServerError, "Storing the copy failed.") }
                return (total, md5.finalize().hex)
            }
        } catch {
            unlink(temporary)
            throw error
        }
        return (try await place(temporary, size: size), etag)
    }
}
