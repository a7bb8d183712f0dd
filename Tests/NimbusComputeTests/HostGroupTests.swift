import Foundation
import Hummingbird
import NimbusServiceKit
import Testing

@testable import NimbusCompute

@Suite("Compute API: host aggregates and zones, services disabled, server groups, the scheduler's rules")
struct HostGroupTests {
    /// A heartbeat from a compute agent on `host`.
    static func beat(_ cloud: ComputeCloud, _ host: String) async throws {
        let beat: JSON = [
            "started_at": "2026-12-01T10:00:00Z", "revision": 0,
            "configuration": [
                "hypervisor_hostname": .string(host), "hypervisor_type": "QEMU", "vcpus": 2, "memory_mb": 4096,
                "local_gb": 40,
            ],
        ]
        let put = try await cloud.send(.put, "/agent/v1/agents/compute/\(host)", token: cloud.admin, json: beat)
        #expect(put.status == .noContent || put.status == .ok, "\(put.text)")
    }

    static func server(_ id: String, on host: String, group: String? = nil) -> Server {
        var server = Server(
            id: id, name: id, projectID: "p", userID: "u", flavor: ServerRequestTests.flavor("s", ram: 100),
            imageID: "i", imageName: "", keyName: nil, publicKey: nil, securityGroups: [], metadata: [:],
            userData: nil, accessIPv4: "", accessIPv6: "", diskConfig: "MANUAL", host: host, ports: [],
            power: "running", reboots: 0, rebootType: "SOFT", generation: 1, task: nil, fault: nil, serial: 1,
            launchIndex: 0, reservationID: "r", createdAt: 0, updatedAt: 0)
        server.group = group
        return server
    }

    @Test("The scheduler keeps zones, disabled hosts, different_host and each group policy")
    func schedulerRules() {
        let scheduler = Scheduler()
        let hosts = [
            Scheduler.Candidate(host: "cmp1", alive: true, vcpus: 2, memoryMiB: 1000, diskGiB: 10),
            Scheduler.Candidate(host: "cmp2", alive: true, vcpus: 2, memoryMiB: 800, diskGiB: 10),
        ]
        let small = ServerRequestTests.flavor("s", ram: 100)
        #expect(scheduler.place(small, on: hosts, servers: [], rule: .init(hosts: ["cmp2"])) == "cmp2")
        #expect(scheduler.place(small, on: hosts, servers: [], rule: .init(hosts: [])) == nil)
        #expect(scheduler.place(small, on: hosts, servers: [], rule: .init(avoiding: ["cmp1"])) == "cmp2")
        var disabled = hosts
        disabled[0].enabled = false
        #expect(scheduler.place(small, on: disabled, servers: []) == "cmp2")
        // Anti-affinity: one member per host, then no host; two with max_server_per_host 2.
        let anti = Scheduler.Rule(policy: "anti-affinity", memberHosts: ["cmp1"])
        #expect(scheduler.place(small, on: hosts, servers: [], rule: anti) == "cmp2")
        #expect(
            scheduler.place(
                small, on: hosts, servers: [], rule: .init(policy: "anti-affinity", memberHosts: ["cmp1", "cmp2"]))
                == nil)
        #expect(
            scheduler.place(
                small, on: hosts, servers: [],
                rule: .init(policy: "anti-affinity", maxPerHost: 2, memberHosts: ["cmp1", "cmp2", "cmp2"])) == "cmp1")
        // Affinity: where the members are, even with less memory free; the first anywhere.
        #expect(
            scheduler.place(small, on: hosts, servers: [], rule: .init(policy: "affinity", memberHosts: ["cmp2"]))
                == "cmp2")
        #expect(scheduler.place(small, on: hosts, servers: [], rule: .init(policy: "affinity")) == "cmp1")
        #expect(
            scheduler.place(small, on: disabled, servers: [], rule: .init(policy: "affinity", memberHosts: ["cmp1"]))
                == nil)
        // Soft policies prefer, never refuse.
        #expect(
            scheduler.place(
                small, on: hosts, servers: [],
                rule: .init(policy: "soft-anti-affinity", memberHosts: ["cmp1", "cmp2", "cmp2"]))
                == "cmp1")
        #expect(
            scheduler.place(
                small, on: disabled, servers: [], rule: .init(policy: "soft-affinity", memberHosts: ["cmp1"]))
                == "cmp2")
        #expect(
            scheduler.place(small, on: hosts, servers: [], rule: .init(policy: "soft-affinity", memberHosts: ["cmp2"]))
                == "cmp2")
    }

    @Test("Aggregates: an admin's, a zone for its hosts, one zone per host, Nova's refusals; the zones follow")
    func aggregates() async throws {
        let cloud = try await ComputeCloud()
        try await Self.beat(cloud, "cmp1")
        try await Self.beat(cloud, "cmp2")
        func send(_ method: HTTPRequest.Method, _ path: String, _ json: JSON? = nil, token: String? = nil)
            async throws -> ComputeCloud.Client.Reply
        {
            try await cloud.send(method, path, token: token ?? cloud.admin, json: json, version: "2.96")
        }
        let made = try await send(
            .post, "/v2.1/os-aggregates", ["aggregate": ["name": "agg-b", "availability_zone": "zone-b"]])
        #expect(made.status == .ok, "\(made.text)")
        let aggregate = try #require(made.json?["aggregate"])
        #expect(aggregate["id"]?.int == 1 && aggregate["availability_zone"]?.string == "zone-b")
        #expect(aggregate["uuid"]?.string?.count == 36 && aggregate["hosts"] == nil && aggregate["deleted"] == false)
        func refused(
            _ method: HTTPRequest.Method, _ path: String, _ json: JSON? = nil, token: String? = nil,
            _ status: HTTPResponse.Status, _ message: String
        ) async throws {
            let reply = try await send(method, path, json, token: token)
            #expect(reply.status == status, "\(path): \(reply.text)")
            #expect(reply.text.contains(message), "\(path): \(reply.text)")
        }
        let aggregates = "/v2.1/os-aggregates"
        try await refused(
            .post, aggregates, ["aggregate": ["name": "agg-b"]], .conflict, "Aggregate agg-b already exists.")
        try await refused(.post, aggregates, ["aggregate": ["name": ""]], .badRequest, "name")
        try await refused(
            .post, aggregates, ["aggregate": ["name": "x", "availability_zone": "a:b"]], .badRequest, "':'")
        try await refused(
            .post, aggregates, ["aggregate": ["name": "x", "size": 1]], .badRequest, "'size' was unexpected")
        try await refused(.get, aggregates, token: cloud.demo, .forbidden, "os-aggregates:index")
        try await refused(.get, aggregates + "/9", nil, .notFound, "Aggregate 9 could not be found.")
        try await refused(.delete, aggregates + "/-1", nil, .notFound, "Aggregate -1 could not be found.")
        try await refused(.get, aggregates + "/agg-b", nil, .badRequest, "is not an integer")
        let action = aggregates + "/1/action"
        try await refused(
            .post, action, ["add_host": ["host": "cmp9"]], .notFound, "Compute host cmp9 could not be found.")
        try await refused(
            .post, action, ["remove_host": ["host": "cmp1"]], .notFound, "Cannot remove host cmp1 in aggregate 1")
        try await refused(.post, action, ["fly": [:]], .badRequest, "There is no such action")
        let added = try await send(.post, "/v2.1/os-aggregates/1/action", ["add_host": ["host": "cmp2"]])
        #expect(added.json?["aggregate"]?["hosts"] == ["cmp2"], "\(added.text)")
        let twice = try await send(.post, "/v2.1/os-aggregates/1/action", ["add_host": ["host": "cmp2"]])
        #expect(twice.status == .conflict && twice.text.contains("Aggregate 1 already has host cmp2."))
        // A second zone aggregate cannot take cmp2; one without a zone can.
        #expect(
            try await send(
                .post, "/v2.1/os-aggregates", ["aggregate": ["name": "agg-c", "availability_zone": "zone-c"]]
            ).status == .ok)
        let clash = try await send(.post, "/v2.1/os-aggregates/2/action", ["add_host": ["host": "cmp2"]])
        #expect(
            clash.status == .conflict && clash.text.contains("already in availability zone(s) ['zone-b']"),
            "\(clash.text)")
        #expect(try await send(.post, "/v2.1/os-aggregates", ["aggregate": ["name": "ssd"]]).status == .ok)
        #expect(try await send(.post, "/v2.1/os-aggregates/3/action", ["add_host": ["host": "cmp2"]]).status == .ok)
        let meta = try await send(
            .post, "/v2.1/os-aggregates/3/action", ["set_metadata": ["metadata": ["ssd": "true"]]])
        #expect(meta.json?["aggregate"]?["metadata"] == ["ssd": "true"], "\(meta.text)")
        let zoneClash = try await send(
            .post, "/v2.1/os-aggregates/3/action", ["set_metadata": ["metadata": ["availability_zone": "zone-c"]]])
        #expect(
            zoneClash.status == .badRequest && zoneClash.text.contains("Cannot update metadata of aggregate 3"),
            "\(zoneClash.text)")
        let unset = try await send(.post, "/v2.1/os-aggregates/3/action", ["set_metadata": ["metadata": ["ssd": nil]]])
        #expect(unset.json?["aggregate"]?["metadata"] == [:])
        let renamed = try await send(.put, "/v2.1/os-aggregates/2", ["aggregate": ["name": "agg-c2"]])
        #expect(
            renamed.json?["aggregate"]?["name"]?.string == "agg-c2"
                && renamed.json?["aggregate"]?["updated_at"] != .null)
        let listed = try await send(.get, "/v2.1/os-aggregates")
        #expect(listed.json?["aggregates"]?.array?.compactMap { $0["name"]?.string } == ["agg-b", "agg-c2", "ssd"])

        // The zones: cmp1 in nova, cmp2 in zone-b; services and server creates follow.
        let zones = try await send(.get, "/v2.1/os-availability-zone", token: cloud.demo)
        #expect(
            zones.json?["availabilityZoneInfo"]?.array?.compactMap { $0["zoneName"]?.string } == ["nova", "zone-b"])
        let services = try await send(.get, "/v2.1/os-services")
        #expect(services.json?["services"]?.array?.compactMap { $0["zone"]?.string } == ["nova", "zone-b"])
        func create(_ zone: String, token: String? = nil) async throws -> ComputeCloud.Client.Reply {
            try await send(
                .post, "/v2.1/servers",
                [
                    "server": [
                        "name": "vm", "flavorRef": "7", "imageRef": "i", "networks": "none",
                        "availability_zone": .string(zone),
                    ]
                ],
                token: token ?? cloud.demo)
        }
        let flavor: JSON = ["flavor": ["name": "m1.guest", "id": "7", "ram": 96, "vcpus": 1, "disk": 1]]
        #expect(try await send(.post, "/v2.1/flavors", flavor).status == .ok)
        // zone-b is known: the request goes on to its peers (none here: 503).
        #expect(try await create("zone-b").status == .serviceUnavailable)
        #expect(try await create("zone-c").text.contains("The requested availability zone is not available"))
        #expect(try await create("zone-b:cmp2").status == .forbidden)
        #expect(try await create("nova:cmp2", token: cloud.admin).text.contains("is not a member of availability zone"))
        #expect(try await create("zone-b:cmp2", token: cloud.admin).status == .serviceUnavailable)

        // A host in an aggregate keeps it from being deleted; removed, it goes.
        let busy = try await send(.delete, "/v2.1/os-aggregates/1")
        #expect(busy.status == .badRequest && busy.text.contains("Host aggregate is not empty"), "\(busy.text)")
        #expect(try await send(.post, "/v2.1/os-aggregates/1/action", ["remove_host": ["host": "cmp2"]]).status == .ok)
        #expect(try await send(.delete, "/v2.1/os-aggregates/1").status == .ok)
        let next = try await send(.post, "/v2.1/os-aggregates", ["aggregate": ["name": "agg-d"]])
        #expect(next.json?["aggregate"]?["id"]?.int == 4, "a deleted aggregate's id is not given again")
        let after = try await send(.get, "/v2.1/os-availability-zone", token: cloud.demo)
        #expect(after.json?["availabilityZoneInfo"]?.array?.compactMap { $0["zoneName"]?.string } == ["nova"])
    }

    @Test("A disabled compute service: shown with its reason, out of the zone's hosts, enabled again")
    func disabledService() async throws {
        let cloud = try await ComputeCloud()
        try await Self.beat(cloud, "cmp1")
        let services = try await cloud.send(.get, "/v2.1/os-services", token: cloud.admin, version: "2.69")
        let id = try #require(services.json?["services"]?.array?.first?["id"]?.string)
        let disabled = try await cloud.send(
            .put, "/v2.1/os-services/\(id)", token: cloud.admin,
            json: ["status": "disabled", "disabled_reason": "maintenance"], version: "2.69")
        #expect(disabled.json?["service"]?["status"]?.string == "disabled", "\(disabled.text)")
        #expect(disabled.json?["service"]?["disabled_reason"]?.string == "maintenance")
        #expect(cloud.api.store.snapshot.hostSettings["cmp1"]?.disabled == true)
        let detail = try await cloud.send(.get, "/v2.1/os-availability-zone/detail", token: cloud.admin)
        let zone = detail.json?["availabilityZoneInfo"]?.array?.first
        #expect(zone?["zoneState"]?["available"] == false, "\(detail.text)")
        #expect(zone?["hosts"]?["cmp1"]?["nova-compute"]?["active"] == false)
        let hypervisors = try await cloud.send(.get, "/v2.1/os-hypervisors", token: cloud.admin, version: "2.88")
        #expect(hypervisors.json?["hypervisors"]?.array?.first?["status"]?.string == "disabled")
        let bad = try await cloud.send(
            .put, "/v2.1/os-services/\(id)", token: cloud.admin, json: ["status": "enabled", "disabled_reason": "x"],
            version: "2.69")
        #expect(bad.status == .badRequest && bad.text.contains("Specifying 'disabled_reason' with status 'enabled'"))
        let missing = try await cloud.send(
            .put, "/v2.1/os-services/nope", token: cloud.admin, json: ["status": "enabled"], version: "2.69")
        #expect(missing.status == .notFound)
        #expect(
            try await cloud.send(
                .put, "/v2.1/os-services/\(id)", token: cloud.demo, json: ["status": "enabled"], version: "2.69"
            )
            .status == .forbidden)
        // Before 2.53: by host and binary.
        let legacy = try await cloud.send(
            .put, "/v2.1/os-services/enable", token: cloud.admin, json: ["host": "cmp1", "binary": "nova-compute"],
            version: "2.1")
        #expect(legacy.json?["service"]?["status"]?.string == "enabled", "\(legacy.text)")
        let forced = try await cloud.send(
            .put, "/v2.1/os-services/\(id)", token: cloud.admin, json: ["forced_down": true], version: "2.69")
        #expect(forced.json?["service"]?["state"]?.string == "down" && forced.json?["service"]?["forced_down"] == true)
    }

    @Test("Server groups: each policy and form by microversion, a project's own, the quota, a hint that names none")
    func serverGroups() async throws {
        let cloud = try await ComputeCloud()
        let made = try await cloud.send(
            .post, "/v2.1/os-server-groups", token: cloud.demo,
            json: ["server_group": ["name": "apart", "policy": "anti-affinity", "rules": ["max_server_per_host": 2]]],
            version: "2.64")
        #expect(made.status == .ok, "\(made.text)")
        let group = try #require(made.json?["server_group"])
        #expect(group["policy"]?.string == "anti-affinity" && group["rules"] == ["max_server_per_host": 2])
        #expect(group["members"] == [] && group["project_id"]?.string?.isEmpty == false)
        let id = try #require(group["id"]?.string)
        let old = try await cloud.send(
            .post, "/v2.1/os-server-groups", token: cloud.demo,
            json: ["server_group": ["name": "together", "policies": ["affinity"]]], version: "2.1")
        #expect(old.json?["server_group"]?["policies"] == ["affinity"] && old.json?["server_group"]?["metadata"] == [:])
        let refusals: [(JSON, String, String)] = [
            (
                ["server_group": ["name": "x", "policy": "affinity", "rules": ["max_server_per_host": 2]]], "2.64",
                "Only anti-affinity policy supports rules."
            ),
            (["server_group": ["name": "x", "policy": "nearby"]], "2.64", "policy"),
            (["server_group": ["name": "x", "policies": ["soft-affinity"]]], "2.14", "policies"),
            (["server_group": ["name": "x", "policies": ["affinity", "anti-affinity"]]], "2.1", "policies"),
            (["server_group": ["policy": "affinity"]], "2.64", "name"),
        ]
        for (body, version, message) in refusals {
            let reply = try await cloud.send(
                .post, "/v2.1/os-server-groups", token: cloud.demo, json: body, version: version)
            #expect(reply.status == .badRequest && reply.text.contains(message), "\(body.text): \(reply.text)")
        }
        let shown = try await cloud.send(.get, "/v2.1/os-server-groups/\(id)", token: cloud.demo, version: "2.64")
        #expect(shown.json?["server_group"]?["name"]?.string == "apart")
        let list = try await cloud.send(.get, "/v2.1/os-server-groups", token: cloud.demo, version: "2.64")
        #expect(list.json?["server_groups"]?.array?.count == 2)
        // The admin's project sees none of demo's, unless it asks for all projects.
        let adminOwn = try await cloud.send(.get, "/v2.1/os-server-groups", token: cloud.admin)
        #expect(adminOwn.json?["server_groups"]?.array?.count == 0)
        let adminAll = try await cloud.send(.get, "/v2.1/os-server-groups?all_projects=True", token: cloud.admin)
        #expect(adminAll.json?["server_groups"]?.array?.count == 2)
        // A hint naming no group the caller sees is refused before anything is made.
        let flavor: JSON = ["flavor": ["name": "m1.guest", "id": "7", "ram": 96, "vcpus": 1, "disk": 1]]
        #expect(try await cloud.send(.post, "/v2.1/flavors", token: cloud.admin, json: flavor).status == .ok)
        let hinted = try await cloud.send(
            .post, "/v2.1/servers", token: cloud.demo,
            json: [
                "server": ["name": "vm", "flavorRef": "7", "imageRef": "i", "networks": "none"],
                "os:scheduler_hints": ["group": "no-such-group"],
            ], version: "2.96")
        #expect(
            hinted.status == .badRequest && hinted.text.contains("Instance group no-such-group could not be found."))
        // The quota: ten groups a project.
        for index in 3...10 {
            let reply = try await cloud.send(
                .post, "/v2.1/os-server-groups", token: cloud.demo,
                json: ["server_group": ["name": .string("g\(index)"), "policy": "affinity"]], version: "2.64")
            #expect(reply.status == .ok)
        }
        let over = try await cloud.send(
            .post, "/v2.1/os-server-groups", token: cloud.demo,
            json: ["server_group": ["name": "g11", "policy": "affinity"]], version: "2.64")
        #expect(over.status == .forbidden && over.text.contains("Quota exceeded, too many server groups."))
        let limits = try await cloud.send(.get, "/v2.1/limits", token: cloud.demo)
        #expect(limits.json?["limits"]?["absolute"]?["totalServerGroupsUsed"]?.int == 10)
        #expect(try await cloud.send(.delete, "/v2.1/os-server-groups/\(id)", token: cloud.admin).status == .noContent)
        #expect(try await cloud.send(.get, "/v2.1/os-server-groups/\(id)", token: cloud.demo).status == .notFound)
    }
}

@Suite("Compute API: Tempest's hypervisor and key pair details")
struct HypervisorDetailTests {
    @Test("Hypervisors by name pattern with their servers before 2.53; cpu_info an object from 2.28")
    func hypervisorSearch() async throws {
        let cloud = try await ComputeCloud()
        try await HostGroupTests.beat(cloud, "cmp1")
        let found = try await cloud.send(.get, "/v2.1/os-hypervisors/cmp/search", token: cloud.admin, version: "2.1")
        #expect(found.json?["hypervisors"]?.array?.first?["hypervisor_hostname"]?.string == "cmp1", "\(found.text)")
        let none = try await cloud.send(.get, "/v2.1/os-hypervisors/xyz/servers", token: cloud.admin, version: "2.1")
        #expect(none.status == .notFound)
        let gone = try await cloud.send(.get, "/v2.1/os-hypervisors/cmp/search", token: cloud.admin, version: "2.53")
        #expect(gone.status == .notFound)
        #expect(
            try await cloud.send(.get, "/v2.1/os-hypervisors/cmp/search", token: cloud.demo, version: "2.1").status
                == .forbidden)
        let old = try await cloud.send(.get, "/v2.1/os-hypervisors/detail", token: cloud.admin, version: "2.27")
        #expect(old.json?["hypervisors"]?.array?.first?["cpu_info"] == "{}")
        let new = try await cloud.send(.get, "/v2.1/os-hypervisors/detail", token: cloud.admin, version: "2.28")
        #expect(new.json?["hypervisors"]?.array?.first?["cpu_info"] == [:])
    }

    @Test("An x509 key pair made here: openssl's certificate with its SHA-1 fingerprint; show has user_id")
    func x509KeyPair() async throws {
        let cloud = try await ComputeCloud()
        let made = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo, json: ["keypair": ["name": "cert", "type": "x509"]],
            version: "2.2")
        #expect(made.status == .created, "\(made.text)")
        let pair = try #require(made.json?["keypair"])
        let certificate = try #require(pair["public_key"]?.string)
        #expect(certificate.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(pair["private_key"]?.string?.contains("PRIVATE KEY-----") == true)
        #expect(pair["fingerprint"]?.string == KeyPairs.x509Fingerprint(certificate) && pair["type"] == "x509")
        let shown = try await cloud.send(.get, "/v2.1/os-keypairs/cert", token: cloud.demo, version: "2.2")
        #expect(shown.json?["keypair"]?["user_id"]?.string?.isEmpty == false, "\(shown.text)")
    }
}
