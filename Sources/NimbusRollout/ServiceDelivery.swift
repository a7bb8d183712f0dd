import Foundation
import NimbusConfig
import NimbusPlan

/// What a deploy ships and how the services are set up: the `nimbus-server` binary, the
/// templates, and the answer file's values. Turns the plan's `install.*`, `health.*` and
/// `register.*` steps into resources (pure, so the result can be checked without a host).
public struct ServiceDelivery: Sendable {
    /// Where the binary goes on every host.
    public static let binaryPath = "/usr/local/bin/nimbus-server"
    /// The services this version of nimbus-server carries out; the others are skipped with
    /// a note until their issue lands.
    public static let available: Set<String> = ["identity", "image", "object"]

    public var binary: Data
    public var binarySHA256: String
    /// `templates/` file name → text (`identity.conf`, `nimbus-service.service`).
    public var templates: [String: String]
    public var answers: AnswerFile
    /// Every host's services (from the plan), for the catalog.
    public var installed: Set<String>

    public init(
        binary: Data, binarySHA256: String, templates: [String: String], answers: AnswerFile, installed: Set<String>
    ) {
        self.binary = binary
        self.binarySHA256 = binarySHA256
        self.templates = templates
        self.answers = answers
        self.installed = installed
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a plan step needs: resources to apply, the binary to upload, or nothing yet.
    public enum Work: Sendable {
        case resources(PreparedStep)
        case uploadBinary
        case notYet(String)
    }

    public func work(for step: PlanStep) throws(Failure) -> Work {
        let service = step.service ?? ""
        switch step.kind {
        case .prepare:
            return .notYet("a preparation step")
        case .packages:
            return .notYet("packages for the compute, network and storage services arrive with those services")
        case .install where step.name == "install.nimbus-server":
            return .uploadBinary
        case .install, .health:
            guard Self.available.contains(service) else {
                return .notYet("not carried out yet: the \(service) service arrives with a later issue")
            }
            return .resources(step.kind == .install ? try install(service) : health(service))
        case .register:
            guard service.isEmpty || service == "identity" || step.name == "register.identity" else {
                return .notYet("not carried out yet")
            }
            return .resources(try register())
        case .provision:
            return .notYet(
                "the demo project and user are made by register.identity; its network and router arrive with the network service"
            )
        }
    }

    // MARK: Install

    var controller: String { answers.controller.description }

    /// The values templates may use.
    func values(for service: String) -> [String: String] {
        [
            "service": service, "controller": controller, "binary": Self.binaryPath,
            "binary_sha256": binarySHA256, "state_dir": "/var/lib/nimbus/\(service)",
            "port": String(Self.ports[service] ?? 0),
            "token_expiration": answers.text(.keystoneTokenExpiration).isEmpty
                ? "3600" : answers.text(.keystoneTokenExpiration),
            "public_url": "http://\(controller):5000/v3",
            // The image service: where uploads go, and its own user for object storage
            // (none when the cloud has no object storage).
            "glance_backend": answers.text(.glanceBackend).isEmpty ? "file" : answers.text(.glanceBackend),
            "glance_swift_user": installed.contains("object") ? "glance" : "",
            "glance_password": answers.password(.glanceServicePassword),
        ]
    }

    static let ports = [
        "identity": 5000, "image": 9292, "compute": 8774, "network": 9696, "block-storage": 8776, "object": 8080,
        "dashboard": 80,
    ]

    /// `{{name}}` placeholders replaced; an unknown one is an error, not an empty string.
    static func render(_ template: String, name: String, values: [String: String]) throws(Failure) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw Failure(description: "templates/\(name): '{{' without '}}'")
            }
            let key = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let value = values[key] else {
                throw Failure(description: "templates/\(name): no value for {{\(key)}}")
            }
            out += value
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    func template(_ name: String, _ values: [String: String]) throws(Failure) -> String {
        guard let text = templates[name] else { throw Failure(description: "templates/\(name) is missing") }
        return try Self.render(text, name: name, values: values)
    }

    func install(_ service: String) throws(Failure) -> PreparedStep {
        let group = "install.\(service)"
        let values = values(for: service)
        let unit = "nimbus-\(service).service"
        var resources = [
            ResourceStep(
                "\(group)/config",
                .file(
                    path: "/etc/nimbus/\(service).conf", content: try template("\(service).conf", values), mode: "0640")
            ),
            ResourceStep(
                "\(group)/unit",
                .file(path: "/etc/systemd/system/\(unit)", content: try template("nimbus-service.service", values))),
        ]
        if service == "identity" {
            // The token keys, made once (nimbus-server identity rotate-keys rotates them).
            resources.append(
                ResourceStep(
                    "\(group)/keys",
                    .command(
                        run: "\(Self.binaryPath) identity rotate-keys --config /etc/nimbus/identity.conf",
                        unless: "ls /etc/nimbus/token-keys/*.key")))
        }
        resources += [
            ResourceStep(
                "\(group)/reload",
                .command(run: "systemctl daemon-reload", unless: "! nimbus_changed '\(group)/unit'")),
            ResourceStep(
                "\(group)/service",
                .service(name: unit, enabled: true, running: true, restartOn: ["\(group)/config", "\(group)/unit"])),
        ]
        return PreparedStep(resources: resources)
    }

    func health(_ service: String) -> PreparedStep {
        let port = Self.ports[service] ?? 0
        return PreparedStep(resources: [
            ResourceStep(
                "health.\(service)/healthz",
                .check(
                    run: "\(Self.binaryPath) probe --url http://127.0.0.1:\(port)/healthz --wait 30",
                    describe: "GET /healthz answers on port \(port)"))
        ])
    }

    // MARK: Register

    /// The catalog of §2.4 of the client reference, for the services this cloud installs.
    func catalog() -> [(type: String, name: String, description: String, url: String)] {
        let c = controller
        let storage = answers.storageHost.description
        var entries: [(String, String, String, String)] = [
            ("identity", "keystone", "Identity", "http://\(c):5000/v3")
        ]
        if installed.contains("compute") { entries.append(("compute", "nova", "Compute", "http://\(c):8774/v2.1")) }
        if installed.contains("image") { entries.append(("image", "glance", "Image", "http://\(c):9292")) }
        if installed.contains("network") { entries.append(("network", "neutron", "Networking", "http://\(c):9696")) }
        if installed.contains("block-storage") {
            entries.append(("block-storage", "cinder", "Block storage", "http://\(c):8776/v3/$(project_id)s"))
            entries.append(("volumev3", "cinderv3", "Block storage v3", "http://\(c):8776/v3/$(project_id)s"))
        }
        if installed.contains("object") {
            entries.append(("object-store", "swift", "Object storage", "http://\(storage):8080/v1/AUTH_$(project_id)s"))
        }
        return entries
    }

    /// The bootstrap file (JSON, 0600: it holds passwords).
    func bootstrapJSON() -> String {
        func quote(_ text: String) -> String {
            let data =
                (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes]))
                ?? Data("[\"\"]".utf8)
            return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
        }
        let demo = answers.bool(.provisionDemo) ? quote(answers.password(.keystoneDemoPassword)) : "null"
        let entries = catalog().map { entry in
            let urls = ["public", "internal", "admin"].map { "\(quote($0)): \(quote(entry.url))" }.joined(
                separator: ", ")
            return
                "{\"type\": \(quote(entry.type)), \"name\": \(quote(entry.name)), \"description\": \(quote(entry.description)), \"urls\": {\(urls)}}"
        }
        let serviceUsers =
            installed.contains("image")
            ? "{\"glance\": \(quote(answers.password(.glanceServicePassword)))}" : "{}"
        return """
            {"admin_user": \(quote(adminUser)), "admin_password": \(quote(answers.password(.keystoneAdminPassword))),
             "region": \(quote(answers.text(.keystoneRegion))), "demo_password": \(demo),
             "service_users": \(serviceUsers),
             "catalog": [\(entries.joined(separator: ",\n  "))]}

            """
    }

    var adminUser: String {
        answers.text(.keystoneAdminUsername).isEmpty ? "admin" : answers.text(.keystoneAdminUsername)
    }

    /// Packstack's `keystonerc_admin`.
    public func keystonerc() -> String {
        func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return """
            unset OS_SERVICE_TOKEN
            export OS_USERNAME=\(quote(adminUser))
            export OS_PASSWORD=\(quote(answers.password(.keystoneAdminPassword)))
            export OS_REGION_NAME=\(quote(answers.text(.keystoneRegion)))
            export OS_AUTH_URL=http://\(controller):5000/v3
            export PS1='[\\u@\\h \\W(keystone_admin)]\\$ '

            export OS_PROJECT_NAME=admin
            export OS_USER_DOMAIN_NAME=Default
            export OS_PROJECT_DOMAIN_NAME=Default
            export OS_IDENTITY_API_VERSION=3

            """
    }

    func register() throws(Failure) -> PreparedStep {
        let spec = "/etc/nimbus/identity-bootstrap.json"
        let command = "\(Self.binaryPath) identity bootstrap --config /etc/nimbus/identity.conf --spec \(spec)"
        return PreparedStep(resources: [
            ResourceStep("register.identity/spec", .file(path: spec, content: bootstrapJSON(), mode: "0600")),
            ResourceStep("register.identity/bootstrap", .command(run: command, unless: command + " --check")),
            ResourceStep(
                "register.identity/keystonerc",
                .file(path: "/root/keystonerc_admin", content: keystonerc(), mode: "0600")),
        ])
    }
}
