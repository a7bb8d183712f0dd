import Foundation
import Testing

/// A two-node sandbox named `itest` on networks of its own, driven through the CLI.
extension IntegrationTests {
    @Suite("Sandbox on this machine")
    struct SandboxIntegrationTests {
        static let name = "itest"
        static let networks = ["--management-network", "10.248.0.0/24", "--provider-network", "10.249.0.0/24"]
        static let answers = NSTemporaryDirectory() + "itest-answers.txt"

        @discardableResult
        func up(nodes: Int = 2) throws -> Output {
            let output = try run(
                [
                    nimbusBinary(), "sandbox", "up", "--name", Self.name, "--nodes", "\(nodes)", "--answer-file",
                    Self.answers,
                ]
                    + Self.networks)
            #expect(output.status == 0, "sandbox up failed: \(output.text)")
            return output
        }

        func ssh(_ node: String, _ command: String) throws -> Output {
            // ssh joins its arguments into one remote shell command line: pass the script whole.
            try run([nimbusBinary(), "sandbox", "ssh", "--name", Self.name, node, command], timeout: 120)
        }

        @Test(
            "up brings nodes that answer SSH with host keys checked, and writes an answer file nimbus accepts",
            .timeLimit(.minutes(30)))
        func upAndReach() throws {
            try? FileManager.default.removeItem(atPath: Self.answers)
            let output = try up()
            #expect(output.stdout.contains("node1   10.248.0.11"))
            for node in ["node1", "node2"] {
                let hostname = try ssh(node, "hostname")
                #expect(hostname.status == 0 && hostname.stdout == "\(node)\n", "\(hostname.text)")
            }
            let plan = try nimbus("plan", Self.answers)
            #expect(plan.status == 0, "\(plan.text)")
            #expect(plan.stdout.contains("Layout: two-node, 2 hosts, controller 10.248.0.11"))
            // A host key that does not match is refused: ssh with the wrong known_hosts fails.
            let stranger = try run([
                "ssh", "-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                "-i", "/var/lib/nimbus/sandbox/\(Self.name)/id_ed25519", "root@10.248.0.11", "true",
            ])
            #expect(stranger.status != 0)
        }

        @Test("Nodes reach each other over both networks and through a VXLAN tunnel")
        func nodeToNode() throws {
            try up()
            let ping = try ssh(
                "node1", "ping -c1 -W2 10.248.0.12 >/dev/null && ping -c1 -W2 10.249.0.12 >/dev/null && echo ok")
            #expect(ping.stdout == "ok\n", "\(ping.text)")
            let vxlan = { (node: String, local: String, remote: String) in
                try self.ssh(
                    node,
                    "ip link del vxt 2>/dev/null; ip link add vxt type vxlan id 4242 remote \(remote) dstport 4789 dev eth0 && ip addr add \(local)/24 dev vxt && ip link set vxt up && echo ok"
                )
            }
            #expect(try vxlan("node1", "192.168.77.1", "10.248.0.12").stdout == "ok\n")
            #expect(try vxlan("node2", "192.168.77.2", "10.248.0.11").stdout == "ok\n")
            let tunnel = try ssh("node1", "ping -c2 -W2 192.168.77.2 >/dev/null && echo ok")
            #expect(tunnel.stdout == "ok\n", "\(tunnel.text)")
            _ = try ssh("node1", "ip link del vxt")
            _ = try ssh("node2", "ip link del vxt")
        }

        @Test("Inside a node: namespaces, bridges, taps, nftables NAT, forwarding, and apt from the local repository")
        func insideANode() throws {
            try up()
            let script = """
                set -e
                ip netns add t1 && ip netns del t1
                ip link add brt type bridge && ip link del brt
                ip tuntap add tapt mode tap && ip link del tapt
                sysctl -qw net.ipv4.ip_forward=1
                nft add table ip nimbus_t && nft add chain ip nimbus_t post '{ type nat hook postrouting priority 100; }' && nft delete table ip nimbus_t
                apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bridge-utils >/dev/null && command -v brctl >/dev/null
                echo ok
                """
            let output = try ssh("node2", script)
            #expect(output.stdout == "ok\n", "\(output.text)")
        }

        @Test("A reboot keeps files and enabled units and brings SSH back")
        func reboot() throws {
            try up()
            _ = try ssh("node2", "echo kept > /root/marker && systemctl enable --quiet nftables")
            let reboot = try nimbus("sandbox", "reboot", "--name", Self.name, "node2", timeout: 120)
            #expect(reboot.status == 0, "\(reboot.text)")
            let check = try ssh("node2", "cat /root/marker && systemctl is-enabled nftables")
            #expect(check.stdout == "kept\nenabled\n", "\(check.text)")
        }

        @Test("up after a crash (supervisors killed, namespaces left behind) recovers the nodes")
        func crashRecovery() throws {
            try up()
            let kill = try run([
                "sh", "-c",
                "for f in /var/lib/nimbus/sandbox/\(Self.name)/nodes/*/supervisor.pid /var/lib/nimbus/sandbox/\(Self.name)/nodes/*/nspawn.pid; do kill -9 $(cat $f); done; sleep 1; ip netns list",
            ])
            #expect(kill.stdout.contains("\(Self.name)-node1"), "namespaces should be left behind: \(kill.text)")
            let status = try nimbus("sandbox", "status", "--name", Self.name)
            #expect(status.status != 0)
            try up()
            #expect(try ssh("node1", "hostname").stdout == "node1\n")
            #expect(try nimbus("sandbox", "status", "--name", Self.name).status == 0)
            // The killed boot's systemd is gone: one init per node disk, not two.
            let inits = try run([
                "sh", "-c",
                "for f in $(grep -l 'upperdir=/var/lib/nimbus/sandbox/\(Self.name)/nodes/node1/upper,' /proc/[0-9]*/mountinfo 2>/dev/null); do cat ${f%/mountinfo}/cmdline | tr '\\0' ' '; echo; done | grep -c '^/usr/lib/systemd/systemd\\|^/sbin/init'",
            ])
            #expect(inits.stdout == "1\n", "\(inits.text)")
        }

        @Test("down leaves no namespace, veth, bridge, mount or process; --purge no disk")
        func downLeavesNothing() throws {
            try up()
            let down = try nimbus("sandbox", "down", "--name", Self.name)
            #expect(down.status == 0, "\(down.text)")
            let leftovers = try run([
                "sh", "-c",
                "ip netns list | grep '^\(Self.name)-'; ip -o link | grep ' \(Self.name)-'; grep ' /var/lib/nimbus/sandbox/\(Self.name)/' /proc/self/mountinfo; pgrep -af 'sandbox/\(Self.name)/' | grep -v pgrep; grep -l 'upperdir=/var/lib/nimbus/sandbox/\(Self.name)/' /proc/[0-9]*/mountinfo 2>/dev/null | grep -v self; true",
            ])
            #expect(leftovers.stdout.isEmpty, "left behind: \(leftovers.stdout)")
            let purge = try nimbus("sandbox", "down", "--name", Self.name, "--purge")
            #expect(purge.status == 0, "\(purge.text)")
            #expect(!FileManager.default.fileExists(atPath: "/var/lib/nimbus/sandbox/\(Self.name)"))
        }
    }
}
