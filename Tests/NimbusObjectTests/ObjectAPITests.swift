import Crypto
import Foundation
import Hummingbird
import NIOCore
import NimbusObject
import NimbusServiceKit
import NimbusTestSupport
import Synchronization
import Testing

/// An identity and an object service in-process, the object service asking the identity
/// router about tokens; data in a temporary directory, time under the test's control.
struct ObjectCloud {
    typealias Client = InProcessClient<RouterResponder<ServiceContext>>
    let identity: TestIdentity
    let api: ObjectAPI
    let object: Client
    let dataDirectory: String
    let now: Clock

    final class Clock: Sendable {
        let micros = Mutex<Int64>(1_790_000_000_123_456)
    }

    init(limits: ObjectAPI.Limits = .init()) throws {
        identity = try TestIdentity(catalog: [
            .init(
                type: "object-store", name: "swift", description: "Object storage",
                urls: ["public": "http://ctl:8080/v1/AUTH_$(project_id)s"])
        ])
        dataDirectory = NSTemporaryDirectory() + "nimbus-object-test-" + UUID().uuidString
        let now = Clock()
        self.now = now
        api = try ObjectAPI(
            store: try ObjectStore(path: nil), validator: identity.validator, dataDirectory: dataDirectory,
            limits: limits, clock: { now.micros.withLock { $0 } })
        object = Client(responder: buildObjectRouter(api: api).buildResponder())
    }

    func advance(seconds: Int64) { now.micros.withLock { $0 += seconds * 1_000_000 } }

    func demo() async throws -> (token: String, account: String) {
        (try await identity.demo(), "/v1/AUTH_" + (try await identity.projectID("demo")))
    }

    func admin() async throws -> (token: String, account: String) {
        (try await identity.admin(), "/v1/AUTH_" + (try await identity.projectID("admin")))
    }

    func send(
        _ method: HTTPRequest.Method, _ path: String, token: String?, headers: [String: String] = [:],
        body: [UInt8]? = nil
    ) async throws -> Client.Reply {
        var headers = headers
        if let token { headers["X-Auth-Token"] = token }
        if body == nil, method == .put, headers["Content-Length"] == nil { headers["Content-Length"] = "0" }
        return try await object.send(method, path, headers: headers, body: body)
    }

    func put(_ path: String, _ text: String, token: String, headers: [String: String] = [:]) async throws
        -> Client.Reply
    {
        try await send(.put, path, token: token, headers: headers, body: Array(text.utf8))
    }

    /// The names in a JSON listing.
    static func names(_ reply: Client.Reply) -> [String] {
        (reply.json?.array ?? []).compactMap { $0["name"]?.string ?? $0["subdir"]?.string }
    }
}

func md5(_ text: String) -> String { Insecure.MD5.hash(data: Array(text.utf8)).hex }

@Suite("Object storage API")
struct ObjectAPITests {
    @Test("/info and /healthcheck answer without a token; every answer has X-Trans-Id and Content-Type")
    func infoAndHealth() async throws {
        let cloud = try ObjectCloud()
        let info = try await cloud.send(.get, "/info", token: nil)
        #expect(info.status == .ok)
        #expect(info.json?["swift"]?["max_file_size"]?.int == 5 << 30)
        #expect(info.json?["slo"] != nil && info.json?["account_quotas"] != nil)
        #expect(info.json?["tempurl"] == nil)
        let health = try await cloud.send(.get, "/healthcheck", token: nil)
        #expect(health.text == "OK")
        let id = try #require(health.header("X-Trans-Id"))
        #expect(id.wholeMatch(of: /tx[0-9a-f]{21}-[0-9a-f]{10}/) != nil)
        #expect(health.header("X-Openstack-Request-Id") == id)
        let (token, account) = try await cloud.demo()
        let head = try await cloud.send(.head, account, token: token)
        #expect(head.status == .noContent && head.header("Content-Type") != nil && head.header("X-Trans-Id") != nil)
    }

    @Test("No token or a bad one: 401 with Www-Authenticate Swift realm and HTML; another project: 403")
    func refusals() async throws {
        let cloud = try ObjectCloud()
        let (demo, account) = try await cloud.demo()
        #expect(try await cloud.send(.put, "\(account)/c1", token: demo).status == .created)
        for token in [nil, "garbage"] as [String?] {
            let reply = try await cloud.send(.get, "\(account)/c1", token: token)
            #expect(reply.status == .unauthorized)
            #expect(reply.header("Www-Authenticate") == "Swift realm=\"\(account.dropFirst(4))\"")
            #expect(reply.text.hasPrefix("<html><h1>Unauthorized</h1>"))
        }
        let (admin, _) = try await cloud.admin()
        // admin of another project is not an operator of demo's account.
        let other = try await cloud.send(.get, "\(account)/c1", token: admin)
        #expect(other.status == .forbidden && other.text.contains("<h1>Forbidden</h1>"))
        #expect(try await cloud.send(.put, "\(account)/c2", token: admin).status == .forbidden)
        let missing = try await cloud.send(.get, "/v2/nothing", token: demo)
        #expect(
            missing.status == .notFound
                && missing.text == "<html><h1>Not Found</h1><p>The resource could not be found.</p></html>")
    }

    @Test("swift post / upload / stat / list / download as the swift CLI does them")
    func swiftClientFlow() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        let fresh = try await cloud.send(.head, account, token: token)
        #expect(fresh.status == .noContent && fresh.header("X-Account-Container-Count") == "0")
        #expect(try await cloud.send(.post, "\(account)/c1", token: token).status == .notFound)
        #expect(try await cloud.send(.put, "\(account)/c1", token: token).status == .created)
        #expect(try await cloud.send(.put, "\(account)/c1", token: token).status == .accepted)
        #expect(try await cloud.send(.head, "\(account)/c1/file1.txt", token: token).status == .notFound)
        let put = try await cloud.put(
            "\(account)/c1/file1.txt", "hello swift\n", token: token, headers: ["X-Object-Meta-Mtime": "1790000000.5"])
        #expect(put.status == .created)
        #expect(put.header("Etag") == md5("hello swift\n"))
        // The timestamp's second, rounded up, as Swift does.
        #expect(put.header("Last-Modified") == "Mon, 21 Sep 2026 14:13:21 GMT")
        let get = try await cloud.send(.get, "\(account)/c1/file1.txt", token: token)
        #expect(get.text == "hello swift\n")
        #expect(get.header("Etag") == md5("hello swift\n"))
        #expect(get.header("Content-Type") == "text/plain")
        #expect(get.header("X-Object-Meta-Mtime") == "1790000000.5")
        #expect(get.header("Accept-Ranges") == "bytes")
        #expect(get.header("X-Timestamp") == "1790000000.12346")
        let list = try await cloud.send(.get, "\(account)/c1?format=json", token: token)
        let entry = try #require(list.json?.array?.first)
        #expect(entry["name"]?.string == "file1.txt" && entry["bytes"]?.int == 12)
        #expect(entry["hash"]?.string == md5("hello swift\n") && entry["content_type"]?.string == "text/plain")
        #expect(entry["last_modified"]?.string?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}/) != nil)
        let next = try await cloud.send(.get, "\(account)/c1?format=json&marker=file1.txt", token: token)
        #expect(next.status == .ok && next.text == "[]")
        let stat = try await cloud.send(.head, "\(account)/c1", token: token)
        #expect(stat.header("X-Container-Object-Count") == "1" && stat.header("X-Container-Bytes-Used") == "12")
        #expect(stat.header("X-Storage-Policy") == "Policy-0")
        let accountStat = try await cloud.send(.head, account, token: token)
        #expect(accountStat.header("X-Account-Object-Count") == "1")
        #expect(accountStat.header("X-Account-Bytes-Used") == "12")
        #expect(accountStat.header("X-Account-Storage-Policy-Policy-0-Container-Count") == "1")
        let containers = try await cloud.send(.get, "\(account)?format=json", token: token)
        #expect(containers.json?.array?.first?["count"]?.int == 1)
        #expect(try await cloud.send(.get, "\(account)?format=json&marker=c1", token: token).text == "[]")
        let plain = try await cloud.send(.get, account, token: token)
        #expect(plain.text == "c1\n" && plain.header("Content-Type") == "text/plain; charset=utf-8")
    }

    @Test("Bad uploads change nothing: ETag mismatch 422, no length 411, long names and metadata 400")
    func badUploads() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/c", token: token)
        let mismatch = try await cloud.put("\(account)/c/o", "data", token: token, headers: ["ETag": md5("other")])
        #expect(mismatch.status == .unprocessableContent)
        #expect(try await cloud.send(.head, "\(account)/c/o", token: token).status == .notFound)
        #expect(
            try await cloud.put("\(account)/c/o", "data", token: token, headers: ["ETag": md5("data")]).status
                == .created)
        var noLength = try await cloud.object.send(
            .put, "\(account)/c/p", headers: ["X-Auth-Token": token],
            streaming: AsyncStream { $0.finish() })
        #expect(noLength.status == .lengthRequired)
        let long = String(repeating: "n", count: 1025)
        #expect(try await cloud.put("\(account)/c/\(long)", "x", token: token).status == .badRequest)
        let longContainer = String(repeating: "c", count: 257)
        #expect(try await cloud.send(.put, "\(account)/\(longContainer)", token: token).status == .badRequest)
        let longMeta = try await cloud.put(
            "\(account)/c/m", "x", token: token, headers: ["X-Object-Meta-" + String(repeating: "k", count: 129): "v"])
        #expect(longMeta.status == .badRequest)
        let longValue = try await cloud.send(
            .post, "\(account)/c", token: token, headers: ["X-Container-Meta-K": String(repeating: "v", count: 257)])
        #expect(longValue.status == .badRequest)
        #expect(try await cloud.put("\(account)/missing/o", "x", token: token).status == .notFound)
        let stat = try await cloud.send(.head, "\(account)/c", token: token)
        #expect(stat.header("X-Container-Object-Count") == "1")
        noLength = try await cloud.send(.get, "\(account)/c/o", token: token)
        #expect(noLength.text == "data")
    }

    @Test("Listings: limit and marker paging, end_marker, prefix, delimiter, reverse, plain, JSON and XML")
    func listings() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/c", token: token)
        let names = (0..<12).map { String(format: "obj%02d", $0) } + ["dir/a", "dir/b", "dir/sub/c", "top"]
        for name in names { _ = try await cloud.put("\(account)/c/\(name)", name, token: token) }
        var seen: [String] = []
        var marker = ""
        while true {
            let page = try await cloud.send(.get, "\(account)/c?format=json&limit=5&marker=\(marker)", token: token)
            let batch = ObjectCloud.names(page)
            if batch.isEmpty { break }
            seen += batch
            marker = batch.last!.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        }
        #expect(seen == names.sorted())
        let ranged = try await cloud.send(.get, "\(account)/c?format=json&marker=obj03&end_marker=obj06", token: token)
        #expect(ObjectCloud.names(ranged) == ["obj04", "obj05"])
        let prefixed = try await cloud.send(.get, "\(account)/c?format=json&prefix=dir/", token: token)
        #expect(ObjectCloud.names(prefixed) == ["dir/a", "dir/b", "dir/sub/c"])
        let folded = try await cloud.send(.get, "\(account)/c?format=json&delimiter=/&prefix=dir/", token: token)
        #expect(ObjectCloud.names(folded) == ["dir/a", "dir/b", "dir/sub/"])
        let top = try await cloud.send(.get, "\(account)/c?format=json&delimiter=/&marker=obj11", token: token)
        #expect(ObjectCloud.names(top) == ["top"])
        let root = try await cloud.send(.get, "\(account)/c?delimiter=/&limit=2", token: token)
        #expect(root.text == "dir/\nobj00\n")
        let reversed = try await cloud.send(.get, "\(account)/c?format=json&reverse=true&limit=3", token: token)
        #expect(ObjectCloud.names(reversed) == ["top", "obj11", "obj10"])
        let reversedFolded = try await cloud.send(
            .get, "\(account)/c?format=json&reverse=1&delimiter=/&marker=obj00", token: token)
        #expect(ObjectCloud.names(reversedFolded) == ["dir/"])
        let xml = try await cloud.send(.get, "\(account)/c?format=xml&prefix=top", token: token)
        #expect(
            xml.text.hasPrefix(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<container name=\"c\"><object><name>top</name>"))
        let accept = try await cloud.send(
            .get, "\(account)/c?prefix=top", token: token, headers: ["Accept": "application/json"])
        #expect(ObjectCloud.names(accept) == ["top"])
        #expect(try await cloud.send(.get, "\(account)/c?limit=10001", token: token).status == .preconditionFailed)
        #expect(try await cloud.send(.get, "\(account)/c?delimiter=ab", token: token).status == .preconditionFailed)
        _ = try await cloud.send(.put, "\(account)/empty", token: token)
        #expect(try await cloud.send(.get, "\(account)/empty", token: token).status == .noContent)
        #expect(try await cloud.send(.get, "\(account)/empty?format=json", token: token).text == "[]")
        let accountXML = try await cloud.send(.get, "\(account)?format=xml", token: token)
        #expect(accountXML.text.contains("<container><name>c</name><count>16</count>"))
    }

    @Test("Range and conditional GETs: 206, suffix ranges, 416, 304 and 412")
    func rangesAndConditions() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/c", token: token)
        _ = try await cloud.put("\(account)/c/o", "0123456789", token: token)
        let part = try await cloud.send(.get, "\(account)/c/o", token: token, headers: ["Range": "bytes=2-4"])
        #expect(part.status == .partialContent && part.text == "234")
        #expect(part.header("Content-Range") == "bytes 2-4/10")
        let suffix = try await cloud.send(.get, "\(account)/c/o", token: token, headers: ["Range": "bytes=-3"])
        #expect(suffix.text == "789")
        let beyond = try await cloud.send(.get, "\(account)/c/o", token: token, headers: ["Range": "bytes=20-"])
        #expect(beyond.status == .rangeNotSatisfiable && beyond.header("Content-Range") == "bytes */10")
        let etag = md5("0123456789")
        #expect(
            try await cloud.send(.get, "\(account)/c/o", token: token, headers: ["If-None-Match": etag]).status
                == .notModified)
        #expect(
            try await cloud.send(.get, "\(account)/c/o", token: token, headers: ["If-Match": "\"nope\""]).status
                == .preconditionFailed)
        let later = "Fri, 01 Jan 2100 00:00:00 GMT"
        #expect(
            try await cloud.send(.get, "\(account)/c/o", token: token, headers: ["If-Modified-Since": later]).status
                == .notModified)
        let again = try await cloud.put("\(account)/c/o", "x", token: token, headers: ["If-None-Match": "*"])
        #expect(again.status == .preconditionFailed)
    }

    @Test("POST replaces an object's metadata; DELETE; a container with objects is not deleted (409)")
    func metadataAndDeletion() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/c", token: token, headers: ["X-Container-Meta-Color": "blue"])
        _ = try await cloud.put(
            "\(account)/c/o.json", "{}", token: token, headers: ["X-Object-Meta-A": "1", "X-Object-Meta-Blank": ""])
        // Objects keep metadata with an empty value.
        #expect(try await cloud.send(.head, "\(account)/c/o.json", token: token).header("X-Object-Meta-Blank") == "")
        let post = try await cloud.send(
            .post, "\(account)/c/o.json", token: token,
            headers: ["X-Object-Meta-B": "2", "Content-Type": "application/x-test"])
        #expect(post.status == .accepted)
        let head = try await cloud.send(.head, "\(account)/c/o.json", token: token)
        #expect(head.header("X-Object-Meta-A") == nil && head.header("X-Object-Meta-B") == "2")
        #expect(head.header("Content-Type") == "application/x-test" && head.header("Content-Length") == "2")
        let container = try await cloud.send(.head, "\(account)/c", token: token)
        #expect(container.header("X-Container-Meta-Color") == "blue")
        _ = try await cloud.send(.post, "\(account)/c", token: token, headers: ["X-Remove-Container-Meta-Color": "x"])
        #expect(try await cloud.send(.head, "\(account)/c", token: token).header("X-Container-Meta-Color") == nil)
        _ = try await cloud.send(.post, account, token: token, headers: ["X-Account-Meta-Owner": "demo"])
        #expect(try await cloud.send(.head, account, token: token).header("X-Account-Meta-Owner") == "demo")
        #expect(try await cloud.send(.delete, "\(account)/c", token: token).status == .conflict)
        #expect(try await cloud.send(.delete, "\(account)/c/o.json", token: token).status == .noContent)
        #expect(try await cloud.send(.delete, "\(account)/c/o.json", token: token).status == .notFound)
        #expect(try await cloud.send(.delete, "\(account)/c", token: token).status == .noContent)
        #expect(try await cloud.send(.head, "\(account)/c", token: token).status == .notFound)
        #expect(try await cloud.send(.put, account, token: token).status == .methodNotAllowed)
    }

    @Test("ACLs: .r:* serves objects to anyone, .rlistings the listing; project:user entries; write ACL")
    func accessControlLists() async throws {
        let cloud = try ObjectCloud()
        let (demo, account) = try await cloud.demo()
        let (admin, _) = try await cloud.admin()
        _ = try await cloud.send(.put, "\(account)/pub", token: demo)
        _ = try await cloud.put("\(account)/pub/file.txt", "public", token: demo)
        #expect(try await cloud.send(.get, "\(account)/pub/file.txt", token: nil).status == .unauthorized)
        #expect(
            try await cloud.send(.post, "\(account)/pub", token: demo, headers: ["X-Container-Read": ".r:*"]).status
                == .noContent)
        #expect(try await cloud.send(.get, "\(account)/pub/file.txt", token: nil).text == "public")
        #expect(try await cloud.send(.get, "\(account)/pub", token: nil).status == .unauthorized)
        _ = try await cloud.send(.post, "\(account)/pub", token: demo, headers: ["X-Container-Read": ".r:*,.rlistings"])
        let listing = try await cloud.send(.get, "\(account)/pub", token: nil)
        #expect(listing.status == .ok && listing.text == "file.txt\n")
        #expect(listing.header("X-Container-Read") == nil)
        #expect(
            try await cloud.send(.head, "\(account)/pub", token: demo).header("X-Container-Read") == ".r:*,.rlistings")
        // Writing still needs the owner or the write ACL.
        #expect(try await cloud.put("\(account)/pub/evil", "x", token: admin).status == .forbidden)
        #expect(
            try await cloud.send(.put, "\(account)/pub/evil", token: nil, body: Array("x".utf8)).status == .unauthorized
        )
        _ = try await cloud.send(.put, "\(account)/shared", token: demo)
        _ = try await cloud.put("\(account)/shared/o", "shared", token: demo)
        #expect(try await cloud.send(.get, "\(account)/shared/o", token: admin).status == .forbidden)
        let adminProject = try await cloud.identity.projectID("admin")
        _ = try await cloud.send(
            .post, "\(account)/shared", token: demo,
            headers: ["X-Container-Read": "\(adminProject):*", "X-Container-Write": "admin:admin"])
        #expect(try await cloud.send(.get, "\(account)/shared/o", token: admin).text == "shared")
        #expect(try await cloud.send(.get, "\(account)/shared?format=json", token: admin).status == .ok)
        #expect(try await cloud.put("\(account)/shared/new", "by admin", token: admin).status == .created)
        #expect(try await cloud.send(.delete, "\(account)/shared", token: admin).status == .forbidden)
        #expect(
            try await cloud.send(.post, "\(account)/shared", token: demo, headers: ["X-Container-Write": ".r:*"])
                .status == .badRequest)
    }

    @Test("Quotas: container bytes and count, account bytes set only by a reseller admin: 413 over quota")
    func quotas() async throws {
        let cloud = try ObjectCloud()
        let (demo, account) = try await cloud.demo()
        _ = try await cloud.send(
            .put, "\(account)/q", token: demo,
            headers: ["X-Container-Meta-Quota-Bytes": "10", "X-Container-Meta-Quota-Count": "2"])
        #expect(try await cloud.put("\(account)/q/a", "12345", token: demo).status == .created)
        #expect(try await cloud.put("\(account)/q/b", "1234567", token: demo).status == .contentTooLarge)
        #expect(try await cloud.put("\(account)/q/b", "123", token: demo).status == .created)
        #expect(try await cloud.put("\(account)/q/c", "1", token: demo).status == .contentTooLarge)
        #expect(try await cloud.send(.head, "\(account)/q/c", token: demo).status == .notFound)
        #expect(
            try await cloud.send(.post, "\(account)/q", token: demo, headers: ["X-Container-Meta-Quota-Bytes": "x"])
                .status == .badRequest)
        let refused = try await cloud.send(
            .post, account, token: demo, headers: ["X-Account-Meta-Quota-Bytes": "100"])
        #expect(refused.status == .forbidden)
        // Make the admin user a reseller admin, as Tempest's account quota tests do.
        let role = try #require(
            try await cloud.identity.adminSend(.get, "/v3/roles?name=ResellerAdmin").json?["roles"]?.array?.first?[
                "id"]?
                .string)
        let adminProject = try await cloud.identity.projectID("admin")
        let users = try await cloud.identity.adminSend(.get, "/v3/users?name=admin")
        let adminUser = try #require(users.json?["users"]?.array?.first?["id"]?.string)
        _ = try await cloud.identity.adminSend(.put, "/v3/projects/\(adminProject)/users/\(adminUser)/roles/\(role)")
        let reseller = try await cloud.identity.admin()
        #expect(
            try await cloud.send(.post, account, token: reseller, headers: ["X-Account-Meta-Quota-Bytes": "20"]).status
                == .noContent)
        _ = try await cloud.send(.put, "\(account)/big", token: demo)
        #expect(
            try await cloud.put("\(account)/big/x", String(repeating: "x", count: 13), token: demo).status
                == .contentTooLarge)
        #expect(try await cloud.put("\(account)/big/x", "small", token: demo).status == .created)
        // Swift 2.34's object count quota: three objects stored, three allowed.
        #expect(
            try await cloud.send(.post, account, token: reseller, headers: ["X-Account-Quota-Count": "3"]).status
                == .noContent)
        #expect(try await cloud.put("\(account)/big/y", "y", token: demo).status == .contentTooLarge)
        #expect(try await cloud.put("\(account)/big/x", "again", token: demo).status == .created)
        #expect(
            try await cloud.send(.post, account, token: demo, headers: ["X-Remove-Account-Quota-Count": "x"]).status
                == .forbidden)
    }

    @Test("X-Delete-After hides the object once the time passes; the sweep removes it; past X-Delete-At is 400")
    func expiry() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/c", token: token)
        _ = try await cloud.put("\(account)/c/short", "gone soon", token: token, headers: ["X-Delete-After": "60"])
        let head = try await cloud.send(.head, "\(account)/c/short", token: token)
        #expect(head.header("X-Delete-At") == "1790000060")
        cloud.advance(seconds: 61)
        #expect(try await cloud.send(.get, "\(account)/c/short", token: token).status == .notFound)
        #expect(try await cloud.send(.get, "\(account)/c?format=json", token: token).text == "[]")
        #expect(try cloud.api.sweepExpired() == 1)
        #expect(try await cloud.send(.head, "\(account)/c", token: token).header("X-Container-Object-Count") == "0")
        let past = try await cloud.put("\(account)/c/p", "x", token: token, headers: ["X-Delete-At": "1000"])
        #expect(past.status == .badRequest && past.text.contains("X-Delete-At in past"))
    }

    @Test("Copy: X-Copy-From and COPY keep the data and metadata, add new metadata, report the source")
    func copies() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/a", token: token)
        _ = try await cloud.send(.put, "\(account)/b", token: token)
        _ = try await cloud.put("\(account)/a/src", "copy me", token: token, headers: ["X-Object-Meta-Kept": "yes"])
        let copy = try await cloud.send(
            .put, "\(account)/b/dst", token: token, headers: ["X-Copy-From": "/a/src", "X-Object-Meta-New": "1"])
        #expect(copy.status == .created && copy.header("X-Copied-From") == "a/src")
        #expect(copy.header("Etag") == md5("copy me") && copy.header("X-Copied-From-Last-Modified") != nil)
        let copied = try await cloud.send(.get, "\(account)/b/dst", token: token)
        #expect(copied.text == "copy me")
        #expect(copied.header("X-Object-Meta-Kept") == "yes" && copied.header("X-Object-Meta-New") == "1")
        let moved = try await cloud.send(
            HTTPRequest.Method("COPY")!, "\(account)/a/src", token: token,
            headers: ["Destination": "b/dst2", "X-Fresh-Metadata": "true"])
        #expect(moved.status == .created)
        let fresh = try await cloud.send(.head, "\(account)/b/dst2", token: token)
        #expect(fresh.header("X-Object-Meta-Kept") == nil && fresh.header("Etag") == md5("copy me"))
        // Deleting the source leaves the copies whole (their files are their own links).
        _ = try await cloud.send(.delete, "\(account)/a/src", token: token)
        #expect(try await cloud.send(.get, "\(account)/b/dst", token: token).text == "copy me")
        #expect(
            try await cloud.send(.put, "\(account)/b/x", token: token, headers: ["X-Copy-From": "nocontainer"]).status
                == .preconditionFailed)
        #expect(
            try await cloud.send(.put, "\(account)/b/x", token: token, headers: ["X-Copy-From": "a/missing"]).status
                == .notFound)
    }

    @Test("Large objects: a dynamic manifest joins its segments; a static one is checked, joined, deleted whole")
    func largeObjects() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/segs", token: token)
        _ = try await cloud.send(.put, "\(account)/c", token: token)
        for (index, text) in ["aaaa", "bbbb", "cc"].enumerated() {
            _ = try await cloud.put("\(account)/segs/big/\(index)", text, token: token)
        }
        // A manifest set by POST, as Tempest's segment upload does it.
        _ = try await cloud.send(.put, "\(account)/c/dlo", token: token)
        #expect(
            try await cloud.send(.post, "\(account)/c/dlo", token: token, headers: ["X-Object-Manifest": "segs/big/"])
                .status == .accepted)
        let dlo = try await cloud.send(.get, "\(account)/c/dlo", token: token)
        #expect(dlo.text == "aaaabbbbcc")
        #expect(dlo.header("Etag") == "\"\(md5(md5("aaaa") + md5("bbbb") + md5("cc")))\"")
        let dloRange = try await cloud.send(.get, "\(account)/c/dlo", token: token, headers: ["Range": "bytes=3-8"])
        #expect(dloRange.text == "abbbbc")
        let manifest: JSON = [
            ["path": "/segs/big/0", "etag": .string(md5("aaaa")), "size_bytes": 4],
            ["path": "/segs/big/2", "etag": nil, "size_bytes": nil],
            ["path": "/segs/big/1", "range": "1-2"],
        ]
        let slo = try await cloud.send(
            .put, "\(account)/c/slo?multipart-manifest=put", token: token, body: manifest.bytes)
        #expect(slo.status == .created, "\(slo.text)")
        #expect(slo.header("Etag")?.hasPrefix("\"") == true)
        let joined = try await cloud.send(.get, "\(account)/c/slo", token: token)
        #expect(joined.text == "aaaaccbb" && joined.header("X-Static-Large-Object") == "True")
        #expect(try await cloud.send(.head, "\(account)/c/slo", token: token).header("Content-Length") == "8")
        let stored = try await cloud.send(.get, "\(account)/c/slo?multipart-manifest=get", token: token)
        #expect(stored.json?.array?.count == 3 && stored.json?.array?.first?["name"]?.string == "/segs/big/0")
        let bad: JSON = [["path": "/segs/big/0", "etag": "wrong"], ["path": "/segs/none"]]
        let refused = try await cloud.send(
            .put, "\(account)/c/bad?multipart-manifest=put", token: token, body: bad.bytes)
        #expect(refused.status == .badRequest && refused.text.contains("Etag Mismatch"))
        // A copy of a large object is its content, as a plain object.
        let copy = try await cloud.send(.put, "\(account)/c/flat", token: token, headers: ["X-Copy-From": "c/slo"])
        #expect(copy.status == .created && copy.header("Etag") == md5("aaaaccbb"))
        let delete = try await cloud.send(.delete, "\(account)/c/slo?multipart-manifest=delete", token: token)
        #expect(delete.status == .ok && delete.text.contains("Number Deleted: 4"))
        #expect(try await cloud.send(.head, "\(account)/segs/big/0", token: token).status == .notFound)
        #expect(try await cloud.send(.get, "\(account)/c/flat", token: token).text == "aaaaccbb")
    }

    @Test("A large object in a public container serves no segment of a private one: 401 anonymous, 403 another project")
    func largeObjectSegmentsNeedReadAccess() async throws {
        let cloud = try ObjectCloud()
        let (demo, account) = try await cloud.demo()
        let (admin, adminAccount) = try await cloud.admin()
        _ = try await cloud.send(.put, "\(adminAccount)/mine", token: admin)
        _ = try await cloud.send(.put, "\(account)/priv", token: demo)
        _ = try await cloud.put("\(account)/priv/secret/0", "secret", token: demo)
        _ = try await cloud.send(.put, "\(account)/pub", token: demo, headers: ["X-Container-Read": ".r:*"])
        _ = try await cloud.put("\(account)/pub/open/0", "open", token: demo)
        let hidden: JSON = [["path": "/priv/secret/0"]]
        let slo = try await cloud.send(
            .put, "\(account)/pub/slo?multipart-manifest=put", token: demo, body: hidden.bytes)
        #expect(slo.status == .created, "\(slo.text)")
        let visible: JSON = [["path": "/pub/open/0"]]
        _ = try await cloud.send(
            .put, "\(account)/pub/open-slo?multipart-manifest=put", token: demo, body: visible.bytes)
        _ = try await cloud.send(
            .put, "\(account)/pub/dlo", token: demo, headers: ["X-Object-Manifest": "priv/secret/"])
        for name in ["slo", "dlo"] {
            for method: HTTPRequest.Method in [.get, .head] {
                let anonymous = try await cloud.send(method, "\(account)/pub/\(name)", token: nil)
                #expect(anonymous.status == .unauthorized, "\(method) \(name)")
                #expect(!anonymous.text.contains("secret"))
                let other = try await cloud.send(method, "\(account)/pub/\(name)", token: admin)
                #expect(other.status == .forbidden, "\(method) \(name)")
                #expect(!other.text.contains("secret"))
            }
            // Nor does a copy read what a GET may not.
            let copy = try await cloud.send(
                .put, "\(adminAccount)/mine/\(name)", token: admin,
                headers: ["X-Copy-From": "pub/\(name)", "X-Copy-From-Account": String(account.dropFirst(4))])
            #expect(copy.status == .forbidden, "copy \(name)")
            #expect(try await cloud.send(.get, "\(account)/pub/\(name)", token: demo).text == "secret")
        }
        #expect(try await cloud.send(.get, "\(account)/pub/open-slo", token: nil).text == "open")
        // The manifest itself is the public container's to show.
        #expect(try await cloud.send(.get, "\(account)/pub/slo?multipart-manifest=get", token: nil).status == .ok)
        // A read ACL on the segments' container lets that project through.
        let adminProject = try await cloud.identity.projectID("admin")
        _ = try await cloud.send(
            .post, "\(account)/priv", token: demo, headers: ["X-Container-Read": "\(adminProject):*"])
        #expect(try await cloud.send(.get, "\(account)/pub/slo", token: admin).text == "secret")
        #expect(try await cloud.send(.get, "\(account)/pub/slo", token: nil).status == .unauthorized)
    }

    @Test("A 64 MiB upload is streamed to disk in pieces and read back with the same md5")
    func streaming() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/c", token: token)
        let piece = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var expected = Insecure.MD5()
        for _ in 0..<64 { expected.update(data: piece) }
        let stream = AsyncStream<ByteBuffer> { continuation in
            for _ in 0..<64 { continuation.yield(ByteBuffer(bytes: piece)) }
            continuation.finish()
        }
        let put = try await cloud.object.send(
            .put, "\(account)/c/big.img", headers: ["X-Auth-Token": token, "Transfer-Encoding": "chunked"],
            streaming: stream)
        #expect(put.status == .created && put.header("Etag") == expected.finalize().hex)
        let head = try await cloud.send(.head, "\(account)/c/big.img", token: token)
        #expect(head.header("Content-Length") == String(64 << 20))
        let tail = try await cloud.send(
            .get, "\(account)/c/big.img", token: token, headers: ["Range": "bytes=-\(1 << 20)"])
        #expect(tail.body == piece)
        let files = try FileManager.default.subpathsOfDirectory(atPath: cloud.dataDirectory + "/tmp")
        #expect(files.isEmpty)
    }

    @Test("Start-up removes leftovers: temporary uploads and data files no object names")
    func leftovers() async throws {
        let cloud = try ObjectCloud()
        let (token, account) = try await cloud.demo()
        _ = try await cloud.send(.put, "\(account)/c", token: token)
        _ = try await cloud.put("\(account)/c/keep", "kept", token: token)
        _ = FileManager.default.createFile(atPath: cloud.dataDirectory + "/tmp/interrupted", contents: Data([1]))
        try FileManager.default.createDirectory(
            atPath: cloud.dataDirectory + "/objects/ff", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: cloud.dataDirectory + "/objects/ff/ff00orphan", contents: Data([2]))
        #expect(try cloud.api.removeLeftovers() == 2)
        #expect(try await cloud.send(.get, "\(account)/c/keep", token: token).text == "kept")
    }
}
