import Foundation
import Testing

/// An all-in-one deploy onto a fresh one-node sandbox (`idtest`, on 10.242/10.243), then the
/// stock `openstack` client (python-openstackclient from PyPI, `$OPENSTACK`) against it.
extension IntegrationTests {
    @Suite("Identity: an all-in-one deploy and the stock openstack client")
    struct IdentityIntegrationTests {
        static let name = "idtest"
        static let directory = NSTemporaryDirectory() + "idtest"
        static let answers = directory + "/answers.txt"
        static let logs = directory + "/logs"
        static let controller = "10.242.0.11"

        func deploy() throws -> Output {
            try run([nimbusBinary(), "deploy", Self.answers, "--log-root", Self.logs], timeout: 600)
        }

        func status() throws -> Output {
            try run([nimbusBinary(), "status", Self.answers], timeout: 120)
        }

        func ssh(_ command: String) throws -> Output {
            try run([nimbusBinary(), "sandbox", "ssh", "--name", Self.name, "node1", command], timeout: 120)
        }

        /// The stock clients with keystonerc_admin's credentials.
        static let cloud = CloudClient(keystonerc: directory + "/keystonerc_admin")

        /// The `openstack` client with keystonerc_admin's variables (or `changes` to them).
        func openstack(_ arguments: String..., as changes: [String: String] = [:]) throws -> Output {
            try Self.cloud.openstack(arguments, as: changes)
        }

        /// Runs a client with keystonerc_admin's `OS_*` variables (`changes` applied), in
        /// `directory` when given.
        static func withCredentials(
            _ client: String, _ arguments: [String], changes: [String: String] = [:], in directory: String? = nil,
            timeout: Double = 120
        ) throws -> Output {
            try cloud.run(client, arguments, changes: changes, in: directory, timeout: timeout)
        }

        /// A new project with a member user; the `OS_*` changes that act as that user.
        func newMember(_ prefix: String) throws -> [String: String] { try Self.cloud.newMember(prefix) }

        @Test(
            "A fresh node: deploy installs and bootstraps identity, status is green, a second deploy changes nothing",
            .timeLimit(.minutes(15)))
        func deployAndStatus() throws {
            _ = try nimbus("sandbox", "down", "--name", Self.name)
            try? FileManager.default.removeItem(atPath: "/var/lib/nimbus/sandbox/\(Self.name)")
            try? FileManager.default.removeItem(atPath: Self.directory)
            try FileManager.default.createDirectory(atPath: Self.directory, withIntermediateDirectories: true)
            let up = try run([
                nimbusBinary(), "sandbox", "up", "--name", Self.name, "--nodes", "1", "--answer-file", Self.answers,
                "--management-network", "10.242.0.0/24", "--provider-network", "10.243.0.0/24",
            ])
            #expect(up.status == 0, "\(up.text)")
            // The notes' answer file: no demo; the student makes the external network.
            let written = try String(contentsOfFile: Self.answers, encoding: .utf8)
            #expect(written.contains("\nCONFIG_PROVISION_DEMO=y\n"))
            try written.replacingOccurrences(of: "\nCONFIG_PROVISION_DEMO=y\n", with: "\nCONFIG_PROVISION_DEMO=n\n")
                .write(toFile: Self.answers, atomically: true, encoding: .utf8)
            let first = try deploy()
            #expect(first.status == 0, "\(first.text)")
            #expect(first.stdout.contains("install.identity"), "\(first.stdout)")
            #expect(first.stdout.contains("install.image"), "\(first.stdout)")
            #expect(first.stdout.contains("Installation completed successfully"), "\(first.stdout)")
            #expect(first.stdout.contains("All checks passed."), "\(first.stdout)")
            #expect(first.stdout.contains("provision.flavors"), "\(first.stdout)")
            #expect(!first.stdout.contains("provision.demo"), "CONFIG_PROVISION_DEMO=n: \(first.stdout)")
            let rc = try FileManager.default.attributesOfItem(atPath: Self.directory + "/keystonerc_admin")
            #expect((rc[.posixPermissions] as? Int) == 0o600)
            let remote = try ssh(
                "stat -c %a /root/keystonerc_admin; systemctl is-active nimbus-identity; systemctl is-enabled nimbus-identity"
            )
            #expect(remote.stdout == "600\nactive\nenabled\n", "\(remote.text)")
            let again = try deploy()
            #expect(again.status == 0, "\(again.text)")
            #expect(again.stdout.contains(" 0 changed,"), "\(again.stdout)")
            let green = try status()
            #expect(green.status == 0, "\(green.text)")
            try servicesRunConfined()
            try channelSurvivesAPIKill()
            try volumeWalkthrough()
            let member = try networkWalkthrough()
            try computeWalkthrough()
            try serverWalkthrough(member: member)
        }

        @Test(
            "A redeploy rewriting the service configs shows no answer-file password in a world-readable file of /tmp, /etc/nimbus or /var/tmp, a command line, the run log or the journal",
            .timeLimit(.minutes(3)))
        func secretsStayPrivate() throws {
            try watchSecretsDuringRedeploy()
        }

        @Test("The student's identity commands through the stock openstack client", whenInstalled("OPENSTACK"))
        func openstackClient() throws {
            let token = try openstack("token", "issue", "-f", "value", "-c", "id")
            #expect(token.status == 0 && token.stdout.hasPrefix("n1"), "\(token.text)")
            let catalog = try openstack("catalog", "list", "-f", "value", "-c", "Type")
            #expect(catalog.status == 0 && catalog.stdout.contains("identity"), "\(catalog.text)")
            #expect(try openstack("service", "list").status == 0)
            let endpoints = try openstack("endpoint", "list", "-f", "value", "-c", "Interface")
            #expect(endpoints.status == 0 && endpoints.stdout.contains("public"), "\(endpoints.text)")
            let suffix = String(UUID().uuidString.prefix(6)).lowercased()
            let project = "class-\(suffix)"
            let user = "student-\(suffix)"
            let created = try openstack("project", "create", "--description", "Class", project)
            #expect(created.status == 0, "\(created.text)")
            let userCreated = try openstack(
                "user", "create", "--project", project, "--password", "pw-\(suffix)", "--email", "s@example.org", user)
            #expect(userCreated.status == 0, "\(userCreated.text)")
            let role = try openstack("role", "add", "--project", project, "--user", user, "_member_")
            #expect(role.status == 0, "\(role.text)")
            let assignments = try openstack(
                "role", "assignment", "list", "--project", project, "--names", "-f", "value", "-c", "User", "-c", "Role"
            )
            #expect(
                assignments.stdout.contains("\(user)@Default") && assignments.stdout.contains("member"),
                "\(assignments.text)")
            let member = ["OS_USERNAME": user, "OS_PASSWORD": "pw-\(suffix)", "OS_PROJECT_NAME": project]
            let memberToken = try openstack("token", "issue", as: member)
            #expect(memberToken.status == 0, "\(memberToken.text)")
            let denied = try openstack("user", "list", as: member)
            #expect(denied.status != 0 && denied.stderr.contains("403"), "\(denied.text)")
        }

        @Test(
            "The image commands with a real qcow2: create, list, show, save (byte for byte), privacy, delete",
            whenInstalled("OPENSTACK"))
        func imageCommands() throws {
            let file = Self.directory + "/cirros.qcow2"
            let made = try run(["qemu-img", "create", "-f", "qcow2", file, "128M"])
            #expect(made.status == 0, "\(made.text)")
            let created = try openstack(
                "image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--file", file, "--public",
                "cirros", "-f", "value", "-c", "status")
            #expect(created.stdout == "active\n", "\(created.text)")
            let listed = try openstack("image", "list", "-f", "value", "-c", "Name")
            #expect(listed.stdout.contains("cirros"), "\(listed.text)")
            let shown = try openstack("image", "show", "cirros", "-f", "value", "-c", "virtual_size")
            #expect(shown.stdout == "134217728\n", "\(shown.text)")
            let saved = Self.directory + "/saved.qcow2"
            #expect(try openstack("image", "save", "--file", saved, "cirros").status == 0)
            #expect(FileManager.default.contentsEqual(atPath: file, andPath: saved))
            // A private image of admin's project is not seen by a member of another project.
            let secret = try openstack(
                "image", "create", "--disk-format", "raw", "--container-format", "bare", "--file", file, "--private",
                "secret", "-f", "value", "-c", "id")
            #expect(secret.status == 0, "\(secret.text)")
            let member = try newMember("images")
            let seen = try openstack("image", "list", "-f", "value", "-c", "Name", as: member)
            // (The compute walk-through's public guest image is there too.)
            let seenNames = Set(seen.stdout.split(separator: "\n").map(String.init))
            #expect(seen.status == 0 && seenNames.contains("cirros") && !seenNames.contains("secret"), "\(seen.text)")
            let hidden = try openstack(
                "image", "show", secret.stdout.trimmingCharacters(in: .whitespacesAndNewlines), as: member)
            #expect(hidden.status != 0, "\(hidden.text)")
            #expect(try openstack("image", "delete", "secret").status == 0)
            let left = try openstack("image", "list", "-f", "value", "-c", "Name")
            let leftNames = Set(left.stdout.split(separator: "\n").map(String.init))
            #expect(leftNames.contains("cirros") && !leftNames.contains("secret"), "\(left.text)")
        }

        @Test(
            "The swift CLI: the course's post/upload/list/download, a 1 GiB object, 10,000 objects, a public container, another project refused",
            whenInstalled("OPENSTACK", "SWIFT_CLIENT"), .timeLimit(.minutes(20)))
        func objectCommands() throws {
            try objectStorageWalkthrough()
        }

        @Test(
            "CONFIG_GLANCE_BACKEND=swift: a redeploy sends new images to object storage; older ones stay readable",
            whenInstalled("OPENSTACK", "SWIFT_CLIENT"), .timeLimit(.minutes(10)))
        func imageBackendSwift() throws {
            try imageBackendSwitch()
        }

        @Test(
            "Tempest 47: the image, object storage, network and compute smoke tests pass; the full image.v2, object_storage and network counts",
            whenInstalled("TEMPEST", "OPENSTACK"), .timeLimit(.minutes(25)))
        func tempestImageObjectStorageAndNetwork() throws {
            _ = try requireTool("TEMPEST")
            try runTempest()
        }

        @Test(
            "nimbus service stops and restarts by group, status names the fix; a killed service is restarted by systemd; after a reboot status is green again; destroy leaves nothing of Nimbus and a deploy starts from scratch",
            .timeLimit(.minutes(10)))
        func restartAndReboot() throws {
            // openstack-service's part: a stopped agent is down in status, with its fix, which works.
            let stopped = try nimbus("service", "stop", "compute-agent", "--answer-file", Self.answers, timeout: 120)
            #expect(stopped.status == 0 && stopped.stdout.contains("nimbus-compute-agent"), "\(stopped.text)")
            #expect(stopped.stdout.contains("stopped, inactive"), "\(stopped.text)")
            let red = try run([nimbusBinary(), "status", Self.answers, "--json"], timeout: 120)
            #expect(red.status == 1, "\(red.text)")
            let report = (try? JSONSerialization.jsonObject(with: Data(red.stdout.utf8))) as? [String: Any] ?? [:]
            let down = (report["checks"] as? [[String: Any]] ?? []).filter { $0["state"] as? String == "down" }
            #expect(report["healthy"] as? Bool == false, "\(red.stdout)")
            #expect(
                down.contains {
                    $0["name"] as? String == "nimbus-compute-agent"
                        && ($0["fix"] as? String ?? "").hasPrefix(
                            "nimbus service restart compute-agent --host \(Self.controller)")
                }, "\(down)")
            let started = try nimbus("service", "restart", "nova", "--answer-file", Self.answers, timeout: 120)
            #expect(started.status == 0, "\(started.text)")
            #expect(
                started.stdout.contains("nimbus-compute ") && started.stdout.contains("nimbus-compute-agent")
                    && !started.stdout.contains("nimbus-network"), "\(started.text)")
            let unknown = try nimbus("service", "restart", "no-such", "--answer-file", Self.answers, timeout: 60)
            #expect(unknown.status != 0 && unknown.stderr.contains("no service no-such"), "\(unknown.text)")
            var green = try status()
            for _ in 0..<20 where green.status != 0 {
                Thread.sleep(forTimeInterval: 1)
                green = try status()
            }
            #expect(green.status == 0, "\(green.text)")
            // kill -9 of every service and agent at once (their main processes: systemctl kill
            // cannot signal a sandbox node's cgroup); systemd starts each again.
            let killed = try ssh(
                """
                units=$(systemctl list-units 'nimbus-*' --no-legend --plain | awk '{print $1}')
                for u in $units; do echo "$u $(systemctl show -p MainPID --value $u)"; done > /tmp/pids
                while read u pid; do kill -9 $pid; done < /tmp/pids
                sleep 3
                while read u pid; do now=$(systemctl show -p MainPID --value $u); echo "$u $(systemctl is-active $u) $([ "$now" != "$pid" ] && [ "$now" != 0 ] && echo new || echo same)"; done < /tmp/pids
                """)
            let lines = killed.stdout.split(separator: "\n")
            #expect(lines.count >= 10 && lines.allSatisfy { $0.hasSuffix(" active new") }, "\(killed.text)")
            let killedAt = Date()
            var recovered = try status()
            while recovered.status != 0 && Date().timeIntervalSince(killedAt) < 60 {
                Thread.sleep(forTimeInterval: 1)
                recovered = try status()
            }
            #expect(recovered.status == 0, "\(recovered.text)")
            print("every service killed: status green \(Int(Date().timeIntervalSince(killedAt)) + 3) s after the kill")
            let reboot = try nimbus("sandbox", "reboot", "--name", Self.name, "node1", timeout: 180)
            #expect(reboot.status == 0, "\(reboot.text)")
            var after = try status()
            for _ in 0..<20 where after.status != 0 {
                Thread.sleep(forTimeInterval: 1)
                after = try status()
            }
            #expect(after.status == 0, "\(after.text)")
            try destroyAndRedeploy()
            _ = try nimbus("sandbox", "down", "--name", Self.name)
        }
    }
}
