import Foundation
import Hummingbird
import NimbusServiceKit

/// The compute hosts as their agents report them: `os-services` (each `nova-compute`),
/// `os-hypervisors` (what each offers) and `os-availability-zone`. An agent is up while
/// its heartbeats come (down after 75 s without one).
extension ComputeAPI {
    /// A compute host: its agent's registration and the hypervisor it reported.
    struct Host {
        var agent: AgentRegistry.Agent
        var hypervisor: JSON

        var name: String { agent.host }
        var state: String { agent.alive ? "up" : "down" }
        var serviceID: String { NameUUID.make("nimbus-agent/compute/\(agent.host)") }
        var hypervisorID: String { NameUUID.make("nimbus-hypervisor/\(agent.host)") }
        var updatedAt: String { Timestamp.utc(Int64(agent.heartbeatAt.timeIntervalSince1970)) + ".000000" }
        func number(_ key: String) -> JSON { .int(hypervisor[key]?.int ?? 0) }
    }

    /// Every compute host that ever reported.
    func hosts() throws -> [Host] {
        try agents.agents().filter { $0.type == "compute" }.sorted { $0.host < $1.host }.map {
            Host(agent: $0, hypervisor: $0.configuration)
        }
    }

    func hostRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/os-services") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-services:list")
            let query = ListQuery(request)
            let version = Self.version(context)
            var services = try hosts()
            if let host = query.value("host") { services = services.filter { $0.name == host } }
            if let binary = query.value("binary"), binary != "nova-compute" { services = [] }
            return Response.json([
                "services": .array(
                    services.enumerated().map { index, host in
                        var fields: [(String, JSON)] = [
                            ("id", version >= Microversion(2, 53) ? .string(host.serviceID) : .int(Int64(index + 1))),
                            ("binary", "nova-compute"), ("host", .string(host.name)), ("zone", "nova"),
                            ("status", "enabled"), ("state", .string(host.state)),
                            ("updated_at", .string(host.updatedAt)), ("disabled_reason", .null),
                        ]
                        if version >= Microversion(2, 11) { fields.append(("forced_down", false)) }
                        return .object(fields)
                    })
            ])
        }
        router.get("/v2.1/os-hypervisors") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-hypervisors:list")
            let version = Self.version(context)
            return Response.json([
                "hypervisors": .array(
                    try hosts().enumerated().map { hypervisor($0.element, $0.offset, version, detail: false) })
            ])
        }
        router.get("/v2.1/os-hypervisors/detail") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-hypervisors:list-detail")
            let version = Self.version(context)
            return Response.json([
                "hypervisors": .array(
                    try hosts().enumerated().map { hypervisor($0.element, $0.offset, version, detail: true) })
            ])
        }
        router.get("/v2.1/os-hypervisors/statistics") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-hypervisors:statistics")
            guard Self.version(context) < Microversion(2, 88) else { throw HTTPError(.notFound) }
            let all = try hosts().filter(\.agent.alive)
            func sum(_ key: String) -> JSON { .int(all.reduce(0) { $0 + ($1.hypervisor[key]?.int ?? 0) }) }
            return Response.json([
                "hypervisor_statistics": [
                    "count": .int(Int64(all.count)), "vcpus": sum("vcpus"), "memory_mb": sum("memory_mb"),
                    "local_gb": sum("local_gb"), "vcpus_used": 0, "memory_mb_used": 0, "local_gb_used": 0,
                    "free_ram_mb": sum("memory_mb"), "free_disk_gb": sum("local_gb"), "current_workload": 0,
                    "running_vms": 0, "disk_available_least": sum("local_gb"),
                ]
            ])
        }
        router.get("/v2.1/os-hypervisors/:id") { request, context in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-hypervisors:show")
            let id = try context.parameters.require("id")
            let all = try hosts()
            // A UUID from 2.53, the position before.
            let index = all.firstIndex { $0.hypervisorID == id } ?? Int(id).map { $0 - 1 }
            guard let index, all.indices.contains(index) else {
                throw ComputeFault.notFound("Hypervisor with ID '\(id)' could not be found.")
            }
            return Response.json(["hypervisor": hypervisor(all[index], index, Self.version(context), detail: true)])
        }
        router.get("/v2.1/os-availability-zone") { request, _ in
            _ = try await caller(request)
            let available = try hosts().contains { $0.agent.alive }
            let zones: JSON =
                try hosts().isEmpty
                ? [] : [["zoneName": "nova", "zoneState": ["available": .bool(available)], "hosts": .null]]
            return Response.json(["availabilityZoneInfo": zones])
        }
        router.get("/v2.1/os-availability-zone/detail") { request, _ in
            let caller = try await caller(request)
            try requireAdmin(caller, "os_compute_api:os-availability-zone:detail")
            let all = try hosts()
            guard !all.isEmpty else { return Response.json(["availabilityZoneInfo": []]) }
            let members = all.map { host -> (String, JSON) in
                (
                    host.name,
                    [
                        "nova-compute": [
                            "available": .bool(host.agent.alive), "active": true, "updated_at": .string(host.updatedAt),
                        ]
                    ]
                )
            }
            return Response.json([
                "availabilityZoneInfo": [
                    [
                        "zoneName": "nova", "zoneState": ["available": .bool(all.contains { $0.agent.alive })],
                        "hosts": .object(members),
                    ]
                ]
            ])
        }
    }

    /// A hypervisor as Nova shows it at `version`: UUIDs from 2.53, no usage figures from 2.88.
    func hypervisor(_ host: Host, _ index: Int, _ version: Microversion, detail: Bool) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", version >= Microversion(2, 53) ? .string(host.hypervisorID) : .int(Int64(index + 1))),
            ("hypervisor_hostname", .string(host.hypervisor["hypervisor_hostname"]?.string ?? host.name)),
            ("state", .string(host.state)), ("status", "enabled"),
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
                    "disabled_reason": .null,
                ]
            ),
        ]
        if version >= Microversion(2, 88) {
            fields.append(("uptime", .null))
        } else {
            fields += [
                ("vcpus", host.number("vcpus")), ("memory_mb", host.number("memory_mb")),
                ("local_gb", host.number("local_gb")), ("vcpus_used", 0), ("memory_mb_used", 0), ("local_gb_used", 0),
                ("free_ram_mb", host.number("memory_mb")), ("free_disk_gb", host.number("local_gb")),
                ("current_workload", 0), ("running_vms", 0), ("disk_available_least", host.number("local_gb")),
                ("cpu_info", "{}"),
            ]
        }
        return .object(fields)
    }
}
