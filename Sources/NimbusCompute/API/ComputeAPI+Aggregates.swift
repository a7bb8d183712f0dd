import Foundation
import Hummingbird
import NimbusServiceKit

/// `os-aggregates` (admins only): host aggregates, their hosts and metadata. An
/// aggregate's `availability_zone` puts its hosts in that zone: the scheduler and
/// `os-availability-zone` follow it, and a host is in one zone at most.
extension ComputeAPI {
    func aggregateRoutes(on router: Hummingbird.Router<ServiceContext>) {
        router.get("/v2.1/os-aggregates") { request, context in
            try requireAdmin(try await caller(request), "os_compute_api:os-aggregates:index")
            let version = Self.version(context)
            let all = store.snapshot.aggregates.values.sorted { $0.id < $1.id }
            return Response.json(["aggregates": .array(all.map { shown($0, version) })])
        }
        router.post("/v2.1/os-aggregates") { request, context in
            try requireAdmin(try await caller(request), "os_compute_api:os-aggregates:create")
            let given = try member(try await body(request, context: context), "aggregate")
            try Self.onlyKeys(given, ["name", "availability_zone"], in: "aggregate")
            let name = try Self.resourceName(given["name"], field: "name")
            let zone = try Self.zoneName(given["availability_zone"])
            let now = clock()
            let made = try store.write { transaction -> Aggregate in
                try Self.checkUnique(name, transaction.state, except: nil)
                // Never an id a deleted aggregate had (Tempest waits for a deleted id to 404).
                let id =
                    max(
                        transaction.state.counters["aggregate"] ?? 0,
                        transaction.state.aggregates.values.map(\.id).max() ?? 0)
                    + 1
                transaction.state.counters["aggregate"] = id
                transaction.touch(.counter, "aggregate")
                let aggregate = Aggregate(
                    id: id, uuid: UUID().uuidString.lowercased(), name: name, hosts: [],
                    metadata: zone.map { ["availability_zone": $0] } ?? [:], createdAt: now, updatedAt: nil)
                transaction.state.aggregates[String(id)] = aggregate
                transaction.touch(.aggregate, String(id))
                return aggregate
            }
            return Response.json(["aggregate": shown(made, Self.version(context), full: false)])
        }
        router.get("/v2.1/os-aggregates/:id") { request, context in
            try requireAdmin(try await caller(request), "os_compute_api:os-aggregates:show")
            let id = try Self.aggregateID(context)
            guard let aggregate = store.snapshot.aggregates[id] else { throw Self.noAggregate(id) }
            return Response.json(["aggregate": shown(aggregate, Self.version(context))])
        }
        router.put("/v2.1/os-aggregates/:id") { request, context in
            try requireAdmin(try await caller(request), "os_compute_api:os-aggregates:update")
            let id = try Self.aggregateID(context)
            let given = try member(try await body(request, context: context), "aggregate")
            try Self.onlyKeys(given, ["name", "availability_zone"], in: "aggregate")
            guard given["name"] != nil || given["availability_zone"] != nil else {
                throw ComputeFault.badRequest(
                    "Invalid input for field/attribute aggregate. Either 'name' or 'availability_zone' is required")
            }
            let name = try given["name"].map { try Self.resourceName($0, field: "name") }
            let zone = try Self.zoneName(given["availability_zone"])
            let now = clock()
            let updated = try updateAggregate(id) { aggregate, state in
                if let name {
                    try Self.checkUnique(name, state, except: aggregate.id)
                    aggregate.name = name
                }
                if let zone { try setZone(zone, of: &aggregate, state, hosts: aggregate.hosts) }
                aggregate.updatedAt = now
            }
            return Response.json(["aggregate": shown(updated, Self.version(context))])
        }
        router.delete("/v2.1/os-aggregates/:id") { request, context in
            try requireAdmin(try await caller(request), "os_compute_api:os-aggregates:delete")
            let id = try Self.aggregateID(context)
            try store.write { transaction in
                guard let aggregate = transaction.state.aggregates[id] else { throw Self.noAggregate(id) }
                guard aggregate.hosts.isEmpty else {
                    throw ComputeFault.badRequest(
                        "Cannot remove host from aggregate \(id). Reason: Host aggregate is not empty.")
                }
                transaction.state.aggregates[id] = nil
                transaction.touch(.aggregate, id)
            }
            return Response(status: .ok)
        }
        router.post("/v2.1/os-aggregates/:id/action") { request, context in
            let caller = try await caller(request)
            let id = try Self.aggregateID(context)
            let given = try await body(request, context: context)
            guard let (action, argument) = given.members?.first, given.members?.count == 1 else {
                throw ComputeFault.badRequest("There is no such action: \(given.members?.map(\.0) ?? [])")
            }
            try requireAdmin(caller, "os_compute_api:os-aggregates:\(action)")
            let now = clock()
            let updated: Aggregate
            switch action {
            case "add_host", "remove_host":
                guard let host = argument["host"]?.string, !host.isEmpty, host.count <= 255 else {
                    throw ComputeFault.invalid(
                        "host", argument["host"], "'host' is a required property: a string of 1 to 255 characters")
                }
                try Self.onlyKeys(argument, ["host"], in: action)
                guard try hosts().contains(where: { $0.name == host }) else {
                    throw action == "add_host"
                        ? ComputeFault.notFound("Compute host \(host) could not be found.")
                        : ComputeFault.notFound("Cannot remove host \(host) in aggregate \(id)")
                }
                updated = try updateAggregate(id) { aggregate, state in
                    if action == "add_host" {
                        guard !aggregate.hosts.contains(host) else {
                            throw ComputeFault.conflict("Aggregate \(id) already has host \(host).")
                        }
                        try checkZoneMove(host, joining: aggregate, state)
                        aggregate.hosts.append(host)
                    } else {
                        guard aggregate.hosts.contains(host) else {
                            throw ComputeFault.notFound("Cannot remove host \(host) in aggregate \(id)")
                        }
                        if aggregate.zone != nil, state.servers.values.contains(where: { $0.host == host }) {
                            throw ComputeFault.conflict(
                                "Cannot remove host from aggregate \(id). Reason: The host cannot be removed from the aggregate as it has instances in its availability zone; move them away first."
                            )
                        }
                        aggregate.hosts.removeAll { $0 == host }
                    }
                    aggregate.updatedAt = now
                }
            case "set_metadata":
                guard let metadata = argument["metadata"]?.members else {
                    throw ComputeFault.invalid("metadata", argument["metadata"], "'metadata' is a required property")
                }
                try Self.onlyKeys(argument, ["metadata"], in: action)
                var changes: [String: String?] = [:]
                for (key, value) in metadata {
                    guard !key.isEmpty, key.count <= 255 else {
                        throw ComputeFault.badRequest(
                            "Invalid input for field/attribute metadata. Key '\(key)' must be 1 to 255 characters")
                    }
                    switch value {
                    case .null: changes[key] = .some(nil)
                    case .string(let text) where text.count <= 255: changes[key] = text
                    default:
                        throw ComputeFault.invalid(
                            "metadata", value, "A value must be a string of at most 255 characters or null")
                    }
                }
                updated = try updateAggregate(id) { aggregate, state in
                    if let zone = changes["availability_zone"] {
                        if let zone {
                            guard !zone.isEmpty else {
                                throw ComputeFault.badRequest(
                                    "Cannot update metadata of aggregate \(id). Reason: Aggregate \(aggregate.name) does not support empty named availability zone."
                                )
                            }
                            try setZone(
                                zone, of: &aggregate, state, hosts: aggregate.hosts,
                                action: "Cannot update metadata of aggregate")
                        } else if state.servers.values.contains(where: { aggregate.hosts.contains($0.host) }) {
                            throw ComputeFault.badRequest(
                                "Cannot update metadata of aggregate \(id). Reason: One or more hosts contain instances in this zone."
                            )
                        }
                    }
                    for (key, value) in changes { aggregate.metadata[key] = value }
                    aggregate.updatedAt = now
                }
            default:
                throw ComputeFault.badRequest("There is no such action: \(action)")
            }
            return Response.json(["aggregate": shown(updated, Self.version(context))])
        }
    }

    /// An aggregate as Nova shows it: the uuid from 2.41; a create shows no hosts or metadata.
    func shown(_ aggregate: Aggregate, _ version: Microversion, full: Bool = true) -> JSON {
        var fields: [(String, JSON)] = [
            ("availability_zone", .optional(aggregate.zone)),
            ("created_at", .string(Timestamp.utc(aggregate.createdAt) + ".000000")), ("deleted", false),
            ("deleted_at", .null), ("id", .int(Int64(aggregate.id))), ("name", .string(aggregate.name)),
            ("updated_at", aggregate.updatedAt.map { .string(Timestamp.utc($0) + ".000000") } ?? .null),
        ]
        if full {
            fields.append(("hosts", .array(aggregate.hosts.map(JSON.string))))
            fields.append(
                ("metadata", .object(aggregate.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
            )
        }
        if version >= Microversion(2, 41) { fields.append(("uuid", .string(aggregate.uuid))) }
        return .object(fields)
    }

    /// Changes an aggregate in one write; `change` may refuse (nothing is stored then).
    func updateAggregate(_ id: String, _ change: (inout Aggregate, ComputeState) throws -> Void) throws -> Aggregate {
        try store.write { transaction in
            guard var aggregate = transaction.state.aggregates[id] else { throw Self.noAggregate(id) }
            try change(&aggregate, transaction.state)
            transaction.state.aggregates[id] = aggregate
            transaction.touch(.aggregate, id)
            return aggregate
        }
    }

    /// Gives an aggregate a zone, unless one of `hosts` is in another zone aggregate (a host
    /// is in one zone) or has servers that would change zone.
    func setZone(
        _ zone: String, of aggregate: inout Aggregate, _ state: ComputeState, hosts: [String],
        action: String = "Cannot update aggregate"
    ) throws {
        let others = state.aggregates.values.filter {
            $0.id != aggregate.id && $0.zone != nil && $0.zone != zone && !Set($0.hosts).isDisjoint(with: hosts)
        }
        if !others.isEmpty {
            throw ComputeFault.badRequest(
                "\(action) \(aggregate.id). Reason: One or more hosts already in availability zone(s) \(others.compactMap(\.zone).sorted())."
            )
        }
        if aggregate.zone != zone, state.servers.values.contains(where: { hosts.contains($0.host) }) {
            throw ComputeFault.badRequest(
                "\(action) \(aggregate.id). Reason: One or more hosts contain instances in this zone.")
        }
        aggregate.metadata["availability_zone"] = zone
    }

    /// Refuses a host joining a zone aggregate when it is in another zone, or when it has
    /// servers whose zone would change.
    func checkZoneMove(_ host: String, joining aggregate: Aggregate, _ state: ComputeState) throws {
        guard let zone = aggregate.zone else { return }
        let current = state.aggregates.values.filter { $0.hosts.contains(host) }.compactMap(\.zone)
        if let other = current.first(where: { $0 != zone }) {
            throw ComputeFault.conflict(
                "Cannot add host to aggregate \(aggregate.id). Reason: One or more hosts already in availability zone(s) ['\(other)']."
            )
        }
        let servers = state.servers.values.count { $0.host == host }
        if current.isEmpty, servers > 0 {
            throw ComputeFault.conflict(
                "Cannot add host to aggregate \(aggregate.id). Reason: The host cannot be added to the aggregate as the availability zone of the host would change from '\(ComputeState.defaultZone)' to '\(zone)' but the host already has \(servers) instance(s). Move the instances away from this host then try again."
            )
        }
    }

    static func aggregateID(_ context: ServiceContext) throws -> String {
        let id = try context.parameters.require("id")
        // Any integer (-1 is not found, as in Nova); anything else is refused.
        guard let number = Int(id) else {
            throw ComputeFault.badRequest(
                "Invalid input for field/attribute id. Value: \(id). '\(id)' is not an integer")
        }
        return String(number)
    }

    static func noAggregate(_ id: String) -> ComputeFault {
        ComputeFault.notFound("Aggregate \(id) could not be found.")
    }

    static func checkUnique(_ name: String, _ state: ComputeState, except id: Int?) throws {
        if state.aggregates.values.contains(where: { $0.name == name && $0.id != id }) {
            throw ComputeFault.conflict("Aggregate \(name) already exists.")
        }
    }

    /// A name as Nova's `parameter_types.name`: 1 to 255 characters, no leading or trailing
    /// blank.
    static func resourceName(_ value: JSON?, field: String) throws -> String {
        guard let text = value?.string, !text.isEmpty, text.count <= 255,
            text.trimmingCharacters(in: .whitespacesAndNewlines) == text
        else {
            throw ComputeFault.invalid(
                field, value, "'\(field)' must be a string of 1 to 255 characters without leading or trailing blanks")
        }
        return text
    }

    /// An availability zone's name (`parameter_types.az_name`: no `:`, no blank at either
    /// end), or nil for none; `internal` is the zone of Nova's own services.
    static func zoneName(_ value: JSON?) throws -> String? {
        guard let value, !value.isNull else { return nil }
        let name = try resourceName(value, field: "availability_zone")
        guard !name.contains(":") else {
            throw ComputeFault.invalid("availability_zone", value, "An availability zone's name cannot hold ':'")
        }
        guard name != "internal" else {
            throw ComputeFault.badRequest("The availability zone 'internal' is the zone of the cloud's own services.")
        }
        return name
    }

    /// Refuses members other than `allowed` (the schemas' `additionalProperties: false`).
    static func onlyKeys(_ object: JSON, _ allowed: Set<String>, in field: String) throws {
        if let extra = object.members?.map(\.0).first(where: { !allowed.contains($0) }) {
            throw ComputeFault.badRequest(
                "Invalid input for field/attribute \(field). Additional properties are not allowed ('\(extra)' was unexpected)"
            )
        }
    }
}
