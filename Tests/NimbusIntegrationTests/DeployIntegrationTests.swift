import Foundation
import Testing

/// `nimbus deploy` on a four-node sandbox (`dtest`) in the three-node layout (controller,
/// network host, two computes; storage on the controller) on networks of its own.
extension IntegrationTests {
    @Suite("Deploy: host preparation on a four-node sandbox")
    struct DeployIntegrationTests {
        static let name = "dtest"
        static let directory = NSTemporaryDirectory() + "dtest"
        static let answers = directory + "/answers.txt"
        static let logs = directory + "/logs"
        static let controller = "10.244.0.11"
        static let nodes = ["node1", "node2", "node3", "node4"]

        @discardableResult
        func up() throws -> Output {
            try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
            let output = try run([
                nimbusBinary(), "sandbox", "up", "--name", Self.name, "--nodes", "4", "--layout", "three",
                "--answer-file", Self.answers, "--management-network", "10.244.0.0/24", "--provider-network",
                "10.245.0.0/24",
            ])
            #expect(output.status == 0, "sandbox up failed: \(output.text)")
            return output
        }

        func deploy(_ file: String = answers, _ extra: String...) throws -> Output {
            try run([nimbusBinary(), "deploy", file, "--log-root", Self.logs] + extra, timeout: 300)
        }

        func ssh(_ node: String, _ command: String) throws -> Output {
            try run([nimbusBinary(), "sandbox", "ssh", "--name", Self.name, node, command], timeout: 120)
        }

        /// The sandbox's answer file with `key` set to `value` (the walk-throughs that make
        /// their own external network, as the notes do, set `CONFIG_PROVISION_DEMO=n`).
        func setAnswer(_ key: String, _ value: String) throws {
            let text = try String(contentsOfFile: Self.answers, encoding: .utf8)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            if let index = lines.firstIndex(where: { $0.hasPrefix(key + "=") }) {
                lines[index] = "\(key)=\(value)"
            } else {
                lines.append("\(key)=\(value)")
            }
            try lines.joined(separator: "\n").write(toFile: Self.answers, atomically: true, encoding: .utf8)
        }

        /// A copy of the sandbox's answer file with some keys changed.
        func answers(_ changes: [String: String]) throws -> String {
            var lines = try String(contentsOfFile: Self.answers, encoding: .utf8).split(
                separator: "\n", omittingEmptySubsequences: false
            ).map(String.init)
            for (key, value) in changes {
                if let index = lines.firstIndex(where: { $0.hasPrefix(key + "=") }) {
                    lines[index] = "\(key)=\(value)"
                } else {
                    lines.append("\(key)=\(value)")
                }
            }
            let path = NSTemporaryDirectory() + "dtest-\(UUID().uuidString).txt"
            try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test("A first deploy prepares all four nodes; a second changes nothing", .timeLimit(.minutes(20)))
        func firstRunAndRerun() throws {
            // Fresh node disks (the cached base stays): down, then delete the sandbox's directory.
            _ = try nimbus("sandbox", "down", "--name", Self.name)
            try? FileManager.default.removeItem(atPath: "/var/lib/nimbus/sandbox/\(Self.name)")
            try? FileManager.default.removeItem(atPath: Self.answers)
            try up()
            let first = try deploy()
            #expect(first.status == 0, "\(first.text)")
            #expect(first.stdout.contains("[ DONE ]"))
            #expect(!first.stdout.contains("[ ERROR ]"))
            #expect(!first.stdout.contains(" 0 changed"), "\(first.stdout)")
            #expect(first.stdout.contains("Deploy completed successfully"))

            // Every node names every node in /etc/hosts.
            for node in Self.nodes {
                let hosts = try ssh(node, "sed -n '/BEGIN NIMBUS hosts/,/END NIMBUS hosts/p' /etc/hosts")
                for (index, other) in Self.nodes.enumerated() {
                    #expect(hosts.stdout.contains("10.244.0.1\(index + 1) \(other)"), "\(node): \(hosts.text)")
                }
                let sysctl = try ssh(node, "sysctl -n net.ipv4.ip_forward; cat /etc/sysctl.d/90-nimbus.conf")
                #expect(sysctl.stdout.hasPrefix("1\n") && sysctl.stdout.contains("net.ipv4.ip_forward = 1"))
            }
            // The controller serves time to the management network; the others follow it.
            let controllerChrony = try ssh("node1", "cat /etc/chrony/chrony.conf")
            #expect(controllerChrony.stdout.contains("local stratum 10"))
            #expect(controllerChrony.stdout.contains("allow 10.244.0.0/24"))
            var sources = Output(status: 1, stdout: "", stderr: "")
            for _ in 0..<20 {
                sources = try ssh("node3", "chronyc -n sources")
                if sources.stdout.contains(Self.controller) { break }
                Thread.sleep(forTimeInterval: 0.5)
            }
            #expect(sources.stdout.contains(Self.controller), "chronyc sources on node3: \(sources.text)")
            // br-ex on the network node with eth1 enslaved and eth1's address.
            let bridge = try ssh(
                "node2", "basename $(readlink /sys/class/net/eth1/master); ip -br -4 addr show dev br-ex")
            #expect(bridge.stdout.hasPrefix("br-ex\n"), "\(bridge.text)")
            #expect(bridge.stdout.contains("10.245.0.12/24"), "\(bridge.text)")
            let unbridged = try ssh("node3", "test -e /sys/class/net/br-ex && echo yes || echo no")
            #expect(unbridged.stdout == "no\n")
            // The run's record: plan, per-host logs, summary; secrets masked.
            let latest = Self.logs + "/latest"
            for file in ["plan.txt", "plan.json", "summary.json", "10.244.0.11.log", "10.244.0.14.log"] {
                #expect(FileManager.default.fileExists(atPath: "\(latest)/\(file)"), "\(file) missing")
            }
            let answers = try String(contentsOfFile: Self.answers, encoding: .utf8)
            let password = answers.split(separator: "\n").first { $0.hasPrefix("CONFIG_KEYSTONE_ADMIN_PW=") }.map {
                String($0.dropFirst("CONFIG_KEYSTONE_ADMIN_PW=".count))
            }
            if let password, !password.isEmpty {
                let logged = try String(contentsOfFile: "\(latest)/answers.txt", encoding: .utf8)
                #expect(!logged.contains(password))
            }

            let second = try deploy()
            #expect(second.status == 0, "\(second.text)")
            #expect(second.stdout.contains(" 0 changed,"), "\(second.stdout)")
            #expect(second.stdout.contains("provision.demo") && second.stdout.contains("in place"), "\(second.stdout)")
            try demoCloud()
        }

        @Test("A dry run reports what would change and changes nothing")
        func dryRun() throws {
            try up()
            #expect(try deploy().status == 0)
            _ = try ssh("node4", "sed -i '/NIMBUS hosts/,/END NIMBUS hosts/d' /etc/hosts")
            let dry = try deploy(Self.answers, "--dry-run")
            #expect(dry.status == 0, "\(dry.text)")
            #expect(dry.stdout.contains("1 would change"), "\(dry.stdout)")
            #expect(dry.stdout.contains("would update the hosts block in /etc/hosts"))
            let still = try ssh("node4", "grep -c 'NIMBUS hosts' /etc/hosts || true")
            #expect(still.stdout == "0\n")
            let real = try deploy()
            #expect(real.stdout.contains(" 1 changed,"), "\(real.stdout)")
        }

        @Test("A reboot keeps br-ex, /etc/hosts and chrony")
        func rebootKeepsPreparation() throws {
            try up()
            #expect(try deploy().status == 0)
            let reboot = try nimbus("sandbox", "reboot", "--name", Self.name, "node2", timeout: 120)
            #expect(reboot.status == 0, "\(reboot.text)")
            var bridge = Output(status: 1, stdout: "", stderr: "")
            for _ in 0..<20 {
                bridge = try ssh(
                    "node2", "basename $(readlink /sys/class/net/eth1/master); ip -br -4 addr show dev br-ex")
                if bridge.stdout.contains("10.245.0.12/24") { break }
                Thread.sleep(forTimeInterval: 0.5)
            }
            #expect(bridge.stdout.hasPrefix("br-ex\n") && bridge.stdout.contains("10.245.0.12/24"), "\(bridge.text)")
            let kept = try ssh(
                "node2",
                "grep -c 'BEGIN NIMBUS hosts' /etc/hosts; grep -c '^server 10.244.0.11' /etc/chrony/chrony.conf; systemctl is-active chrony"
            )
            #expect(kept.stdout == "1\n1\nactive\n", "\(kept.text)")
        }

        @Test("An unknown host key is refused unless accepted; then it is recorded")
        func hostKeys() throws {
            try up()
            let empty = NSTemporaryDirectory() + "dtest-known-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: empty, contents: Data())
            let file = try answers(["CONFIG_NIMBUS_KNOWN_HOSTS": empty])
            let refused = try deploy(file)
            #expect(refused.status == 1)
            #expect(refused.stdout.contains("--accept-new-host-keys"), "\(refused.text)")
            #expect(refused.stdout.contains("SHA256:"), "\(refused.text)")
            let accepted = try deploy(file, "--accept-new-host-keys")
            #expect(accepted.status == 0, "\(accepted.text)")
            let recorded = try String(contentsOfFile: empty, encoding: .utf8)
            #expect(recorded.contains("10.244.0.11") && recorded.contains("10.244.0.14"))
            #expect(try deploy(file).status == 0)
        }

        @Test("An unreachable host fails with a clear message; the others are prepared")
        func unreachableHost() throws {
            try up()
            let file = try answers(["CONFIG_COMPUTE_HOSTS": "10.244.0.13,10.244.0.14,10.244.0.99"])
            let output = try deploy(file, "--connect-timeout", "2")
            #expect(output.status == 1)
            #expect(
                output.stdout.contains("ERROR 10.244.0.99 prepare.facts: cannot reach the host"), "\(output.stdout)")
            #expect(output.stdout.contains("(log: \(Self.logs)/"), "\(output.stdout)")
            for host in ["10.244.0.11", "10.244.0.12", "10.244.0.13", "10.244.0.14"] {
                #expect(
                    output.stdout.contains("\(host)  prepare.sysctl           [ DONE ]"), "\(host): \(output.stdout)")
            }
        }

        @Test("Ctrl-C stops gracefully: no half-written file anywhere, and a re-run completes")
        func interrupt() throws {
            try up()
            for node in Self.nodes {
                _ = try ssh(node, "rm -f /etc/sysctl.d/90-nimbus.conf /etc/modules-load.d/nimbus.conf")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: nimbusBinary())
            process.arguments = ["deploy", Self.answers, "--log-root", Self.logs]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: 0.3)
            process.interrupt()
            process.waitUntilExit()
            #expect([0, 130].contains(process.terminationStatus), "exit \(process.terminationStatus)")
            for node in Self.nodes {
                let leftovers = try ssh(node, "find /etc /var/lib/nimbus -name '*.nimbus-new' | wc -l")
                #expect(leftovers.stdout == "0\n", "\(node): \(leftovers.text)")
            }
            // The re-run completes every step. Its closing status check may catch a service
            // the interrupted run was restarting, so status is asked until it is green.
            let again = try deploy()
            #expect(
                again.stdout.contains(" 0 failed") && again.stdout.contains("Deploy completed successfully"),
                "\(again.text)")
            var status = Output(status: 1, stdout: "", stderr: "")
            #expect(
                try eventually(20) {
                    status = try run([nimbusBinary(), "status", Self.answers], timeout: 60)
                    return status.status == 0
                }, "\(status.text)")
        }

        @Test("br-ex on the interface SSH uses (eth0) keeps the node reachable", .timeLimit(.minutes(5)))
        func bridgeOnSSHInterface() throws {
            try up()
            // node4's eth0 as the sandbox made it: no bridge files, rebooted.
            _ = try ssh("node4", "rm -f /etc/systemd/network/05-nimbus-*")
            let reboot = try nimbus("sandbox", "reboot", "--name", Self.name, "node4", timeout: 120)
            #expect(reboot.status == 0, "\(reboot.text)")
            let node4 = "10.244.0.14"
            let file = try answers([
                "CONFIG_CONTROLLER_HOST": node4, "CONFIG_NETWORK_HOSTS": node4, "CONFIG_COMPUTE_HOSTS": node4,
                "CONFIG_STORAGE_HOST": node4, "CONFIG_NEUTRON_OVS_BRIDGE_IFACES": "br-ex:eth0",
                // A second cloud on the same provider network: no second demo pool on it.
                "CONFIG_PROVISION_DEMO": "n",
            ])
            let output = try deploy(file)
            #expect(output.status == 0, "\(output.text)")
            #expect(output.stdout.contains("reconnected and committed"), "\(output.stdout)")
            let state = try ssh(
                "node4", "basename $(readlink /sys/class/net/eth0/master); ip -br -4 addr show dev br-ex")
            #expect(state.stdout.hasPrefix("br-ex\n") && state.stdout.contains("\(node4)/24"), "\(state.text)")
            let again = try deploy(file)
            #expect(again.stdout.contains(" 0 changed,"), "\(again.stdout)")
            _ = try nimbus("sandbox", "down", "--name", Self.name)
        }
    }
}

extension IntegrationTests.DeployIntegrationTests {
    @Test("--ask-password logs in once with root's password and installs the key")
    func askPassword() throws {
        try up()
        #expect(try deploy().status == 0)
        let setup = try ssh(
            "node4",
            "echo 'root:nimbus-test-pw' | chpasswd && printf 'PermitRootLogin yes\\nPasswordAuthentication yes\\n' > /etc/ssh/sshd_config.d/00-itest.conf && systemctl reload ssh && : > /root/.ssh/authorized_keys && echo ok"
        )
        #expect(setup.stdout == "ok\n", "\(setup.text)")
        defer {
            _ = try? ssh("node4", "rm -f /etc/ssh/sshd_config.d/00-itest.conf && systemctl reload ssh")
        }
        // The sandbox's own ssh uses the key too, so put it back through nimbus only.
        let refused = try deploy()
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("--ask-password"), "\(refused.stdout)")
        let process = try run(
            [
                "env", "NIMBUS_ROOT_PASSWORD=nimbus-test-pw", nimbusBinary(), "deploy", Self.answers, "--log-root",
                Self.logs,
                "--ask-password",
            ], timeout: 300)
        #expect(process.status == 0, "\(process.text)")
        let again = try deploy()
        #expect(again.status == 0, "key not installed: \(again.text)")
    }
}
