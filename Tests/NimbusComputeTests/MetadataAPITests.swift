import Foundation
import Hummingbird
import NimbusGuestData
import NimbusServiceKit
import NimbusTestSupport
import Testing

@testable import NimbusCompute

@Suite("Metadata API: the documents a guest reads at 169.254.169.254, vouched for by its router's proxy")
struct MetadataAPITests {
    static let secret = "proxy-secret"

    /// A compute service holding one server of the demo project with a key, metadata
    /// and user data, and its metadata router.
    static func cloud() async throws -> (ComputeCloud, InProcessClient<RouterResponder<ServiceContext>>, Server) {
        let cloud = try await ComputeCloud()
        let project = try await cloud.identity.projectID("demo")
        let server = Server(
            id: "5f0c6a3e-1b6d-4f4e-9a51-6f3c2d7e8a90", name: "vm1", projectID: project, userID: "u",
            flavor: ServerRequestTests.flavor("m1.guest", ram: 96), imageID: "ab12cd34-0000-4000-8000-000000000000",
            imageName: "guest", keyName: "key1", publicKey: ComputeAPITests.publicKey, securityGroups: ["class1"],
            metadata: ["role": "web"], userData: Data("#!/bin/sh\necho hi\n".utf8).base64EncodedString(),
            accessIPv4: "", accessIPv6: "", diskConfig: "MANUAL", host: "cmp1",
            ports: [
                ServerPort(
                    id: "0c3f6a9e-77aa-4b1e-8d2c-aa11bb22cc33", networkID: "n1", networkName: "int1",
                    mac: "fa:16:3e:12:34:56", mtu: 1450,
                    addresses: [
                        ServerAddress(
                            address: "192.168.0.5", subnetID: "s1", version: 4, prefixLength: 24,
                            gateway: "192.168.0.254", dhcp: true, nameservers: ["10.0.0.1"])
                    ], madeHere: true)
            ], power: "running", reboots: 0, rebootType: "SOFT", generation: 1, task: nil, fault: nil, serial: 10,
            launchIndex: 0, reservationID: "r-1234abcd", createdAt: 0, updatedAt: 0, configDrive: false)
        try cloud.api.store.write { transaction in
            transaction.state.servers[server.id] = server
            transaction.touch(kind: "server", id: server.id)
        }
        let metadata = InProcessClient(
            responder: buildMetadataRouter(api: MetadataAPI(compute: cloud.api, secret: secret)).buildResponder())
        return (cloud, metadata, server)
    }

    static func signed(_ server: Server, secret: String = secret) -> [String: String] {
        [
            "X-Instance-ID": server.id, "X-Tenant-ID": server.projectID,
            "X-Instance-ID-Signature": MetadataSignature.sign(server.id, secret: secret),
            "X-Forwarded-For": "192.168.0.5",
        ]
    }

    @Test("The OpenStack and EC2 documents of the instance the proxy names")
    func documents() async throws {
        let (_, metadata, server) = try await Self.cloud()
        let headers = Self.signed(server)
        func get(_ path: String) async throws -> InProcessClient<RouterResponder<ServiceContext>>.Reply {
            try await metadata.send(.get, path, headers: headers)
        }
        let meta = try await get("/openstack/latest/meta_data.json")
        #expect(meta.status == .ok && meta.json?["uuid"]?.string == server.id, "\(meta.text)")
        #expect(meta.json?["public_keys"]?["key1"]?.string == ComputeAPITests.publicKey)
        #expect(meta.json?["meta"]?["role"]?.string == "web" && meta.json?["hostname"]?.string == "vm1")
        let network = try await get("/openstack/2013-10-17/network_data.json")
        #expect(network.json?["links"]?.array?.first?["ethernet_mac_address"]?.string == "fa:16:3e:12:34:56")
        #expect(try await get("/openstack/latest/user_data").text == "#!/bin/sh\necho hi\n")
        #expect(try await get("/openstack/latest").text.contains("meta_data.json\npassword"))
        #expect(try await get("/openstack").text.hasSuffix("2020-10-14\nlatest"))
        #expect(try await get("/").text.hasPrefix("1.0\n2007-01-19"))
        #expect(try await get("/latest").text == "meta-data/\nuser-data")
        let listing = try await get("/latest/meta-data/")
        #expect(listing.text.contains("public-keys/\n") && listing.text.contains("placement/"), "\(listing.text)")
        #expect(try await get("/latest/meta-data/instance-id").text == "i-0000000a")
        #expect(try await get("/2009-04-04/meta-data/local-ipv4").text == "192.168.0.5")
        #expect(try await get("/latest/meta-data/instance-type").text == "m1.guest")
        #expect(try await get("/latest/meta-data/placement/availability-zone").text == "nova")
        #expect(try await get("/latest/meta-data/public-keys").text == "0=key1")
        #expect(try await get("/latest/meta-data/public-keys/0/").text == "openssh-key")
        #expect(try await get("/latest/meta-data/public-keys/0/openssh-key").text == ComputeAPITests.publicKey)
        #expect(try await get("/latest/meta-data/security-groups").text == "class1")
        // No floating IP is known without a network service.
        #expect(try await get("/latest/meta-data/public-ipv4").text == "")
        #expect(try await get("/latest/meta-data/nothing").status == .notFound)
        #expect(try await get("/openstack/1999-01-01/meta_data.json").status == .notFound)
        #expect(try await get("/2001-01-01/meta-data/").status == .notFound)
    }

    @Test("Without the proxy's headers, with a forged signature or another project, nothing is told")
    func refusals() async throws {
        let (_, metadata, server) = try await Self.cloud()
        let path = "/openstack/latest/meta_data.json"
        let bare = try await metadata.send(.get, path)
        #expect(bare.status == .badRequest && bare.text == "X-Instance-ID header is missing from request.")
        var headers = Self.signed(server)
        headers["X-Instance-ID-Signature"] = nil
        #expect(try await metadata.send(.get, path, headers: headers).status == .badRequest)
        let forged = try await metadata.send(.get, path, headers: Self.signed(server, secret: "guess"))
        #expect(forged.status == .forbidden && forged.text == "Invalid proxy request signature.", "\(forged.text)")
        headers = Self.signed(server)
        headers["X-Tenant-ID"] = "another-project"
        #expect(try await metadata.send(.get, path, headers: headers).status == .notFound)
        var unknown = server
        unknown.id = "6f0c6a3e-1b6d-4f4e-9a51-6f3c2d7e8a91"
        #expect(try await metadata.send(.get, path, headers: Self.signed(unknown)).status == .notFound)
    }

    @Test("The password: posted once by the guest (409 the second time), shown and cleared through the compute API")
    func password() async throws {
        let (cloud, metadata, server) = try await Self.cloud()
        let path = "/openstack/2013-10-17/password"
        let headers = Self.signed(server)
        #expect(try await metadata.send(.get, path, headers: headers).text == "")
        let posted = try await metadata.send(.post, path, headers: headers, body: Array("sealed".utf8))
        #expect(posted.status == .ok, "\(posted.text)")
        #expect(try await metadata.send(.get, path, headers: headers).text == "sealed")
        let again = try await metadata.send(.post, path, headers: headers, body: Array("other".utf8))
        #expect(again.status == .conflict)
        let large = try await metadata.send(.post, path, headers: headers, body: Array(repeating: 65, count: 300))
        #expect(large.status == .badRequest)
        let shown = try await cloud.send(.get, "/v2.1/servers/\(server.id)/os-server-password", token: cloud.demo)
        #expect(shown.json?["password"]?.string == "sealed", "\(shown.text)")
        let cleared = try await cloud.send(
            .delete, "/v2.1/servers/\(server.id)/os-server-password", token: cloud.demo)
        #expect(cleared.status == .noContent)
        #expect(try await metadata.send(.get, path, headers: headers).text == "")
        let rendered = try await cloud.send(.get, "/v2.1/servers/\(server.id)", token: cloud.demo)
        #expect(rendered.json?["server"]?["config_drive"]?.string == "", "\(rendered.text)")
    }

    @Test("A signature is the HMAC-SHA256 of the instance id in hex, checked whatever its case")
    func signature() {
        // printf %s i-1 | openssl dgst -sha256 -hmac secret
        let known = MetadataSignature.sign("i-1", secret: "secret")
        #expect(known == "d0eb6bf7ee2f44ba139cba554da58398da170e9d2f8f3621162c9a07fc576524")
        #expect(MetadataSignature.isValid(known.uppercased(), for: "i-1", secret: "secret"))
        #expect(!MetadataSignature.isValid(known, for: "i-2", secret: "secret"))
        #expect(!MetadataSignature.isValid("", for: "i-1", secret: "secret"))
    }
}

@Suite("Compute API: instance actions")
struct InstanceActionTests {
    @Test("An action is recorded with its request id and shown with its event; one under way refuses the next (409)")
    func actions() async throws {
        let (cloud, _, server) = try await MetadataAPITests.cloud()
        let path = "/v2.1/servers/\(server.id)"
        let paused = try await cloud.send(.post, path + "/action", token: cloud.demo, json: ["pause": nil])
        #expect(paused.status == .accepted, "\(paused.text)")
        let requestID = try #require(paused.header("X-OpenStack-Request-ID"))
        let shown = try await cloud.send(.get, path, token: cloud.demo, version: "2.96")
        #expect(shown.json?["server"]?["OS-EXT-STS:task_state"]?.string == "pausing", "\(shown.text)")
        let again = try await cloud.send(.post, path + "/action", token: cloud.demo, json: ["unpause": nil])
        #expect(again.status == .conflict, "\(again.text)")
        let listed = try await cloud.send(.get, path + "/os-instance-actions", token: cloud.demo)
        let actions = listed.json?["instanceActions"]?.array ?? []
        #expect(actions.map { $0["action"]?.string } == ["pause"], "\(listed.text)")
        #expect(actions.first?["request_id"]?.string == requestID)
        let one = try await cloud.send(
            .get, path + "/os-instance-actions/\(requestID)", token: cloud.demo, version: "2.62")
        let event = one.json?["instanceAction"]?["events"]?.array?.first
        #expect(event?["event"]?.string == "compute_pause" && event?["host"] == nil, "\(one.text)")
        let missing = try await cloud.send(.get, path + "/os-instance-actions/req-none", token: cloud.demo)
        #expect(missing.status == .notFound)
    }
}
