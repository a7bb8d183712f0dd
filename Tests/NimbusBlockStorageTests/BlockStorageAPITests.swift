import Foundation
import Hummingbird
import NimbusServiceKit
import NimbusTestSupport
import Testing

@testable import NimbusBlockStorage

/// An identity and a block-storage service in-process, and a volume agent's heartbeats.
struct VolumeCloud {
    typealias Client = InProcessClient<RouterResponder<ServiceContext>>
    let identity: TestIdentity
    let api: BlockStorageAPI
    let client: Client
    let admin: String
    let demo: String
    let demoProject: String

    init() async throws {
        let identity = try TestIdentity(catalog: [])
        self.identity = identity
        api = try BlockStorageAPI(
            store: try BlockStorageStore(path: nil, publish: BlockStorageState.publisher()),
            validator: identity.validator, identityURI: "http://ctl:5000")
        client = Client(responder: buildBlockStorageRouter(api: api).buildResponder())
        admin = try await identity.admin()
        demo = try await identity.demo()
        demoProject = try await identity.projectID("demo")
    }

    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ path: String, token: String?, json: JSON? = nil, version: String? = nil
    ) async throws -> Client.Reply {
        var headers: [String: String] = [:]
        if let token { headers["X-Auth-Token"] = token }
        if json != nil { headers["Content-Type"] = "application/json" }
        if let version { headers["OpenStack-API-Version"] = "volume \(version)" }
        return try await client.send(method, path, headers: headers, body: json?.bytes)
    }

    /// The demo project's URL prefix.
    var base: String { "/v3/\(demoProject)" }

    /// A heartbeat of the volume agent on `host` with `capacity` GiB, reporting `statuses`.
    func beat(
        _ host: String = "stor1", capacity: Int = 20, statuses: [JSON] = [], exportHost: String = "10.0.0.13"
    ) async throws {
        let reply = try await send(
            .put, "/agent/v1/agents/volume/\(host)", token: admin,
            json: [
                "started_at": "2026-12-01T10:00:00Z", "revision": 0, "statuses": .array(statuses),
                "configuration": ["total_capacity_gb": .int(Int64(capacity)), "export_host": .string(exportHost)],
            ])
        #expect(reply.status == .noContent || reply.status == .ok, "\(reply.text)")
    }
}

@Suite("Block storage API: versions, volumes, snapshots, types, quotas, services")
struct BlockStorageAPITests {
    @Test("GET / is 300 with v3.0 (3.0–3.71); a version above is 406 computeFault; the version is echoed")
    func versions() async throws {
        let cloud = try await VolumeCloud()
        let root = try await cloud.send(.get, "/", token: nil)
        #expect(root.status == .multipleChoices)
        #expect(root.json?["versions"]?.array?.first?["version"] == "3.71", "\(root.text)")
        let v3 = try await cloud.send(.get, "/v3/", token: nil)
        #expect(v3.status == .ok && v3.json?["versions"]?.array?.first?["min_version"] == "3.0")
        let refused = try await cloud.send(.get, cloud.base + "/volumes", token: cloud.demo, version: "3.72")
        #expect(refused.status == .notAcceptable && refused.json?["computeFault"]?["code"] == 406, "\(refused.text)")
        let echoed = try await cloud.send(.get, cloud.base + "/volumes", token: cloud.demo, version: "3.71")
        #expect(echoed.header("OpenStack-API-Version") == "volume 3.71")
        let other = try await cloud.send(.get, "/v3/not-mine/volumes", token: cloud.demo)
        #expect(other.status == .badRequest && other.text.contains("Malformed request url"))
    }

    @Test("A volume as the CLI makes one: the nulls ignored, placed, creating until its agent made it, then available")
    func volumeLifecycle() async throws {
        let cloud = try await VolumeCloud()
        try await cloud.beat()
        let made = try await cloud.send(
            .post, cloud.base + "/volumes", token: cloud.demo,
            json: [
                "volume": [
                    "size": 1, "name": "vol1", "description": nil, "snapshot_id": nil, "volume_type": nil,
                    "metadata": nil, "consistencygroup_id": nil, "availability_zone": nil, "imageRef": nil,
                    "source_volid": nil, "backup_id": nil,
                ]
            ], version: "3.71")
        #expect(made.status == .accepted, "\(made.text)")
        let volume = try #require(made.json?["volume"])
        let id = try #require(volume["id"]?.string)
        #expect(
            volume["status"] == "creating" && volume["volume_type"] == "__DEFAULT__" && volume["bootable"] == "false")
        #expect(volume["os-vol-tenant-attr:tenant_id"] == nil, "create answers carry no show-only fields")
        #expect(volume["volume_type_id"]?.string != nil && volume["consumes_quota"] == true)
        // Its agent's item: the host, the size, the generation.
        let items = try cloud.api.store.log.list(kind: "volume").items
        #expect(items.first?.body?["host"] == "stor1" && items.first?.body?["size"] == 1)
        try await cloud.beat(statuses: [["kind": "volume", "id": .string(id), "state": "available", "detail": "1|"]])
        let shown = try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(shown.json?["volume"]?["status"] == "available", "\(shown.text)")
        #expect(shown.json?["volume"]?["os-vol-tenant-attr:tenant_id"]?.string == cloud.demoProject)
        #expect(shown.json?["volume"]?["volume_type_id"] == nil, "3.0 has no volume_type_id")
        let adminView = try await cloud.send(.get, "/v3/\(cloud.demoProject)/volumes/\(id)", token: cloud.admin)
        #expect(adminView.json?["volume"]?["os-vol-host-attr:host"] == "stor1@nimbus#nimbus")
        // Found by name as the SDK finds it; a summary list; a detail list filtered.
        let byName = try await cloud.send(
            .get, cloud.base + "/volumes/detail?name=vol1", token: cloud.demo, version: "3.71")
        #expect(byName.json?["volumes"]?.array?.count == 1)
        let summary = try await cloud.send(.get, cloud.base + "/volumes", token: cloud.demo)
        #expect(summary.json?["volumes"]?.array?.first?.members?.map(\.0).sorted() == ["id", "links", "name"])
        let unknown = try await cloud.send(
            .get, cloud.base + "/volumes/detail?colour=red", token: cloud.demo, version: "3.71")
        #expect(unknown.status == .badRequest && unknown.text.contains("Invalid filters colour are found"))
        let missing = try await cloud.send(.get, cloud.base + "/volumes/vol1", token: cloud.demo)
        #expect(missing.status == .notFound && missing.text.contains("Volume vol1 could not be found."))
        // Renamed, its metadata set, extended.
        let renamed = try await cloud.send(
            .put, cloud.base + "/volumes/\(id)", token: cloud.demo,
            json: ["volume": ["name": "vol1b", "metadata": ["k": "v"]]])
        #expect(renamed.json?["volume"]?["name"] == "vol1b" && renamed.json?["volume"]?["metadata"] == ["k": "v"])
        let item = try await cloud.send(.get, cloud.base + "/volumes/\(id)/metadata/k", token: cloud.demo)
        #expect(item.json == ["meta": ["k": "v"]])
        let small = try await cloud.send(
            .post, cloud.base + "/volumes/\(id)/action", token: cloud.demo, json: ["os-extend": ["new_size": 1]])
        #expect(small.status == .badRequest && small.text.contains("New size for extend must be greater"))
        let extended = try await cloud.send(
            .post, cloud.base + "/volumes/\(id)/action", token: cloud.demo, json: ["os-extend": ["new_size": 2]])
        #expect(extended.status == .accepted, "\(extended.text)")
        let extending = try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(extending.json?["volume"]?["status"] == "extending" && extending.json?["volume"]?["size"] == 2)
        try await cloud.beat(statuses: [["kind": "volume", "id": .string(id), "state": "available", "detail": "2|"]])
        let done = try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(done.json?["volume"]?["status"] == "available")
        // Attached (the legacy bookkeeping), it cannot be deleted; detached, it can.
        let attached = try await cloud.send(
            .post, cloud.base + "/volumes/\(id)/action", token: cloud.demo,
            json: ["os-attach": ["instance_uuid": "11111111-2222-3333-4444-555555555555", "mountpoint": "/dev/vdb"]])
        #expect(attached.status == .accepted, "\(attached.text)")
        let inUse = try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(inUse.json?["volume"]?["status"] == "in-use")
        #expect(inUse.json?["volume"]?["attachments"]?.array?.first?["device"] == "/dev/vdb")
        let busy = try await cloud.send(
            .delete, cloud.base + "/volumes/\(id)?cascade=False&force=False", token: cloud.demo)
        #expect(busy.status == .badRequest && busy.text.contains("must not be migrating, attached"), "\(busy.text)")
        #expect(
            try await cloud.send(
                .post, cloud.base + "/volumes/\(id)/action", token: cloud.demo, json: ["os-detach": [:]]
            )
            .status == .accepted)
        #expect(try await cloud.send(.delete, cloud.base + "/volumes/\(id)", token: cloud.demo).status == .accepted)
        #expect(try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo).status == .notFound)
        #expect(try cloud.api.store.log.list(kind: "volume").items.isEmpty)
    }

    @Test("Refusals: size, type, zone, multiattach, images, the pool's room, the quotas; nothing is made")
    func refusals() async throws {
        let cloud = try await VolumeCloud()
        func create(_ volume: JSON, version: String = "3.71") async throws -> VolumeCloud.Client.Reply {
            try await cloud.send(
                .post, cloud.base + "/volumes", token: cloud.demo, json: ["volume": volume], version: version)
        }
        let noBackend = try await create(["size": 1, "name": "early"])
        #expect(noBackend.json?["volume"]?["status"] == "error", "no volume service: \(noBackend.text)")
        try await cloud.beat(capacity: 5)
        let cases: [(JSON, Int, String)] = [
            (["size": 0], 400, "0 is less than the minimum of 1"),
            (["size": "abc"], 400, "does not match"),
            (["name": "x"], 400, "malformed or otherwise incorrect"),
            (["size": 1, "volume_type": "gold"], 404, "Volume type with name gold could not be found."),
            (["size": 1, "availability_zone": "az9"], 400, "Availability zone 'az9' is invalid."),
            (["size": 1, "multiattach": true], 400, "multiattach parameter has been removed"),
            (["size": 1, "imageRef": "abc"], 400, "need the image service"),
            (["size": 1, "colour": "red"], 400, "'colour' was unexpected"),
            (["size": 1, "snapshot_id": "nope"], 404, "Snapshot nope could not be found."),
            (["size": 2000], 413, "VolumeSizeExceedsAvailableQuota"),
        ]
        for (volume, code, message) in cases {
            let reply = try await create(volume)
            #expect(Int(reply.status.code) == code && reply.text.contains(message), "\(volume.text): \(reply.text)")
        }
        // Beyond the pool: error with the reason, at once.
        let large = try await create(["size": 6, "name": "large"])
        #expect(large.json?["volume"]?["status"] == "error", "\(large.text)")
        // The volumes quota: 10 a project (the two in error count, as in Cinder).
        for index in 0..<8 {
            #expect(try await create(["size": 1, "name": .string("v\(index)")]).status == .accepted)
        }
        let over = try await create(["size": 1])
        #expect(
            Int(over.status.code) == 413
                && over.json?["overLimit"]?["message"]?.string?.hasPrefix("VolumeLimitExceeded") == true)
        let limits = try await cloud.send(.get, cloud.base + "/limits", token: cloud.demo)
        #expect(limits.json?["limits"]?["absolute"]?["totalVolumesUsed"] == 10, "\(limits.text)")
        #expect(limits.json?["limits"]?["absolute"]?.members?.count == 10)
    }

    @Test("Snapshots of a volume, in use too without force; a volume from one; a volume with snapshots stays")
    func snapshots() async throws {
        let cloud = try await VolumeCloud()
        try await cloud.beat()
        let made = try await cloud.send(
            .post, cloud.base + "/volumes", token: cloud.demo, json: ["volume": ["size": 1]])
        let id = try #require(made.json?["volume"]?["id"]?.string)
        let early = try await cloud.send(
            .post, cloud.base + "/snapshots", token: cloud.demo, json: ["snapshot": ["volume_id": .string(id)]],
            version: "3.65")
        #expect(early.status == .badRequest && early.text.contains("status must be available, in-use"), "\(early.text)")
        try await cloud.beat(statuses: [["kind": "volume", "id": .string(id), "state": "available", "detail": "1|"]])
        #expect(
            try await cloud.send(
                .post, cloud.base + "/volumes/\(id)/action", token: cloud.demo,
                json: [
                    "os-attach": ["instance_uuid": "11111111-2222-3333-4444-555555555555", "mountpoint": "/dev/vdb"]
                ]
            ).status == .accepted)
        // As `openstack volume snapshot create --force`: 3.65, no force, the volume in use.
        let snap = try await cloud.send(
            .post, cloud.base + "/snapshots", token: cloud.demo,
            json: ["snapshot": ["volume_id": .string(id), "name": "snap1", "description": nil, "metadata": nil]],
            version: "3.65")
        #expect(snap.status == .accepted, "\(snap.text)")
        let snapshot = try #require(snap.json?["snapshot"])
        let snapID = try #require(snapshot["id"]?.string)
        #expect(snapshot["status"] == "creating" && snapshot["consumes_quota"] == true)
        // The volume's item names it.
        let item = try cloud.api.store.log.list(kind: "volume").items.first { $0.id == id }
        #expect(item?.body?["snapshots"] == [.string(snapID)])
        let refusedFalse = try await cloud.send(
            .post, cloud.base + "/snapshots", token: cloud.demo,
            json: ["snapshot": ["volume_id": .string(id), "force": false]], version: "3.66")
        #expect(refusedFalse.status == .badRequest && refusedFalse.text.contains("Since microversion 3.66"))
        try await cloud.beat(statuses: [
            ["kind": "volume", "id": .string(id), "state": "available", "detail": "1|"],
            ["kind": "snapshot", "id": .string(snapID), "state": "available", "detail": "1|"],
        ])
        let detail = try await cloud.send(.get, cloud.base + "/snapshots/detail", token: cloud.demo)
        let listed = detail.json?["snapshots"]?.array?.first
        #expect(listed?["status"] == "available" && listed?["os-extended-snapshot-attributes:progress"] == "100%")
        // A volume from it, on the same host, at least its size.
        let small = try await cloud.send(
            .post, cloud.base + "/volumes", token: cloud.demo,
            json: ["volume": ["snapshot_id": .string(snapID), "size": 1]])
        #expect(small.status == .accepted, "\(small.text)")
        let child = try #require(small.json?["volume"]?["id"]?.string)
        let childItem = try cloud.api.store.log.list(kind: "volume").items.first { $0.id == child }
        #expect(childItem?.body?["source"] == ["snapshot": .string(snapID), "volume": .string(id)])
        #expect(
            try await cloud.send(
                .post, cloud.base + "/volumes/\(id)/action", token: cloud.demo, json: ["os-detach": [:]]
            ).status == .accepted)
        let kept = try await cloud.send(.delete, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(kept.status == .badRequest && kept.text.contains("have snapshots"), "\(kept.text)")
        // Not while a volume is being made from it.
        let copying = try await cloud.send(.delete, cloud.base + "/snapshots/\(snapID)", token: cloud.demo)
        #expect(copying.status == .badRequest && copying.text.contains("a volume is being made from it"))
        try await cloud.beat(statuses: [
            ["kind": "volume", "id": .string(id), "state": "available", "detail": "1|"],
            ["kind": "volume", "id": .string(child), "state": "available", "detail": "1|"],
            ["kind": "snapshot", "id": .string(snapID), "state": "available", "detail": "1|"],
        ])
        #expect(
            try await cloud.send(.delete, cloud.base + "/snapshots/\(snapID)", token: cloud.demo).status == .accepted)
        #expect(try await cloud.send(.get, cloud.base + "/snapshots/\(snapID)", token: cloud.demo).status == .notFound)
    }

    @Test("Types, services, zones, pools, quota sets")
    func catalogue() async throws {
        let cloud = try await VolumeCloud()
        try await cloud.beat(capacity: 20)
        let types = try await cloud.send(.get, cloud.base + "/types", token: cloud.demo)
        #expect(types.json?["volume_types"]?.array?.first?["name"] == "__DEFAULT__")
        let byDefault = try await cloud.send(.get, cloud.base + "/types/default", token: cloud.demo)
        #expect(byDefault.json?["volume_type"]?["description"] == "Default Volume Type")
        let adminBase = "/v3/\(try await cloud.identity.projectID("admin"))"
        let gold = try await cloud.send(
            .post, adminBase + "/types", token: cloud.admin, json: ["volume_type": ["name": "gold"]])
        #expect(
            gold.status == .ok && gold.json?["volume_type"]?["os-volume-type-access:is_public"] == true, "\(gold.text)")
        #expect(
            try await cloud.send(.post, cloud.base + "/types", token: cloud.demo, json: ["volume_type": ["name": "x"]])
                .status == .forbidden)
        let services = try await cloud.send(.get, adminBase + "/os-services", token: cloud.admin, version: "3.32")
        let binaries = services.json?["services"]?.array?.compactMap { $0["binary"]?.string }
        #expect(binaries == ["cinder-scheduler", "cinder-volume"], "\(services.text)")
        #expect(services.json?["services"]?.array?.last?["host"] == "stor1@nimbus")
        #expect(services.json?["services"]?.array?.last?["state"] == "up")
        let zones = try await cloud.send(.get, cloud.base + "/os-availability-zone", token: cloud.demo)
        #expect(zones.json?["availabilityZoneInfo"]?.array?.first?["zoneState"]?["available"] == true)
        let pools = try await cloud.send(.get, adminBase + "/scheduler-stats/get_pools?detail=true", token: cloud.admin)
        #expect(pools.json?["pools"]?.array?.first?["capabilities"]?["total_capacity_gb"] == 20, "\(pools.text)")
        let quota = try await cloud.send(
            .get, cloud.base + "/os-quota-sets/\(cloud.demoProject)?usage=true", token: cloud.demo)
        #expect(quota.json?["quota_set"]?["volumes"]?["limit"] == 10, "\(quota.text)")
        let set = try await cloud.send(
            .put, adminBase + "/os-quota-sets/\(cloud.demoProject)", token: cloud.admin,
            json: ["quota_set": ["volumes": 2]])
        #expect(set.json?["quota_set"]?["volumes"] == 2 && set.json?["quota_set"]?["id"] == nil, "\(set.text)")
        let bad = try await cloud.send(
            .put, adminBase + "/os-quota-sets/\(cloud.demoProject)", token: cloud.admin,
            json: ["quota_set": ["bananas": 2]])
        #expect(bad.status == .badRequest && bad.text.contains("Bad key(s) in quota set: bananas"))
    }

    @Test("Attachments (3.27+): reserve, connect (an NBD export for the host), complete (in-use), delete (available)")
    func attachments() async throws {
        let cloud = try await VolumeCloud()
        try await cloud.beat()
        let made = try await cloud.send(
            .post, cloud.base + "/volumes", token: cloud.demo, json: ["volume": ["size": 1, "name": "vol1"]])
        let id = try #require(made.json?["volume"]?["id"]?.string)
        try await cloud.beat(statuses: [["kind": "volume", "id": .string(id), "state": "available", "detail": "1|"]])
        let server = "cccccccc-0000-0000-0000-000000000001"
        // Before 3.27 there is no such path.
        let early = try await cloud.send(
            .post, cloud.base + "/attachments", token: cloud.demo,
            json: ["attachment": ["volume_uuid": .string(id), "instance_uuid": .string(server)]], version: "3.26")
        #expect(early.status == .notFound, "\(early.text)")
        let reserved = try await cloud.send(
            .post, cloud.base + "/attachments", token: cloud.demo,
            json: ["attachment": ["volume_uuid": .string(id), "instance_uuid": .string(server)]], version: "3.44")
        #expect(reserved.status == .ok, "\(reserved.text)")
        let attachment = try #require(reserved.json?["attachment"]?["id"]?.string)
        #expect(reserved.json?["attachment"]?["status"] == "reserved")
        #expect(reserved.json?["attachment"]?["connection_info"] == [:])
        let volumeShown = try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(volumeShown.json?["volume"]?["status"] == "reserved")
        // A second reservation of a volume in use is refused.
        let again = try await cloud.send(
            .post, cloud.base + "/attachments", token: cloud.demo,
            json: ["attachment": ["volume_uuid": .string(id), "instance_uuid": .string(server)]], version: "3.44")
        #expect(again.status == .badRequest && again.text.contains("status must be available"), "\(again.text)")
        // A connector without an address is refused; with one, the export is made.
        let noIP = try await cloud.send(
            .put, cloud.base + "/attachments/\(attachment)", token: cloud.demo,
            json: ["attachment": ["connector": ["host": "cmp1"]]], version: "3.44")
        #expect(noIP.status == .badRequest, "\(noIP.text)")
        let connected = try await cloud.send(
            .put, cloud.base + "/attachments/\(attachment)", token: cloud.demo,
            json: ["attachment": ["connector": ["host": "cmp1", "ip": "10.0.0.12"]]], version: "3.44")
        #expect(connected.status == .ok, "\(connected.text)")
        let info = connected.json?["attachment"]?["connection_info"]
        #expect(info?["driver_volume_type"] == "nbd" && info?["data"]?["host"] == "10.0.0.13", "\(connected.text)")
        #expect(info?["data"]?["port"] == 10810 && info?["data"]?["name"]?.string == id)
        let item = try cloud.api.store.log.list(kind: "volume").items.first { $0.id == id }
        #expect(
            item?.body?["exports"] == [
                ["attachment": .string(attachment), "port": 10810, "allow": "10.0.0.12", "mode": "rw"]
            ],
            "\(String(describing: item?.body))")
        // Extending an exported volume is refused (the guest would not see it grow).
        let extend = try await cloud.send(
            .post, cloud.base + "/volumes/\(id)/action", token: cloud.demo, json: ["os-extend": ["new_size": 2]],
            version: "3.71")
        #expect(extend.status == .badRequest, "\(extend.text)")
        let complete = try await cloud.send(
            .post, cloud.base + "/attachments/\(attachment)/action", token: cloud.demo, json: ["os-complete": nil],
            version: "3.44")
        #expect(complete.status == .noContent, "\(complete.text)")
        let inUse = try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo, version: "3.71")
        #expect(inUse.json?["volume"]?["status"] == "in-use")
        #expect(inUse.json?["volume"]?["attachments"]?.array?.first?["server_id"]?.string == server)
        let listed = try await cloud.send(
            .get, cloud.base + "/attachments?instance_id=\(server)", token: cloud.demo, version: "3.44")
        #expect(listed.json?["attachments"]?.array?.count == 1, "\(listed.text)")
        // Not deletable while attached; the attachment deleted, it is.
        let refused = try await cloud.send(.delete, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(refused.status == .badRequest)
        let deleted = try await cloud.send(
            .delete, cloud.base + "/attachments/\(attachment)", token: cloud.demo, version: "3.44")
        #expect(deleted.status == .ok && deleted.json?["attachments"] == [], "\(deleted.text)")
        let free = try await cloud.send(.get, cloud.base + "/volumes/\(id)", token: cloud.demo)
        #expect(free.json?["volume"]?["status"] == "available")
        let gone = try await cloud.send(
            .get, cloud.base + "/attachments/\(attachment)", token: cloud.demo, version: "3.44")
        #expect(gone.status == .notFound)
    }

    @Test("Lists in Cinder's order: sort keys and directions, an unknown key and a negative limit refused, offset")
    func listOrder() async throws {
        let cloud = try await VolumeCloud()
        try await cloud.beat()
        for name in ["b", "c", "a"] {
            let made = try await cloud.send(
                .post, cloud.base + "/volumes", token: cloud.demo, json: ["volume": ["size": 1, "name": .string(name)]])
            #expect(made.status == .accepted, "\(made.text)")
        }
        func names(_ query: String) async throws -> [String] {
            let listed = try await cloud.send(.get, cloud.base + "/volumes/detail?" + query, token: cloud.demo)
            return (listed.json?["volumes"]?.array ?? []).compactMap { $0["name"]?.string }
        }
        #expect(try await names("sort=name:asc") == ["a", "b", "c"])
        #expect(try await names("sort_key=name&sort_dir=desc") == ["c", "b", "a"])
        #expect(try await names("sort=name:asc&offset=1&limit=1") == ["b"])
        let badKey = try await cloud.send(.get, cloud.base + "/volumes/detail?sort=colour", token: cloud.demo)
        #expect(badKey.status == .badRequest, "\(badKey.text)")
        let badLimit = try await cloud.send(.get, cloud.base + "/snapshots?limit=-1", token: cloud.demo)
        #expect(badLimit.status == .badRequest, "\(badLimit.text)")
        let badSort = try await cloud.send(.get, cloud.base + "/snapshots?sort=name:sideways", token: cloud.demo)
        #expect(badSort.status == .badRequest, "\(badSort.text)")
    }
}
