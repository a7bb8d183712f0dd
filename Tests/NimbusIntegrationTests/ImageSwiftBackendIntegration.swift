import Foundation
import Testing

/// The image service moved onto object storage by the answer file: a redeploy with
/// `CONFIG_GLANCE_BACKEND=swift`, then the stock clients on both sides of it.
extension IntegrationTests.IdentityIntegrationTests {
    /// A key's value in the answer file.
    static func answer(_ key: String) throws -> String {
        let text = try String(contentsOfFile: answers, encoding: .utf8)
        let line = try #require(
            text.split(separator: "\n").first { $0.hasPrefix(key + "=") }, "\(key) not in \(answers)")
        return String(line.dropFirst(key.count + 1))
    }

    func imageBackendSwitch() throws {
        // The answer file says swift; a redeploy rewrites image.conf and restarts the service.
        let text = try String(contentsOfFile: Self.answers, encoding: .utf8)
        let switched = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasPrefix("CONFIG_GLANCE_BACKEND=") ? "CONFIG_GLANCE_BACKEND=swift" : String($0)
        }.joined(separator: "\n")
        try switched.write(toFile: Self.answers, atomically: true, encoding: .utf8)
        let deployed = try deploy()
        #expect(deployed.status == 0, "\(deployed.text)")
        #expect(deployed.stdout.contains("All checks passed."), "\(deployed.stdout)")
        let config = try ssh("grep '^backend' /etc/nimbus/image.conf; systemctl is-active nimbus-image")
        #expect(config.stdout == "backend = swift\nactive\n", "\(config.text)")

        let file = Self.directory + "/in-swift.qcow2"
        #expect(try run(["qemu-img", "create", "-f", "qcow2", file, "64M"]).status == 0)
        let created = try openstack(
            "image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file", file, "in-swift",
            "-f", "value", "-c", "id")
        #expect(created.status == 0, "\(created.text)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // The data is in the glance container of the services project, as the glance user sees it.
        let glance = [
            "OS_USERNAME": "glance", "OS_PASSWORD": try Self.answer("CONFIG_GLANCE_KS_PW"),
            "OS_PROJECT_NAME": "services",
        ]
        let listed = try swift("list", "glance", as: glance)
        #expect(listed.status == 0 && listed.stdout == "\(id)\n", "\(listed.text)")

        // Both images come back byte for byte: the new one from object storage, the one
        // uploaded before the switch from the controller's disk.
        let saved = Self.directory + "/in-swift.saved"
        #expect(try openstack("image", "save", "--file", saved, "in-swift").status == 0)
        #expect(FileManager.default.contentsEqual(atPath: file, andPath: saved))
        let earlier = Self.directory + "/cirros.saved"
        #expect(try openstack("image", "save", "--file", earlier, "cirros").status == 0)
        #expect(FileManager.default.contentsEqual(atPath: Self.directory + "/cirros.qcow2", andPath: earlier))

        // Deleting the image removes its object.
        #expect(try openstack("image", "delete", "in-swift").status == 0)
        let after = try swift("list", "glance", as: glance)
        #expect(after.status == 0 && after.stdout.isEmpty, "\(after.text)")
    }
}
