import NimbusConfig
import NimbusManifest
import NimbusModel

/// The ordered steps of one host.
struct StepBuilder {
    let host: HostAddress
    let roles: [NodeRole]
    let services: [ServiceEntry]
    let file: AnswerFile
    let catalog: RoleCatalog
    let servicesByHost: [HostAddress: [ServiceEntry]]

    private var isController: Bool { roles.contains(.controller) }

    func build() -> [PlanStep] {
        var steps: [PlanStep] = []
        func add(
            _ kind: PlanStep.Kind, _ name: String, _ summary: String, after extra: [String] = [],
            packages: [String: [String]]? = nil, service: String? = nil
        ) {
            let previous = steps.last.map { [$0.id] } ?? []
            steps.append(
                PlanStep(
                    id: "\(host):\(name)", kind: kind, name: name, summary: summary,
                    after: previous + extra.filter { !previous.contains($0) }, packages: packages, service: service))
        }

        for step in preparation() {
            var after: [String] = []
            if step == .timeSync && !isController { after.append("\(file.controller):prepare.time-sync") }
            add(.prepare, "prepare.\(step.rawValue)", summary(of: step), after: after)
        }
        let packages = packageUnion()
        if !packages.isEmpty {
            let listed = packages.keys.sorted().map { "\($0): \(packages[$0, default: []].joined(separator: " "))" }
            add(.packages, "packages", "install " + listed.joined(separator: "; "), packages: packages)
        }
        guard !services.isEmpty else { return steps }
        // Each binary goes only where a service it runs is installed (no libvirt on an
        // identity host: the agents are a binary of their own).
        for binary in ServiceEntry.Binary.allCases
        where services.contains(where: { $0.binary == binary && !$0.planned }) {
            add(
                .install, "install.\(binary.rawValue)",
                "ship the \(binary.rawValue) binary to \(binary.path) (skipped when its checksum matches)")
        }
        for service in services {
            let port = service.port.map { ", port \($0)" } ?? ""
            add(
                .install, "install.\(service.name)",
                "\(service.summary): \(service.config == nil ? "" : service.configPath + ", ")\(service.unitName), started\(port)",
                after: remoteHealthChecks(for: service), service: service.name)
            add(
                .health, "health.\(service.name)",
                healthSummary(service),
                service: service.name)
            if service.registersCatalog {
                add(.register, "register.\(service.name)", registrationSummary())
            }
        }
        if isController && file.installs(.compute) {
            add(
                .provision, "provision.flavors",
                "the default flavors m1.tiny … m1.xlarge (ids 1–5) and m1.micro for a quick TCG guest, where missing")
        }
        if isController && file.bool(.provisionDemo) && file.installs(.network) {
            // Once the network hosts' services answer (routers and DHCP live there).
            let others = servicesByHost.filter { $0.key != host && file.networkHosts.contains($0.key) }
                .sorted { $0.key < $1.key }
            let image = file.installs(.image) ? ", public image \(file.text(.provisionImageName))" : ""
            add(
                .provision, "provision.demo",
                "demo project and user with keystonerc_demo, external network public (\(file.text(.provisionDemoFloatRange))), private network, router1\(image)",
                after: others.flatMap { other in other.value.map { "\(other.key):health.\($0.name)" } })
        }
        return steps
    }

    /// The role's preparation steps that the answer file switches on, in run order.
    func preparation() -> [PreparationStep] {
        let listed = Set(roles.flatMap { catalog[$0]?.preparation ?? [] })
        return listed.sorted().filter { step in
            switch step {
            case .firewall: file.text(.prepFirewall) == "off"
            case .selinux: file.text(.prepSELinux) == "permissive"
            case .networkManager: file.text(.prepNetworkManager) == "disable"
            case .hostsFile: file.bool(.prepHostsFile)
            case .bridges: file.installs(.network) && !file.bridgeMappings.isEmpty
            case .facts, .timeSync, .sysctl: true
            }
        }
    }

    func summary(of step: PreparationStep) -> String {
        switch step {
        case .timeSync:
            guard isController else { return "chrony: follow the controller \(file.controller)" }
            let servers = file.text(.ntpServers)
            return servers.isEmpty
                ? "chrony: serve the local clock (stratum 10) to the other hosts"
                : "chrony: follow \(servers.replacingOccurrences(of: ",", with: ", ")); serve the other hosts"
        case .hostsFile:
            let count = file.allHosts.count
            return count == 1
                ? "managed block naming this host in /etc/hosts" : "managed block of all \(count) hosts in /etc/hosts"
        case .bridges:
            let bridges = file.bridgeMappings.map { mapping in
                let ports = file.bridgeInterfaces.filter { $0.bridge == mapping.bridge }.map(\.interface.value)
                return "\(mapping.bridge) (\(mapping.physicalNetwork))"
                    + (ports.isEmpty ? "" : " with \(ports.joined(separator: ", ")) enslaved")
            }
            return "bridges " + bridges.joined(separator: ", ") + ", persistent the host's native way"
        default:
            return step.summary
        }
    }

    func packageUnion() -> [String: [String]] {
        var union: [String: [String]] = [:]
        for service in services where !service.planned {
            for (family, names) in service.packages {
                for name in names where !union[family, default: []].contains(name) {
                    union[family, default: []].append(name)
                }
            }
        }
        return union
    }

    func healthSummary(_ service: ServiceEntry) -> String {
        switch service.health {
        case .http: "GET /healthz answers on port \(service.port ?? 0)"
        case .unit: "\(service.unitName) active"
        case .heartbeat: "\(service.unitName) active (its heartbeats go to its API)"
        }
    }

    /// Health checks on other hosts that a service waits for.
    func remoteHealthChecks(for service: ServiceEntry) -> [String] {
        var ids: [String] = []
        for required in service.requires {
            for (other, running) in servicesByHost.sorted(by: { $0.key < $1.key })
            where other != host && running.contains(where: { $0.name == required }) {
                ids.append("\(other):health.\(required)")
            }
        }
        return ids
    }

    func registrationSummary() -> String {
        let types = servicesByHost.values.flatMap { $0.flatMap { $0.catalog.map(\.type) } }.uniqued().sorted()
        return "bootstrap: Default domain, admin project and user, roles admin/member/reader, region "
            + "\(file.text(.keystoneRegion)); catalog: \(types.joined(separator: ", "))"
    }
}
