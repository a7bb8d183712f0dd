import Foundation
import NimbusConfig
import NimbusManifest
import NimbusPlan
import Testing

@testable import NimbusRollout

@Suite("Service delivery (binaries, manifest, identity, image, object)")
struct ServiceDeliveryTests {
    let base = try? RolloutTests()

    func delivery() throws -> (ServiceDelivery, Plan) {
        let base = try #require(base)
        let root = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
        let templates = root.appendingPathComponent("templates")
        var texts: [String: String] = [:]
        for name in [
            "identity.conf", "image.conf", "object.conf", "network.conf", "network-agent.conf", "network-gateway.conf",
            "compute.conf", "compute-agent.conf", "block-storage.conf", "volume.conf", "nimbus-api.service",
            "nimbus-agent.service",
        ] {
            texts[name] = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
        }
        let manifest = try ServiceManifest.load(path: root.appendingPathComponent("roles/services.yaml").path)
        let delivery = ServiceDelivery(
            binaries: [
                .server: .init(data: Data("binary".utf8), sha256: "ab12"),
                .agent: .init(data: Data("agent".utf8), sha256: "cd34"),
            ], templates: texts,
            manifest: manifest, manifestText: manifest.source, answers: base.answers,
            placement: ServiceDelivery.placement(of: base.plan))
        return (delivery, base.plan)
    }

    @Test("install, health and register steps of identity, image and object: config, unit, keys, bootstrap, keystonerc")
    func identitySteps() throws {
        let (delivery, plan) = try delivery()
        var text = ""
        for step in plan.hosts.flatMap(\.steps) where step.kind != .prepare {
            switch try delivery.work(for: step) {
            case .resources(let prepared): text += "== \(step.name)\n" + describe(prepared.resources)
            case .uploadBinary(let binary, _): text += "== \(step.name): upload \(binary.rawValue)\n"
            case .notYet(let reason): text += "== \(step.name): skipped (\(reason))\n"
            }
        }
        #expect(text.contains("== install.nimbus-server: upload nimbus-server"))
        // The network agents are carried out: the network and compute hosts get nimbus-agent.
        #expect(text.contains("== install.nimbus-agent: upload nimbus-agent"))
        #expect(text.contains("[install.identity/config] file /etc/nimbus/identity.conf 0640 root:nimbus-identity"))
        #expect(text.contains("[install.identity/user] run: useradd --system --user-group"))
        #expect(text.contains("[install.identity/manifest] file /etc/nimbus/services.yaml 0644 root:root"))
        #expect(text.contains("runuser -u nimbus-identity -- /usr/local/bin/nimbus-server identity rotate-keys"))
        #expect(text.contains("User=nimbus-identity\nGroup=nimbus-identity\n"))
        #expect(text.contains("CapabilityBoundingSet=\n"))
        // The API listens on its host's management address, not every address.
        #expect(text.contains("bind = 10.0.0.1:5000"))
        #expect(text.contains("public_url = http://10.0.0.1:5000/v3"))
        #expect(text.contains("ExecStart=/usr/local/bin/nimbus-server identity --config /etc/nimbus/identity.conf"))
        #expect(text.contains("# Written by nimbus deploy. /usr/local/bin/nimbus-server sha256 ab12"))
        #expect(
            text.contains(
                "[install.identity/service] service nimbus-identity.service enabled=true running=true restart-on=install.identity/config,install.identity/unit"
            ))
        #expect(text.contains("check: /usr/local/bin/nimbus-server health identity --wait 30"))
        #expect(
            text.contains("[register.identity/spec] file /etc/nimbus/identity-bootstrap.json 0640 root:nimbus-identity")
        )
        #expect(text.contains("runuser -u nimbus-identity -- /usr/local/bin/nimbus-server identity bootstrap"))
        #expect(text.contains("\"admin_password\": \"secret-password\""))
        #expect(text.contains("http://10.0.0.1:8776/v3/$(project_id)s"))
        #expect(text.contains("http://10.0.0.4:8080/v1/AUTH_$(project_id)s"))
        #expect(text.contains("[register.identity/keystonerc] file /root/keystonerc_admin 0600"))
        #expect(text.contains("export OS_AUTH_URL=http://10.0.0.1:5000/v3"))
        #expect(text.contains("[install.image/config] file /etc/nimbus/image.conf 0640 root:nimbus-image"))
        #expect(text.contains("identity_url = http://10.0.0.1:5000/v3"))
        #expect(text.contains("ExecStart=/usr/local/bin/nimbus-server image --config /etc/nimbus/image.conf"))
        #expect(!text.contains("install.image/keys"))
        // The image service's own user, for object storage (which this layout installs).
        #expect(text.contains("backend = file"))
        #expect(text.contains("user = glance\npassword = \(delivery.answers.password(.glanceServicePassword))\n"))
        #expect(text.contains("\"glance\": \"\(delivery.answers.password(.glanceServicePassword))\""))
        #expect(text.contains("check: /usr/local/bin/nimbus-server health image --wait 30"))
        // The compute API and its agent on the compute host, libvirt set up for a container.
        #expect(text.contains("[install.compute/config] file /etc/nimbus/compute.conf 0640 root:nimbus-compute"))
        #expect(text.contains("bind = 10.0.0.1:8774"))
        #expect(text.contains("api_url = http://10.0.0.1:8774"))
        #expect(text.contains("cgroup_controllers = [ ]"))
        // Object storage goes to the storage host of the four-node layout.
        #expect(text.contains("[install.object/config] file /etc/nimbus/object.conf 0640 root:nimbus-object"))
        #expect(text.contains("bind = 10.0.0.4:8080"))
        #expect(text.contains("ExecStart=/usr/local/bin/nimbus-server object --config /etc/nimbus/object.conf"))
        #expect(text.contains("check: /usr/local/bin/nimbus-server health object --wait 30"))
    }

    @Test("CONFIG_GLANCE_BACKEND=swift reaches image.conf; without object storage the image service has no swift user")
    func glanceBackend() throws {
        let (delivery, _) = try delivery()
        var swift = delivery
        let loaded = AnswerFileLoader.load(
            bytes: Array((RolloutTests.answerText + "\nCONFIG_GLANCE_BACKEND=swift\n").utf8))
        swift.answers = try #require(loaded.file, "\(loaded.diagnostics)")
        let image = try #require(delivery.manifest["image"])
        let config = try swift.template("image.conf", swift.values(for: image, on: "10.0.0.1"))
        #expect(config.contains("[store]\n") && config.contains("backend = swift\n"))
        #expect(config.contains("user = glance\n"))
        var noObject = delivery
        noObject.placement["object"] = nil
        let plain = try noObject.template("image.conf", noObject.values(for: image, on: "10.0.0.1"))
        #expect(plain.contains("backend = file\n") && plain.contains("user = \n"))
        #expect(noObject.bootstrapJSON().contains("\"glance\": \""))
        noObject.placement["image"] = nil
        #expect(!noObject.bootstrapJSON().contains("\"glance\": \""))
    }

    @Test(
        "The network API and its agents' configurations: VNI ranges and bridges, the API and login, which host serves every network"
    )
    func networkConfigs() throws {
        let (delivery, _) = try delivery()
        let manifest = delivery.manifest
        let api = try #require(manifest["network"])
        let config = try delivery.template("network.conf", delivery.values(for: api, on: "10.0.0.1"))
        #expect(config.contains("bind = 10.0.0.1:9696\n") && config.contains("vni_ranges = 10:100\n"))
        #expect(config.contains("bridge_mappings = extnet:br-ex\n"))
        let agent = try #require(manifest["network-agent"])
        let compute = try delivery.template("network-agent.conf", delivery.values(for: agent, on: "10.0.0.3"))
        #expect(compute.contains("api_url = http://10.0.0.1:9696\n") && compute.contains("user = neutron\n"))
        #expect(compute.contains("tunnel_ip = 10.0.0.3\n") && compute.contains("serves_all_networks = false\n"))
        #expect(!compute.contains("password = \n"))
        let networkHost = try delivery.template("network-agent.conf", delivery.values(for: agent, on: "10.0.0.2"))
        #expect(networkHost.contains("serves_all_networks = true\n"))
        let gateway = try #require(manifest["network-gateway"])
        let unit = try delivery.template("nimbus-agent.service", delivery.values(for: gateway, on: "10.0.0.2"))
        #expect(
            unit.contains(
                "ExecStart=/usr/local/bin/nimbus-agent network-gateway --config /etc/nimbus/network-gateway.conf"))
        #expect(unit.contains("CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_ADMIN"))
    }

    @Test("A template naming a value nobody gives is an error, not an empty string; nothing is HTML-escaped")
    func unknownPlaceholder() throws {
        #expect(throws: Template.Failure("templates/x.conf: no value for {{nothing}}")) {
            _ = try Template.render("a {{nothing}} b", name: "x.conf", values: [:])
        }
        #expect(throws: Template.Failure.self) {
            _ = try Template.render("{{#flag}}{{typo}}{{/flag}}", name: "x.conf", values: ["flag": true])
        }
        #expect(try Template.render("{{ a }}-{{b}}", name: "x", values: ["a": "1", "b": "<&'\">"]) == "1-<&'\">")
        #expect(
            try Template.render(
                "{{#installed.object}}yes{{/installed.object}}{{^installed.compute}}no{{/installed.compute}}",
                name: "x", values: ["installed": ["object": true]]) == "yesno")
    }

    @Test("With CONFIG_NIMBUS_SERVICE_LISTEN=all the APIs listen on every address")
    func listenAll() throws {
        let (delivery, _) = try delivery()
        var all = delivery
        let loaded = AnswerFileLoader.load(
            bytes: Array((RolloutTests.answerText + "\nCONFIG_NIMBUS_SERVICE_LISTEN=all\n").utf8))
        all.answers = try #require(loaded.file, "\(loaded.diagnostics)")
        let identity = try #require(delivery.manifest["identity"])
        #expect(
            try all.template("identity.conf", all.values(for: identity, on: "10.0.0.1")).contains("bind = 0.0.0.0:5000")
        )
    }

    @Test("With a delivery, the rollout uploads the binary once per host and runs the identity, image and object steps")
    func rolloutWithDelivery() throws {
        let base = try #require(base)
        let (delivery, plan) = try delivery()
        let recorder = base.recorder
        let facts = base.factsText
        let answers = base.answers
        let summary = Rollout(
            plan: plan, options: RolloutOptions(), log: nil,
            connect: { host throws(ExecutorError) in
                FakeExecutor(
                    host: host, facts: facts.replacingOccurrences(of: "\nnode3\n", with: "\nhost-\(host)\n"),
                    failing: [:], recorder: recorder)
            },
            settings: { host, facts in PreparationSettings.from(answers, host: host, facts: facts) },
            delivery: delivery
        ).run()
        #expect(summary.succeeded)
        let uploads = recorder.all.filter { $0.what == "upload" }
        // Each binary once per host that runs it (the storage host runs both).
        #expect(Set(uploads.map { "\($0.host) \($0.script)" }).count == uploads.count)
        let controller = summary.hosts.first { $0.host == "10.0.0.1" }
        let outcomes = Dictionary(uniqueKeysWithValues: (controller?.steps ?? []).map { ($0.step, $0.outcome) })
        #expect(outcomes["install.nimbus-server"] == .changed)
        #expect(outcomes["install.identity"] == .unchanged)
        #expect(outcomes["register.identity"] == .unchanged)
        #expect(outcomes["install.image"] == .unchanged)
        #expect(outcomes["install.compute"] == .unchanged)
        #expect(outcomes["install.network"] == .unchanged)
        let network = summary.hosts.first { $0.host == "10.0.0.2" }
        #expect(network?.steps.first { $0.step == "install.nimbus-agent" }?.outcome == .changed)
        #expect(network?.steps.first { $0.step == "install.network-gateway" }?.outcome == .unchanged)
        let storage = summary.hosts.first { $0.host == "10.0.0.4" }
        #expect(storage?.steps.first { $0.step == "install.object" }?.outcome == .unchanged)
        #expect(storage?.steps.first { $0.step == "health.object" }?.outcome == .unchanged)
    }
}
