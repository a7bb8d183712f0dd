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
            }
            let down = checks.filter { $0.state == "down" }.count
            out.append(down == 0 ? "All checks passed." : "\(down) check(s) down.")
            return out.joined(separator: "\n")
        }
    }

    func check() -> Report {
        var checks: [Check] = []
        let hosts = plan.hosts.filter { !$0.excluded && !$0.steps.isEmpty }
        let results = Mutex<[String: [Check]]>([:])
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let found = hostChecks(hosts[index])
            results.withLock { $0[hosts[index].host.description] = found }
        }
        for host in hosts { checks += results.withLock { $0[host.host.description] ?? [] } }
        checks += apiChecks()
        return Report(checks: checks)
    }

    /// One round trip per host: unit states, chrony's offset, br-ex.
    func hostChecks(_ host: HostPlan) -> [Check] {
        let name = host.host.description
        let entries = host.services.compactMap { manifest[$0] }
        let units = entries.filter { !$0.planned }.map { String($0.unitName.dropLast(".service".count)) }
        let pending = entries.filter(\.planned)
        let wantsBridge = host.steps.contains { $0.name == "prepare.bridges" }
        var script =
            "for u in \(units.joined(separator: " ")); do echo \"unit $u $(systemctl is-active $u.service 2>/dev/null) $(systemctl is-enabled $u.service 2>/dev/null)\"; done\n"
        script += "echo \"chrony $(chronyc -c tracking 2>/dev/null | cut -d, -f5)\"\n"
        script += "ip -br link show br-ex >/dev/null 2>&1 && echo 'bridge yes' || echo 'bridge no'\n"
        var checks: [Check] = []
        let output: String
        do {
            let executor = try connect(name)
            defer { executor.close() }
            output = try executor.run("sh -s", input: script, timeout: 30).stdout
        } catch {
            return [Check(section: "hosts", host: name, name: "reachable", state: "down", detail: error.description)]
        }
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            switch fields.first {
            case "unit" where fields.count >= 2:
                let active = fields.count > 2 ? fields[2] : "unknown"
                let enabled = fields.count > 3 ? fields[3] : "unknown"
                let ok = active == "active" && enabled == "enabled"
                checks.append(
                    Check(
                        section: "services", host: name, name: fields[1], state: ok ? "ok" : "down",
                        detail: "\(active), \(enabled)"))
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
        return checks
    }

    /// The identity API from here: health, a token, its validation, and the catalog.
    func apiChecks() -> [Check] {
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
                    if type == "block-storage", reply.status == 200 {
                        probes += volumeChecks(url, token: token, host: host)
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

    /// The volume services as the block-storage API tells them (up while their heartbeats
    /// come), and each storage host's pool with its free space.
    func volumeChecks(_ url: String, token: String, host: String) -> [Check] {
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
            return Check(
                section: "block-storage", host: "\(service["host"] ?? "")", name: "\(service["binary"] ?? "")",
                state: up ? "ok" : "down", detail: "\(service["status"] ?? ""), \(service["state"] ?? "")")
        }
        for pool in (get("/scheduler-stats/get_pools?detail=true")?["pools"] as? [[String: Any]]) ?? [] {
            let capabilities = pool["capabilities"] as? [String: Any] ?? [:]
            let name = "\(pool["name"] ?? "")"
            checks.append(
                Check(
                    section: "block-storage", host: String(name.split(separator: "@").first ?? ""),
                    name: "pool \(name)", state: "ok",
                    detail:
                        "\(capabilities["free_capacity_gb"] ?? "?") GiB free of \(capabilities["total_capacity_gb"] ?? "?") GiB"
                ))
        }
        return checks
    }
}
