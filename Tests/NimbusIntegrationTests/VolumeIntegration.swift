import Foundation
import Testing

extension IntegrationTests.IdentityIntegrationTests {
    /// The notes' volumes before an attach, with the stock client as a member: the volume
    /// services up, `volume create` → available with its file on the storage host, a
    /// snapshot (`--force`, as the notes take it), a larger volume from the snapshot,
    /// extended, a volume with snapshots kept, one beyond the pool in error, one from an
    /// image holding the image's data, all deleted and their files gone.
    func volumeWalkthrough() throws {
        let cloud = Self.cloud
        var services: [[String: Any]] = []
        #expect(
            try eventually(30) {
                services = (try cloud.json(["volume", "service", "list"]) as? [[String: Any]]) ?? []
                return Set(services.map { "\($0["Binary"] ?? "")" }) == ["cinder-scheduler", "cinder-volume"]
                    && services.allSatisfy { "\($0["State"] ?? "")" == "up" }
            }, "volume service list: \(services)")
        let member = try newMember("vols")
        func status(_ name: String, _ kind: String = "volume") throws -> String {
            field(try cloud.json([kind, "show", name, "-c", "status"], as: member), "status")
        }
        func size(_ name: String) throws -> String {
            field(try cloud.json(["volume", "show", name, "-c", "size"], as: member), "size")
        }
        let vol1 = try cloud.json(["volume", "create", "--size", "1", "vol1"], as: member)
        let vol1ID = field(vol1, "id")
        #expect(try eventually(30) { try status("vol1") == "available" }, "vol1 did not become available")
        let files = "/var/lib/nimbus/volume/volumes"
        #expect(try ssh("ls \(files)").stdout.contains("volume-\(vol1ID).qcow2"))
        _ = try cloud.json(["volume", "snapshot", "create", "--volume", "vol1", "--force", "snap1"], as: member)
        #expect(try eventually(30) { try status("snap1", "volume snapshot") == "available" })
        _ = try cloud.json(["volume", "create", "--snapshot", "snap1", "--size", "2", "vol2"], as: member)
        #expect(try eventually(30) { try status("vol2") == "available" }, "vol2 did not become available")
        #expect(try size("vol2") == "2")
        #expect(try cloud.openstack(["volume", "set", "--size", "3", "vol2"], as: member).status == 0)
        #expect(try eventually(30) { try size("vol2") == "3" && status("vol2") == "available" })
        let kept = try cloud.openstack(["volume", "delete", "vol1"], as: member)
        #expect(kept.status != 0 && kept.text.contains("have snapshots"), "\(kept.text)")
        // Beyond the pool (CONFIG_CINDER_VOLUMES_SIZE, 20G): in error at once, nothing made.
        _ = try cloud.json(["volume", "create", "--size", "30", "big"], as: member)
        #expect(try status("big") == "error")
        let listed = (try cloud.json(["volume", "list"], as: member) as? [[String: Any]]) ?? []
        #expect(Set(listed.map { "\($0["Name"] ?? "")" }) == ["vol1", "vol2", "big"], "\(listed)")

        // A volume from an image: the image's disk (a pattern written into it here) in the
        // volume's file, bootable, with the image's properties.
        let disk = Self.directory + "/volume-image.qcow2"
        #expect(try NimbusIntegrationTests.run(["qemu-img", "create", "-q", "-f", "qcow2", disk, "64M"]).status == 0)
        #expect(
            try NimbusIntegrationTests.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 64k", disk]).status == 0)
        let image = try cloud.json([
            "image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--public", "--file", disk,
            "volume-image",
        ])
        #expect(field(image, "status") == "active", "\(image ?? "")")
        let fromImage = try cloud.json(
            ["volume", "create", "--image", "volume-image", "--size", "1", "vol3"], as: member)
        let vol3ID = field(fromImage, "id")
        #expect(try eventually(60) { try status("vol3") == "available" }, "vol3 did not become available")
        let vol3 = try cloud.json(["volume", "show", "vol3"], as: member) as? [String: Any]
        #expect(["true", "1"].contains("\(vol3?["bootable"] ?? "")"), "\(vol3 ?? [:])")
        let imageProperties = "\(vol3?["volume_image_metadata"] ?? "")"
        #expect(imageProperties.contains("volume-image"), "\(vol3 ?? [:])")
        let read = try ssh("qemu-io -f qcow2 -r -U -c 'read -P 0xab 0 64k' \(files)/volume-\(vol3ID).qcow2")
        #expect(read.status == 0 && !read.stdout.contains("verification failed"), "\(read.text)")
        #expect(try cloud.openstack(["image", "delete", "volume-image"]).status == 0)
        for name in ["big", "vol2", "vol3"] {
            #expect(try cloud.openstack(["volume", "delete", name], as: member).status == 0)
        }
        #expect(try cloud.openstack(["volume", "snapshot", "delete", "snap1"], as: member).status == 0)
        #expect(try cloud.openstack(["volume", "delete", "vol1"], as: member).status == 0)
        var left = ""
        #expect(
            try eventually(30) {
                left = try ssh("ls \(files)").stdout
                return left.isEmpty
            }, "the pool keeps: \(left)")
        #expect(((try cloud.json(["volume", "list"], as: member) as? [[String: Any]]) ?? []).isEmpty)
    }
}
