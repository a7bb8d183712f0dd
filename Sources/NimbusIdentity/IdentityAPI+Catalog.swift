import Foundation
import GRDB
import Hummingbird
import NimbusServiceKit

/// Version discovery, regions, services and endpoints, and the route table.
extension IdentityAPI {
    /// Adds every identity route to `router`.
    public func routes(on router: Router<ServiceContext>) {
        versionRoutes(on: router)
        tokenRoutes(on: router)
        domainRoutes(on: router)
        projectRoutes(on: router)
        userRoutes(on: router)
        groupRoutes(on: router)
        roleRoutes(on: router)
        catalogRoutes(on: router)
    }

    func version(_ request: Request) -> JSON {
        [
            "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "links": [["rel": "self", "href": .string(base(request) + "/")]],
            "media-types": [["base": "application/json", "type": "application/vnd.openstack.identity-v3+json"]],
        ]
    }

    func versionRoutes(on router: Router<ServiceContext>) {
        router.get("/") { request, _ in
            var headers = HTTPFields()
            headers[.location] = base(request) + "/"
            return Response.json(
                ["versions": ["values": [version(request)]]], status: .multipleChoices, headers: headers)
        }
        router.get("/v3") { request, _ in Response.json(["version": version(request)]) }
    }

    func catalogRoutes(on router: Router<ServiceContext>) {
        regionRoutes(on: router)
        serviceRoutes(on: router)
        endpointRoutes(on: router)
    }

    func regionRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/regions") { request, _ in
            let snapshot = store.snapshot
            _ = try caller(request, snapshot: snapshot)
            let regions = filter(Array(snapshot.regions.values), request, ["parent_region_id": \.parentRegionID])
            return list(
                "regions", regions.sorted { $0.id < $1.id }.map { render($0, request) }, request, path: "/regions")
        }
        router.post("/v3/regions") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_region", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "region")
            let parent = try body.text("parent_region_id")
            if let parent { _ = try find(snapshot.regions, parent, "region") }
            let region = Region(
                id: try body.text("id", nonEmpty: true) ?? Self.newID(),
                description: try body.text("description", maxLength: 65535) ?? "", parentRegionID: parent)
            try write("region", "Duplicate ID, \(region.id)") { try region.insert($0) }
            return Response.json(["region": render(region, request)], status: .created)
        }
        router.get("/v3/regions/:id") { request, context in
            let snapshot = store.snapshot
            _ = try caller(request, snapshot: snapshot)
            return Response.json(
                ["region": render(try find(snapshot.regions, try context.parameters.require("id"), "region"), request)])
        }
        router.patch("/v3/regions/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_region", snapshot: snapshot)
            var region = try find(snapshot.regions, try context.parameters.require("id"), "region")
            let body = try member(try await self.body(request, context: context), "region")
            if let description = try body.text("description", maxLength: 65535) { region.description = description }
            if body["parent_region_id"] != nil { region.parentRegionID = try body.text("parent_region_id") }
            let updated = region
            try store.write { try updated.update($0) }
            return Response.json(["region": render(updated, request)])
        }
        router.delete("/v3/regions/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_region", snapshot: snapshot)
            let region = try find(snapshot.regions, try context.parameters.require("id"), "region")
            guard !snapshot.regions.values.contains(where: { $0.parentRegionID == region.id }) else {
                throw IdentityFault(.forbidden, "Cannot delete region \(region.id): it has child regions.")
            }
            try store.write { db in
                try db.execute(sql: "UPDATE endpoint SET region_id = NULL WHERE region_id = ?", arguments: [region.id])
                _ = try region.delete(db)
            }
            return Response.empty()
        }
    }

    func serviceRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/services") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_services", snapshot: snapshot)
            let services = filter(Array(snapshot.services.values), request, ["type": \.type, "name": \.name])
            return list(
                "services", services.sorted { ($0.type, $0.name) < ($1.type, $1.name) }.map { render($0, request) },
                request,
                path: "/services")
        }
        router.post("/v3/services") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_service", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "service")
            let service = Service(
                id: Self.newID(), type: try body.required("type"), name: try body.text("name") ?? "",
                description: try body.text("description", maxLength: 65535) ?? "",
                enabled: try body.flag("enabled") ?? true)
            try store.write { try service.insert($0) }
            return Response.json(["service": render(service, request)], status: .created)
        }
        router.get("/v3/services/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "get_service", snapshot: snapshot)
            return Response.json(
                [
                    "service": render(
                        try find(snapshot.services, try context.parameters.require("id"), "service"), request)
                ])
        }
        router.patch("/v3/services/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_service", snapshot: snapshot)
            var service = try find(snapshot.services, try context.parameters.require("id"), "service")
            let body = try member(try await self.body(request, context: context), "service")
            if let type = try body.text("type", nonEmpty: true) { service.type = type }
            if let name = try body.text("name") { service.name = name }
            if let description = try body.text("description", maxLength: 65535) { service.description = description }
            if let enabled = try body.flag("enabled") { service.enabled = enabled }
            let updated = service
            try store.write { try updated.update($0) }
            return Response.json(["service": render(updated, request)])
        }
        router.delete("/v3/services/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_service", snapshot: snapshot)
            let service = try find(snapshot.services, try context.parameters.require("id"), "service")
            try store.write { _ = try service.delete($0) }
            return Response.empty()
        }
    }

    static let interfaces: Set<String> = ["public", "internal", "admin"]

    func endpointRoutes(on router: Router<ServiceContext>) {
        router.get("/v3/endpoints") { request, _ in
            let snapshot = store.snapshot
            _ = try admin(request, "list_endpoints", snapshot: snapshot)
            let endpoints = filter(
                Array(snapshot.endpoints.values), request,
                ["service_id": \.serviceID, "interface": \.interface, "region_id": \.regionID])
            return list(
                "endpoints",
                endpoints.sorted { ($0.serviceID, $0.interface) < ($1.serviceID, $1.interface) }
                    .map { render($0, request) }, request, path: "/endpoints")
        }
        router.post("/v3/endpoints") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "create_endpoint", snapshot: snapshot)
            let body = try member(try await self.body(request, context: context), "endpoint")
            let service = try find(snapshot.services, try body.required("service_id"), "service")
            let interface = try body.required("interface")
            guard Self.interfaces.contains(interface) else {
                throw IdentityFault.badRequest("'interface' must be public, internal or admin, not '\(interface)'.")
            }
            let url = try body.required("url")
            guard URL(string: url)?.scheme != nil else { throw IdentityFault.badRequest("'url' must be a URL: \(url)") }
            let region = try body.text("region_id") ?? body.text("region")
            if let region { _ = try find(snapshot.regions, region, "region") }
            let endpoint = Endpoint(
                id: Self.newID(), serviceID: service.id, interface: interface, regionID: region, url: url,
                enabled: try body.flag("enabled") ?? true)
            try store.write { try endpoint.insert($0) }
            return Response.json(["endpoint": render(endpoint, request)], status: .created)
        }
        router.get("/v3/endpoints/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "get_endpoint", snapshot: snapshot)
            return Response.json(
                [
                    "endpoint": render(
                        try find(snapshot.endpoints, try context.parameters.require("id"), "endpoint"), request)
                ])
        }
        router.patch("/v3/endpoints/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "update_endpoint", snapshot: snapshot)
            var endpoint = try find(snapshot.endpoints, try context.parameters.require("id"), "endpoint")
            let body = try member(try await self.body(request, context: context), "endpoint")
            if let interface = try body.text("interface") {
                guard Self.interfaces.contains(interface) else {
                    throw IdentityFault.badRequest("'interface' must be public, internal or admin, not '\(interface)'.")
                }
                endpoint.interface = interface
            }
            if let url = try body.text("url", nonEmpty: true) { endpoint.url = url }
            if let service = try body.text("service_id") {
                endpoint.serviceID = try find(snapshot.services, service, "service").id
            }
            if let region = try body.text("region_id") {
                endpoint.regionID = try find(snapshot.regions, region, "region").id
            }
            if let enabled = try body.flag("enabled") { endpoint.enabled = enabled }
            let updated = endpoint
            try store.write { try updated.update($0) }
            return Response.json(["endpoint": render(updated, request)])
        }
        router.delete("/v3/endpoints/:id") { request, context in
            let snapshot = store.snapshot
            _ = try admin(request, "delete_endpoint", snapshot: snapshot)
            let endpoint = try find(snapshot.endpoints, try context.parameters.require("id"), "endpoint")
            try store.write { _ = try endpoint.delete($0) }
            return Response.empty()
        }
    }
}
