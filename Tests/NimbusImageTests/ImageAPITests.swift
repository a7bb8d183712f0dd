import Crypto
import Foundation
import Hummingbird
import NIOCore
import NimbusIdentity
import NimbusImage
import NimbusServiceKit
import NimbusTestSupport
import Testing

/// An identity and an image service in-process, the image service asking the identity
/// router itself about tokens (no fake validator); image data in a temporary directory.
struct ImageCloud {
    typealias Client = InProcessClient<RouterResponder<ServiceContext>>
    let identity: TestIdentity
    let api: ImageAPI
    let image: Client
    let dataDirectory: String

    init(sizeCap: Int64 = 1 << 40) throws {
        try self.init(identity: try TestIdentity(catalog: [Self.imageEntry]), sizeCap: sizeCap)
    }

    static let imageEntry = BootstrapSpec.CatalogEntry(
        type: "image", name: "glance", description: "Image", urls: ["public": "http://ctl:9292"])

    /// `extraStores` come first: uploads go to the first one; the file store is always there.
    init(
        identity: TestIdentity, store: ImageStore? = nil, extraStores: [any ImageDataStore] = [],
        dataDirectory: String? = nil, sizeCap: Int64 = 1 << 40
    ) throws {
        self.identity = identity
        let dataDirectory = dataDirectory ?? NSTemporaryDirectory() + "nimbus-image-test-" + UUID().uuidString
        self.dataDirectory = dataDirectory
        let api = ImageAPI(
            store: try store ?? ImageStore(path: nil), validator: identity.validator,
            dataStores: extraStores + [try FileImageStore(directory: dataDirectory)],
            identityURI: "http://ctl:5000", sizeCap: sizeCap)
        self.api = api
        image = Client(responder: buildImageRouter(api: api).buildResponder())
    }

    func token(_ user: String, _ password: String, project: String) async throws -> String {
        try await identity.token(user, password, project: project)
    }

    func admin() async throws -> String { try await identity.admin() }
    func demo() async throws -> String { try await identity.demo() }

    func send(
        _ method: HTTPRequest.Method, _ path: String, token: String?, json: JSON? = nil,
        headers: [String: String] = [:], bytes: [UInt8]? = nil
    ) async throws -> Client.Reply {
        var headers = headers
        if let token { headers["X-Auth-Token"] = token }
        if json != nil, headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        return try await image.send(method, path, headers: headers, body: json?.bytes ?? bytes)
    }

    /// Creates an image the way `openstack image create` does; returns its id.
    func create(_ name: String, token: String, extra: [(String, JSON)] = []) async throws -> String {
        let body = JSON.object(
            [
                ("name", .string(name)), ("disk_format", "qcow2"), ("container_format", "bare"),
                ("owner_specified.openstack.md5", ""), ("owner_specified.openstack.sha256", ""),
                ("owner_specified.openstack.object", .string("images/\(name)")),
            ] + extra)
        let reply = try await send(.post, "/v2/images", token: token, json: body)
        #expect(reply.status == .created, "\(reply.text)")
        return try #require(reply.json?["id"]?.string)
    }

    func upload(_ id: String, _ bytes: [UInt8], token: String) async throws -> Client.Reply {
        try await send(
            .put, "/v2/images/\(id)/file", token: token,
            headers: ["Content-Type": "application/octet-stream", "X-OpenStack-Image-Size": String(bytes.count)],
            bytes: bytes)
    }
}

@Suite("Image API")
struct ImageAPITests {
    @Test("Version discovery: GET / answers 300 with v2.17 current, /versions 200; /healthz")
    func versions() async throws {
        let cloud = try ImageCloud()
        let root = try await cloud.send(.get, "/", token: nil)
        #expect(root.status == .multipleChoices)
        let first = try #require(root.json?["versions"]?.array?.first)
        #expect(first["id"]?.string == "v2.17" && first["status"]?.string == "CURRENT")
        #expect(first["links"]?.array?.first?["href"]?.string == "http://nimbus.test:5000/v2/")
        #expect(try await cloud.send(.get, "/versions", token: nil).status == .ok)
        #expect(try await cloud.send(.get, "/healthz", token: nil).text == "OK")
        let schema = try await cloud.send(.get, "/v2/schemas/image", token: nil)
        #expect(schema.json?["name"]?.string == "image")
    }

    @Test("No token or a bad one: 401 in Keystone's JSON with WWW-Authenticate; unknown routes: 404 HTML")
    func unauthorized() async throws {
        let cloud = try ImageCloud()
        for token in [nil, "garbage"] as [String?] {
            let reply = try await cloud.send(.get, "/v2/images", token: token)
            #expect(reply.status == .unauthorized)
            #expect(reply.header("WWW-Authenticate") == "Keystone uri=\"http://ctl:5000\"")
            #expect(reply.json?["error"]?["code"]?.int == 401)
        }
        // An empty id is no image, not the list.
        #expect(try await cloud.send(.get, "/v2/images/", token: try await cloud.admin()).status == .notFound)
        let missing = try await cloud.send(.get, "/v2/nothing", token: try await cloud.admin())
        #expect(missing.status == .notFound && missing.text.contains("<h1>404 Not Found</h1>"))
    }

    @Test("image create → upload → show → download → delete, as the stock client does it")
    func lifecycle() async throws {
        let cloud = try ImageCloud()
        let demo = try await cloud.demo()
        let id = try await cloud.create("cirros", token: demo)
        let queued = try await cloud.send(.get, "/v2/images/\(id)", token: demo)
        #expect(queued.json?["status"]?.string == "queued")
        #expect(queued.json?["visibility"]?.string == "shared")
        #expect(queued.json?["owner_specified.openstack.md5"]?.string == "")
        #expect(queued.json?["size"] == .null)
        // No data yet: 204, empty.
        let empty = try await cloud.send(.get, "/v2/images/\(id)/file", token: demo)
        #expect(empty.status == .noContent && empty.body.isEmpty)

        // A qcow2 header saying 1 GiB, then some bytes.
        var data: [UInt8] = [0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3] + [UInt8](repeating: 0, count: 16)
        data += [0, 0, 0, 0, 0x40, 0, 0, 0] + (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let upload = try await cloud.upload(id, data, token: demo)
        #expect(upload.status == .noContent, "\(upload.text)")
        let active = try #require(try await cloud.send(.get, "/v2/images/\(id)", token: demo).json)
        #expect(active["status"]?.string == "active")
        #expect(active["size"]?.int == Int64(data.count))
        #expect(active["virtual_size"]?.int == 1 << 30)
        #expect(active["checksum"]?.string == Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined())
        #expect(active["os_hash_algo"]?.string == "sha512")
        #expect(active["os_hash_value"]?.string == SHA512.hash(data: data).map { String(format: "%02x", $0) }.joined())

        let download = try await cloud.send(.get, "/v2/images/\(id)/file", token: demo)
        #expect(download.status == .ok && download.body == data)
        #expect(download.header("Content-MD5") == active["checksum"]?.string)
        let range = try await cloud.send(.get, "/v2/images/\(id)/file", token: demo, headers: ["Range": "bytes=10-19"])
        #expect(range.status == .partialContent && range.body == Array(data[10...19]))
        #expect(range.header("Content-Range") == "bytes 10-19/\(data.count)")

        // A second upload is a conflict; the data stays.
        #expect(try await cloud.upload(id, [1, 2, 3], token: demo).status == .conflict)
        #expect(try await cloud.send(.delete, "/v2/images/\(id)", token: demo).status == .noContent)
        #expect(try await cloud.send(.get, "/v2/images/\(id)", token: demo).status == .notFound)
        #expect(!FileManager.default.fileExists(atPath: "\(cloud.dataDirectory)/\(id)"))
    }

    @Test("An upload arriving in many pieces is streamed to disk; a size mismatch stores nothing and leaves it queued")
    func streaming() async throws {
        let cloud = try ImageCloud()
        let demo = try await cloud.demo()
        let id = try await cloud.create("big", token: demo)
        let piece = ByteBuffer(repeating: 0xAB, count: 1 << 20)
        let pieces = 64
        let stream = AsyncStream<ByteBuffer> { continuation in
            for _ in 0..<pieces { continuation.yield(piece) }
            continuation.finish()
        }
        let reply = try await cloud.image.send(
            .put, "/v2/images/\(id)/file",
            headers: ["X-Auth-Token": demo, "Content-Type": "application/octet-stream"], streaming: stream)
        #expect(reply.status == .noContent, "\(reply.text)")
        let shown = try await cloud.send(.get, "/v2/images/\(id)", token: demo).json
        #expect(shown?["size"]?.int == Int64(pieces << 20))
        let expected = Insecure.MD5.hash(data: [UInt8](repeating: 0xAB, count: pieces << 20))
        #expect(shown?["checksum"]?.string == expected.map { String(format: "%02x", $0) }.joined())

        let other = try await cloud.create("short", token: demo)
        let short = try await cloud.send(
            .put, "/v2/images/\(other)/file", token: demo,
            headers: ["Content-Type": "application/octet-stream", "X-OpenStack-Image-Size": "100"], bytes: [1, 2, 3])
        #expect(short.status == .badRequest)
        #expect(try await cloud.send(.get, "/v2/images/\(other)", token: demo).json?["status"]?.string == "queued")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: cloud.dataDirectory)
        #expect(leftovers == [id])
    }

    @Test("An upload cut off with its process stays saving; the next start sets it queued and removes its partial file")
    func interruptedUploadRecovery() async throws {
        let identity = try TestIdentity(catalog: [ImageCloud.imageEntry])
        let state = NSTemporaryDirectory() + "nimbus-image-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let images = state + "/images"
        let first = try ImageCloud(
            identity: identity, store: try ImageStore(path: state + "/image.sqlite"), dataDirectory: images)
        let demo = try await first.demo()
        let id = try await first.create("cut-off", token: demo)
        let (pieces, feed) = AsyncStream<ByteBuffer>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The first process receives 2 of 4 MiB, then (as far as its files and database
            // show) it is killed: the body never ends.
            group.addTask {
                _ = try await first.image.send(
                    .put, "/v2/images/\(id)/file",
                    headers: [
                        "X-Auth-Token": demo, "Content-Type": "application/octet-stream",
                        "X-OpenStack-Image-Size": String(4 << 20),
                    ], streaming: pieces)
            }
            feed.yield(ByteBuffer(repeating: 7, count: 2 << 20))
            func partial() throws -> [String] {
                try FileManager.default.contentsOfDirectory(atPath: images).filter { name in
                    let size = try FileManager.default.attributesOfItem(atPath: "\(images)/\(name)")[.size] as? Int
                    return (size ?? 0) > 0
                }
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while try partial().isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try partial().count == 1)

            let second = try ImageCloud(
                identity: identity, store: try ImageStore(path: state + "/image.sqlite"), dataDirectory: images)
            #expect(try await second.send(.get, "/v2/images/\(id)", token: demo).json?["status"]?.string == "saving")
            let recovery = try await second.api.recoverInterruptedUploads()
            #expect(recovery == .init(requeued: [id], problems: []))
            #expect(try await second.send(.get, "/v2/images/\(id)", token: demo).json?["status"]?.string == "queued")
            #expect(try FileManager.default.contentsOfDirectory(atPath: images).isEmpty)
            // Queued again, it takes a new upload.
            #expect(try await second.upload(id, Array("whole".utf8), token: demo).status == .noContent)
            #expect(try await second.send(.get, "/v2/images/\(id)/file", token: demo).text == "whole")
            #expect(try await second.api.recoverInterruptedUploads() == .init())
            // The first process's upload ends short (size mismatch) and changes nothing.
            feed.finish()
            try await group.waitForAll()
        }
        #expect(try await first.send(.get, "/v2/images/\(id)/file", token: demo).text == "whole")
    }

    @Test("The size cap refuses a larger image with 413 and keeps it queued")
    func sizeCap() async throws {
        let cloud = try ImageCloud(sizeCap: 1000)
        let demo = try await cloud.demo()
        let id = try await cloud.create("large", token: demo)
        let reply = try await cloud.send(
            .put, "/v2/images/\(id)/file", token: demo, headers: ["Content-Type": "application/octet-stream"],
            bytes: [UInt8](repeating: 1, count: 2000))
        #expect(reply.status == .contentTooLarge)
        #expect(try await cloud.send(.get, "/v2/images/\(id)", token: demo).json?["status"]?.string == "queued")
    }

    @Test("Visibility: a member cannot publicize; public images are seen by all, private ones by their project only")
    func visibility() async throws {
        let cloud = try ImageCloud()
        let admin = try await cloud.admin()
        let demo = try await cloud.demo()
        let denied = try await cloud.send(
            .post, "/v2/images", token: demo, json: ["name": "mine", "visibility": "public"])
        #expect(denied.status == .forbidden && denied.text.contains("publicize_image"))
        let publicID = try await cloud.create("cirros", token: admin, extra: [("visibility", "public")])
        let privateID = try await cloud.create("secret", token: admin, extra: [("visibility", "private")])
        let communityID = try await cloud.create("shared-out", token: admin, extra: [("visibility", "community")])
        #expect(try await cloud.send(.get, "/v2/images/\(publicID)", token: demo).status == .ok)
        #expect(try await cloud.send(.get, "/v2/images/\(privateID)", token: demo).status == .notFound)
        #expect(try await cloud.send(.get, "/v2/images/\(communityID)", token: demo).status == .ok)
        let listed = try await cloud.send(.get, "/v2/images", token: demo).json?["images"]?.array?.compactMap {
            $0["id"]?.string
        }
        #expect(listed == [publicID])
        let community = try await cloud.send(.get, "/v2/images?visibility=community", token: demo).json?["images"]?
            .array
        #expect(community?.count == 1)
        // The demo member may not change or delete the admin's public image.
        let patch = try await cloud.send(
            .patch, "/v2/images/\(publicID)", token: demo,
            json: [["op": "replace", "path": "/name", "value": "x"]],
            headers: ["Content-Type": "application/openstack-images-v2.1-json-patch"])
        #expect(patch.status == .forbidden)
        #expect(try await cloud.send(.delete, "/v2/images/\(publicID)", token: demo).status == .forbidden)
    }

    @Test("JSON patch in both dialects; read-only attributes 403; wrong media type 415; missing property 409")
    func update() async throws {
        let cloud = try ImageCloud()
        let demo = try await cloud.demo()
        let id = try await cloud.create("cirros", token: demo)
        let v21 = ["Content-Type": "application/openstack-images-v2.1-json-patch"]
        let v20 = ["Content-Type": "application/openstack-images-v2.0-json-patch"]
        let first = try await cloud.send(
            .patch, "/v2/images/\(id)", token: demo,
            json: [
                ["op": "replace", "path": "/name", "value": "cirros-0.6"],
                ["op": "add", "path": "/os_distro", "value": "cirros"],
                ["op": "add", "path": "/tags", "value": ["small"]], ["op": "replace", "path": "/min_ram", "value": 64],
            ], headers: v21)
        #expect(first.status == .ok, "\(first.text)")
        #expect(first.json?["name"]?.string == "cirros-0.6" && first.json?["os_distro"]?.string == "cirros")
        #expect(first.json?["tags"] == ["small"] && first.json?["min_ram"]?.int == 64)
        let second = try await cloud.send(
            .patch, "/v2/images/\(id)", token: demo,
            json: [["replace": "/name", "value": "tempest"], ["remove": "/os_distro"]],
            headers: v20)
        #expect(second.status == .ok && second.json?["name"]?.string == "tempest" && second.json?["os_distro"] == nil)
        let readOnly = try await cloud.send(
            .patch, "/v2/images/\(id)", token: demo, json: [["op": "replace", "path": "/status", "value": "active"]],
            headers: v21)
        #expect(readOnly.status == .forbidden)
        let missing = try await cloud.send(
            .patch, "/v2/images/\(id)", token: demo, json: [["op": "remove", "path": "/nothing"]], headers: v21)
        #expect(missing.status == .conflict)
        let media = try await cloud.send(.patch, "/v2/images/\(id)", token: demo, json: [])
        #expect(media.status == .unsupportedMediaType)
        let notString = try await cloud.send(
            .patch, "/v2/images/\(id)", token: demo, json: [["op": "add", "path": "/hw_cpu", "value": 3]], headers: v21)
        #expect(notString.status == .badRequest)
        #expect(try await cloud.send(.put, "/v2/images/\(id)/tags/fast", token: demo).status == .noContent)
        #expect(try await cloud.send(.delete, "/v2/images/\(id)/tags/none", token: demo).status == .notFound)
        let tags = try await cloud.send(.get, "/v2/images/\(id)", token: demo).json?["tags"]
        #expect(tags == ["small", "fast"])
    }

    @Test(
        "Bad bodies: malformed JSON 400 in Glance's HTML, read-only attributes 403, bad formats 400, duplicate id 409")
    func badRequests() async throws {
        let cloud = try ImageCloud()
        let demo = try await cloud.demo()
        let malformed = try await cloud.send(
            .post, "/v2/images", token: demo, headers: ["Content-Type": "application/json"], bytes: Array("{".utf8))
        #expect(malformed.status == .badRequest && malformed.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(try await cloud.send(.post, "/v2/images", token: demo, json: ["size": 3]).status == .forbidden)
        // Glance reserves the os_glance_ namespace.
        #expect(try await cloud.send(.post, "/v2/images", token: demo, json: ["os_glance_x": "y"]).status == .forbidden)
        #expect(
            try await cloud.send(.post, "/v2/images", token: demo, json: ["disk_format": "exe"]).status == .badRequest)
        let id = "6d3c1f1e-8d9b-4a5e-9f2a-0c1d2e3f4a5b"
        #expect(try await cloud.send(.post, "/v2/images", token: demo, json: ["id": .string(id)]).status == .created)
        #expect(try await cloud.send(.post, "/v2/images", token: demo, json: ["id": .string(id)]).status == .conflict)
        #expect(try await cloud.send(.get, "/v2/images?limit=x", token: demo).status == .badRequest)
        #expect(try await cloud.send(.get, "/v2/images?marker=nope", token: demo).status == .badRequest)
    }

    @Test("Listing: filters (name, id=in:, status, properties, tag), sorting and pages linked by next")
    func listing() async throws {
        let cloud = try ImageCloud()
        let demo = try await cloud.demo()
        var ids: [String] = []
        for index in 0..<5 {
            ids.append(
                try await cloud.create("img-\(index)", token: demo, extra: [("tags", index % 2 == 0 ? ["even"] : [])]))
        }
        func names(_ path: String) async throws -> [String] {
            try await cloud.send(.get, path, token: demo).json?["images"]?.array?.compactMap { $0["name"]?.string }
                ?? []
        }
        #expect(try await names("/v2/images?name=img-3") == ["img-3"])
        #expect(try await names("/v2/images?id=in:\(ids[0]),\(ids[4])&sort=name:asc") == ["img-0", "img-4"])
        #expect(try await names("/v2/images?tag=even&sort_key=name&sort_dir=asc") == ["img-0", "img-2", "img-4"])
        #expect(try await names("/v2/images?owner_specified.openstack.object=images/img-1") == ["img-1"])
        #expect(try await names("/v2/images?status=active").isEmpty)
        // Pages of two, following next to the end.
        var path = "/v2/images?limit=2&sort=name:asc"
        var seen: [String] = []
        while true {
            let page = try #require(try await cloud.send(.get, path, token: demo).json)
            seen += page["images"]?.array?.compactMap { $0["name"]?.string } ?? []
            guard let next = page["next"]?.string else { break }
            path = next
        }
        #expect(seen == (0..<5).map { "img-\($0)" })
    }

    @Test("Members: a shared image is listed for a member once accepted; only owners add, only members answer")
    func members() async throws {
        let cloud = try ImageCloud()
        let admin = try await cloud.admin()
        let demo = try await cloud.demo()
        let id = try await cloud.create("shared", token: admin)
        let demoProject = try #require(
            try await cloud.identity.client.send(
                .get, "/v3/auth/tokens?nocatalog", headers: ["X-Auth-Token": demo, "X-Subject-Token": demo]
            ).json?["token"]?["project"]?["id"]?.string)
        let added = try await cloud.send(
            .post, "/v2/images/\(id)/members", token: admin, json: ["member": .string(demoProject)])
        #expect(added.status == .ok && added.json?["status"]?.string == "pending", "\(added.text)")
        #expect(
            try await cloud.send(
                .post, "/v2/images/\(id)/members", token: admin, json: ["member": .string(demoProject)]
            )
            .status == .conflict)
        // Pending: visible by id, not listed.
        #expect(try await cloud.send(.get, "/v2/images/\(id)", token: demo).status == .ok)
        #expect(try await cloud.send(.get, "/v2/images", token: demo).json?["images"]?.array?.isEmpty == true)
        let accept = try await cloud.send(
            .put, "/v2/images/\(id)/members/\(demoProject)", token: demo, json: ["status": "accepted"])
        #expect(accept.status == .ok && accept.json?["status"]?.string == "accepted")
        #expect(try await cloud.send(.get, "/v2/images", token: demo).json?["images"]?.array?.count == 1)
        // The member may not add members, change the image or delete it.
        #expect(
            try await cloud.send(.post, "/v2/images/\(id)/members", token: demo, json: ["member": "x"]).status
                == .forbidden)
        #expect(try await cloud.send(.delete, "/v2/images/\(id)", token: demo).status == .forbidden)
        let list = try await cloud.send(.get, "/v2/images/\(id)/members", token: demo)
        #expect(list.json?["members"]?.array?.count == 1)
        #expect(
            try await cloud.send(.delete, "/v2/images/\(id)/members/\(demoProject)", token: admin).status == .noContent)
        #expect(try await cloud.send(.get, "/v2/images/\(id)", token: demo).status == .notFound)
    }

    @Test("Protected images are not deleted; deactivated ones are not downloaded but by admins; owners deactivate")
    func protectionAndDeactivation() async throws {
        let cloud = try ImageCloud()
        let admin = try await cloud.admin()
        let id = try await cloud.create("keep", token: admin, extra: [("protected", true), ("visibility", "public")])
        #expect(try await cloud.upload(id, [1, 2, 3], token: admin).status == .noContent)
        #expect(try await cloud.send(.delete, "/v2/images/\(id)", token: admin).status == .forbidden)
        #expect(try await cloud.send(.post, "/v2/images/\(id)/actions/deactivate", token: admin).status == .noContent)
        let demo = try await cloud.demo()
        #expect(try await cloud.send(.get, "/v2/images/\(id)/file", token: demo).status == .forbidden)
        #expect(try await cloud.send(.get, "/v2/images/\(id)/file", token: admin).body == [1, 2, 3])
        #expect(try await cloud.send(.post, "/v2/images/\(id)/actions/reactivate", token: demo).status == .forbidden)
        #expect(try await cloud.send(.post, "/v2/images/\(id)/actions/reactivate", token: admin).status == .noContent)
        #expect(try await cloud.send(.get, "/v2/images/\(id)/file", token: demo).body == [1, 2, 3])
        // The owner's members may deactivate their own images (Glance's default policy).
        let own = try await cloud.create("own", token: demo)
        #expect(try await cloud.upload(own, [4], token: demo).status == .noContent)
        #expect(try await cloud.send(.post, "/v2/images/\(own)/actions/deactivate", token: demo).status == .noContent)
        #expect(try await cloud.send(.get, "/v2/images/\(own)/file", token: demo).status == .forbidden)
    }
}
