import Foundation
import Testing

/// `nimbus destroy` on the all-in-one node with a server, a volume and a router on it: it
/// refuses without --yes, then leaves no unit, binary, state, user, domain, namespace,
/// agent link or nftables table of Nimbus; br-ex (host preparation) stays. A deploy then
/// makes a new, empty cloud.
extension IntegrationTests.IdentityIntegrationTests {
    func destroyAndRedeploy() throws {
        let cloud = Self.cloud
        // Something in every service: a volume, a network with a router, a server.
        let volume = try cloud.json(["volume", "create", "--size", "1", "doomed"])
        #expect(!field(volume, "id").isEmpty, "\(volume ?? "")")
        _ = try cloud.json(["network", "create", "doomed-net"])
        _ = try cloud.json([
            "subnet", "create", "--network", "doomed-net", "--subnet-range", "192.168.77.0/24", "doomed-subnet",
        ])
        _ = try cloud.json(["router", "create", "doomed-router"])
        #expect(try cloud.openstack(["router", "add", "subnet", "doomed-router", "doomed-subnet"]).status == 0)

        let refused = try run([nimbusBinary(), "destroy", Self.answers], timeout: 60)
        #expect(refused.status != 0 && refused.text.contains("--yes"), "\(refused.text)")
        #expect(try ssh("systemctl is-active nimbus-identity").stdout == "active\n")

        let destroyed = try run([nimbusBinary(), "destroy", Self.answers, "--yes"], timeout: 300)
        #expect(destroyed.status == 0, "\(destroyed.text)")
        #expect(
            destroyed.stdout.contains("stopped and disabled") && destroyed.stdout.contains("service users"),
            "\(destroyed.stdout)")
        #expect(!FileManager.default.fileExists(atPath: Self.directory + "/keystonerc_admin"))
        let left = try ssh(
            """
            systemctl list-unit-files 'nimbus-*' --no-legend | wc -l
            ls /etc/nimbus /usr/local/bin/nimbus-server /usr/local/bin/nimbus-agent /var/lib/nimbus/identity 2>/dev/null | wc -l
            getent passwd | grep -c '^nimbus-' || true
            virsh -c qemu:///system list --all --name | grep -c instance- || true
            ip netns list | grep -cE '^(qrouter|qdhcp)-' || true
            ip -o link show | grep -cE ': (brq-|vxlan-|tap)' || true
            nft list tables | grep -c nimbus_ || true
            ip -br link show br-ex | wc -l
            pgrep -c dnsmasq || true
            """)
        #expect(left.stdout == "0\n0\n0\n0\n0\n0\n0\n1\n0\n", "what destroy left: \(left.text)")
        let status = try self.status()
        #expect(status.status != 0, "\(status.text)")

        let again = try deploy()
        #expect(again.status == 0 && again.stdout.contains("All checks passed."), "\(again.text)")
        let images = (try cloud.json(["image", "list"]) as? [[String: Any]]) ?? []
        let volumes = (try cloud.json(["volume", "list", "--all-projects"]) as? [[String: Any]]) ?? []
        let routers = (try cloud.json(["router", "list"]) as? [[String: Any]]) ?? []
        #expect(images.isEmpty && volumes.isEmpty && routers.isEmpty, "a new cloud: \(images) \(volumes) \(routers)")
        let flavors = (try cloud.json(["flavor", "list"]) as? [[String: Any]]) ?? []
        #expect(flavors.count == 6, "the default flavors again: \(flavors)")
    }
}
