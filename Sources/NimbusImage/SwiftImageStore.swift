import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NimbusServiceKit

/// Image data in the object storage service, kept as Glance's swift store keeps it: one
/// container (`glance`) in the image service's own account (its `glance` user in the
/// `services` project), an object per image named by the image's id. An image whose size
/// is unknown or at least `largeObjectSize` goes up as segments `<id>-00001`, `<id>-00002`…
/// of `chunkSize` bytes under a dynamic large object manifest `<id>`, the manifest written
/// last: a failed upload never leaves a readable object, and its segments are removed.
/// Every byte is streamed through (never buffered whole), and every object's ETag is
/// checked against the md5 of what was sent.
public final class SwiftImageStore: ImageDataStore {
    public struct Settings: Sendable, Equatable {
        /// `http://controller:5000/v3`.
        public var identityURL: String
        public var user: String
        public var password: String
        public var project: String
        public var domain = "Default"
        public var container = "glance"
        /// The account's URL (`http://storage:8080/v1/AUTH_…`); from the token's catalog
        /// (the object-store entry's public URL) when nil.
        public var objectStoreURL: String?
        public var largeObjectSize: Int64 = 5 << 30
        public var chunkSize: Int64 = 200 << 20

        public init(identityURL: String, user: String, password: String, project: String) {
            self.identityURL = identityURL
            self.user = user
            self.password = password
            self.project = project
        }
    }

    public let kind = "swift"
    let settings: Settings
    let session: Session

    public init(settings: Settings) throws {
        self.settings = settings
        session = try Session(settings: settings)
    }

    func path(_ name: String) -> String { "/\(settings.container)/\(name)" }

    static func segmentName(_ id: String, _ number: Int) -> String {
        let digits = String(number)
        return "\(id)-" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits
    }

    // MARK: Upload

    public func put(
        _ id: String, body: RequestBody, declaredSize: Int64?, limit: Int64,
        inspect: (UnsafeRawBufferPointer) -> Void
    ) async throws -> Int64 {
        let grant = try await session.grant()
        try await ensureContainer()
        var source = Source(iterator: body.makeAsyncIterator(), limit: limit)
        do {
            if let declaredSize, declaredSize < settings.largeObjectSize {
                try await putObject(id, from: &source, length: declaredSize, grant: grant, inspect: inspect)
                guard try await source.atEnd() else {
                    throw GlanceFault.badRequest(
                        "The image is larger than X-OpenStack-Image-Size said (\(declaredSize)).")
                }
            } else {
                var number = 1
                repeat {
                    let grant = try await session.grant()
                    try await putObject(
                        Self.segmentName(id, number), from: &source, length: nil, grant: grant, inspect: inspect)
                    number += 1
                } while try await !source.atEnd()
                if let declaredSize, declaredSize != source.count {
                    throw GlanceFault.sizeMismatch(source.count, declared: declaredSize)
                }
                let reply = try await send(
                    .PUT, path(id),
                    headers: [
                        ("X-Object-Manifest", "\(settings.container)/\(id)-"), ("Content-Length", "0"),
                        ("Content-Type", "application/octet-stream"),
                    ])
                guard reply.status == 201 else { throw storeFault("writing the manifest of \(id)", reply) }
            }
        } catch {
            await delete(id)
            throw error
        }
        return source.count
    }

    /// The request body, read piece by piece across the objects it is split into.
    struct Source {
        var iterator: RequestBody.AsyncIterator
        let limit: Int64
        var pending: ByteBuffer?
        var count: Int64 = 0
        var ended = false

        /// Up to `maximum` bytes; nil at the end of the body.
        mutating func next(maximum: Int64) async throws -> ByteBuffer? {
            if pending == nil, !ended {
                pending = try await iterator.next()
                if pending == nil { ended = true }
            }
            guard var buffer = pending else { return nil }
            if Int64(buffer.readableBytes) > maximum, let piece = buffer.readSlice(length: Int(maximum)) {
                pending = buffer
                count += maximum
                guard count <= limit else { throw DataFile.Failure.tooLarge(limit: limit) }
                return piece
            }
            pending = nil
            count += Int64(buffer.readableBytes)
            guard count <= limit else { throw DataFile.Failure.tooLarge(limit: limit) }
            return buffer
        }

        mutating func atEnd() async throws -> Bool {
            while pending == nil || pending?.readableBytes == 0 {
                if ended { return true }
                pending = try await iterator.next()
                if pending == nil { ended = true }
            }
            return false
        }
    }

    /// PUTs one object of `length` bytes (or, when nil, up to a chunk's worth, chunked) from
    /// `source`, and checks the ETag the object storage computed against the md5 sent.
    func putObject(
        _ name: String, from source: inout Source, length: Int64?, grant: Session.Grant,
        inspect: (UnsafeRawBufferPointer) -> Void
    ) async throws {
        var headers = [("X-Auth-Token", grant.token), ("Content-Type", "application/octet-stream")]
        if let length { headers.append(("Content-Length", String(length))) }
        let wanted = length ?? settings.chunkSize
        var md5 = Insecure.MD5()
        var sent: Int64 = 0
        var status = 0
        var etag: String?
        var answer: [UInt8] = []
        try await grant.storage.exchange(
            .PUT, path(name), headers: headers,
            body: { writer in
                while sent < wanted, let buffer = try await source.next(maximum: wanted - sent) {
                    buffer.withUnsafeReadableBytes { bytes in
                        inspect(bytes)
                        md5.update(bufferPointer: bytes)
                    }
                    sent += Int64(buffer.readableBytes)
                    try await writer.write(buffer)
                }
                if let length, sent != length {
                    // Fewer bytes than declared: the object storage must not take the body
                    // as complete, so the connection is dropped before the end.
                    throw GlanceFault.sizeMismatch(source.count, declared: length)
                }
            },
            head: { code, fields in
                status = code
                etag = fields.first { $0.0.lowercased() == "etag" }?.1
            },
            part: { buffer in if answer.count < 4096 { answer += buffer.readableBytesView } })
        guard status == 201 else {
            throw storeFault(
                "storing \(name)", ServiceClient.Reply(status: status, headers: [], body: answer))
        }
        let digest = md5.finalize().hex
        guard etag?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == digest else {
            throw GlanceFault(
                .internalServerError,
                "Object storage stored \(name) with ETag \(etag ?? "none"), but the md5 of the data sent is \(digest).")
        }
    }

    func ensureContainer() async throws {
        let reply = try await send(.PUT, "/\(settings.container)", headers: [("Content-Length", "0")])
        guard reply.status == 201 || reply.status == 202 else {
            throw storeFault("creating container \(settings.container)", reply)
        }
    }

    // MARK: Download

    public func get(_ id: String, offset: Int64, length: Int64) async throws -> ResponseBody {
        let head = try await send(.HEAD, path(id))
        guard head.status == 200 else {
            if head.status == 404 {
                throw GlanceFault(
                    .internalServerError, "The data of image \(id) is missing from object storage.")
            }
            throw storeFault("reading \(id)", head)
        }
        guard length > 0 else { return ResponseBody() }
        let grant = try await session.grant()
        let name = path(id)
        return ResponseBody(contentLength: Int(length)) { writer in
            var status = 0
            try await grant.storage.exchange(
                .GET, name,
                headers: [("X-Auth-Token", grant.token), ("Range", "bytes=\(offset)-\(offset + length - 1)")],
                head: { code, _ in
                    status = code
                    guard code == 200 || code == 206 else {
                        throw ServiceClient.Failure(description: "object storage answered \(code) for \(name)")
                    }
                },
                part: { buffer in try await writer.write(buffer) })
            guard status != 0 else { throw ServiceClient.Failure(description: "no answer for \(name)") }
            try await writer.finish(nil)
        }
    }

    // MARK: Delete

    /// Removes the object and its segments (any left by a failed upload too); errors are
    /// logged by the caller's absence of data, not raised: the image record goes regardless.
    public func delete(_ id: String) async { _ = await remove(id) }

    /// What an upload cut off by the end of the process stored of `ids`: objects and
    /// segments, removed as `delete` does, but what could not be removed is thrown.
    public func removeInterrupted(_ ids: [String]) async throws {
        var problems: [String] = []
        for id in ids { problems += await remove(id) }
        guard problems.isEmpty else {
            throw GlanceFault(.serviceUnavailable, "Object storage kept " + problems.joined(separator: "; "))
        }
    }

    /// Removes the object `id` and every `<id>-…` segment; what could not be removed, and why.
    func remove(_ id: String) async -> [String] {
        var problems: [String] = []
        func removeObject(_ name: String) async {
            do {
                let reply = try await send(.DELETE, path(name))
                if ![204, 404].contains(reply.status) { problems.append("\(name): \(reply.status)") }
            } catch {
                problems.append("\(name): \(error)")
            }
        }
        await removeObject(id)
        do {
            let listing = try await send(.GET, "/\(settings.container)?prefix=\(id)-&format=plain&limit=10000")
            if [200, 204].contains(listing.status) {
                for name in listing.text.split(separator: "\n") where !name.isEmpty {
                    await removeObject(String(name))
                }
            } else if listing.status != 404 {
                problems.append("the segments of \(id) (listing: \(listing.status))")
            }
        } catch {
            problems.append("the segments of \(id) (listing: \(error))")
        }
        return problems
    }

    // MARK: Requests

    /// A request without a body; once more with a new token if the first is refused (401).
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = []) async throws
        -> ServiceClient.Reply
    {
        var grant = try await session.grant()
        var reply = try await grant.storage.send(method, path, headers: [("X-Auth-Token", grant.token)] + headers)
        if reply.status == 401 {
            grant = try await session.grant(renew: true)
            reply = try await grant.storage.send(method, path, headers: [("X-Auth-Token", grant.token)] + headers)
        }
        return reply
    }

    func storeFault(_ action: String, _ reply: ServiceClient.Reply) -> GlanceFault {
        let detail = reply.text.replacingOccurrences(of: "<[^>]*>", with: " ", options: .regularExpression)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return GlanceFault(
            reply.status == 413 ? .contentTooLarge : .serviceUnavailable,
            "Object storage refused \(action): \(reply.status) \(detail)")
    }

    /// The image service's token for object storage and the account URL, renewed halfway
    /// through the token's life (or when refused).
    actor Session {
        struct Grant: Sendable {
            var token: String
            var storage: ServiceClient
        }

        let settings: Settings
        let login: ServiceLogin

        init(settings: Settings) throws {
            self.settings = settings
            login = try ServiceLogin(
                .init(
                    identityURL: settings.identityURL, user: settings.user, password: settings.password,
                    project: settings.project, domain: settings.domain))
        }

        func grant(renew: Bool = false) async throws -> Grant {
            let grant: ServiceLogin.Grant
            do {
                grant = try await login.grant(renew: renew)
            } catch {
                switch error {
                case .unreachable(let reason):
                    throw GlanceFault(.serviceUnavailable, "The identity service cannot be reached: \(reason)")
                case .refused(let user, let project, let status):
                    throw GlanceFault(
                        .serviceUnavailable,
                        "The image service's user \(user) cannot log in to project \(project) (identity answered \(status)); check [swift] in image.conf."
                    )
                }
            }
            let url = try settings.objectStoreURL ?? Self.objectStoreURL(in: grant.details)
            return Grant(token: grant.token, storage: try ServiceClient(baseURL: url, timeout: .seconds(30)))
        }

        static func objectStoreURL(in token: JSON) throws -> String {
            let entry = token["catalog"]?.array?.first { $0["type"]?.string == "object-store" }
            guard
                let url = entry?["endpoints"]?.array?.first(where: { $0["interface"]?.string == "public" })?["url"]?
                    .string
            else {
                throw GlanceFault(
                    .serviceUnavailable, "The catalog has no object-store endpoint for the image service's store.")
            }
            return url
        }
    }
}
