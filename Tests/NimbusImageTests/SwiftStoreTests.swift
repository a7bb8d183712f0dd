import Crypto
import Foundation
import Hummingbird
import NIOCore
import NimbusIdentity
import NimbusImage
import NimbusObject
import NimbusServiceKit
import NimbusTestSupport
import Testing

/// The image service keeping its data in the object storage service: both real, over
/// loopback HTTP (the image service logs in to identity as `glance`, finds object storage in
/// its token's catalog, and streams to and from it).
struct SwiftBackedCloud {
    let identity: TestIdentity
    let object: InProcessClient<RouterResponder<ServiceContext>>
    let settings: SwiftImageStore.Settings

    /// Runs `body` with identity and object storage listening on loopback; `glance` in the
    /// services project, segments of 256 KiB above 1 MiB.
    static func run(_ body: (SwiftBackedCloud) async throws -> Void) async throws {
        let identity = try TestIdentity(catalog: [ImageCloud.imageEntry])
        let objectAPI = try ObjectAPI(
            store: try ObjectStore(path: nil), validator: identity.validator,
            dataDirectory: NSTemporaryDirectory() + "nimbus-image-swift-" + UUID().uuidString)
        let objectResponder = buildObjectRouter(api: objectAPI).buildResponder()
        try await withLoopbackServer(objectResponder) { objectPort in
            try identity.store.bootstrap(
                BootstrapSpec(
                    adminPassword: "admin-pw", region: "RegionOne",
                    catalog: [
                        ImageCloud.imageEntry,
                        .init(
                            type: "object-store", name: "swift", description: "Object storage",
                            urls: ["public": "http://127.0.0.1:\(objectPort)/v1/AUTH_$(project_id)s"]),
                    ],
                    demoPassword: "demo-pw", serviceUsers: ["glance": "glance-pw"]),
                hasher: TestIdentity.hasher)
            try await withLoopbackServer(identity.responder) { identityPort in
                var settings = SwiftImageStore.Settings(
                    identityURL: "http://127.0.0.1:\(identityPort)/v3", user: "glance", password: "glance-pw",
                    project: "services")
                settings.largeObjectSize = 1 << 20
                settings.chunkSize = 256 << 10
                try await body(
                    SwiftBackedCloud(
                        identity: identity, object: .init(responder: objectResponder), settings: settings))
            }
        }
    }

    func imageCloud(store: ImageStore? = nil, settings: SwiftImageStore.Settings? = nil, dataDirectory: String? = nil)
        throws -> ImageCloud
    {
        try ImageCloud(
            identity: identity, store: store, extraStores: [try SwiftImageStore(settings: settings ?? self.settings)],
            dataDirectory: dataDirectory)
    }

    /// The names in the glance container, as the glance user lists them.
    func glanceObjects() async throws -> [String] {
        let token = try await identity.token("glance", "glance-pw", project: "services")
        let account = "/v1/AUTH_" + (try await identity.projectID("services"))
        let reply = try await object.send(.get, account + "/glance", headers: ["X-Auth-Token": token])
        if reply.status == .notFound { return [] }
        return reply.text.split(separator: "\n").map(String.init)
    }
}

func bytes(_ count: Int, seed: Int = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ seed) &* 31 &+ ($0 >> 9)) }
}

func md5(_ data: [UInt8]) -> String { Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined() }

@Suite("Image data in object storage")
struct SwiftStoreTests {
    @Test("A small image is one object, a large one segments under a manifest; both come back whole and in ranges")
    func storeAndRead() async throws {
        try await SwiftBackedCloud.run { swift in
            let cloud = try swift.imageCloud()
            let demo = try await cloud.demo()

            let small = bytes(300_000)
            let smallID = try await cloud.create("small", token: demo)
            let stored = try await cloud.upload(smallID, small, token: demo)
            #expect(stored.status == .noContent, "\(stored.text)")
            #expect(try await swift.glanceObjects() == [smallID])

            // 3 MiB + 5 bytes with its size declared: 13 segments of 256 KiB and a manifest.
            let large = bytes(3 << 20 + 5, seed: 7)
            let largeID = try await cloud.create("large", token: demo)
            #expect(try await cloud.upload(largeID, large, token: demo).status == .noContent)
            let names = try await swift.glanceObjects()
            #expect(names.filter { $0.hasPrefix(largeID) }.count == 14)
            #expect(names.contains(largeID) && names.contains("\(largeID)-00013"))

            // No declared size: segmented too, the request body arriving in odd pieces.
            let piece = ByteBuffer(bytes: bytes(100_001, seed: 3))
            let unknownID = try await cloud.create("unknown", token: demo)
            let stream = AsyncStream<ByteBuffer> { continuation in
                for _ in 0..<5 { continuation.yield(piece) }
                continuation.finish()
            }
            let streamed = try await cloud.image.send(
                .put, "/v2/images/\(unknownID)/file",
                headers: ["X-Auth-Token": demo, "Content-Type": "application/octet-stream"], streaming: stream)
            #expect(streamed.status == .noContent, "\(streamed.text)")
            #expect(try await swift.glanceObjects().filter { $0.hasPrefix(unknownID) }.count == 3)

            for (id, data) in [(smallID, small), (largeID, large)] {
                let shown = try #require(try await cloud.send(.get, "/v2/images/\(id)", token: demo).json)
                #expect(shown["status"]?.string == "active" && shown["size"]?.int == Int64(data.count))
                #expect(shown["checksum"]?.string == md5(data))
                let download = try await cloud.send(.get, "/v2/images/\(id)/file", token: demo)
                #expect(download.status == .ok && download.body == data)
                let range = try await cloud.send(
                    .get, "/v2/images/\(id)/file", token: demo, headers: ["Range": "bytes=262100-262199"])
                #expect(range.status == .partialContent && range.body == Array(data[262_100...262_199]))
            }
            let whole = try await cloud.send(.get, "/v2/images/\(unknownID)/file", token: demo)
            #expect(
                whole.body.count == 500_005
                    && md5(whole.body) == md5(Array(repeating: bytes(100_001, seed: 3), count: 5).flatMap { $0 }))

            // Deleting the images removes their objects and segments.
            for id in [smallID, largeID, unknownID] {
                #expect(try await cloud.send(.delete, "/v2/images/\(id)", token: demo).status == .noContent)
            }
            #expect(try await swift.glanceObjects() == [])
            // Nothing went to the file store.
            #expect((try? FileManager.default.contentsOfDirectory(atPath: cloud.dataDirectory)) ?? [] == [])
        }
    }

    @Test("A cut-off or oversized upload leaves no object or segment behind and the image queued")
    func failedUploads() async throws {
        try await SwiftBackedCloud.run { swift in
            let cloud = try swift.imageCloud()
            let demo = try await cloud.demo()
            for declared in [500_000, 3 << 20] {
                let id = try await cloud.create("short", token: demo)
                let reply = try await cloud.send(
                    .put, "/v2/images/\(id)/file", token: demo,
                    headers: ["Content-Type": "application/octet-stream", "X-OpenStack-Image-Size": String(declared)],
                    bytes: bytes(declared - 1000))
                #expect(reply.status == .badRequest, "\(reply.text)")
                #expect(try await cloud.send(.get, "/v2/images/\(id)", token: demo).json?["status"]?.string == "queued")
            }
            #expect(try await swift.glanceObjects() == [])

            let capped = try ImageCloud(
                identity: swift.identity, extraStores: [try SwiftImageStore(settings: swift.settings)], sizeCap: 600_000
            )
            let id = try await capped.create("capped", token: demo)
            let reply = try await capped.send(
                .put, "/v2/images/\(id)/file", token: demo, headers: ["Content-Type": "application/octet-stream"],
                bytes: bytes(700_000))
            #expect(reply.status == .contentTooLarge)
            #expect(try await swift.glanceObjects() == [])
        }
    }

    @Test(
        "An upload to object storage cut off with its process: the next start sets it queued and deletes its segments")
    func interruptedUploadRecovery() async throws {
        try await SwiftBackedCloud.run { swift in
            let records = try ImageStore(path: nil)
            let first = try swift.imageCloud(store: records)
            let demo = try await first.demo()
            let id = try await first.create("cut-off", token: demo)
            let (pieces, feed) = AsyncStream<ByteBuffer>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                // 600 KiB of 4 MiB reach the store, two 256 KiB segments of it committed; then
                // the body stops, as the first process is killed.
                group.addTask {
                    _ = try await first.image.send(
                        .put, "/v2/images/\(id)/file",
                        headers: [
                            "X-Auth-Token": demo, "Content-Type": "application/octet-stream",
                            "X-OpenStack-Image-Size": String(4 << 20),
                        ], streaming: pieces)
                }
                feed.yield(ByteBuffer(bytes: bytes(600 << 10)))
                let deadline = ContinuousClock.now + .seconds(10)
                while try await swift.glanceObjects().count < 2, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(try await swift.glanceObjects() == ["\(id)-00001", "\(id)-00002"])

                let second = try swift.imageCloud(store: records)
                let recovery = try await second.api.recoverInterruptedUploads()
                #expect(recovery == .init(requeued: [id], problems: []))
                #expect(
                    try await second.send(.get, "/v2/images/\(id)", token: demo).json?["status"]?.string == "queued")
                #expect(try await swift.glanceObjects() == [])
                feed.finish()
                try await group.waitForAll()
            }
            #expect(try await swift.glanceObjects() == [])
            // What cannot be deleted is reported for the log, not hidden.
            var settings = swift.settings
            settings.password = "wrong"
            await #expect(throws: GlanceFault.self) {
                try await SwiftImageStore(settings: settings).removeInterrupted([id])
            }
        }
    }

    @Test("A wrong glance password: 503 naming the user, the image stays queued")
    func wrongPassword() async throws {
        try await SwiftBackedCloud.run { swift in
            var settings = swift.settings
            settings.password = "wrong"
            let cloud = try swift.imageCloud(settings: settings)
            let demo = try await cloud.demo()
            let id = try await cloud.create("refused", token: demo)
            let reply = try await cloud.upload(id, bytes(1000), token: demo)
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.text.contains("glance") && reply.text.contains("services"), "\(reply.text)")
            #expect(try await cloud.send(.get, "/v2/images/\(id)", token: demo).json?["status"]?.string == "queued")
        }
    }

    @Test("Images keep their store: file images stay readable after the backend becomes swift, and the other way")
    func switchingBackends() async throws {
        try await SwiftBackedCloud.run { swift in
            let records = try ImageStore(path: nil)
            let directory = NSTemporaryDirectory() + "nimbus-image-switch-" + UUID().uuidString
            let onFile = try ImageCloud(identity: swift.identity, store: records, dataDirectory: directory)
            let demo = try await onFile.demo()
            let first = bytes(5000)
            let fileID = try await onFile.create("on-file", token: demo)
            #expect(try await onFile.upload(fileID, first, token: demo).status == .noContent)

            let onSwift = try swift.imageCloud(store: records, dataDirectory: directory)
            let second = bytes(6000, seed: 1)
            let swiftID = try await onSwift.create("on-swift", token: demo)
            #expect(try await onSwift.upload(swiftID, second, token: demo).status == .noContent)
            #expect(try await swift.glanceObjects() == [swiftID])
            #expect(try await onSwift.send(.get, "/v2/images/\(fileID)/file", token: demo).body == first)

            // Back to file only: the swift image is named as unreadable here, not lost.
            #expect(try await onFile.send(.get, "/v2/images/\(fileID)/file", token: demo).body == first)
            let unreadable = try await onFile.send(.get, "/v2/images/\(swiftID)/file", token: demo)
            #expect(unreadable.status == .serviceUnavailable && unreadable.text.contains("swift store"))
            #expect(try await onSwift.send(.get, "/v2/images/\(swiftID)/file", token: demo).body == second)
        }
    }
}
