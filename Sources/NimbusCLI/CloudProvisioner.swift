import Foundation
import NimbusConfig
import NimbusModel
import NimbusPlan
import NimbusRollout
import NimbusSystem

/// The `provision.*` steps, carried out from the deploying machine through the cloud's own
/// APIs as the admin, the way a user would with the `openstack` client: the default flavors,
/// and (`CONFIG_PROVISION_DEMO=y`) Packstack's demo — `public` (flat, external, the
/// floating pool), the demo project's `private` network and `router1`, the public
/// image, and `keystonerc_demo`. Each thing is looked up by name first and made only when
/// missing, so a re-run changes nothing; a dry run only looks.
struct CloudProvisioner: Sendable {
    let answers: AnswerFile
    let delivery: ServiceDelivery
    /// Where `keystonerc_demo` goes on this machine (beside `keystonerc_admin`).
    let demoRCPath: String
    /// `$NIMBUS_GUEST_IMAGE`, or this source tree's `.build/guest-image/nimbus-guest.qcow2`.
    let bundledImage: String?

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// `run` as the rollout calls it.
    var provision: Rollout.Provision { { step, executor, dryRun in run(step, executor, dryRun: dryRun) } }

    func run(_ step: PlanStep, _ executor: any RemoteExecutor, dryRun: Bool) -> (outcome: StepOutcome, detail: String) {
        do {
            let api: AdminAPI
            do { api = try AdminAPI.login(delivery: delivery, answers: answers) } catch  where dryRun {
                return (.changed, "would be made once the services answer (\(error))")
            }
            var work = Work(api: api, dryRun: dryRun)
            switch step.name {
            case "provision.flavors": try flavors(&work)
            case "provision.demo": try demo(&work, executor)
            default: return (.failed, "\(step.name) is no provisioning step this version knows")
            }
            if work.done.isEmpty { return (.unchanged, work.kept.joined(separator: ", ") + " in place") }
            return (.changed, (dryRun ? "would make " : "made ") + work.done.joined(separator: ", "))
        } catch {
            return (.failed, "\(error)")
        }
    }

    /// What a step made (or would make) and what it found in place.
    struct Work {
        var api: AdminAPI
        var dryRun: Bool
        var done: [String] = []
        var kept: [String] = []
    }

    // MARK: Flavors

    func flavors(_ work: inout Work) throws {
        let listed = try work.api.get(.compute, "/flavors/detail?is_public=None")["flavors"] as? [[String: Any]] ?? []
        let names = Set(listed.compactMap { $0["name"] as? String })
        let ids = Set(listed.compactMap { $0["id"] as? String })
        var made: [String] = []
        for flavor in DefaultFlavor.all {
            // A flavor of that name, or another under its id (the student's own): left alone.
            if names.contains(flavor.name) || ids.contains(flavor.id) { continue }
            made.append(flavor.name)
            if work.dryRun { continue }
            _ = try work.api.send(
                .compute, "POST", "/flavors",
                [
                    "flavor": [
                        "id": flavor.id, "name": flavor.name, "ram": flavor.ramMiB, "disk": flavor.diskGiB,
                        "vcpus": flavor.vcpus, "os-flavor-access:is_public": true,
                    ]
                ], expect: [200])
        }
        if made.isEmpty {
            work.kept.append("the default flavors")
        } else {
            work.done.append("flavors " + made.joined(separator: ", "))
        }
    }

    // MARK: Demo

    func demo(_ work: inout Work, _ executor: any RemoteExecutor) throws {
        let spec = DemoSpec(answers)
        let project = try work.api.id(.identity, "/projects?name=\(DemoSpec.project)", "projects")
        guard let project else {
            throw Failure(
                "the identity service has no project \(DemoSpec.project): the bootstrap makes it with CONFIG_PROVISION_DEMO=y; re-run deploy"
            )
        }
        try keystonercDemo(&work, executor)

        // public: flat on the bridge's physical network, external, with the floating pool.
        var publicID = try work.api.id(
            .network, "/v2.0/networks?name=\(DemoSpec.publicNetwork)&router:external=true", "networks")
        if publicID == nil,
            let other = try work.api.get(.network, "/v2.0/networks?name=\(DemoSpec.publicNetwork)")["networks"]
                as? [[String: Any]], let first = other.first
        {
            throw Failure(
                "a network named \(DemoSpec.publicNetwork) is there already and is not external (project \(first["project_id"] ?? "?")); rename it, or set CONFIG_PROVISION_DEMO=n"
            )
        }
        if publicID == nil {
            work.done.append("network \(DemoSpec.publicNetwork) (flat on \(spec.physicalNetwork), external)")
            if !work.dryRun {
                publicID = try work.api.created(
                    .network, "/v2.0/networks",
                    [
                        "network": [
                            "name": DemoSpec.publicNetwork, "router:external": true, "shared": false,
                            "provider:network_type": "flat", "provider:physical_network": spec.physicalNetwork,
                        ]
                    ], "network")
            }
        } else {
            work.kept.append("network \(DemoSpec.publicNetwork)")
        }
        let pools = spec.poolsOrDefault
        try subnet(
            &work, name: DemoSpec.publicSubnet, network: publicID,
            [
                "name": DemoSpec.publicSubnet, "ip_version": 4, "cidr": spec.publicRange.description,
                "gateway_ip": spec.publicGateway.description, "enable_dhcp": false,
                "allocation_pools": pools.map { ["start": $0.start.description, "end": $0.end.description] },
            ],
            describe:
                "\(spec.publicRange), floating IPs \(pools.map { "\($0.start)–\($0.end)" }.joined(separator: ", "))")

        // The demo project's private network and router1 between the two.
        var privateID = try work.api.id(
            .network, "/v2.0/networks?name=\(DemoSpec.privateNetwork)&project_id=\(project)", "networks")
        if privateID == nil {
            work.done.append("network \(DemoSpec.privateNetwork) (demo)")
            if !work.dryRun {
                privateID = try work.api.created(
                    .network, "/v2.0/networks",
                    ["network": ["name": DemoSpec.privateNetwork, "project_id": project]], "network")
            }
        } else {
            work.kept.append("network \(DemoSpec.privateNetwork)")
        }
        let privateSubnetID = try subnet(
            &work, name: DemoSpec.privateSubnet, network: privateID,
            [
                "name": DemoSpec.privateSubnet, "ip_version": 4, "cidr": spec.privateRange.description,
                "project_id": project, "enable_dhcp": true,
            ], describe: spec.privateRange.description)
        try router(&work, project: project, publicID: publicID, privateSubnetID: privateSubnetID)
        if delivery.installs("image") { try image(&work, spec) }
    }

    /// The subnet `name` on `network` (nil in a dry run when the network is still to be made).
    @discardableResult
    func subnet(
        _ work: inout Work, name: String, network: String?, _ body: [String: Any], describe: String
    ) throws -> String? {
        if let network,
            let id = try work.api.id(.network, "/v2.0/subnets?name=\(name)&network_id=\(network)", "subnets")
        {
            work.kept.append("subnet \(name)")
            return id
        }
        work.done.append("subnet \(name) (\(describe))")
        guard !work.dryRun, let network else { return nil }
        var body = body
        body["network_id"] = network
        return try work.api.created(.network, "/v2.0/subnets", ["subnet": body], "subnet")
    }

    func router(_ work: inout Work, project: String, publicID: String?, privateSubnetID: String?) throws {
        let found =
            try work.api.get(.network, "/v2.0/routers?name=\(DemoSpec.router)&project_id=\(project)")["routers"]
            as? [[String: Any]] ?? []
        var router = found.first
        if router == nil {
            work.done.append("router \(DemoSpec.router) (gateway on \(DemoSpec.publicNetwork))")
            guard !work.dryRun, let publicID else { return }
            router =
                try work.api.send(
                    .network, "POST", "/v2.0/routers",
                    [
                        "router": [
                            "name": DemoSpec.router, "project_id": project,
                            "external_gateway_info": ["network_id": publicID],
                        ]
                    ], expect: [201])["router"] as? [String: Any]
        } else {
            work.kept.append("router \(DemoSpec.router)")
        }
        guard let routerID = router?["id"] as? String else { return }
        // Its interface on private_subnet, when it has none there.
        let ports =
            try work.api.get(.network, "/v2.0/ports?device_id=\(routerID)&device_owner=network:router_interface")[
                "ports"] as? [[String: Any]] ?? []
        let onSubnet = ports.contains { port in
            (port["fixed_ips"] as? [[String: Any]] ?? []).contains { $0["subnet_id"] as? String == privateSubnetID }
        }
        if onSubnet {
            work.kept.append("\(DemoSpec.router)'s interface")
            return
        }
        work.done.append("\(DemoSpec.router)'s interface on \(DemoSpec.privateSubnet)")
        guard !work.dryRun, let privateSubnetID else { return }
        _ = try work.api.send(
            .network, "PUT", "/v2.0/routers/\(routerID)/add_router_interface", ["subnet_id": privateSubnetID],
            expect: [200])
    }

    /// The public image, uploaded once: looked up by name, so a later deploy (or a changed
    /// file) never replaces one that instances may be using.
    func image(_ work: inout Work, _ spec: DemoSpec) throws {
        let name = Self.queryValue(spec.imageName)
        let found =
            try work.api.get(.image, "/v2/images?name=\(name)&visibility=public")["images"] as? [[String: Any]] ?? []
        if found.contains(where: { $0["status"] as? String == "active" }) {
            work.kept.append("image \(spec.imageName)")
            return
        }
        // An upload of ours that never finished (an interrupted deploy): made again.
        for stale in found
        where stale["status"] as? String == "queued" && stale["owner"] as? String == work.api.projectID {
            if !work.dryRun, let id = stale["id"] as? String {
                _ = try work.api.send(.image, "DELETE", "/v2/images/\(id)", nil, expect: [204, 404])
            }
        }
        if let other = found.first {
            throw Failure(
                "a public image \(spec.imageName) is there already but \(other["status"] ?? "not active"); delete it (openstack image delete \(other["id"] ?? "")) or name the demo's another with CONFIG_PROVISION_IMAGE_NAME"
            )
        }
        let (data, source) = try imageData(spec, dryRun: work.dryRun)
        let size = String(format: "%.1f MiB", Double(data.count) / 1_048_576)
        work.done.append("public image \(spec.imageName) (\(source)\(work.dryRun ? "" : ", \(size)"))")
        if work.dryRun { return }
        var body: [String: Any] = [
            "name": spec.imageName, "disk_format": spec.imageFormat, "container_format": "bare",
            "visibility": "public",
        ]
        // The bundled guest's kernel needs 72–76 MiB (docs/guest-image.md).
        if spec.imageSource.isEmpty { body["min_ram"] = 80 }
        guard let id = try work.api.send(.image, "POST", "/v2/images", body, expect: [201])["id"] as? String else {
            throw Failure("the image service made \(spec.imageName) without an id")
        }
        _ = try work.api.send(
            .image, "PUT", "/v2/images/\(id)/file", data, contentType: "application/octet-stream", expect: [204],
            timeout: 120)
    }

    /// The image's bytes and where they came from (nothing is read in a dry run).
    func imageData(_ spec: DemoSpec, dryRun: Bool) throws -> (Data, String) {
        let source = spec.imageSource
        if source.hasPrefix("http://") || source.hasPrefix("https://") {
            if dryRun { return (Data(), source) }
            let file = NSTemporaryDirectory() + "nimbus-image-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: file) }
            let fetched = try? ProcessRunner().runBlocking(
                Command(["curl", "-fsSL", "--max-time", "300", "-o", file, source], timeout: 320))
            guard let fetched, fetched.succeeded, let data = FileManager.default.contents(atPath: file) else {
                let why = fetched?.stderr.trimmingCharacters(in: .whitespacesAndNewlines) ?? "curl did not run"
                throw Failure(
                    "cannot fetch CONFIG_PROVISION_IMAGE_URL=\(source) (\(why)); give a file on this machine, or leave it empty for Nimbus's own guest image"
                )
            }
            return (data, source)
        }
        let path = source.isEmpty ? bundledImage : DeployCommand.expand(source)
        guard let path, FileManager.default.isReadableFile(atPath: path) else {
            throw Failure(
                source.isEmpty
                    ? "no guest image to upload: build it with 'make guest-image' (or set $NIMBUS_GUEST_IMAGE, or CONFIG_PROVISION_IMAGE_URL)"
                    : "CONFIG_PROVISION_IMAGE_URL=\(source): no such file on this machine")
        }
        let label = source.isEmpty ? "Nimbus guest image" : path
        if dryRun { return (Data(), label) }
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure("cannot read \(path)") }
        return (data, label)
    }

    /// `text` for a query string: letters and digits as they are, everything else escaped.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    /// `keystonerc_demo` here and in /root on the controller, as Packstack leaves it.
    func keystonercDemo(_ work: inout Work, _ executor: any RemoteExecutor) throws {
        let text = delivery.keystonerc(demo: true)
        let local = (try? String(contentsOfFile: demoRCPath, encoding: .utf8)) == text
        let remote =
            (try? executor.run("cat /root/keystonerc_demo 2>/dev/null", input: nil, timeout: 15).stdout) == text
        if local && remote {
            work.kept.append("keystonerc_demo")
            return
        }
        work.done.append("keystonerc_demo")
        if work.dryRun { return }
        guard
            FileManager.default.createFile(
                atPath: demoRCPath, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw Failure("cannot write \(demoRCPath)") }
        do {
            try executor.upload(Data(text.utf8), to: "/root/keystonerc_demo", mode: 0o600, timeout: 30)
        } catch {
            throw Failure("cannot write /root/keystonerc_demo on the controller: \(error.description)")
        }
    }
}

/// The cloud's APIs as the admin: a token scoped to the admin project and the catalog's
/// public URLs.
struct AdminAPI {
    enum Service: String {
        case identity, compute, network, image
    }

    let token: String
    let urls: [String: String]
    /// The admin project the token is scoped to (what the admin's uploads are owned by).
    let projectID: String

    static func login(delivery: ServiceDelivery, answers: AnswerFile) throws -> AdminAPI {
        let body: [String: Any] = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": [
                        "user": [
                            "name": delivery.adminUser, "domain": ["name": "Default"],
                            "password": answers.password(.keystoneAdminPassword),
                        ]
                    ],
                ],
                "scope": ["project": ["name": "admin", "domain": ["name": "Default"]]],
            ]
        ]
        let reply: HTTPProbe.Reply
        do {
            reply = try HTTPProbe.send(
                "POST", delivery.identityURL + "/auth/tokens", headers: ["Content-Type": "application/json"],
                body: try JSONSerialization.data(withJSONObject: body), timeout: 15)
        } catch {
            throw CloudProvisioner.Failure("cannot log in as the admin at \(delivery.identityURL): \(error)")
        }
        guard reply.status == 201, let token = reply.header("X-Subject-Token") else {
            throw CloudProvisioner.Failure(
                "the identity service refused the admin's login: HTTP \(reply.status) \(reply.text.prefix(200))")
        }
        let catalog =
            ((try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any]).flatMap {
                ($0["token"] as? [String: Any])?["catalog"] as? [[String: Any]]
            } ?? []
        let projectID =
            ((try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any]).flatMap {
                (($0["token"] as? [String: Any])?["project"] as? [String: Any])?["id"] as? String
            } ?? ""
        var urls: [String: String] = [:]
        for service in catalog {
            guard let type = service["type"] as? String,
                let url = (service["endpoints"] as? [[String: Any]] ?? []).first(where: {
                    $0["interface"] as? String == "public"
                })?["url"] as? String
            else { continue }
            urls[type] = url
        }
        return AdminAPI(token: token, urls: urls, projectID: projectID)
    }

    func url(_ service: Service, _ path: String) throws -> String {
        guard let base = urls[service.rawValue] else {
            throw CloudProvisioner.Failure("the catalog has no \(service.rawValue) endpoint")
        }
        return base + path
    }

    /// One request; the reply's JSON object (empty for no body). Any status outside
    /// `expect` is an error quoting the service's message.
    @discardableResult
    func send(
        _ service: Service, _ method: String, _ path: String, _ body: Any?, contentType: String = "application/json",
        expect: Set<Int>, timeout: Double = 30
    ) throws -> [String: Any] {
        let url = try url(service, path)
        var headers = ["X-Auth-Token": token, "Accept": "application/json"]
        var data: Data?
        if let raw = body as? Data {
            data = raw
        } else if let body {
            data = try JSONSerialization.data(withJSONObject: body)
        }
        if data != nil { headers["Content-Type"] = contentType }
        if service == .compute { headers["OpenStack-API-Version"] = "compute 2.55" }
        let reply: HTTPProbe.Reply
        do {
            reply = try HTTPProbe.send(method, url, headers: headers, body: data, timeout: timeout)
        } catch {
            throw CloudProvisioner.Failure("\(method) \(url): \(error)")
        }
        guard expect.contains(reply.status) else {
            throw CloudProvisioner.Failure("\(method) \(url): HTTP \(reply.status) \(reply.text.prefix(300))")
        }
        if reply.body.isEmpty { return [:] }
        return (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any] ?? [:]
    }

    func get(_ service: Service, _ path: String) throws -> [String: Any] {
        try send(service, "GET", path, nil, expect: [200])
    }

    /// The id of the first item of a listing, or nil.
    func id(_ service: Service, _ path: String, _ key: String) throws -> String? {
        (try get(service, path)[key] as? [[String: Any]])?.first?["id"] as? String
    }

    /// POSTs `body` and returns the new resource's id (`key` is its member in the reply).
    func created(_ service: Service, _ path: String, _ body: [String: Any], _ key: String) throws -> String {
        let reply = try send(service, "POST", path, body, expect: [201])
        guard let id = (reply[key] as? [String: Any])?["id"] as? String else {
            throw CloudProvisioner.Failure("POST \(path): the reply names no \(key) id")
        }
        return id
    }
}
