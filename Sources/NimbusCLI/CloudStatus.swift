import Foundation
import NimbusConfig
import NimbusManifest
import NimbusModel
import NimbusPlan
import NimbusRollout
import NimbusSystem
import Synchronization

/// What `openstack-status` was: for every host, the Nimbus units active and enabled, time
/// sync and br-ex; for the cloud, the APIs answering, a token issued and validated, and the
/// catalog's endpoints reachable. Each check says why when it fails.
struct CloudStatus {
    let answers: AnswerFile
    let plan: Plan
    let manifest: ServiceManifest
    let connect: Rollout.Connect

    struct Check: Codable, Sendable {
        var section: String
        var host: String
        var name: String
        /// `ok`, `down`, or `pending` (a service this version does not install yet).
        var state: String
        var detail: String
        /// For a check that is down: what to run, and where.
        var fix: String?
    }

    struct Report: Codable, Sendable {
        var checks: [Check]
        var healthy: Bool { !checks.contains { $0.state == "down" } }

        func text(color: Bool) -> String {
            var out: [String] = []
            var section = ""
            for check in checks {
                if check.section != section {
                    section = check.section
                    out.append("== \(section) ==")
                }
                let mark =
                    switch check.state {
                    case "ok": color ? "\u{1B}[32m[ OK ]\u{1B}[0m" : "[ OK ]"
                    case "down": color ? "\u{1B}[31m[DOWN]\u{1B}[0m" : "[DOWN]"
                    default: "[ -- ]"
                    }
                let padded = check.name.padding(toLength: max(check.name.count, 28), withPad: " ", startingAt: 0)
                out.append(
                    "\(mark) \(check.host.padding(toLength: 15, withPad: " ", startingAt: 0)) \(padded) \(check.detail)"
                )
                if check.state == "down", let fix = check.fix { out.append("       fix: \(fix)") }
            }
            let down = checks.filter { $0.state == "down" }.count
            out.append(down == 0 ? "All checks passed." : "\(down) check(s) down.")
            return out.joined(separator: "\n")
        }
    }

    func check() -> Report {
        var checks: [Check] = []
        let hosts = plan.hosts.filter { !$0.excluded && !$0.steps.isEmpty }
        let results = Mutex<[String: (checks: [Check], hostname: String?)]>([:])
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let found = hostChecks(hosts[index])
            results.withLock { $0[hosts[index].host.description] = found }
        }
        var addresses: [String: String] = [:]
        var found: [Check] = []
        for host in hosts {
            let result = results.withLock { $0[host.host.description] }
            found += result?.checks ?? []
            if let hostname = result?.hostname { addresses[hostname] = host.host.description }
        }
        // Every host's units first, then every host's time and bridge.
        checks += found.filter { $0.section == "services" } + found.filter { $0.section != "services" }
        checks += apiChecks(addresses: addresses)
        return Report(checks: checks)
    }

    /// One round trip per host: unit states, chrony's offset, br-ex.
    func hostChecks(_ host: HostPlan) -> (checks: [Check], hostname: String?) {
        let name = host.host.description
        let entries = host.services.compactMap { manifest[$0] }
        let units = entries.filter { !$0.planned }.map { String($0.unitName.dropLast(".service".count)) }
        let pending = entries.filter(\.planned)
        let wantsBridge = host.steps.contains { $0.name == "prepare.bridges" }
        var script =
            "for u in \(units.joined(separator: " ")); do echo \"unit $u $(systemctl is-active $u.service 2>/dev/null) $(systemctl is-enabled $u.service 2>/dev/null)\"; done\n"
        script += "echo \"chrony $(chronyc -c tracking 2>/dev/null | cut -d, -f5)\"\n"
        script += "ip -br link show br-ex >/dev/null 2>&1 && echo 'bridge yes' || echo 'bridge no'\n"
        script += "echo \"hostname $(hostname)\"\n"
        var hostname: String?
        var checks: [Check] = []
        let output: String
        do {
            let executor = try connect(name)
            defer { executor.close() }
            output = try executor.run("sh -s", input: script, timeout: 30).stdout
        } catch {
            return (
                [
                    Check(
                        section: "hosts", host: name, name: "reachable", state: "down", detail: error.description,
                        fix: "start \(name) or its sshd, then: nimbus status")
                ], nil
            )
        }
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            switch fields.first {
            case "unit" where fields.count >= 2:
                let active = fields.count > 2 ? fields[2] : "unknown"
                let enabled = fields.count > 3 ? fields[3] : "unknown"
                let ok = active == "active" && enabled == "enabled"
                let service = String(fields[1].dropFirst("nimbus-".count))
                let fix =
                    enabled == "enabled"
                    ? "nimbus service restart \(service) --host \(name) (journalctl -u \(fields[1]) on \(name) says why it stopped)"
                    : "nimbus deploy (it enables \(fields[1]) again)"
                checks.append(
                    Check(
                        section: "services", host: name, name: fields[1], state: ok ? "ok" : "down",
                        detail: "\(active), \(enabled)", fix: ok ? nil : fix))
            case "chrony":
                if fields.count > 1, let offset = Double(fields[1]) {
                    let ok = abs(offset) < 0.5
                    checks.append(
                        Check(
                            section: "hosts", host: name, name: "time sync (chrony)", state: ok ? "ok" : "down",
                            detail: String(format: "offset %.6f s", offset)))
                } else {
                    checks.append(
                        Check(
                            section: "hosts", host: name, name: "time sync (chrony)", state: "down",
                            detail: "chronyd is not tracking a source"))
                }
            case "hostname" where fields.count == 2:
                hostname = fields[1]
            case "bridge" where wantsBridge:
                checks.append(
                    Check(
                        section: "hosts", host: name, name: "br-ex", state: fields.last == "yes" ? "ok" : "down",
                        detail: fields.last == "yes" ? "present" : "missing"))
            default:
                break
            }
        }
        for service in pending {
            checks.append(
                Check(
                    section: "services", host: name, name: String(service.unitName.dropLast(".service".count)),
                    state: "pending",
                    detail: "not installed by this version yet"))
        }
        return (checks, hostname)
    }

    /// The identity API from here: health, a token, its validation, and the catalog; the
    /// agents each API knows (`addresses`: a host's name → the answer file's name for it).
    func apiChecks(addresses: [String: String]) -> [Check] {
        let controller = answers.controller.description
        guard let identity = manifest.catalogService else { return [] }
        let identityHost = plan.hosts.first { $0.services.contains(identity.name) }?.host.description ?? controller
        let base = "http://\(identityHost):\(identity.port ?? 0)"
        var checks: [Check] = []
        func add(_ name: String, _ ok: Bool, _ detail: String) {
            checks.append(
                Check(section: identity.name, host: identityHost, name: name, state: ok ? "ok" : "down", detail: detail)
            )
        }
        do {
            let health = try HTTPProbe.send("GET", base + "/healthz")
            add("API /healthz", health.status == 200, "HTTP \(health.status)")
        } catch {
            add("API /healthz", false, error.description)
            return checks
        }
        let user = answers.text(.keystoneAdminUsername).isEmpty ? "admin" : answers.text(.keystoneAdminUsername)
        let body: [String: Any] = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": [
                        "user": [
                            "name": user, "domain": ["name": "Default"],
                            "password": answers.password(.keystoneAdminPassword),
                        ]
                    ],
                ],
                "scope": ["project": ["name": "admin", "domain": ["name": "Default"]]],
            ]
        ]
        let started = Date()
        let issued: HTTPProbe.Reply
        do {
            issued = try HTTPProbe.send(
                "POST", base + "/v3/auth/tokens", headers: ["Content-Type": "application/json"],
                body: try JSONSerialization.data(withJSONObject: body))
        } catch {
            add("token issue", false, "\(error)")
            return checks
        }
        guard issued.status == 201, let token = issued.header("X-Subject-Token") else {
            add("token issue", false, "HTTP \(issued.status): \(issued.text.prefix(200))")
            return checks
        }
        add("token issue", true, String(format: "admin token in %.0f ms", Date().timeIntervalSince(started) * 1000))
        do {
            let validated = try HTTPProbe.send(
                "GET", base + "/v3/auth/tokens", headers: ["X-Auth-Token": token, "X-Subject-Token": token])
            add("token validation", validated.status == 200, "HTTP \(validated.status)")
        } catch {
            add("token validation", false, error.description)
        }
        let catalog =
            ((try? JSONSerialization.jsonObject(with: issued.body)) as? [String: Any]).flatMap {
                ($0["token"] as? [String: Any])?["catalog"] as? [[String: Any]]
            } ?? []
        var probes: [Check] = []
        for service in catalog {
            let type = service["type"] as? String ?? "?"
            let endpoints = (service["endpoints"] as? [[String: Any]]) ?? []
            guard let url = endpoints.first(where: { $0["interface"] as? String == "public" })?["url"] as? String else {
                continue
            }
            let reachable: Bool
            var detail: String
            do {
                let reply = try HTTPProbe.send("GET", url, timeout: 3)
                reachable = true
                detail = "\(url) → HTTP \(reply.status)"
            } catch {
                reachable = false
                detail = "\(url): \(error.description)"
            }
            let entry = manifest.service(forCatalogType: type)
            let service = entry?.name ?? type
            let pending = entry?.planned ?? true
            // The host serving it (object storage may be on the storage host).
            let host = URL(string: url)?.host ?? controller
            checks.append(
                Check(
                    section: "catalog", host: host, name: type,
                    state: reachable ? "ok" : pending ? "pending" : "down",
                    detail: reachable || !pending ? detail : "\(url) (service not installed by this version yet)"))
            // Each installed service answers an authenticated request with the admin token.
            if let probe = entry?.catalog.first(where: { $0.type == type })?.probe, !pending {
                do {
                    let reply = try HTTPProbe.send("GET", url + probe, headers: ["X-Auth-Token": token], timeout: 5)
                    probes.append(
                        Check(
                            section: service, host: host, name: "GET \(probe)",
                            state: reply.status == 200 ? "ok" : "down", detail: "HTTP \(reply.status)"))
                    if reply.status == 200 {
                        switch type {
                        case "block-storage":
                            probes += volumeChecks(url, token: token, host: host, addresses: addresses)
                        case "compute": probes += computeChecks(url, token: token, host: host, addresses: addresses)
                        case "network": probes += networkChecks(url, token: token, host: host, addresses: addresses)
                        default: break
                        }
                    }
                } catch {
                    probes.append(
                        Check(
                            section: service, host: host, name: "GET \(probe)", state: "down",
                            detail: error.description))
                }
            }
        }
        // After the catalog, so each section is printed once.
        return checks + probes
    }

    /// A GET with the admin token: the reply's JSON object, nil when it fails.
    static func get(_ url: String, token: String, headers: [String: String] = [:]) -> [String: Any]? {
        guard
            let reply = try? HTTPProbe.send(
                "GET", url, headers: headers.merging(["X-Auth-Token": token]) { $1 }, timeout: 5),
            reply.status == 200
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any]
    }

    /// The fix for an agent whose heartbeats stopped: restart its unit on its host (by the
    /// answer file's name for it when the API's host name is a hypervisor's).
    func agentFix(_ service: String, host: String, addresses: [String: String]) -> String {
        let target = addresses[host] ?? host
        return
            "nimbus service restart \(service) --host \(target) (its heartbeats stopped; journalctl -u nimbus-\(service) on \(target))"
    }

    /// The compute services and hypervisors as the compute API tells them.
    func computeChecks(_ url: String, token: String, host: String, addresses known: [String: String]) -> [Check] {
        let version = ["OpenStack-API-Version": "compute 2.53"]
        guard
            let services = Self.get(url + "/os-services", token: token, headers: version)?["services"]
                as? [[String: Any]],
            let hypervisors = Self.get(url + "/os-hypervisors/detail", token: token, headers: version)?["hypervisors"]
                as? [[String: Any]]
        else {
            return [
                Check(
                    section: "compute", host: host, name: "services and hypervisors", state: "down",
                    detail: "GET /os-services or /os-hypervisors/detail failed",
                    fix: "nimbus service restart compute --host \(host)")
            ]
        }
        var addresses = known
        for hypervisor in hypervisors where addresses[hypervisor["hypervisor_hostname"] as? String ?? ""] == nil {
            if let name = hypervisor["hypervisor_hostname"] as? String, let ip = hypervisor["host_ip"] as? String {
                addresses[name] = ip
            }
        }
        var checks = services.map { service in
            let up = service["state"] as? String == "up"
            let name = "\(service["host"] ?? "")"
            return Check(
                section: "compute", host: addresses[name] ?? name, name: "\(service["binary"] ?? "")",
                state: up ? "ok" : "down", detail: "\(service["status"] ?? ""), \(service["state"] ?? "")",
                fix: up ? nil : agentFix("compute-agent", host: name, addresses: addresses))
        }
        if services.isEmpty {
            checks.append(
                Check(
                    section: "compute", host: host, name: "nova-compute", state: "down",
                    detail: "no compute service has reported", fix: "nimbus service restart compute-agent"))
        }
        for hypervisor in hypervisors {
            let up = hypervisor["state"] as? String == "up"
            let name = "\(hypervisor["hypervisor_hostname"] ?? "")"
            checks.append(
                Check(
                    section: "compute", host: addresses[name] ?? name, name: "hypervisor \(name)",
                    state: up ? "ok" : "down",
                    detail:
                        "\(hypervisor["hypervisor_type"] ?? ""), \(hypervisor["status"] ?? ""), \(hypervisor["state"] ?? ""), \(hypervisor["running_vms"] ?? 0) running",
                    fix: up ? nil : agentFix("compute-agent", host: name, addresses: addresses)))
        }
        return checks
    }

    /// The network agents as the network API tells them (alive while their heartbeats come).
    func networkChecks(_ url: String, token: String, host: String, addresses byHostname: [String: String]) -> [Check] {
        guard let agents = Self.get(url + "/v2.0/agents", token: token)?["agents"] as? [[String: Any]] else {
            return [
                Check(
                    section: "network", host: host, name: "agents", state: "down", detail: "GET /v2.0/agents failed",
                    fix: "nimbus service restart network --host \(host)")
            ]
        }
        return agents.map { agent in
            let alive = agent["alive"] as? Bool ?? false
            let binary = "\(agent["binary"] ?? "")"
            let name = "\(agent["host"] ?? "")"
            let service = binary == "neutron-linuxbridge-agent" ? "network-agent" : "network-gateway"
            return Check(
                section: "network", host: byHostname[name] ?? name, name: binary, state: alive ? "ok" : "down",
                detail: "\(agent["agent_type"] ?? ""), \(alive ? "alive" : "not alive")",
                fix: alive ? nil : agentFix(service, host: name, addresses: byHostname))
        }
    }

    /// The volume services as the block-storage API tells them (up while their heartbeats
    /// come), and each storage host's pool with its free space.
    func volumeChecks(_ url: String, token: String, host: String, addresses: [String: String]) -> [Check] {
        func get(_ path: String) -> [String: Any]? {
            guard let reply = try? HTTPProbe.send("GET", url + path, headers: ["X-Auth-Token": token], timeout: 5),
                reply.status == 200
            else { return nil }
            return (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any]
        }
        guard let services = get("/os-services")?["services"] as? [[String: Any]] else {
            return [
                Check(
                    section: "block-storage", host: host, name: "volume services", state: "down",
                    detail: "GET /os-services failed")
            ]
        }
        var checks = services.map { service in
            let up = service["state"] as? String == "up"
            let name = String("\(service["host"] ?? "")".split(separator: "@").first ?? "")
            let binary = "\(service["binary"] ?? "")"
            return Check(
                section: "block-storage", host: addresses[name] ?? name, name: binary,
                state: up ? "ok" : "down", detail: "\(service["status"] ?? ""), \(service["state"] ?? "")",
                fix: up
                    ? nil
                    : agentFix(binary == "cinder-volume" ? "volume" : "block-storage", host: name, addresses: addresses)
            )
        }
        for pool in (get("/scheduler-stats/get_pools?detail=true")?["pools"] as? [[String: Any]]) ?? [] {
            let capabilities = pool["capabilities"] as? [String: Any] ?? [:]
            let name = "\(pool["name"] ?? "")"
            checks.append(
                Check(
                    section: "block-storage",
                    host: addresses[String(name.split(separator: "@").first ?? "")]
                        ?? String(name.split(separator: "@").first ?? ""),
                    name: "pool \(name)", state: "ok",
                    detail:
                        "\(capabilities["free_capacity_gb"] ?? "?") GiB free of \(capabilities["total_capacity_gb"] ?? "?") GiB"
                ))
        }
        return checks
    }
}
