import Foundation
import NimbusConfig
import NimbusPlan
import Testing

@testable import NimbusRollout

@Suite("Service delivery (nimbus-server, identity)")
struct ServiceDeliveryTests {
    let base = try? RolloutTests()

    func delivery() throws -> (ServiceDelivery, Plan) {
        let base = try #require(base)
        let templates = testsDirectory.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("templates")
        var texts: [String: String] = [:]
        for name in ["identity.conf", "image.conf", "object.conf", "nimbus-service.service"] {
            texts[name] = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
        }
        let delivery = ServiceDelivery(
            binary: Data("binary".utf8), binarySHA256: "ab12", templates: texts, answers: base.answers,
            installed: Set(base.plan.hosts.flatMap(\.services)))
        return (delivery, base.plan)
    }

    @Test("install, health and register steps of identity, image and object: config, unit, keys, bootstrap, keystonerc")
    func identitySteps() throws {
        let (delivery, plan) = try delivery()
        var text = ""
        for step in plan.hosts.flatMap(\.steps) where step.kind != .prepare {
            switch try delivery.work(for: step) {
            case .resources(let prepared): text += "== \(step.name)\n" + describe(prepared.resources)
            case .uploadBinary: text += "== \(step.name): upload\n"
            case .notYet(let reason): text += "== \(step.name): skipped (\(reason))\n"
            }
        }
        #expect(text.contains("== install.nimbus-server: upload"))
        #expect(text.contains("[install.identity/config] file /etc/nimbus/identity.conf 0640 root:root"))
        #expect(text.contains("bind = 0.0.0.0:5000"))
        #expect(text.contains("public_url = http://10.0.0.1:5000/v3"))
        #expect(text.contains("ExecStart=/usr/local/bin/nimbus-server identity --config /etc/nimbus/identity.conf"))
        #expect(text.contains("# Written by nimbus deploy. nimbus-server sha256 ab12"))
        #expect(
            text.contains(
                "[install.identity/service] service nimbus-identity.service enabled=true running=true restart-on=install.identity/config,install.identity/unit"
            ))
        #expect(text.contains("check: /usr/local/bin/nimbus-server probe --url http://127.0.0.1:5000/healthz"))
        #expect(text.contains("[register.identity/spec] file /etc/nimbus/identity-bootstrap.json 0600"))
        #expect(text.contains("\"admin_password\": \"secret-password\""))
        #expect(text.contains("http://10.0.0.1:8776/v3/$(project_id)s"))
        #expect(text.contains("http://10.0.0.4:8080/v1/AUTH_$(project_id)s"))
        #expect(text.contains("[register.identity/keystonerc] file /root/keystonerc_admin 0600"))
        #expect(text.contains("export OS_AUTH_URL=http://10.0.0.1:5000/v3"))
        #expect(text.contains("[install.image/config] file /etc/nimbus/image.conf 0640 root:root"))
        #expect(text.contains("identity_url = http://10.0.0.1:5000/v3"))
        #expect(text.contains("ExecStart=/usr/local/bin/nimbus-server image --config /etc/nimbus/image.conf"))
        #expect(!text.contains("install.image/keys"))
        // The image service's own user, for object storage (which this layout installs).
        #expect(text.contains("backend = file"))
        #expect(text.contains("user = glance\npassword = \(delivery.answers.password(.glanceServicePassword))\n"))
        #expect(
            text.contains("\"service_users\": {\"glance\": \"\(delivery.answers.password(.glanceServicePassword))\"}"))
        #expect(text.contains("check: /usr/local/bin/nimbus-server probe --url http://127.0.0.1:9292/healthz"))
        #expect(text.contains("== install.compute: skipped"))
        // Object storage goes to the storage host of the four-node layout.
        #expect(text.contains("[install.object/config] file /etc/nimbus/object.conf 0640 root:root"))
        #expect(text.contains("ExecStart=/usr/local/bin/nimbus-server object --config /etc/nimbus/object.conf"))
        #expect(text.contains("check: /usr/local/bin/nimbus-server probe --url http://127.0.0.1:8080/healthz"))
    }

    @Test("CONFIG_GLANCE_BACKEND=swift reaches image.conf; without object storage the image service has no swift user")
    func glanceBackend() throws {
        let (delivery, _) = try delivery()
        var swift = delivery
        let loaded = AnswerFileLoader.load(
            bytes: Array((RolloutTests.answerText + "\nCONFIG_GLANCE_BACKEND=swift\n").utf8))
        swift.answers = try #require(loaded.file, "\(loaded.diagnostics)")
        let config = try swift.template("image.conf", swift.values(for: "image"))
        #expect(config.contains("[store]\n") && config.contains("backend = swift\n"))
        #expect(config.contains("user = glance\n"))
        var noObject = delivery
        noObject.installed.remove("object")
        let plain = try noObject.template("image.conf", noObject.values(for: "image"))
        #expect(plain.contains("backend = file\n") && plain.contains("user = \n"))
        #expect(noObject.bootstrapJSON().contains("\"service_users\": {\"glance\""))
        noObject.installed.remove("image")
        #expect(noObject.bootstrapJSON().contains("\"service_users\": {}"))
    }

    @Test("A template naming a value nobody gives is an error, not an empty string")
    func unknownPlaceholder() throws {
        #expect(throws: ServiceDelivery.Failure.self) {
            _ = try ServiceDelivery.render("a {{nothing}} b", name: "x.conf", values: [:])
        }
        #expect(try ServiceDelivery.render("{{ a }}-{{b}}", name: "x", values: ["a": "1", "b": "2"]) == "1-2")
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
        #expect(Set(uploads.map(\.host)).count == uploads.count)
        let controller = summary.hosts.first { $0.host == "10.0.0.1" }
        let outcomes = Dictionary(uniqueKeysWithValues: (controller?.steps ?? []).map { ($0.step, $0.outcome) })
        #expect(outcomes["install.nimbus-server"] == .changed)
        #expect(outcomes["install.identity"] == .unchanged)
        #expect(outcomes["register.identity"] == .unchanged)
        #expect(outcomes["install.image"] == .unchanged)
        #expect(outcomes["install.compute"] == .skipped)
        let storage = summary.hosts.first { $0.host == "10.0.0.4" }
        #expect(storage?.steps.first { $0.step == "install.object" }?.outcome == .unchanged)
        #expect(storage?.steps.first { $0.step == "health.object" }?.outcome == .unchanged)
    }
}
