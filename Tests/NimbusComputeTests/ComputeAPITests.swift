import Foundation
import Hummingbird
import NimbusServiceKit
import NimbusTestSupport
import Testing

@testable import NimbusCompute

/// An identity and a compute service in-process, the compute service asking the identity
/// router about tokens.
struct ComputeCloud {
    typealias Client = InProcessClient<RouterResponder<ServiceContext>>
    let identity: TestIdentity
    let api: ComputeAPI
    let compute: Client
    let admin: String
    let demo: String

    /// - Parameter identity: the identity service of an earlier cloud (a restart keeps its users).
    init(path: String? = nil, identity given: TestIdentity? = nil) async throws {
        let identity = try given ?? TestIdentity(catalog: [])
        self.identity = identity
        api = ComputeAPI(
            store: try ComputeStore(path: path), validator: identity.validator, identityURI: "http://ctl:5000")
        compute = Client(responder: buildComputeRouter(api: api).buildResponder())
        admin = try await identity.admin()
        demo = try await identity.demo()
    }

    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ path: String, token: String?, json: JSON? = nil, version: String? = nil
    ) async throws -> Client.Reply {
        var headers: [String: String] = [:]
        if let token { headers["X-Auth-Token"] = token }
        if json != nil { headers["Content-Type"] = "application/json" }
        if let version { headers["OpenStack-API-Version"] = "compute \(version)" }
        return try await compute.send(method, path, headers: headers, body: json?.bytes)
    }
}

@Suite("Compute API: versions, flavors, key pairs")
struct ComputeAPITests {
    static let publicKey =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHUHgoSNZUu16G9+HD5uWdkLmKZ/Aiq4xnJIDB/FF0z9 test@nimbus"

    @Test("GET / lists v2.0 and v2.1; GET /v2.1 is the one version with 2.1–2.96; a version above is 406")
    func versions() async throws {
        let cloud = try await ComputeCloud()
        let root = try await cloud.send(.get, "/", token: nil)
        #expect(root.json?["versions"]?.array?.compactMap { $0["id"]?.string } == ["v2.0", "v2.1"])
        let v21 = try await cloud.send(.get, "/v2.1", token: nil)
        #expect(v21.json?["version"]?["version"]?.string == "2.96")
        #expect(v21.json?["version"]?["min_version"]?.string == "2.1")
        let refused = try await cloud.send(.get, "/v2.1/flavors", token: cloud.demo, version: "2.97")
        #expect(refused.status == .notAcceptable)
        #expect(refused.json?["computeFault"]?["message"]?.string?.contains("2.97") == true, "\(refused.text)")
        let echoed = try await cloud.send(.get, "/v2.1/flavors", token: cloud.demo, version: "2.61")
        #expect(echoed.header("OpenStack-API-Version") == "compute 2.61")
        let anonymous = try await cloud.send(.get, "/v2.1/flavors", token: nil)
        #expect(anonymous.status == .unauthorized)
    }

    @Test(
        "Flavors as the notes make them: admin creates (200), private ones open to a project, members see what is theirs"
    )
    func flavors() async throws {
        let cloud = try await ComputeCloud()
        let nano: JSON = [
            "flavor": [
                "name": "m1.nano", "id": "0", "ram": 64, "vcpus": 1, "disk": 1, "swap": 0,
                "OS-FLV-EXT-DATA:ephemeral": 0, "os-flavor-access:is_public": true,
            ]
        ]
        let created = try await cloud.send(.post, "/v2.1/flavors", token: cloud.admin, json: nano, version: "2.61")
        #expect(created.status == .ok, "\(created.text)")
        let flavor = created.json?["flavor"]
        #expect(flavor?["id"]?.string == "0" && flavor?["ram"]?.int == 64 && flavor?["swap"]?.string == "")
        #expect(flavor?["extra_specs"]?.members?.isEmpty == true && flavor?["description"] == .null)
        #expect(flavor?["links"]?.array?.first?["href"]?.string?.hasSuffix("/v2.1/flavors/0") == true)
        let again = try await cloud.send(.post, "/v2.1/flavors", token: cloud.admin, json: nano, version: "2.61")
        #expect(
            again.status == .conflict
                && again.json?["conflictingRequest"]?["message"]?.string == "Flavor with ID 0 already exists.")
        let member = try await cloud.send(.post, "/v2.1/flavors", token: cloud.demo, json: nano)
        #expect(member.status == .forbidden)
        let badRAM = try await cloud.send(
            .post, "/v2.1/flavors", token: cloud.admin,
            json: ["flavor": ["name": "x", "ram": 0, "vcpus": 1, "disk": 1]])
        #expect(badRAM.status == .badRequest && badRAM.json?["badRequest"]?["message"]?.string?.contains("ram") == true)

        // A private flavor for the demo project, as `flavor create --private --project demo`.
        let privateFlavor: JSON = [
            "flavor": [
                "name": "a.nano", "id": "100", "ram": 64, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": false,
            ]
        ]
        #expect(try await cloud.send(.post, "/v2.1/flavors", token: cloud.admin, json: privateFlavor).status == .ok)
        let demoID = try await cloud.identity.projectID("demo")
        let hidden = try await cloud.send(.get, "/v2.1/flavors/100", token: cloud.demo)
        #expect(
            hidden.status == .notFound
                && hidden.json?["itemNotFound"]?["message"]?.string == "Flavor 100 could not be found.")
        let access = try await cloud.send(
            .post, "/v2.1/flavors/100/action", token: cloud.admin,
            json: ["addTenantAccess": ["tenant": .string(demoID)]])
        #expect(
            access.json?["flavor_access"]?.array == [["flavor_id": "100", "tenant_id": .string(demoID)]],
            "\(access.text)")
        let twice = try await cloud.send(
            .post, "/v2.1/flavors/100/action", token: cloud.admin,
            json: ["addTenantAccess": ["tenant": .string(demoID)]])
        #expect(twice.status == .conflict)
        let onPublic = try await cloud.send(
            .post, "/v2.1/flavors/0/action", token: cloud.admin, json: ["addTenantAccess": ["tenant": .string(demoID)]])
        #expect(onPublic.status == .conflict)
        #expect(try await cloud.send(.get, "/v2.1/flavors/100", token: cloud.demo).status == .ok)

        // Lists: the member sees both; admin's default hides private flavors not open to it, None shows all.
        func names(_ path: String, _ token: String) async throws -> [String] {
            let reply = try await cloud.send(.get, path, token: token, version: "2.61")
            return reply.json?["flavors"]?.array?.compactMap { $0["name"]?.string } ?? []
        }
        #expect(try await names("/v2.1/flavors/detail?is_public=True", cloud.demo) == ["m1.nano", "a.nano"])
        #expect(try await names("/v2.1/flavors/detail", cloud.admin) == ["m1.nano"])
        #expect(try await names("/v2.1/flavors/detail?is_public=None", cloud.admin) == ["m1.nano", "a.nano"])
        #expect(try await names("/v2.1/flavors/detail?is_public=false", cloud.admin) == ["a.nano"])
        #expect(try await names("/v2.1/flavors?minRam=128", cloud.demo) == [])
        let bad = try await cloud.send(.get, "/v2.1/flavors/detail?is_public=maybe", token: cloud.admin)
        #expect(bad.status == .badRequest)
        let paged = try await cloud.send(.get, "/v2.1/flavors?limit=1", token: cloud.demo)
        #expect(
            paged.json?["flavors_links"]?.array?.first?["href"]?.string?.hasSuffix("marker=0") == true, "\(paged.text)")
        let rest = try await cloud.send(.get, "/v2.1/flavors?marker=0", token: cloud.demo)
        #expect(rest.json?["flavors"]?.array?.compactMap { $0["id"]?.string } == ["100"])
        let lister = try await cloud.send(.get, "/v2.1/flavors/100/os-flavor-access", token: cloud.admin)
        #expect(lister.json?["flavor_access"]?.array?.count == 1)

        // Extra specs; swap as 0 from 2.75; the description from 2.55.
        let specs = try await cloud.send(
            .post, "/v2.1/flavors/0/os-extra_specs", token: cloud.admin,
            json: ["extra_specs": ["hw:cpu_policy": "shared", "n": 2]])
        #expect(specs.json?["extra_specs"]?["n"]?.string == "2", "\(specs.text)")
        let one = try await cloud.send(.get, "/v2.1/flavors/0/os-extra_specs/n", token: cloud.demo)
        #expect(one.json == ["n": "2"])
        let mismatch = try await cloud.send(
            .put, "/v2.1/flavors/0/os-extra_specs/n", token: cloud.admin, json: ["m": "3"])
        #expect(mismatch.status == .badRequest)
        #expect(
            try await cloud.send(.delete, "/v2.1/flavors/0/os-extra_specs/n", token: cloud.admin).status == .accepted)
        let shown = try await cloud.send(.get, "/v2.1/flavors/0", token: cloud.demo, version: "2.75")
        #expect(shown.json?["flavor"]?["swap"]?.int == 0)
        #expect(shown.json?["flavor"]?["extra_specs"] == ["hw:cpu_policy": "shared"])
        let described = try await cloud.send(
            .put, "/v2.1/flavors/0", token: cloud.admin, json: ["flavor": ["description": "tiny"]], version: "2.55")
        #expect(described.json?["flavor"]?["description"]?.string == "tiny", "\(described.text)")
        #expect(try await cloud.send(.delete, "/v2.1/flavors/0", token: cloud.admin).status == .accepted)
        #expect(try await cloud.send(.delete, "/v2.1/flavors/0", token: cloud.admin).status == .notFound)
    }

    @Test("Key pairs: imported with their fingerprint, made here with a private key, each user's own, per microversion")
    func keyPairs() async throws {
        let path = NSTemporaryDirectory() + "nimbus-compute-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cloud = try await ComputeCloud(path: path)
        let imported = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo,
            json: ["keypair": ["name": "k1", "public_key": .string(Self.publicKey)]], version: "2.10")
        #expect(imported.status == .created, "\(imported.text)")
        let pair = imported.json?["keypair"]
        #expect(pair?["fingerprint"]?.string == KeyPairs.sshFingerprint(Self.publicKey))
        #expect(pair?["fingerprint"]?.string?.split(separator: ":").count == 16)
        #expect(
            pair?["type"]?.string == "ssh" && pair?["user_id"]?.string?.isEmpty == false && pair?["private_key"] == nil)
        let duplicate = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo,
            json: ["keypair": ["name": "k1", "public_key": .string(Self.publicKey)]])
        #expect(
            duplicate.status == .conflict
                && duplicate.json?["conflictingRequest"]?["message"]?.string == "Key pair 'k1' already exists.")
        let badName = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo,
            json: ["keypair": ["name": "k!", "public_key": .string(Self.publicKey)]])
        #expect(badName.status == .badRequest)
        let badKey = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo,
            json: ["keypair": ["name": "k2", "public_key": "ssh-rsa bm90IGEga2V5"]])
        #expect(
            badKey.json?["badRequest"]?["message"]?.string == "Keypair data is invalid: failed to generate fingerprint")
        // Made here (Tempest sends no public key): 200 at 2.1, with the private key.
        let made = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo, json: ["keypair": ["name": "gen"]])
        #expect(made.status == .ok, "\(made.text)")
        #expect(made.json?["keypair"]?["private_key"]?.string?.contains("PRIVATE KEY") == true)
        #expect(made.json?["keypair"]?["public_key"]?.string?.hasPrefix("ssh-rsa ") == true)
        let required = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo, json: ["keypair": ["name": "gen2"]], version: "2.92")
        #expect(required.status == .badRequest)

        // Lists wrap each pair; show has Nova's extra fields; another user sees none of them.
        let list = try await cloud.send(.get, "/v2.1/os-keypairs", token: cloud.demo, version: "2.35")
        #expect(list.json?["keypairs"]?.array?.compactMap { $0["keypair"]?["name"]?.string } == ["gen", "k1"])
        let shown = try await cloud.send(.get, "/v2.1/os-keypairs/k1", token: cloud.demo, version: "2.2")
        #expect(shown.json?["keypair"]?["deleted"] == false && shown.json?["keypair"]?["id"]?.int != nil)
        #expect(try await cloud.send(.get, "/v2.1/os-keypairs/k1", token: cloud.admin).status == .notFound)
        let demoUser = try #require(pair?["user_id"]?.string)
        let asAdmin = try await cloud.send(
            .get, "/v2.1/os-keypairs/k1?user_id=\(demoUser)", token: cloud.admin, version: "2.10")
        #expect(asAdmin.status == .ok)
        let notAdmin = try await cloud.send(
            .get, "/v2.1/os-keypairs?user_id=someone", token: cloud.demo, version: "2.10")
        #expect(notAdmin.status == .forbidden)

        // Kept across a restart; deleted with 204 from 2.2.
        let restarted = try await ComputeCloud(path: path, identity: cloud.identity)
        let after = try await restarted.send(.get, "/v2.1/os-keypairs/k1", token: restarted.demo)
        #expect(after.json?["keypair"]?["public_key"]?.string == Self.publicKey)
        #expect(
            try await restarted.send(.delete, "/v2.1/os-keypairs/k1", token: restarted.demo, version: "2.2").status
                == .noContent)
        let gone = try await restarted.send(.delete, "/v2.1/os-keypairs/k1", token: restarted.demo)
        #expect(
            gone.status == .notFound
                && gone.json?["itemNotFound"]?["message"]?.string?.hasPrefix("Keypair k1 not found for user") == true)
    }

    @Test("Fingerprints: OpenSSH's MD5 of the key blob; a blob naming another type is refused")
    func fingerprints() throws {
        #expect(KeyPairs.sshFingerprint(Self.publicKey) != nil)
        #expect(KeyPairs.sshFingerprint("ssh-rsa " + Self.publicKey.split(separator: " ")[1]) == nil)
        #expect(KeyPairs.sshFingerprint("garbage") == nil)
    }

    @Test("Quotas: Nova's defaults, an admin's own limits per project (key pairs enforced), limits with usage")
    func quotas() async throws {
        let cloud = try await ComputeCloud()
        let demo = try await cloud.identity.projectID("demo")
        let shown = try await cloud.send(.get, "/v2.1/os-quota-sets/\(demo)", token: cloud.demo, version: "2.57")
        #expect(shown.json?["quota_set"]?["instances"]?.int == 10 && shown.json?["quota_set"]?["id"]?.string == demo)
        #expect(shown.json?["quota_set"]?["injected_files"] == nil && shown.json?["quota_set"]?["floating_ips"] == nil)
        let old = try await cloud.send(.get, "/v2.1/os-quota-sets/\(demo)", token: cloud.demo)
        #expect(old.json?["quota_set"]?["floating_ips"]?.int == 10)
        let other = try await cloud.identity.projectID("admin")
        #expect(try await cloud.send(.get, "/v2.1/os-quota-sets/\(other)", token: cloud.demo).status == .forbidden)
        let refused = try await cloud.send(
            .put, "/v2.1/os-quota-sets/\(demo)", token: cloud.demo, json: ["quota_set": ["key_pairs": 1]])
        #expect(refused.status == .forbidden)
        let set = try await cloud.send(
            .put, "/v2.1/os-quota-sets/\(demo)", token: cloud.admin,
            json: ["quota_set": ["key_pairs": 1, "cores": "4"]],
            version: "2.57")
        #expect(set.json?["quota_set"]?["key_pairs"]?.int == 1 && set.json?["quota_set"]?["id"] == nil, "\(set.text)")
        let unknown = try await cloud.send(
            .put, "/v2.1/os-quota-sets/\(demo)", token: cloud.admin, json: ["quota_set": ["bogus": 1]])
        #expect(unknown.status == .badRequest)
        let detail = try await cloud.send(
            .get, "/v2.1/os-quota-sets/\(demo)/detail", token: cloud.demo, version: "2.57")
        #expect(detail.json?["quota_set"]?["cores"] == ["in_use": 0, "limit": 4, "reserved": 0], "\(detail.text)")
        let limits = try await cloud.send(.get, "/v2.1/limits", token: cloud.demo, version: "2.57")
        #expect(limits.json?["limits"]?["absolute"]?["maxTotalCores"]?.int == 4)
        #expect(limits.json?["limits"]?["absolute"]?["totalRAMUsed"]?.int == 0)
        #expect(limits.json?["limits"]?["absolute"]?["maxPersonality"] == nil)
        // One key pair allowed now: the second is refused with Nova's 403.
        let key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHUHgoSNZUu16G9+HD5uWdkLmKZ/Aiq4xnJIDB/FF0z9"
        #expect(
            try await cloud.send(
                .post, "/v2.1/os-keypairs", token: cloud.demo,
                json: ["keypair": ["name": "a", "public_key": .string(key)]]
            ).status == .ok)
        let over = try await cloud.send(
            .post, "/v2.1/os-keypairs", token: cloud.demo, json: ["keypair": ["name": "b", "public_key": .string(key)]])
        #expect(
            over.status == .forbidden
                && over.json?["forbidden"]?["message"]?.string == "Quota exceeded, too many key pairs.")
        #expect(try await cloud.send(.delete, "/v2.1/os-quota-sets/\(demo)", token: cloud.admin).status == .accepted)
        let reset = try await cloud.send(.get, "/v2.1/os-quota-sets/\(demo)/defaults", token: cloud.demo)
        #expect(reset.json?["quota_set"]?["key_pairs"]?.int == 100)
    }

    @Test("A compute agent's heartbeat makes its host a service, a hypervisor and the nova zone")
    func hosts() async throws {
        let cloud = try await ComputeCloud()
        let empty = try await cloud.send(.get, "/v2.1/os-availability-zone", token: cloud.demo)
        #expect(empty.json?["availabilityZoneInfo"]?.array?.isEmpty == true)
        let beat: JSON = [
            "started_at": "2026-12-01T10:00:00Z", "revision": 0,
            "configuration": [
                "hypervisor_hostname": "cmp1", "hypervisor_type": "QEMU", "hypervisor_version": 7_002_000,
                "virt_type": "qemu", "vcpus": 2, "memory_mb": 4096, "local_gb": 40, "host_ip": "10.0.0.3",
            ],
        ]
        let put = try await cloud.send(.put, "/agent/v1/agents/compute/cmp1", token: cloud.admin, json: beat)
        #expect(put.status == .noContent || put.status == .ok, "\(put.text)")
        let services = try await cloud.send(.get, "/v2.1/os-services", token: cloud.admin, version: "2.69")
        let service = services.json?["services"]?.array?.first
        #expect(service?["binary"]?.string == "nova-compute" && service?["host"]?.string == "cmp1")
        #expect(service?["state"]?.string == "up" && service?["id"]?.string?.count == 36, "\(services.text)")
        #expect(try await cloud.send(.get, "/v2.1/os-services", token: cloud.demo).status == .forbidden)
        let list = try await cloud.send(.get, "/v2.1/os-hypervisors/detail", token: cloud.admin, version: "2.88")
        let hypervisor = list.json?["hypervisors"]?.array?.first
        #expect(
            hypervisor?["hypervisor_hostname"]?.string == "cmp1" && hypervisor?["hypervisor_type"]?.string == "QEMU")
        #expect(hypervisor?["host_ip"]?.string == "10.0.0.3" && hypervisor?["vcpus"] == nil)
        let old = try await cloud.send(.get, "/v2.1/os-hypervisors/detail", token: cloud.admin, version: "2.1")
        #expect(old.json?["hypervisors"]?.array?.first?["memory_mb"]?.int == 4096)
        let id = try #require(hypervisor?["id"]?.string)
        let shown = try await cloud.send(.get, "/v2.1/os-hypervisors/\(id)", token: cloud.admin, version: "2.88")
        #expect(shown.json?["hypervisor"]?["state"]?.string == "up")
        let zones = try await cloud.send(.get, "/v2.1/os-availability-zone", token: cloud.demo)
        #expect(zones.json?["availabilityZoneInfo"]?.array?.first?["zoneName"]?.string == "nova")
        let stats = try await cloud.send(.get, "/v2.1/os-hypervisors/statistics", token: cloud.admin)
        #expect(stats.json?["hypervisor_statistics"]?["count"]?.int == 1)

        // `openstack compute service delete`: admins only; the host leaves its aggregate.
        let serviceID = try #require(service?["id"]?.string)
        let made = try await cloud.send(
            .post, "/v2.1/os-aggregates", token: cloud.admin, json: ["aggregate": ["name": "rack1"]])
        let aggregate = try #require(made.json?["aggregate"]?["id"]?.int)
        let added = try await cloud.send(
            .post, "/v2.1/os-aggregates/\(aggregate)/action", token: cloud.admin, json: ["add_host": ["host": "cmp1"]])
        #expect(added.status == .ok, "\(added.text)")
        let path = "/v2.1/os-services/\(serviceID)"
        #expect(try await cloud.send(.delete, path, token: cloud.demo, version: "2.53").status == .forbidden)
        let deleted = try await cloud.send(.delete, path, token: cloud.admin, version: "2.53")
        #expect(deleted.status == .noContent, "\(deleted.text)")
        let gone = try await cloud.send(.get, "/v2.1/os-services", token: cloud.admin, version: "2.69")
        #expect(gone.json?["services"]?.array?.isEmpty == true, "\(gone.text)")
        let again = try await cloud.send(.delete, path, token: cloud.admin, version: "2.53")
        #expect(
            again.status == .notFound
                && again.json?["itemNotFound"]?["message"]?.string == "Service \(serviceID) not found.")
        let left = try await cloud.send(.get, "/v2.1/os-aggregates/\(aggregate)", token: cloud.admin)
        #expect(left.json?["aggregate"]?["hosts"]?.array?.isEmpty == true, "\(left.text)")
    }
}

@Suite("Compute API: servers without a cloud behind them, and the scheduler")
struct ServerRequestTests {
    static func flavor(_ id: String, ram: Int, vcpus: Int = 1, disk: Int = 1) -> Flavor {
        Flavor(
            id: id, name: id, memoryMiB: ram, vcpus: vcpus, diskGiB: disk, ephemeralGiB: 0, swapMiB: 0, rxtxFactor: 1,
            isPublic: true, disabled: false, description: nil, extraSpecs: [:], projects: [], createdAt: 0)
    }

    @Test("A create Nova would refuse is refused the same way, before anything is made; without its peers, 503")
    func refusals() async throws {
        let cloud = try await ComputeCloud()
        let flavor: JSON = ["flavor": ["name": "m1.guest", "id": "7", "ram": 96, "vcpus": 1, "disk": 1]]
        #expect(try await cloud.send(.post, "/v2.1/flavors", token: cloud.admin, json: flavor).status == .ok)
        func create(_ server: JSON) async throws -> ComputeCloud.Client.Reply {
            try await cloud.send(.post, "/v2.1/servers", token: cloud.demo, json: ["server": server], version: "2.96")
        }
        let cases: [(JSON, String)] = [
            (["flavorRef": "7", "imageRef": "i", "networks": "none"], "name"),
            (["name": "vm1", "imageRef": "i", "networks": "none"], "flavorRef"),
            (["name": "vm1", "flavorRef": "99", "imageRef": "i", "networks": "none"], "Flavor 99 could not be found."),
            (["name": "vm1", "flavorRef": "7", "networks": "none"], "Missing imageRef attribute"),
            (["name": "vm1", "flavorRef": "7", "imageRef": "i"], "'networks' is a required property"),
            (
                ["name": "vm1", "flavorRef": "7", "imageRef": "i", "networks": "none", "key_name": "nokey"],
                "Invalid key_name provided."
            ),
            (
                ["name": "vm1", "flavorRef": "7", "imageRef": "i", "networks": "none", "user_data": "not base64!"],
                "User data needs to be valid base 64."
            ),
            (
                ["name": "vm1", "flavorRef": "7", "imageRef": "i", "networks": "none", "availability_zone": "az9"],
                "The requested availability zone is not available"
            ),
        ]
        for (server, message) in cases {
            let refused = try await create(server)
            #expect(refused.status == .badRequest, "\(server.text): \(refused.text)")
            #expect(refused.json?["badRequest"]?["message"]?.string?.contains(message) == true, "\(refused.text)")
        }
        let unavailable = try await create([
            "name": "vm1", "flavorRef": "http://ctl:8774/flavors/7", "imageRef": "i", "networks": "none",
        ])
        #expect(unavailable.status == .serviceUnavailable, "\(unavailable.text)")
        let listed = try await cloud.send(.get, "/v2.1/servers/detail?deleted=False", token: cloud.demo)
        #expect(listed.status == .ok && listed.json?["servers"]?.array?.isEmpty == true, "\(listed.text)")
        let missing = try await cloud.send(.get, "/v2.1/servers/nope", token: cloud.demo)
        #expect(missing.json?["itemNotFound"]?["message"]?.string == "Instance nope could not be found.")
        let action = try await cloud.send(
            .post, "/v2.1/servers/nope/action", token: cloud.demo, json: ["os-stop": nil])
        #expect(action.status == .notFound)
    }

    @Test("The scheduler: hosts whose agent is up with room (vCPUs ×16, RAM ×1.5, disk), the most memory free first")
    func scheduler() {
        let scheduler = Scheduler()
        let hosts = [
            Scheduler.Candidate(host: "cmp1", alive: true, vcpus: 2, memoryMiB: 1000, diskGiB: 10),
            Scheduler.Candidate(host: "cmp2", alive: true, vcpus: 2, memoryMiB: 800, diskGiB: 10),
            Scheduler.Candidate(host: "cmp3", alive: false, vcpus: 64, memoryMiB: 64000, diskGiB: 100),
        ]
        let small = Self.flavor("s", ram: 500)
        #expect(scheduler.place(small, on: hosts, servers: []) == "cmp1")
        var placed = Server(
            id: "a", name: "a", projectID: "p", userID: "u", flavor: small, imageID: "i", imageName: "", keyName: nil,
            publicKey: nil, securityGroups: [], metadata: [:], userData: nil, accessIPv4: "", accessIPv6: "",
            diskConfig: "MANUAL", host: "cmp1", ports: [], power: "running", reboots: 0, rebootType: "SOFT",
            generation: 1, task: nil, fault: nil, serial: 1, launchIndex: 0, reservationID: "r", createdAt: 0,
            updatedAt: 0)
        // cmp1 has 1500 − 500 left, cmp2 1200: the next goes to cmp2, then (700 left
        // there) to cmp1 again.
        #expect(scheduler.place(small, on: hosts, servers: [placed]) == "cmp2")
        var second = placed
        second.id = "b"
        second.host = "cmp2"
        #expect(scheduler.place(small, on: hosts, servers: [placed, second]) == "cmp1")
        #expect(scheduler.place(Self.flavor("big", ram: 1600), on: hosts, servers: []) == nil)
        #expect(scheduler.place(Self.flavor("disk", ram: 10, disk: 11), on: hosts, servers: []) == nil)
        placed.flavor = Self.flavor("cpu", ram: 1, vcpus: 32)
        #expect(scheduler.place(Self.flavor("one", ram: 1), on: [hosts[0]], servers: [placed]) == nil)
    }
}

extension ServerRequestTests {
    @Test("A server's metadata: replaced, merged, one item set, read and deleted, Nova's refusals")
    func metadata() async throws {
        let cloud = try await ComputeCloud()
        let flavor = Self.flavor("7", ram: 96)
        let project = try await cloud.identity.projectID("demo")
        let server = Server(
            id: "s1", name: "vm1", projectID: project, userID: "u", flavor: flavor, imageID: "i", imageName: "",
            keyName: nil, publicKey: nil, securityGroups: [], metadata: ["a": "1"], userData: nil, accessIPv4: "",
            accessIPv6: "", diskConfig: "MANUAL", host: "", ports: [], power: "running", reboots: 0, rebootType: "SOFT",
            generation: 1, task: nil, fault: "No valid host was found.", serial: 1, launchIndex: 0,
            reservationID: "r", createdAt: 0, updatedAt: 0)
        try cloud.api.store.write { transaction in
            transaction.state.servers["s1"] = server
            transaction.touch(kind: "server", id: "s1")
        }
        let merged = try await cloud.send(
            .post, "/v2.1/servers/s1/metadata", token: cloud.demo, json: ["metadata": ["b": "2"]])
        #expect(merged.json?["metadata"] == ["a": "1", "b": "2"], "\(merged.text)")
        let replaced = try await cloud.send(
            .put, "/v2.1/servers/s1/metadata", token: cloud.demo, json: ["metadata": ["c": "3"]])
        #expect(replaced.json?["metadata"] == ["c": "3"], "\(replaced.text)")
        let one = try await cloud.send(
            .put, "/v2.1/servers/s1/metadata/d", token: cloud.demo, json: ["meta": ["d": "4"]])
        #expect(one.json?["meta"] == ["d": "4"], "\(one.text)")
        let mismatch = try await cloud.send(
            .put, "/v2.1/servers/s1/metadata/d", token: cloud.demo, json: ["meta": ["e": "5"]])
        #expect(mismatch.json?["badRequest"]?["message"]?.string == "Request body and URI mismatch")
        #expect(
            try await cloud.send(.get, "/v2.1/servers/s1/metadata/d", token: cloud.demo).json?["meta"] == ["d": "4"])
        #expect(try await cloud.send(.delete, "/v2.1/servers/s1/metadata/d", token: cloud.demo).status == .noContent)
        let gone = try await cloud.send(.get, "/v2.1/servers/s1/metadata/d", token: cloud.demo)
        #expect(gone.json?["itemNotFound"]?["message"]?.string == "Metadata item was not found")
        let shown = try await cloud.send(.get, "/v2.1/servers/s1", token: cloud.demo, version: "2.96")
        #expect(shown.json?["server"]?["metadata"] == ["c": "3"], "\(shown.text)")
        #expect(shown.json?["server"]?["status"]?.string == "ERROR")
        #expect(shown.json?["server"]?["fault"]?["message"]?.string == "No valid host was found.")
        let interfaces = try await cloud.send(.get, "/v2.1/servers/s1/os-interface", token: cloud.demo)
        #expect(interfaces.json?["interfaceAttachments"] == [], "\(interfaces.text)")
        // Actions on a server without a host are refused; the console is empty.
        let stop = try await cloud.send(.post, "/v2.1/servers/s1/action", token: cloud.demo, json: ["os-stop": nil])
        #expect(stop.status == .conflict, "\(stop.text)")
        let console = try await cloud.send(
            .post, "/v2.1/servers/s1/action", token: cloud.demo, json: ["os-getConsoleOutput": ["length": 5]])
        #expect(console.json?["output"]?.string == "", "\(console.text)")
        let unnamed = try await cloud.send(
            .post, "/v2.1/servers/s1/action", token: cloud.demo, json: ["createImage": ["metadata": [:]]])
        #expect(unnamed.status == .badRequest, "\(unnamed.text)")
        let snapshot = try await cloud.send(
            .post, "/v2.1/servers/s1/action", token: cloud.demo, json: ["createImage": ["name": "snap"]])
        #expect(snapshot.status == .serviceUnavailable, "\(snapshot.text)")
        #expect(try await cloud.send(.delete, "/v2.1/servers/s1", token: cloud.demo).status == .noContent)
        #expect(try await cloud.send(.get, "/v2.1/servers/s1", token: cloud.demo).status == .notFound)
    }
}
