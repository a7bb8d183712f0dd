import Foundation
import Hummingbird
import NimbusIdentity
import NimbusNetwork
import NimbusServiceKit
import NimbusTestSupport
import Testing

/// An identity and a network service in-process, the network service asking the identity
/// router about tokens (no fake validator).
struct NetworkCloud {
    typealias Client = InProcessClient<RouterResponder<ServiceContext>>
    let identity: TestIdentity
    let api: NetworkAPI
    let network: Client
    let admin: String
    let demo: String

    init(path: String? = nil, settings: NetworkSettings = .init(vniRanges: [10...12])) async throws {
        identity = try TestIdentity(catalog: [])
        api = try NetworkAPI(
            store: try NetworkStore(path: path), validator: identity.validator, identityURI: "http://ctl:5000",
            settings: settings)
        network = Client(responder: buildNetworkRouter(api: api).buildResponder())
        admin = try await identity.admin()
        demo = try await identity.demo()
    }

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, token: String?, json: JSON? = nil) async throws
        -> Client.Reply
    {
        var headers: [String: String] = [:]
        if let token { headers["X-Auth-Token"] = token }
        if json != nil { headers["Content-Type"] = "application/json" }
        return try await network.send(method, path, headers: headers, body: json?.bytes)
    }

    /// A create that must succeed: the new resource's body.
    func create(_ collection: String, _ member: String, token: String, _ body: JSON) async throws -> JSON {
        let reply = try await send(.post, "/v2.0/\(collection)", token: token, json: [member: body])
        #expect(reply.status == .created, "\(collection): \(reply.text)")
        return try #require(reply.json?[member], "\(reply.text)")
    }

    /// The error of a request that must fail with `status`: Neutron's `type` and `message`.
    func failure(
        _ method: HTTPRequest.Method, _ path: String, token: String, json: JSON? = nil, status: HTTPResponse.Status
    )
        async throws -> (type: String, message: String)
    {
        let reply = try await send(method, path, token: token, json: json)
        #expect(reply.status == status, "\(method) \(path): \(reply.text)")
        let error = reply.json?["NeutronError"]
        return (error?["type"]?.string ?? "", error?["message"]?.string ?? "")
    }

    /// The notes' topology: ext1 (flat on extnet, 10.10.0.0/24, pool .210–.220, admin),
    /// int1 with 192.168.0.0/24 gateway .254 and router1 with gateway and interface (demo).
    func topology() async throws -> Topology {
        let ext = try await create(
            "networks", "network", token: admin,
            [
                "name": "ext1", "router:external": true, "provider:network_type": "flat",
                "provider:physical_network": "extnet",
            ])
        let extID = try #require(ext["id"]?.string)
        let extSubnet = try await create(
            "subnets", "subnet", token: admin,
            [
                "network_id": .string(extID), "ip_version": 4, "cidr": "10.10.0.0/24", "gateway_ip": "10.10.0.1",
                "enable_dhcp": false, "allocation_pools": [["start": "10.10.0.210", "end": "10.10.0.220"]],
            ])
        let int = try await create("networks", "network", token: demo, ["name": "int1"])
        let intID = try #require(int["id"]?.string)
        let subnet = try await create(
            "subnets", "subnet", token: demo,
            [
                "network_id": .string(intID), "ip_version": 4, "cidr": "192.168.0.0/24", "gateway_ip": "192.168.0.254",
                "dns_nameservers": ["8.8.8.8"],
            ])
        let router = try await create("routers", "router", token: demo, ["name": "router1"])
        let routerID = try #require(router["id"]?.string)
        let set = try await send(
            .put, "/v2.0/routers/\(routerID)", token: demo,
            json: ["router": ["external_gateway_info": ["network_id": .string(extID)]]])
        #expect(set.status == .ok, "\(set.text)")
        let subnetID = try #require(subnet["id"]?.string)
        let added = try await send(
            .put, "/v2.0/routers/\(routerID)/add_router_interface", token: demo, json: ["subnet_id": .string(subnetID)])
        #expect(added.status == .ok, "\(added.text)")
        return Topology(
            external: extID, externalSubnet: try #require(extSubnet["id"]?.string), internal: intID, subnet: subnetID,
            router: routerID, interface: added.json ?? .null,
            gateway: set.json?["router"]?["external_gateway_info"] ?? .null)
    }

    struct Topology {
        var external: String
        var externalSubnet: String
        var `internal`: String
        var subnet: String
        var router: String
        var interface: JSON
        var gateway: JSON
    }
}
