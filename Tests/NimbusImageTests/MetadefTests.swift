import Foundation
import Hummingbird
import NimbusServiceKit
import Testing

@Suite("Image metadata definitions")
struct MetadefTests {
    @Test(
        "Namespaces: admins create (with associations, properties, objects, tags), list, show, rename; protected ones stay"
    )
    func namespaces() async throws {
        let cloud = try ImageCloud()
        let admin = try await cloud.admin()
        let types = try await cloud.send(.get, "/v2/metadefs/resource_types", token: admin)
        let typeNames = (types.json?["resource_types"]?.array ?? []).compactMap { $0["name"]?.string }
        #expect(typeNames.contains("OS::Glance::Image") && typeNames.contains("OS::Nova::Flavor"))

        let body: JSON = [
            "namespace": "OS::Compute::Demo", "display_name": "Demo", "description": "For the tests",
            "visibility": "public", "protected": true,
            "resource_type_associations": [["name": "OS::Glance::Image", "prefix": "hw_"]],
            "properties": ["cpu_policy": ["title": "CPU policy", "type": "string", "enum": ["shared", "dedicated"]]],
            "objects": [["name": "Watchdog", "properties": ["action": ["title": "Action", "type": "string"]]]],
            "tags": [["name": "fast"]],
        ]
        let created = try await cloud.send(.post, "/v2/metadefs/namespaces", token: admin, json: body)
        #expect(created.status == .created, "\(created.text)")
        #expect(created.json?["visibility"]?.string == "public" && created.json?["protected"]?.bool == true)
        #expect(created.json?["self"]?.string == "/v2/metadefs/namespaces/OS::Compute::Demo")
        #expect(
            try await cloud.send(.post, "/v2/metadefs/namespaces", token: admin, json: body).status == .conflict)

        let demo = try await cloud.demo()
        let shown = try #require(
            try await cloud.send(.get, "/v2/metadefs/namespaces/OS::Compute::Demo", token: demo).json)
        #expect(shown["resource_type_associations"]?.array?.first?["prefix"]?.string == "hw_")
        #expect(shown["properties"]?["cpu_policy"]?["enum"]?.array?.count == 2)
        #expect(shown["objects"]?.array?.first?["name"]?.string == "Watchdog")
        #expect(shown["tags"]?.array?.first?["name"]?.string == "fast")
        let filtered = try await cloud.send(
            .get, "/v2/metadefs/namespaces?resource_types=OS::Glance::Image", token: demo)
        #expect(filtered.json?["namespaces"]?.array?.map { $0["namespace"]?.string } == ["OS::Compute::Demo"])
        let none = try await cloud.send(.get, "/v2/metadefs/namespaces?resource_types=OS::Nova::Flavor", token: demo)
        #expect(none.json?["namespaces"]?.array?.isEmpty == true)

        // Members read, only admins write; protected: not deleted, nor its contents.
        let denied = try await cloud.send(
            .post, "/v2/metadefs/namespaces", token: demo, json: ["namespace": "mine"])
        #expect(denied.status == .forbidden)
        #expect(
            try await cloud.send(.delete, "/v2/metadefs/namespaces/OS::Compute::Demo", token: admin).status
                == .forbidden)
        #expect(
            try await cloud.send(.delete, "/v2/metadefs/namespaces/OS::Compute::Demo/tags/fast", token: admin).status
                == .forbidden)

        // Renamed and made private: the contents follow; a member no longer sees it.
        let updated = try await cloud.send(
            .put, "/v2/metadefs/namespaces/OS::Compute::Demo", token: admin,
            json: ["namespace": "Renamed", "visibility": "private", "protected": false])
        #expect(updated.status == .ok && updated.json?["namespace"]?.string == "Renamed", "\(updated.text)")
        let objects = try await cloud.send(.get, "/v2/metadefs/namespaces/Renamed/objects", token: admin)
        #expect(
            objects.json?["objects"]?.array?.first?["self"]?.string
                == "/v2/metadefs/namespaces/Renamed/objects/Watchdog")
        #expect(try await cloud.send(.get, "/v2/metadefs/namespaces/Renamed", token: demo).status == .notFound)
        #expect(
            try await cloud.send(.get, "/v2/metadefs/namespaces/OS::Compute::Demo", token: admin).status == .notFound)
        #expect(try await cloud.send(.delete, "/v2/metadefs/namespaces/Renamed", token: admin).status == .noContent)
        #expect(try await cloud.send(.get, "/v2/metadefs/namespaces/Renamed/tags", token: admin).status == .notFound)
        let bad = try await cloud.send(
            .post, "/v2/metadefs/namespaces", token: admin, json: ["namespace": "x", "visibility": "shared"])
        #expect(bad.status == .badRequest)
    }

    @Test("Objects, properties, tags and associations: create, show, update (rename), delete, validation")
    func contents() async throws {
        let cloud = try ImageCloud()
        let admin = try await cloud.admin()
        let base = "/v2/metadefs/namespaces/ns1"
        #expect(
            try await cloud.send(.post, "/v2/metadefs/namespaces", token: admin, json: ["namespace": "ns1"]).status
                == .created)

        let association = try await cloud.send(
            .post, base + "/resource_types", token: admin, json: ["name": "OS::Nova::Flavor"])
        #expect(association.status == .created && association.json?["name"]?.string == "OS::Nova::Flavor")
        #expect(
            try await cloud.send(.post, base + "/resource_types", token: admin, json: ["name": "OS::Nova::Flavor"])
                .status == .conflict)
        #expect(
            try await cloud.send(.delete, base + "/resource_types/OS::Nova::Flavor", token: admin).status == .noContent)
        let associations = try await cloud.send(.get, base + "/resource_types", token: admin)
        #expect(associations.json?["resource_type_associations"]?.array?.isEmpty == true)

        let object = try await cloud.send(.post, base + "/objects", token: admin, json: ["name": "obj"])
        #expect(object.status == .created && object.json?["required"] == [])
        let renamed = try await cloud.send(.put, base + "/objects/obj", token: admin, json: ["name": "obj2"])
        #expect(renamed.json?["name"]?.string == "obj2")
        #expect(try await cloud.send(.get, base + "/objects/obj", token: admin).status == .notFound)
        #expect(try await cloud.send(.delete, base + "/objects/obj2", token: admin).status == .noContent)

        let property = try await cloud.send(
            .post, base + "/properties", token: admin,
            json: ["name": "hypervisor", "title": "Hypervisor", "type": "string", "enum": ["kvm", "qemu"]])
        #expect(property.status == .created && property.json?["title"]?.string == "Hypervisor")
        let untyped = try await cloud.send(
            .post, base + "/properties", token: admin, json: ["name": "p", "title": "P", "type": "text"])
        #expect(untyped.status == .badRequest)
        let listed = try await cloud.send(.get, base + "/properties", token: admin)
        #expect(listed.json?["properties"]?["hypervisor"]?["type"]?.string == "string")
        let changed = try await cloud.send(
            .put, base + "/properties/hypervisor", token: admin,
            json: ["name": "hypervisor", "title": "Changed", "type": "string"])
        #expect(changed.json?["title"]?.string == "Changed")
        #expect(try await cloud.send(.delete, base + "/properties/hypervisor", token: admin).status == .noContent)

        let tags = try await cloud.send(
            .post, base + "/tags", token: admin, json: ["tags": [["name": "a"], ["name": "b"]]])
        #expect(tags.status == .created && tags.json?["tags"]?.array?.count == 2)
        let replaced = try await cloud.send(.post, base + "/tags", token: admin, json: ["tags": [["name": "c"]]])
        #expect(replaced.json?["tags"]?.array?.count == 1)
        _ = try await cloud.send(
            .post, base + "/tags", token: admin, json: ["tags": [["name": "d"]]],
            headers: ["X-Openstack-Append": "true"])
        #expect(try await cloud.send(.post, base + "/tags/e", token: admin).status == .created)
        #expect(try await cloud.send(.post, base + "/tags/e", token: admin).status == .conflict)
        let tagRenamed = try await cloud.send(.put, base + "/tags/e", token: admin, json: ["name": "f"])
        #expect(tagRenamed.json?["name"]?.string == "f")
        let all = try await cloud.send(.get, base + "/tags", token: admin)
        #expect(all.json?["tags"]?.array?.compactMap { $0["name"]?.string } == ["c", "d", "f"])
        #expect(try await cloud.send(.delete, base + "/tags", token: admin).status == .noContent)
        #expect(try await cloud.send(.get, base + "/tags", token: admin).json?["tags"]?.array?.isEmpty == true)
    }

    @Test("The metadefs schemas carry Glance's names")
    func schemas() async throws {
        let cloud = try ImageCloud()
        let demo = try await cloud.demo()
        for (path, name) in [
            ("namespace", "namespace"), ("namespaces", "namespaces"), ("resource_type", "resource_type_association"),
            ("resource_types", "resource_type_associations"), ("object", "object"), ("objects", "objects"),
            ("property", "property"), ("properties", "properties"), ("tag", "tag"), ("tags", "tags"),
        ] {
            let reply = try await cloud.send(.get, "/v2/schemas/metadefs/\(path)", token: demo)
            #expect(reply.json?["name"]?.string == name, "\(path)")
        }
        #expect(try await cloud.send(.get, "/v2/schemas/metadefs/nothing", token: demo).status == .notFound)
    }
}
