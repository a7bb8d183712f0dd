import Foundation
import NimbusConfig
import NimbusModel
import NimbusPlan
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

func repositoryRoles() throws -> RoleCatalog {
    try RoleCatalog.load(directory: repositoryRoot.appendingPathComponent("roles").path)
}

func answers(_ text: String) throws -> AnswerFile {
    let result = AnswerFileLoader.load(bytes: Array(text.utf8))
    return try #require(result.file, "\(result.diagnostics)")
}

func hosts(_ lines: String) -> String { "[general]\n\(lines)\n" }

@Suite("Planning")
struct PlanTests {
    /// Compares with `Fixtures/golden/NAME`; `NIMBUS_UPDATE_GOLDEN=1 swift test` rewrites it.
    func compareGolden(_ actual: String, _ name: String) throws {
        let path = repositoryRoot.appendingPathComponent("Tests/NimbusPlanTests/Fixtures/golden/\(name)")
        if ProcessInfo.processInfo.environment["NIMBUS_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(
                at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(actual == expected, "plan differs from golden \(name); NIMBUS_UPDATE_GOLDEN=1 swift test rewrites it")
    }

    @Test(
        "The sample answer files plan as their golden files",
        arguments: [
            ("allinone", Layout.allInOne), ("two-node", .twoNode), ("three-node", .threeNode), ("four-node", .fourNode),
        ])
    func golden(sample: String, layout: Layout) throws {
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("answers/\(sample).txt"), encoding: .utf8)
        let plan = Planner(roles: try repositoryRoles()).plan(try answers(text))
        #expect(plan.layout == layout)
        try compareGolden(plan.text(), "\(sample).txt")
        try compareGolden(try plan.json(), "\(sample).json")
    }

    @Test(
        "Host keys decide the layout",
        arguments: [
            ("CONFIG_CONTROLLER_HOST=10.0.0.1", Layout.allInOne),
            ("CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=10.0.0.2,10.0.0.3,10.0.0.4", .twoNode),
            (
                "CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_NETWORK_HOSTS=10.0.0.2\nCONFIG_COMPUTE_HOSTS=10.0.0.3",
                .threeNode
            ),
            (
                "CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_NETWORK_HOSTS=10.0.0.2\nCONFIG_COMPUTE_HOSTS=10.0.0.3,10.0.0.5\nCONFIG_STORAGE_HOST=10.0.0.4",
                .fourNode
            ),
            ("CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=10.0.0.1,10.0.0.2", .custom),
            ("CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=10.0.0.2\nCONFIG_STORAGE_HOST=10.0.0.2", .custom),
        ])
    func layouts(keys: String, layout: Layout) throws {
        #expect(Planner(roles: try repositoryRoles()).plan(try answers(hosts(keys))).layout == layout)
    }

    @Test("A host may carry several roles and gets each service once")
    func sharedHost() throws {
        let plan = Planner(roles: try repositoryRoles()).plan(
            try answers(hosts("CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=10.0.0.1,10.0.0.2")))
        let controller = try #require(plan.hosts.first)
        #expect(controller.roles == [.controller, .network, .compute, .storage])
        #expect(controller.services.filter { $0 == "network-agent" }.count == 1)
        #expect(Set(controller.steps.map(\.id)).count == controller.steps.count)
    }

    @Test("Excluded hosts keep their place but get no steps")
    func excluded() throws {
        let plan = Planner(roles: try repositoryRoles()).plan(
            try answers(
                hosts(
                    "CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=10.0.0.2,10.0.0.3\nEXCLUDE_SERVERS=10.0.0.3")
            ))
        let excluded = try #require(plan.hosts.first { $0.host.description == "10.0.0.3" })
        #expect(excluded.excluded && excluded.steps.isEmpty)
        let other = try #require(plan.hosts.first { $0.host.description == "10.0.0.2" })
        #expect(!other.steps.isEmpty)
    }

    @Test("Services switched off leave no steps behind")
    func servicesOff() throws {
        let plan = Planner(roles: try repositoryRoles()).plan(
            try answers(
                hosts(
                    "CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_NEUTRON_INSTALL=n\nCONFIG_SWIFT_INSTALL=n\nCONFIG_HORIZON_INSTALL=n"
                )))
        let names = plan.hosts.flatMap { $0.steps.map(\.name) }
        #expect(!names.contains("prepare.bridges"))
        #expect(!names.contains { $0.hasSuffix(".network") || $0.contains("object") || $0.contains("dashboard") })
        #expect(!names.contains("provision.demo"))
    }

    @Test("Every dependency names a step of the plan that comes earlier")
    func dependenciesResolve() throws {
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("answers/four-node.txt"), encoding: .utf8)
        let plan = Planner(roles: try repositoryRoles()).plan(try answers(text))
        let ids = Set(plan.hosts.flatMap { $0.steps.map(\.id) })
        for step in plan.hosts.flatMap(\.steps) {
            for dependency in step.after { #expect(ids.contains(dependency), "\(step.id) after \(dependency)") }
        }
        let compute = try #require(plan.hosts.first { $0.roles == [.compute] })
        let sync = try #require(compute.steps.first { $0.name == "prepare.time-sync" })
        #expect(sync.after.contains("10.251.0.11:prepare.time-sync"))
        let agent = try #require(compute.steps.first { $0.name == "install.compute-agent" })
        #expect(agent.after.contains("10.251.0.11:health.compute"))
    }

    @Test("A hundred compute hosts plan in order, each with its own steps")
    func hundredHosts() throws {
        let computes = (2...101).map { "10.0.\($0 / 256).\($0 % 256)" }.joined(separator: ",")
        let plan = Planner(roles: try repositoryRoles()).plan(
            try answers(hosts("CONFIG_CONTROLLER_HOST=10.0.0.1\nCONFIG_COMPUTE_HOSTS=\(computes)")))
        #expect(plan.hosts.count == 101)
        #expect(plan.layout == .twoNode)
    }

    @Test("The JSON plan decodes back to the same plan")
    func jsonRoundTrip() throws {
        let plan = Planner(roles: try repositoryRoles()).plan(try answers(hosts("CONFIG_CONTROLLER_HOST=10.0.0.1")))
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(try plan.json().utf8))
        #expect(decoded == plan)
    }
}

@Suite("Role files")
struct RoleCatalogTests {
    func directory(with files: [String: String]) throws -> String {
        let path = NSTemporaryDirectory() + "roles-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for name in NodeRole.allCases.map({ "\($0.rawValue).yaml" }) + ["services.yaml"] {
            let source = repositoryRoot.appendingPathComponent("roles/\(name)")
            try FileManager.default.copyItem(atPath: source.path, toPath: "\(path)/\(name)")
        }
        for (name, text) in files {
            if text.isEmpty {
                try FileManager.default.removeItem(atPath: "\(path)/\(name)")
            } else {
                try text.write(toFile: "\(path)/\(name)", atomically: true, encoding: .utf8)
            }
        }
        return path
    }

    @Test("The repository's role files load")
    func repositoryRolesLoad() throws {
        let catalog = try repositoryRoles()
        #expect(catalog[.controller]?.services.first == "identity")
        #expect(catalog.manifest.catalogService?.name == "identity")
        #expect(catalog.manifest.service(forCatalogType: "volumev3")?.name == "block-storage")
        #expect(catalog[.network]?.preparation.contains(.bridges) == true)
    }

    @Test("A missing role file is named")
    func missing() throws {
        let path = try directory(with: ["storage.yaml": ""])
        #expect(throws: RoleCatalog.LoadError.missing(path: "\(path)/storage.yaml")) {
            try RoleCatalog.load(directory: path)
        }
    }

    @Test(
        "Broken role files are refused with the file's name",
        arguments: [
            "role: storage\nsummary: x\npreparation: [facts, teleport]\nservices: []\n",
            "role: compute\nsummary: x\npreparation: []\nservices: []\n",
            "role: storage\nsummary: x\npreparation: []\nservices: [ghost]\n",
            "role: [\n",
        ])
    func broken(text: String) throws {
        let path = try directory(with: ["storage.yaml": text])
        do {
            _ = try RoleCatalog.load(directory: path)
            Issue.record("loaded a broken role file")
        } catch {
            #expect(error.description.hasPrefix("\(path)/storage.yaml: "))
        }
    }

    static let manifestHead =
        "services:\n  - name: identity\n    summary: i\n    port: 5000\n    registers_catalog: true\n"

    @Test(
        "A broken service manifest is refused with what is wrong",
        arguments: [
            ("  - name: a\n    summary: b\n    when: CONFIG_NOPE\n", "names no y/n answer-file key"),
            ("  - name: a\n    summary: b\n    requires: [ghost]\n", "requires ghost"),
            ("  - name: a\n    summary: b\n    health: http\n", "health http needs a port"),
            ("  - name: a\n    summary: b\n    capabilities: [NET_ADMIN]\n", "not a capability name"),
            ("  - name: a\n    summary: b\n    user: root\n", "unprivileged system user"),
            ("  - name: identity\n    summary: again\n", "listed twice"),
            ("  - name: a\n    summary: b\n    registers_catalog: true\n", "exactly one service"),
            ("  - name: a\n    summary: b\n    values: {x: {key: CONFIG_NOPE}}\n", "no answer-file key"),
        ])
    func brokenManifest(entry: String, message: String) throws {
        let path = try directory(with: ["services.yaml": Self.manifestHead + entry])
        do {
            _ = try RoleCatalog.load(directory: path)
            Issue.record("loaded a broken manifest")
        } catch {
            #expect(error.description.hasPrefix("\(path)/services.yaml: "))
            #expect(error.description.contains(message), "\(error.description)")
        }
    }
}

@Suite("Preparation only")
struct PreparationOnlyTests {
    @Test("deploy --prepare-only keeps every prepare step and its order, and nothing else")
    func preparationOnly() throws {
        let text = try String(
            contentsOf: repositoryRoot.appendingPathComponent("answers/four-node.txt"), encoding: .utf8)
        let plan = Planner(roles: try repositoryRoles()).plan(try answers(text))
        let prepared = plan.preparationOnly()
        for (full, only) in zip(plan.hosts, prepared.hosts) {
            #expect(only.steps.map(\.id) == full.steps.filter { $0.kind == .prepare }.map(\.id))
            for step in only.steps {
                #expect(step.after.allSatisfy { $0.contains(":prepare.") }, "\(step.id): \(step.after)")
            }
        }
        // A compute host's time sync still waits for the controller's.
        let compute = try #require(prepared.hosts.first { $0.roles == [.compute] })
        let timeSync = compute.steps.first { $0.name == "prepare.time-sync" }
        #expect(timeSync?.after.contains { $0.hasSuffix(":prepare.time-sync") } == true)
    }
}
