import Foundation
import Hummingbird
import NimbusServiceKit

/// The compute hosts as their agents report them: `os-services` (each `nova-compute`),
/// `os-hypervisors` (what each offers) and `os-availability-zone`. An agent is up while
/// its heartbeats come (down after 75 s without one).
extension ComputeAPI {
    /// A compute host: its agent's registration, the hypervisor it reported, what an admin
    /// set on its service and the zone its aggregates put it in.
    struct Host {
        var agent: AgentRegistry.Agent
        var hypervisor: JSON
        var setting = HostSetting()
        var zone = ComputeState.defaultZone
        /// What its servers' flavors take: vCPUs, MiB, GiB, and how many servers there are.
        var used = Usage()

        struct Usage {
            var vcpus = 0
            var memoryMiB = 0
            var diskGiB = 0
            var servers = 0
        }

        var name: String { agent.host }
        /// Up while its heartbeats come, unless an admin forced it down.
        var up: Bool { agent.alive && !setting.forcedDown }
        /// Up and enabled: new servers may go there.
        var usable: Bool { up && !setting.disabled }
        var state: String { up ? "up" : "down" }
        var status: String { setting.disabled ? "disabled" : "enabled" }
        var serviceID: String { NameUUID.make("nimbus-agent/compute/\(agent.host)") }
        var hypervisorID: String { NameUUID.make("nimbus-hypervisor/\(agent.host)") }
        var updatedAt: String { Timestamp.utc(Int64(agent.heartbeatAt.timeIntervalSince1970)) + ".000000" }
        func number(_ key: String) -> JSON { .int(hypervisor[key]?.int ?? 0) }
    }

    /// Every compute host that ever reported.
    func hosts(_ state: ComputeState? = nil) throws -> [Host] {
        let state = state ?? store.snapshot
        var usage: [String: Host.Usage] = [:]
        for server in state.servers.values where !server.host.isEmpty {
            usage[server.host, default: Host.Usage()].vcpus += server.flavor.vcpus
            usage[server.host, default: Host.Usage()].memoryMiB += server.flavor.memoryMiB
            usage[server.host, default: Host.Usage()].diskGiB += server.flavor.diskGiB
            usage[server.host, default: Host.Usage()].servers += 1
        }
        return try agents.agents().filter { $0.type == "compute" }.sorted { $0.host < $1.host }.map {
            Host(
                agent: $0, hypervisor: $0.configuration, setting: state.hostSettings[$0.host] ?? HostSetting(),
                zone: state.zone(of: $0.host), used: usage[$0.host] ?? Host.Usage())
        }
    }

    /// A service as `os-services` shows it at `version`.
    func service(_ host: Host, _ index: Int, _ version: Microversion) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", version >= Microversion(2, 53) ? .string(host.serviceID) : .int(Int64(index + 1))),
            ("binary", "nova-compute"), ("host", .string(host.name)), ("zone", .string(host.zone)),
            ("status", .string(host.status)), ("state", .string(host.state)),
            ("updated_at", .string(host.updatedAt)), ("disabled_reason", .optional(host.setting.reason)),
        ]
        if version >= Microversion(2, 11) { fields.append(("forced_down", .bool(host.setting.forcedDown))) }
        return .object(fields)
    }

    func hostRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/os-services") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-services:list")
            let query = ListQuery(request)
            let version = Self.version(context)
            var services = Array(try hosts().enumerated())
            if let host = query.value("host") { services = services.filter { $0.element.name == host } }
            if let binary = query.value("binary"), binary != "nova-compute" { services = [] }
            return Response.json(["services": .array(services.map { service($0.element, $0.offset, version) })])
        }
        router.put("/v2.1/os-services/:id") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-services:update")
            let id = try context.parameters.require("id")
            let version = Self.version(context)
            let given = try await body(request, context: context)
            guard version >= Microversion(2, 53) else { return try legacyServiceUpdate(id, given, version) }
            let all = try hosts()
            guard let index = all.firstIndex(where: { $0.serviceID == id }) else {
                throw ComputeFault.notFound("Service \(id) could not be found.")
            }
            let status = given["status"]?.string
            if let value = given["status"], status == nil || !["enabled", "disabled"].contains(status!) {
                throw ComputeFault.invalid("status", value, "It must be one of 'enabled', 'disabled'")
            }
            let reason = given["disabled_reason"]
            if let reason, reason.string == nil || reason.string!.isEmpty || reason.string!.count > 255 {
                throw ComputeFault.invalid("disabled_reason", reason, "It must be a string of 1 to 255 characters")
            }
            if reason != nil, status != "disabled" {
                throw ComputeFault.badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
            }
            let forcedDown = given["forced_down"]
            if let forcedDown, forcedDown.bool == nil {
                throw ComputeFault.invalid("forced_down", forcedDown, "It must be a boolean")
            }
            guard status != nil || forcedDown != nil else {
                throw ComputeFault.badRequest(
                    "No updates were requested. Fields 'status' or 'forced_down' should be specified.")
            }
            let host = all[index].name
            let setting = try setHost(host) { setting in
                if let status {
                    setting.disabled = status == "disabled"
                    setting.reason = setting.disabled ? reason?.string : nil
                }
                if let down = forcedDown?.bool { setting.forcedDown = down }
            }
            var shown = all[index]
            shown.setting = setting
            return Response.json(["service": service(shown, index, version)])
        }
        // Nova's `openstack compute service delete`: a host taken out of the cloud, once its
        // agent is stopped (a running one registers again with its next heartbeat). Its
        // settings and aggregate memberships go too; a host with servers is refused.
        router.delete("/v2.1/os-services/:id") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-services:delete")
            let id = try context.parameters.require("id")
            let all = try hosts()
            let found: Host?
            if Self.version(context) >= Microversion(2, 53) {
                found = all.first { $0.serviceID == id }
            } else {
                guard let index = Int(id) else { throw ComputeFault.badRequest("Invalid uuid \(id)") }
                found = all.indices.contains(index - 1) ? all[index - 1] : nil
            }
            guard let host = found else { throw ComputeFault.notFound("Service \(id) not found.") }
            try store.write { transaction in
                guard !transaction.state.servers.values.contains(where: { $0.host == host.name }) else {
                    throw ComputeFault.conflict(
                        "Unable to delete compute service that is hosting instances. Migrate or delete the instances first."
                    )
                }
                transaction.state.hostSettings[host.name] = nil
                transaction.touch(.hostSetting, host.name)
                for (key, aggregate) in transaction.state.aggregates where aggregate.hosts.contains(host.name) {
                    transaction.state.aggregates[key]?.hosts.removeAll { $0 == host.name }
                    transaction.touch(.aggregate, key)
                }
            }
            _ = try agents.remove(host: host.name, type: "compute")
            return Response(status: .noContent)
        }
        router.get("/v2.1/os-hypervisors") { request, context in
            try await listHypervisors(request, context, detail: false)
        }
        router.get("/v2.1/os-hypervisors/detail") { request, context in
            try await listHypervisors(request, context, detail: true)
        }
        router.get("/v2.1/os-hypervisors/statistics") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-hypervisors:statistics")
            guard Self.version(context) < Microversion(2, 88) else { throw HTTPError(.notFound) }
            let all = try hosts().filter(\.up)
            func total(_ key: String) -> Int64 { all.reduce(0) { $0 + ($1.hypervisor[key]?.int ?? 0) } }
            func used(_ value: (Host.Usage) -> Int) -> Int64 { Int64(all.reduce(0) { $0 + value($1.used) }) }
            return Response.json([
                "hypervisor_statistics": [
                    "count": .int(Int64(all.count)), "vcpus": .int(total("vcpus")),
                    "memory_mb": .int(total("memory_mb")),
                    "local_gb": .int(total("local_gb")), "vcpus_used": .int(used(\.vcpus)),
                    "memory_mb_used": .int(used(\.memoryMiB)), "local_gb_used": .int(used(\.diskGiB)),
                    "free_ram_mb": .int(total("memory_mb") - used(\.memoryMiB)),
                    "free_disk_gb": .int(total("local_gb") - used(\.diskGiB)), "current_workload": 0,
                    "running_vms": .int(used(\.servers)),
                    "disk_available_least": .int(total("local_gb") - used(\.diskGiB)),
                ]
            ])
        }
        // Before 2.53: by host name pattern, with or without their servers.
        router.get("/v2.1/os-hypervisors/:id/search") { request, context in
            try await hypervisorSearch(request, context, servers: false)
        }
        router.get("/v2.1/os-hypervisors/:id/servers") { request, context in
            try await hypervisorSearch(request, context, servers: true)
        }
        router.get("/v2.1/os-hypervisors/:id") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-hypervisors:show")
            let (host, index) = try hypervisor(try context.parameters.require("id"))
            let version = Self.version(context)
            var shown = hypervisor(host, index, version, detail: true)
            if version >= Microversion(2, 53),
                ListQuery(request).value("with_servers").map(Self.trueWords.contains) == true
            {
                shown = Self.adding(servers(on: host.name), to: shown)
            }
            return Response.json(["hypervisor": shown])
        }
        router.get("/v2.1/os-availability-zone") { request, _ in
            _ = try await caller(request)
            return Response.json([
                "availabilityZoneInfo": .array(
                    zones(try hosts()).map { zone, members in
                        [
                            "zoneName": .string(zone),
                            "zoneState": ["available": .bool(members.contains(where: \.usable))],
                            "hosts": .null,
                        ]
                    })
            ])
        }
        router.get("/v2.1/os-availability-zone/detail") { request, _ in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-availability-zone:detail")
            return Response.json([
                "availabilityZoneInfo": .array(
                    zones(try hosts()).map { zone, members in
                        let hosts = members.map { host -> (String, JSON) in
                            (
                                host.name,
                                [
                                    "nova-compute": [
                                        "available": .bool(host.up), "active": .bool(!host.setting.disabled),
                                        "updated_at": .string(host.updatedAt),
                                    ]
                                ]
                            )
                        }
                        return [
                            "zoneName": .string(zone),
                            "zoneState": ["available": .bool(members.contains(where: \.usable))],
                            "hosts": .object(hosts),
                        ]
                    })
            ])
        }
    }

    /// The zones with their hosts, by name. A zone is available while one of its hosts is
    /// up and enabled.
    func zones(_ hosts: [Host]) -> [(String, [Host])] {
        Dictionary(grouping: hosts, by: \.zone).sorted { $0.key < $1.key }
    }

    /// Changes what is set on a host's service, in the store; the setting as it now is.
    func setHost(_ host: String, _ change: (inout HostSetting) -> Void) throws -> HostSetting {
        try store.write { transaction in
            var setting = transaction.state.hostSettings[host] ?? HostSetting()
            change(&setting)
            transaction.state.hostSettings[host] = setting
            transaction.touch(.hostSetting, host)
            return setting
        }
    }

    /// `PUT /os-services/{enable,disable,disable-log-reason,force-down}` before 2.53: the
    /// service named by `host` and `binary` in the body.
    func legacyServiceUpdate(_ action: String, _ given: JSON, _ version: Microversion) throws -> Response {
        guard
            ["enable", "disable", "disable-log-reason"].contains(action)
                || (action == "force-down" && version >= Microversion(2, 11))
        else { throw ComputeFault.notFound("Unknown action") }
        guard let host = given["host"]?.string, let binary = given["binary"]?.string else {
            throw ComputeFault.badRequest(
                "Invalid input for field/attribute host. 'host' and 'binary' are required properties")
        }
        guard binary == "nova-compute", try hosts().contains(where: { $0.name == host }) else {
            throw ComputeFault.notFound("Host '\(host)' is not mapped to any cell")
        }
        var reason: String?
        if action == "disable-log-reason" {
            guard let text = given["disabled_reason"]?.string, !text.isEmpty, text.count <= 255 else {
                throw ComputeFault.badRequest(
                    "The string containing the reason for disabling the service must be 1 to 255 characters.")
            }
            reason = text
        }
        var forcedDown: Bool?
        if action == "force-down" {
            guard let down = given["forced_down"]?.bool else {
                throw ComputeFault.invalid("forced_down", given["forced_down"], "It must be a boolean")
            }
            forcedDown = down
        }
        let setting = try setHost(host) { setting in
            switch action {
            case "enable": setting = HostSetting(forcedDown: setting.forcedDown)
            case "disable": setting.disabled = true
            case "disable-log-reason":
                setting.disabled = true
                setting.reason = reason
            default: setting.forcedDown = forcedDown ?? setting.forcedDown
            }
        }
        var fields: [(String, JSON)] = [("host", .string(host)), ("binary", "nova-compute")]
        if action == "force-down" {
            fields.append(("forced_down", .bool(setting.forcedDown)))
        } else {
            fields.append(("status", setting.disabled ? "disabled" : "enabled"))
            if action == "disable-log-reason" { fields.append(("disabled_reason", .optional(setting.reason))) }
        }
        return Response.json(["service": .object(fields)])
    }

    /// `GET /os-hypervisors[/detail]`; from 2.53 `hypervisor_hostname_pattern` (404 when
    /// nothing matches) and `with_servers`.
    func listHypervisors(_ request: Request, _ context: ServiceContext, detail: Bool) async throws -> Response {
        let caller = try await caller(request)
        try requireAdmin(caller, "os_compute_api:os-hypervisors:\(detail ? "list-detail" : "list")")
        let version = Self.version(context)
        let query = ListQuery(request)
        var all = Array(try hosts().enumerated())
        var withServers = false
        if version >= Microversion(2, 53) {
            withServers = query.value("with_servers").map(Self.trueWords.contains) == true
            if let pattern = query.value("hypervisor_hostname_pattern") {
                all = all.filter {
                    ($0.element.hypervisor["hypervisor_hostname"]?.string ?? $0.element.name).contains(pattern)
                }
                guard !all.isEmpty else {
                    throw ComputeFault.notFound("No hypervisor matching '\(pattern)' could be found.")
                }
            }
        }
        return Response.json([
            "hypervisors": .array(
                all.map { index, host in
                    let shown = hypervisor(host, index, version, detail: detail)
                    return withServers ? Self.adding(servers(on: host.name), to: shown) : shown
                })
        ])
    }

    /// The hypervisor with `id`: a UUID from 2.53, its position before.
    func hypervisor(_ id: String) throws -> (Host, Int) {
        let all = try hosts()
        let index = all.firstIndex { $0.hypervisorID == id } ?? Int(id).map { $0 - 1 }
        guard let index, all.indices.contains(index) else {
            throw ComputeFault.notFound("Hypervisor with ID '\(id)' could not be found.")
        }
        return (all[index], index)
    }

    /// `GET /os-hypervisors/{pattern}/search` and `…/servers` (before 2.53): the hypervisors
    /// whose host name holds the pattern, 404 when none does.
    func hypervisorSearch(_ request: Request, _ context: ServiceContext, servers withServers: Bool) async throws
        -> Response
    {
        let caller = try await caller(request)
        try requireAdmin(caller, "os_compute_api:os-hypervisors:\(withServers ? "servers" : "search")")
        let version = Self.version(context)
        guard version < Microversion(2, 53) else { throw HTTPError(.notFound) }
        let pattern = try context.parameters.require("id")
        let found = try hosts().enumerated().filter {
            ($0.element.hypervisor["hypervisor_hostname"]?.string ?? $0.element.name).contains(pattern)
        }
        guard !found.isEmpty else {
            throw ComputeFault.notFound("No hypervisor matching '\(pattern)' could be found.")
        }
        return Response.json([
            "hypervisors": .array(
                found.map { index, host in
                    let shown = hypervisor(host, index, version, detail: false)
                    return withServers ? Self.adding(servers(on: host.name), to: shown) : shown
                })
        ])
    }

    /// The servers on a host, as hypervisors list them (`uuid`, `name`).
    func servers(on host: String) -> [JSON] {
        store.snapshot.servers.values.filter { $0.host == host }.sorted { $0.serial < $1.serial }.map {
            ["uuid": .string($0.id), "name": .string($0.instanceName)]
        }
    }

    /// A hypervisor with its `servers` (left out when it has none, as Nova does).
    static func adding(_ servers: [JSON], to hypervisor: JSON) -> JSON {
        guard !servers.isEmpty else { return hypervisor }
        return .object((hypervisor.members ?? []) + [("servers", .array(servers))])
    }

    /// A hypervisor as Nova shows it at `version`: UUIDs from 2.53, no usage figures from 2.88.
    func hypervisor(_ host: Host, _ index: Int, _ version: Microversion, detail: Bool) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", version >= Microversion(2, 53) ? .string(host.hypervisorID) : .int(Int64(index + 1))),
            ("hypervisor_hostname", .string(host.hypervisor["hypervisor_hostname"]?.string ?? host.name)),
            ("state", .string(host.state)), ("status", .string(host.status)),
        ]
        guard detail else { return .object(fields) }
        fields += [
            ("hypervisor_type", .string(host.hypervisor["hypervisor_type"]?.string ?? "QEMU")),
            ("hypervisor_version", host.number("hypervisor_version")),
            ("host_ip", .string(host.hypervisor["host_ip"]?.string ?? "")),
            (
                "service",
                [
                    "host": .string(host.name),
                    "id": version >= Microversion(2, 53) ? .string(host.serviceID) : .int(Int64(index + 1)),
                    "disabled_reason": .optional(host.setting.reason),
                ]
            ),
        ]
        if version >= Microversion(2, 88) {
            fields.append(("uptime", .null))
        } else {
            let memory = host.hypervisor["memory_mb"]?.int ?? 0
            let disk = host.hypervisor["local_gb"]?.int ?? 0
            fields += [
                ("vcpus", host.number("vcpus")), ("memory_mb", host.number("memory_mb")),
                ("local_gb", host.number("local_gb")), ("vcpus_used", .int(Int64(host.used.vcpus))),
                ("memory_mb_used", .int(Int64(host.used.memoryMiB))), ("local_gb_used", .int(Int64(host.used.diskGiB))),
                ("free_ram_mb", .int(memory - Int64(host.used.memoryMiB))),
                ("free_disk_gb", .int(disk - Int64(host.used.diskGiB))),
                ("current_workload", 0), ("running_vms", .int(Int64(host.used.servers))),
                ("disk_available_least", .int(disk - Int64(host.used.diskGiB))),
                // A JSON string before 2.28, an object from it.
                ("cpu_info", version >= Microversion(2, 28) ? [:] : "{}"),
            ]
        }
        return .object(fields)
    }
}
