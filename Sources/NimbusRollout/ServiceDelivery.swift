import Foundation
import NimbusConfig
import NimbusManifest
import NimbusPlan

/// What a deploy ships and how the services are set up: the binaries, the manifest, the
/// templates, and the answer file's values. Turns the plan's `install.*`, `health.*` and
/// `register.*` steps into resources (pure, so the result can be checked without a host).
/// Everything it knows about a particular service comes from the manifest.
public struct ServiceDelivery: Sendable {
    /// A binary as shipped: its bytes and their SHA-256 (the upload is skipped when the
    /// host's copy has the same).
    public struct Shipped: Sendable {
        public var data: Data
        public var sha256: String

        public init(data: Data, sha256: String) {
            self.data = data
            self.sha256 = sha256
        }
    }

    public var binaries: [ServiceEntry.Binary: Shipped]
    /// `templates/` file name → text (`identity.conf`, `nimbus-api.service`).
    public var templates: [String: String]
    public var manifest: ServiceManifest
    /// `services.yaml` as read, copied to every host for `nimbus-server`.
    public var manifestText: String
    public var answers: AnswerFile
    /// Service name → the hosts that run it, from the plan.
    public var placement: [String: [String]]

    public init(
        binaries: [ServiceEntry.Binary: Shipped], templates: [String: String], manifest: ServiceManifest,
        manifestText: String, answers: AnswerFile, placement: [String: [String]]
    ) {
        self.binaries = binaries
        self.templates = templates
        self.manifest = manifest
        self.manifestText = manifestText
        self.answers = answers
        self.placement = placement
    }

    /// Service name → hosts, as the plan places them.
    public static func placement(of plan: Plan) -> [String: [String]] {
        var placement: [String: [String]] = [:]
        for host in plan.hosts where !host.excluded {
            for service in host.services { placement[service, default: []].append(host.host.description) }
        }
        return placement
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a plan step needs: resources to apply, a binary to upload, or nothing yet.
    public enum Work: Sendable {
        case resources(PreparedStep)
        case uploadBinary(ServiceEntry.Binary, Shipped)
        case notYet(String)
    }

    public func work(for step: PlanStep) throws(Failure) -> Work {
        let host = String(step.id.dropLast(step.name.count + 1))
        switch step.kind {
        case .prepare:
            return .notYet("a preparation step")
        case .packages:
            return .resources(Self.packages(step.packages ?? [:]))
        case .install where step.service == nil:
            guard let binary = ServiceEntry.Binary.allCases.first(where: { step.name == "install.\($0.rawValue)" })
            else { return .notYet("not a step this version knows") }
            guard let shipped = binaries[binary] else {
                throw Failure(description: "this run has no \(binary.rawValue) binary to ship")
            }
            return .uploadBinary(binary, shipped)
        case .install, .health:
            guard let entry = manifest[step.service ?? ""], !entry.planned else {
                return .notYet("not carried out yet: the \(step.service ?? "") service arrives with a later issue")
            }
            return .resources(step.kind == .install ? try install(entry, on: host) : health(entry, on: host))
        case .register:
            guard let identity = manifest.catalogService, step.name == "register.\(identity.name)" else {
                return .notYet("not carried out yet")
            }
            return .resources(try register(identity))
        case .provision:
            return .notYet("carried out by nimbus deploy through the cloud's APIs, once the services answer")
        }
    }

    // MARK: Values

    var controller: String { answers.controller.description }

    /// Whether the cloud runs the service (planned services included: the catalog names them).
    public func installs(_ name: String) -> Bool { !(placement[name] ?? []).isEmpty }

    /// The first host that runs `entry` (the catalog's address for it).
    func serviceHost(_ entry: ServiceEntry) -> String { placement[entry.name]?.first ?? controller }

    /// The address the service listens on, on `host`.
    func bindAddress(on host: String) -> String {
        answers.text(.serviceListen) == "all" ? "0.0.0.0" : host
    }

    /// The public identity URL (`http://controller:5000/v3`).
    public var identityURL: String {
        guard let identity = manifest.catalogService, let entry = identity.catalog.first else {
            return "http://\(controller):5000/v3"
        }
        return
            (try? Template.render(
                entry.url, name: "services.yaml (\(identity.name))",
                values: ["host": serviceHost(identity), "port": String(identity.port ?? 0)])) ?? ""
    }

    /// The values a service's templates may use (`roles/services.yaml` lists them).
    func values(for entry: ServiceEntry, on host: String) throws(Failure) -> [String: any Sendable] {
        var values: [String: any Sendable] = [
            "name": entry.name, "summary": entry.summary, "binary": entry.binary.path,
            "binary_sha256": binaries[entry.binary]?.sha256 ?? "", "config_path": entry.configPath,
            "state_dir": entry.stateDirectory, "port": entry.port.map(String.init) ?? "",
            "bind": bindAddress(on: host) + (entry.port.map { ":\($0)" } ?? ""), "bind_host": bindAddress(on: host),
            "host": host,
            "controller": controller, "identity_url": identityURL, "user": entry.user ?? "root",
            "group": entry.user ?? "root",
            "capabilities": entry.capabilities.map(\.rawValue).joined(separator: " "),
            "service_user": entry.serviceUser?.name ?? "",
            "service_password": entry.serviceUser.flatMap { KeyCatalogue.definition(named: $0.password) }.map {
                answers.password($0)
            } ?? "",
            "installed": Dictionary(uniqueKeysWithValues: placement.keys.filter(installs).map { ($0, true) }),
            // The services this host runs, and the address of each service in the cloud
            // (an agent's API: `http://{{service_hosts.network}}:9696`).
            "on_host": Dictionary(
                uniqueKeysWithValues: placement.filter { $0.value.contains(host) }.map { ($0.key, true) }),
            "service_hosts": Dictionary(
                uniqueKeysWithValues: placement.compactMap { name, hosts in hosts.first.map { (name, $0) } }),
        ]
        for (name, source) in entry.values {
            guard let key = KeyCatalogue.definition(named: source.key) else {
                throw Failure(description: "services.yaml: \(entry.name): \(source.key) is no answer-file key")
            }
            let text = key.type == .password ? answers.password(key) : answers.text(key)
            values[name] = text.isEmpty ? (source.default ?? "") : text
        }
        return values
    }

    func template(_ name: String, _ values: [String: any Sendable]) throws(Failure) -> String {
        guard let text = templates[name] else { throw Failure(description: "templates/\(name) is missing") }
        do {
            return try Template.render(text, name: name, values: values)
        } catch {
            throw Failure(description: error.description)
        }
    }

    func expand(_ text: String, _ entry: ServiceEntry, _ values: [String: any Sendable]) throws(Failure) -> String {
        do {
            return try Template.render(text, name: "services.yaml (\(entry.name))", values: values)
        } catch {
            throw Failure(description: error.description)
        }
    }

    // MARK: Packages

    /// The host's packages for its services, by the package manager it has (`apt-get` on
    /// Debian, `dnf` on RHEL); nothing when all are installed.
    static func packages(_ byFamily: [String: [String]]) -> PreparedStep {
        PreparedStep(resources: [ResourceStep("packages", .familyPackages(byFamily.mapValues { $0.sorted() }))])
    }

    // MARK: Install

    /// `command` as the service's user, when it has one.
    static func asUser(_ entry: ServiceEntry, _ command: String) -> String {
        guard let user = entry.user else { return command }
        return "runuser -u \(user) -- \(command)"
    }

    func install(_ entry: ServiceEntry, on host: String) throws(Failure) -> PreparedStep {
        let group = "install.\(entry.name)"
        let values = try values(for: entry, on: host)
        var resources = [
            ResourceStep(
                "\(group)/manifest", .file(path: ServiceManifest.hostPath, content: manifestText, mode: "0644"))
        ]
        if let user = entry.user {
            resources.append(
                ResourceStep(
                    "\(group)/user",
                    .command(
                        run:
                            "useradd --system --user-group --no-create-home --home-dir \(entry.stateDirectory) --shell /usr/sbin/nologin \(user)",
                        unless: "id -u \(user)")))
        }
        for directory in entry.directories {
            let owner = entry.user ?? "root"
            let mode = directory.mode
            resources.append(
                ResourceStep(
                    "\(group)/dir:\(directory.path)",
                    .command(
                        run:
                            "install -d -m \(mode) -o \(owner) -g \(owner) \(directory.path) && chown -R \(owner):\(owner) \(directory.path)",
                        unless:
                            "[ \"$(stat -c '%U %G %a' \(directory.path))\" = \"\(owner) \(owner) \(PhaseScript.trimMode(mode))\" ]"
                    )))
        }
        if let config = entry.config {
            resources.append(
                ResourceStep(
                    "\(group)/config",
                    .file(
                        path: entry.configPath, content: try template(config, values), mode: "0640",
                        group: entry.user ?? "root")))
        }
        resources.append(
            ResourceStep(
                "\(group)/unit",
                .file(path: "/etc/systemd/system/\(entry.unitName)", content: try template(entry.unit, values))))
        for command in entry.setup {
            let run = try expand(command.run, entry, values)
            resources.append(
                ResourceStep(
                    "\(group)/\(command.id)",
                    .command(run: Self.asUser(entry, run), unless: try expand(command.unless, entry, values))))
        }
        resources += [
            ResourceStep(
                "\(group)/reload",
                .command(run: "systemctl daemon-reload", unless: "! nimbus_changed '\(group)/unit'")),
            ResourceStep(
                "\(group)/service",
                .service(
                    name: entry.unitName, enabled: true, running: true,
                    restartOn: ["\(group)/config", "\(group)/unit"])),
        ]
        return PreparedStep(resources: resources)
    }

    /// `nimbus-server health`, which reads the manifest on the host and checks the way it
    /// says (`/healthz` at the service's address, or its unit).
    func health(_ entry: ServiceEntry, on host: String) -> PreparedStep {
        let describe =
            switch entry.health {
            case .http: "GET /healthz answers on \(bindAddress(on: host)):\(entry.port ?? 0)"
            case .unit: "\(entry.unitName) is active"
            case .heartbeat: "\(entry.unitName) is active (its API lists its heartbeats)"
            }
        // An agent-only host has no nimbus-server: a unit's state is systemctl's to tell.
        let run =
            entry.health == .http
            ? "\(ServiceEntry.Binary.server.path) health \(entry.name) --wait 30"
            : "for i in $(seq 60); do systemctl is-active --quiet \(entry.unitName) && exit 0; sleep 0.5; done; echo \"\(entry.unitName) is $(systemctl is-active \(entry.unitName))\"; exit 1"
        return PreparedStep(resources: [
            ResourceStep("health.\(entry.name)/check", .check(run: run, describe: describe))
        ])
    }

    // MARK: Register

    /// The catalog of §2.4 of the client reference, for the services this cloud runs.
    func catalog() -> [(type: String, name: String, description: String, url: String)] {
        manifest.services.filter { installs($0.name) }.flatMap { entry in
            entry.catalog.map { item in
                let url =
                    (try? Template.render(
                        item.url, name: "services.yaml (\(entry.name))",
                        values: ["host": serviceHost(entry), "port": String(entry.port ?? 0)])) ?? ""
                return (item.type, item.name, item.description, url)
            }
        }
    }

    /// The identity users of the installed services that have one, with their passwords.
    func serviceUsers() -> [(name: String, password: String)] {
        manifest.services.filter { installs($0.name) && !$0.planned }.compactMap { entry in
            guard let user = entry.serviceUser, let key = KeyCatalogue.definition(named: user.password) else {
                return nil
            }
            return (user.name, answers.password(key))
        }
    }

    /// The bootstrap file (JSON, 0640 to the identity service's group: it holds passwords).
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
        let users = serviceUsers().map { "\(quote($0.name)): \(quote($0.password))" }.joined(separator: ", ")
        return """
            {"admin_user": \(quote(adminUser)), "admin_password": \(quote(answers.password(.keystoneAdminPassword))),
             "region": \(quote(answers.text(.keystoneRegion))), "demo_password": \(demo),
             "service_users": {\(users)},
             "catalog": [\(entries.joined(separator: ",\n  "))]}

            """
    }

    public var adminUser: String {
        answers.text(.keystoneAdminUsername).isEmpty ? "admin" : answers.text(.keystoneAdminUsername)
    }

    /// Packstack's `keystonerc_admin` (`keystonerc_demo` with `demo`).
    public func keystonerc(demo: Bool = false) -> String {
        func quote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let user = demo ? "demo" : adminUser
        let password = answers.password(demo ? .keystoneDemoPassword : .keystoneAdminPassword)
        let project = demo ? "demo" : "admin"
        return """
            unset OS_SERVICE_TOKEN
            export OS_USERNAME=\(quote(user))
            export OS_PASSWORD=\(quote(password))
            export OS_REGION_NAME=\(quote(answers.text(.keystoneRegion)))
            export OS_AUTH_URL=\(identityURL)
            export PS1='[\\u@\\h \\W(keystone_\(project))]\\$ '

            export OS_PROJECT_NAME=\(project)
            export OS_USER_DOMAIN_NAME=Default
            export OS_PROJECT_DOMAIN_NAME=Default
            export OS_IDENTITY_API_VERSION=3

            """
    }

    func register(_ identity: ServiceEntry) throws(Failure) -> PreparedStep {
        let group = "register.\(identity.name)"
        let spec = "/etc/nimbus/\(identity.name)-bootstrap.json"
        let command = Self.asUser(
            identity,
            "\(identity.binary.path) \(identity.name) bootstrap --config \(identity.configPath) --spec \(spec)")
        return PreparedStep(resources: [
            ResourceStep(
                "\(group)/spec",
                .file(path: spec, content: bootstrapJSON(), mode: "0640", group: identity.user ?? "root")),
            ResourceStep("\(group)/bootstrap", .command(run: command, unless: command + " --check")),
            ResourceStep(
                "\(group)/keystonerc", .file(path: "/root/keystonerc_admin", content: keystonerc(), mode: "0600")),
        ])
    }
}
