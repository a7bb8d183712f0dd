import Foundation
import Hummingbird
import NIOCore
import NimbusServiceKit

/// Where image data is kept. Every image records the store its data went to (`file` or
/// `swift`), so changing `[store] backend` sends new uploads elsewhere while the images
/// already stored stay readable where they are.
public protocol ImageDataStore: Sendable {
    /// The name recorded on the images it holds.
    var kind: String { get }

    /// Stores `body` as image `id`'s data, passing every byte in order to `inspect` (the
    /// hashes); returns the size. When it throws, nothing of the upload stays stored.
    /// `declaredSize` is what the client announced (`X-OpenStack-Image-Size`), if anything.
    func put(
        _ id: String, body: RequestBody, declaredSize: Int64?, limit: Int64,
        inspect: (UnsafeRawBufferPointer) -> Void
    ) async throws -> Int64

    /// `length` bytes of image `id`'s data from `offset`. Throws before the answer starts
    /// when the data cannot be found.
    func get(_ id: String, offset: Int64, length: Int64) async throws -> ResponseBody

    /// Removes image `id`'s data (nothing when there is none).
    func delete(_ id: String) async

    /// Removes what uploads cut off by the end of an earlier process left behind: whatever
    /// was stored of the images `ids` (left `saving`), and any other half-written data the
    /// store can find. Run at start, before any upload; throws what it could not remove.
    func removeInterrupted(_ ids: [String]) async throws
}

/// Image data as files under a directory on the image service's host: one file per image,
/// written to a temporary name, fsynced and renamed into place, the directory fsynced before
/// the image is committed active.
public struct FileImageStore: ImageDataStore {
    public let kind = "file"
    let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func path(_ id: String) -> String { "\(directory)/\(id)" }

    public func put(
        _ id: String, body: RequestBody, declaredSize: Int64?, limit: Int64,
        inspect: (UnsafeRawBufferPointer) -> Void
    ) async throws -> Int64 {
        let temporary = "\(directory)/.upload-\(id)-\(UUID().uuidString)"
        do {
            let size = try await DataFile.receive(body, into: temporary, limit: limit, update: inspect)
            if let declaredSize, declaredSize != size { throw GlanceFault.sizeMismatch(size, declared: declaredSize) }
            try await DataFile.rename(temporary, to: path(id))
            return size
        } catch {
            unlink(temporary)
            throw error
        }
    }

    public func get(_ id: String, offset: Int64, length: Int64) async throws -> ResponseBody {
        let descriptor = open(path(id), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw GlanceFault(.internalServerError, "The data of image \(id) is missing from the store.")
        }
        return DataFile.body([.init(path: path(id), offset: offset, length: length, descriptor: descriptor)])
    }

    public func delete(_ id: String) async { unlink(path(id)) }

    /// Every temporary `.upload-…` file (no upload runs yet), and the data of `ids`: an
    /// upload renamed into place just before the end was never committed.
    public func removeInterrupted(_ ids: [String]) async throws {
        let temporaries = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(".upload-") }.map { "\(directory)/\($0)" }
        var problems: [String] = []
        for file in temporaries + ids.map(path) where unlink(file) != 0 && errno != ENOENT {
            problems.append("\(file): \(String(cString: strerror(errno)))")
        }
        guard problems.isEmpty else {
            throw DataFile.Failure.io("cannot remove " + problems.joined(separator: "; "))
        }
    }
}
