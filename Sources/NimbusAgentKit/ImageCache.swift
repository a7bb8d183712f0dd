import Foundation
import NIOCore
import NimbusServiceKit
import NimbusSystem

/// Images from the image service, downloaded once per host into `directory` (the compute
/// agent's `_base`, as Nova's; the volume agent's for volumes made from images): written
/// to a temporary name and renamed when whole, so a download cut short is never used.
///
/// An image that refers to another file (a qcow2 backing file or external data file, which
/// `qemu-img` and QEMU would open on the host: any file, another tenant's disk) is refused.
public struct ImageCache: Sendable {
    public let directory: String
    let login: ServiceLogin
    let runner: any ProcessRunning

    public init(directory: String, login: ServiceLogin, runner: any ProcessRunning = ProcessRunner()) {
        self.directory = directory
        self.login = login
        self.runner = runner
    }

    /// Refuses an image file that names another file: a backing file, an external data
    /// file, or a `json:` filename (`qemu-img info` reports each).
    public static func checkSelfContained(_ path: String, runner: any ProcessRunning) async throws {
        let output = try await runner.check(Command(["qemu-img", "info", "--output=json", "-U", path]))
        guard let info = try? JSON.parse(Array(output.stdout.utf8)) else {
            throw CacheError("cannot read qemu-img info of \(path)")
        }
        if let backing = info["backing-filename"]?.string ?? info["full-backing-filename"]?.string {
            throw CacheError("the image names a backing file (\(backing)): refused")
        }
        if let data = info["format-specific"]?["data"]?["data-file"]?.string {
            throw CacheError("the image names an external data file (\(data)): refused")
        }
    }

    /// The cached file of image `id`, downloaded from `imageURL` (`http://host:9292`) first
    /// when missing.
    public func file(of id: String, from imageURL: String) async throws -> String {
        guard !id.isEmpty, !id.contains("/"), !id.hasPrefix(".") else { throw CacheError("bad image id \(id)") }
        let path = directory + "/" + id
        if FileManager.default.fileExists(atPath: path) { return path }
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let partial = path + ".partial"
        let client = try ServiceClient(baseURL: imageURL, timeout: .seconds(10))
        var renewed = false
        while true {
            _ = FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o644])
            guard let output = FileHandle(forWritingAtPath: partial) else {
                throw CacheError("cannot write \(partial)")
            }
            var status = 0
            do {
                let token = try await login.grant(renew: renewed).token
                try await client.exchange(
                    .GET, "/v2/images/\(id)/file", headers: [("X-Auth-Token", token)], idle: .seconds(60),
                    head: { code, _ in status = code },
                    part: { buffer in if status == 200 { try output.write(contentsOf: buffer.readableBytesView) } })
                try output.synchronize()
                try output.close()
            } catch {
                try? output.close()
                try? FileManager.default.removeItem(atPath: partial)
                throw CacheError("downloading image \(id): \(error)")
            }
            if status == 401, !renewed {
                renewed = true
                continue
            }
            guard status == 200 else {
                try? FileManager.default.removeItem(atPath: partial)
                throw CacheError("the image service answered \(status) for image \(id)")
            }
            do {
                try await Self.checkSelfContained(partial, runner: runner)
            } catch {
                try? FileManager.default.removeItem(atPath: partial)
                throw CacheError("image \(id): \(error)")
            }
            guard rename(partial, path) == 0 else { throw CacheError("cannot rename \(partial)") }
            return path
        }
    }

    /// Uploads the file at `path` as the data of image `id` (a snapshot the API made,
    /// queued), in pieces of 1 MiB.
    public func upload(_ path: String, to id: String, at imageURL: String) async throws {
        guard let input = FileHandle(forReadingAtPath: path) else { throw CacheError("cannot read \(path)") }
        defer { try? input.close() }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let client = try ServiceClient(baseURL: imageURL, timeout: .seconds(10))
        var status = 0
        var answer: [UInt8] = []
        let token = try await login.grant().token
        try await client.exchange(
            .PUT, "/v2/images/\(id)/file",
            headers: [
                ("X-Auth-Token", token), ("Content-Type", "application/octet-stream"),
                ("Content-Length", String(size)),
            ], idle: .seconds(60),
            body: { writer in
                while let piece = try input.read(upToCount: 1 << 20), !piece.isEmpty {
                    try await writer.write(ByteBuffer(bytes: piece))
                }
            },
            head: { code, _ in status = code }, part: { answer += $0.readableBytesView })
        guard status == 204 || status == 200 else {
            throw CacheError(
                "the image service answered \(status) to the upload of image \(id): \(String(decoding: answer, as: UTF8.self))"
            )
        }
    }

    /// Deletes image `id` (a snapshot whose upload failed); a failure is only logged by the caller.
    public func delete(_ id: String, at imageURL: String) async {
        guard let client = try? ServiceClient(baseURL: imageURL, timeout: .seconds(10)),
            let token = try? await login.grant().token
        else { return }
        _ = try? await client.send(.DELETE, "/v2/images/\(id)", headers: [("X-Auth-Token", token)])
    }

    public struct CacheError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
