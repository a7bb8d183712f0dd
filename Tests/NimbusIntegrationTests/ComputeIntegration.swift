import Foundation
import Testing

/// The notes' compute steps that exist so far, with the stock `openstack` client: flavors
/// (step 3, one private to a project) and key pairs (step 7).
extension IntegrationTests.IdentityIntegrationTests {
    func computeWalkthrough() throws {
        let cloud = Self.cloud
        // The admin pages' "the compute services must be up": node1's agent, its libvirt.
        let hostname = try ssh("hostname").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var services: [[String: Any]] = []
        #expect(
            try eventually(60) {
                services = (try cloud.json(["compute", "service", "list"]) as? [[String: Any]]) ?? []
                return services.contains { "\($0["Binary"] ?? "")" == "nova-compute" && "\($0["State"] ?? "")" == "up" }
            }, "compute service list: \(services)")
        #expect(services.first.map { "\($0["Host"] ?? "")" } == hostname, "\(services)")
        let hypervisors = (try cloud.json(["hypervisor", "list"]) as? [[String: Any]]) ?? []
        #expect(hypervisors.count == 1, "\(hypervisors)")
        #expect(hypervisors.first.map { "\($0["Hypervisor Type"] ?? "")" } == "QEMU", "\(hypervisors)")
        #expect(hypervisors.first.map { "\($0["State"] ?? "")" } == "up", "\(hypervisors)")
        let zones = (try cloud.json(["availability", "zone", "list", "--compute"]) as? [[String: Any]]) ?? []
        #expect(zones.map { "\($0["Zone Name"] ?? "")" } == ["nova"], "\(zones)")
        // The sandbox node runs TCG guests: libvirt's domain type is qemu.
        let virt = try ssh(
            "grep -x 'virt_type = qemu' /etc/nimbus/compute-agent.conf && virsh -c qemu:///system list --all")
        #expect(virt.status == 0, "\(virt.text)")
        // Admin: m1.nano as the notes make it, and a.nano private to a project.
        let nano = try cloud.json([
            "flavor", "create", "--id", "0", "--vcpus", "1", "--ram", "64", "--disk", "1", "m1.nano",
        ])
        #expect(field(nano, "id") == "0" && field(nano, "ram") == "64", "\(nano ?? "")")
        let member = try newMember("cmp")
        let project = member["OS_PROJECT_NAME"] ?? ""
        _ = try cloud.json([
            "flavor", "create", "--private", "--project", project, "--id", "100", "--vcpus", "1", "--ram", "128",
            "--disk", "1", "a.nano",
        ])
        let other = try newMember("cmpo")
        func flavors(_ who: [String: String]) throws -> [String] {
            ((try cloud.json(["flavor", "list"], as: who) as? [[String: Any]]) ?? []).map { "\($0["Name"] ?? "")" }
        }
        // Beside the deploy's defaults (seed 003's m1.tiny … m1.xlarge, and m1.micro).
        let defaults = ["m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge", "m1.micro"]
        #expect(try flavors(member).filter { !defaults.contains($0) }.sorted() == ["a.nano", "m1.nano"])
        #expect(try flavors(other).filter { !defaults.contains($0) } == ["m1.nano"])
        #expect(Set(try flavors(other)).isSuperset(of: defaults))
        let refused = try cloud.openstack(
            ["flavor", "create", "--ram", "64", "--vcpus", "1", "--disk", "1", "x"], as: member)
        #expect(refused.status != 0 && refused.text.contains("403"), "\(refused.text)")

        // The member's key pair: the client makes it and uploads the public key.
        let made = try cloud.openstack(["keypair", "create", "k1"], as: member)
        #expect(made.status == 0 && made.stdout.contains("PRIVATE KEY"), "\(made.text)")
        let list = (try cloud.json(["keypair", "list"], as: member) as? [[String: Any]]) ?? []
        #expect(list.map { "\($0["Name"] ?? "")" } == ["k1"], "\(list)")
        #expect("\(list.first?["Fingerprint"] ?? "")".split(separator: ":").count == 16, "\(list)")
        #expect(((try cloud.json(["keypair", "list"], as: other) as? [[String: Any]]) ?? []).isEmpty)
        let again = try cloud.openstack(["keypair", "create", "k1"], as: member)
        #expect(again.status != 0 && again.text.contains("already exists"), "\(again.text)")
        #expect(try cloud.openstack(["keypair", "delete", "k1"], as: member).status == 0)
    }
}

extension IntegrationTests.IdentityIntegrationTests {
    /// The notes' instance: the member (whose int1, router1 and class1 the network
    /// walk-through made) boots the guest image on int1 with a key pair, gives it a floating
    /// IP and logs in over SSH; then stop, start, a hard reboot and the delete.
    func serverWalkthrough(member: [String: String]) throws {
        let cloud = Self.cloud
        // The key pair from a key made here, as a student imports theirs.
        let keyFile = Self.directory + "/guest-key"
        try cloud.guestImageFlavorAndKey(keyFile: keyFile, member: member)

        // Refusals change nothing: an image, a flavor, a key or a network that is not there.
        let refusals: [([String], String)] = [
            (["--image", "no-such-image", "--flavor", "m1.guest"], "No Image found"),
            (["--image", "nimbus-guest", "--flavor", "m1.nano"], "too small"),
            (["--image", "nimbus-guest", "--flavor", "m1.guest", "--key-name", "nokey"], "Invalid key_name"),
        ]
        for (arguments, message) in refusals {
            let refused = try cloud.openstack(
                ["server", "create", "--network", "int1"] + arguments + ["refused"], as: member)
            #expect(refused.status != 0 && refused.text.contains(message), "\(arguments): \(refused.text)")
        }
        #expect(((try cloud.json(["server", "list"], as: member) as? [[String: Any]]) ?? []).isEmpty)

        let created = try cloud.json(
            [
                "server", "create", "--image", "nimbus-guest", "--flavor", "m1.guest", "--network", "int1",
                "--security-group", "class1", "--key-name", "guest-key", "--wait", "vm1",
            ], as: member)
        #expect(field(created, "status") == "ACTIVE", "\(created ?? "")")
        let serverID = field(created, "id")
        let shown = try cloud.json(["server", "show", "vm1"], as: member) as? [String: Any]
        let addresses = "\(shown?["addresses"] ?? "")"
        #expect(addresses.contains("int1") && addresses.contains("192.168.0."), "\(shown ?? [:])")
        // Its port: bound to node1, ACTIVE once the L2 agent wired the tap libvirt made.
        let hostname = try ssh("hostname").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        var ports: [[String: Any]] = []
        #expect(
            try eventually(30) {
                ports =
                    (try cloud.json(["port", "list", "--server", serverID, "--long"], as: member) as? [[String: Any]])
                    ?? []
                return ports.count == 1 && "\(ports[0]["Status"] ?? "")" == "ACTIVE"
            }, "the server's port: \(ports)")
        let portID = "\(ports.first?["ID"] ?? "")"
        let binding = try cloud.json(["port", "show", portID, "-c", "binding_host_id"]) as? [String: Any]
        #expect("\(binding?["binding_host_id"] ?? "")" == hostname, "\(binding ?? [:])")
        let domains = try ssh("virsh -c qemu:///system list --name")
        #expect(domains.stdout.contains("instance-"), "\(domains.text)")

        // A floating IP, and SSH in with the key.
        let floating = try cloud.json(["floating", "ip", "create", "ext1"], as: member)
        let address = field(floating, "floating_ip_address")
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm1", address], as: member).status == 0)
        let withFloating = try cloud.json(["server", "show", "vm1", "-c", "addresses"], as: member) as? [String: Any]
        let floatingShown = "\(withFloating?["addresses"] ?? "")"
        #expect(floatingShown.contains(address), "\(withFloating ?? [:])")
        func login(_ command: String = "hostname; cat /proc/uptime") throws -> Output {
            try guestLogin(keyFile: keyFile, address: address, command, timeout: 20)
        }
        var session = Output(status: -1, stdout: "", stderr: "")
        let loggedIn = try eventually(120) {
            session = try login()
            return session.status == 0
        }
        let console = try ssh("tail -c 3000 /var/lib/nimbus/compute-agent/instances/\(serverID)/console.log")
        #expect(
            loggedIn && session.stdout.hasPrefix("vm1\n"),
            "ssh cirros@\(address): \(session.text)\nconsole:\n\(console.stdout)")
        // No config drive was asked for: the key came from the metadata service, through
        // router1's proxy. The guest reads its documents there, EC2's too, and posts a
        // password that the compute API then shows.
        #expect(console.stdout.contains("datasource: metadata service"), "\(console.stdout)")
        let md = "http://169.254.169.254"
        let documents = try login(
            "wget -qO- \(md)/openstack/latest/meta_data.json; echo; wget -qO- \(md)/latest/meta-data/public-ipv4; echo;"
                + " wget -qO- \(md)/latest/meta-data/public-keys/0/openssh-key; echo;"
                + " wget -qO- --post-data 'sealed-password' \(md)/openstack/2013-10-17/password && echo posted")
        #expect(
            documents.stdout.contains("\"uuid\": \"\(serverID)\"")
                || documents.stdout.contains("\"uuid\":\"\(serverID)\""),
            "\(documents.text)")
        #expect(documents.stdout.contains("\n\(address)\n"), "public-ipv4: \(documents.text)")
        #expect(documents.stdout.contains("ssh-ed25519 ") && documents.stdout.contains("posted"), "\(documents.text)")
        let token = try cloud.openstack(["token", "issue", "-f", "value", "-c", "id"], as: member).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let password = try ssh(
            "curl -sS -H 'X-Auth-Token: \(token)'"
                + " http://$(sed -n 's/^bind *= *//p' /etc/nimbus/compute.conf | head -1)/v2.1/servers/\(serverID)/os-server-password"
        )
        #expect(password.stdout.contains("sealed-password"), "os-server-password: \(password.text)")
        let forged = try ssh(
            "curl -s -o /dev/null -w '%{http_code}' -H 'X-Instance-ID: \(serverID)' -H 'X-Tenant-ID: x'"
                + " -H 'X-Instance-ID-Signature: 00'"
                + " http://$(sed -n 's/^bind *= *//p' /etc/nimbus/compute.conf | sed -n 2p)/openstack/latest/meta_data.json"
        )
        #expect(forged.stdout == "403", "a request with a forged signature: \(forged.text)")

        // A security group added to the server's port and removed again.
        #expect(try cloud.openstack(["server", "add", "security", "group", "vm1", "default"], as: member).status == 0)
        let grouped = try cloud.json(["server", "show", "vm1", "-c", "security_groups"], as: member) as? [String: Any]
        let groupNames = "\(grouped?["security_groups"] ?? "")"
        #expect(groupNames.contains("default"), "\(grouped ?? [:])")
        let twice = try cloud.openstack(["server", "add", "security", "group", "vm1", "default"], as: member)
        #expect(twice.status != 0, "\(twice.text)")
        #expect(
            try cloud.openstack(["server", "remove", "security", "group", "vm1", "default"], as: member).status == 0)
        let portGroups = try cloud.json(["port", "show", portID, "-c", "security_group_ids"]) as? [String: Any]
        let portGroupIDs = "\(portGroups?["security_group_ids"] ?? "")"
        #expect(portGroupIDs.split(separator: ",").count == 1, "\(portGroups ?? [:])")

        // Properties (the server's metadata), set and unset.
        #expect(try cloud.openstack(["server", "set", "--property", "role=web", "vm1"], as: member).status == 0)
        let properties = try cloud.json(["server", "show", "vm1", "-c", "properties"], as: member) as? [String: Any]
        let shownProperties = "\(properties?["properties"] ?? "")"
        #expect(shownProperties.contains("role") && shownProperties.contains("web"), "\(properties ?? [:])")
        #expect(try cloud.openstack(["server", "unset", "--property", "role", "vm1"], as: member).status == 0)
        let unset = try cloud.json(["server", "show", "vm1", "-c", "properties"], as: member) as? [String: Any]
        let leftProperties = "\(unset?["properties"] ?? "")"
        #expect(!leftProperties.contains("role"), "\(unset ?? [:])")

        // The console, as the agent last sent it (every 2 s when it grew).
        var shownConsole = ""
        #expect(
            try eventually(15) {
                shownConsole = try cloud.openstack(["console", "log", "show", "--lines", "40", "vm1"], as: member)
                    .stdout
                return shownConsole.contains("login as 'cirros' user")
            }, "console log show: \(shownConsole)")

        // Stop, start (the client has no --wait for them: polled), a hard reboot (waited on).
        func status() throws -> String { field(try cloud.json(["server", "show", "vm1"], as: member), "status") }

        // An instance snapshot (the notes' step 11): a file written before it is there in
        // a server booted from it; the snapshotted server kept running.
        let marked = try login("echo kept-by-the-snapshot > /home/cirros/marker && sync && echo marked")
        #expect(marked.stdout.contains("marked"), "\(marked.text)")
        let snapshot = try cloud.openstack(
            ["server", "image", "create", "--name", "vm1-snap", "--wait", "vm1"], as: member)
        #expect(snapshot.status == 0, "server image create: \(snapshot.text)")
        let snapshotImage = try cloud.json(["image", "show", "vm1-snap"], as: member) as? [String: Any]
        let imageProperties = "\(snapshotImage?["properties"] ?? "")"
        #expect(
            "\(snapshotImage?["status"] ?? "")" == "active" && imageProperties.contains("snapshot")
                && imageProperties.contains(serverID), "\(snapshotImage ?? [:])")
        #expect(try status() == "ACTIVE")
        let fromSnapshot = try cloud.json(
            [
                "server", "create", "--image", "vm1-snap", "--flavor", "m1.guest", "--network", "int1",
                "--security-group", "class1", "--key-name", "guest-key", "--wait", "vm2",
            ], as: member)
        #expect(field(fromSnapshot, "status") == "ACTIVE", "\(fromSnapshot ?? "")")
        #expect(try cloud.openstack(["server", "remove", "floating", "ip", "vm1", address], as: member).status == 0)
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm2", address], as: member).status == 0)
        var restored = Output(status: -1, stdout: "", stderr: "")
        #expect(
            try eventually(120) {
                restored = try login("hostname; cat /home/cirros/marker")
                return restored.stdout == "vm2\nkept-by-the-snapshot\n"
            }, "the server booted from the snapshot: \(restored.text)")
        #expect(try cloud.openstack(["server", "delete", "--wait", "vm2"], as: member).status == 0)
        #expect(try cloud.openstack(["image", "delete", "vm1-snap"], as: member).status == 0)
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm1", address], as: member).status == 0)
        #expect(try eventually(60) { try login().status == 0 }, "ssh to vm1 again")
        try volumesOnServer(member: member, login: { try login($0) })
        // Pause and unpause; suspend (libvirt's managed save) and resume: the guest's
        // uptime goes on across both.
        func uptime() throws -> Double? {
            Double(try login("cut -d' ' -f1 /proc/uptime").stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let before = try uptime() ?? 0
        for (action, shown, back) in [("pause", "PAUSED", "unpause"), ("suspend", "SUSPENDED", "resume")] {
            #expect(try cloud.openstack(["server", action, "vm1"], as: member).status == 0)
            #expect(try eventually(60) { try status() == shown }, "\(shown) after \(action)")
            #expect(try cloud.openstack(["server", back, "vm1"], as: member).status == 0)
            #expect(try eventually(60) { try status() == "ACTIVE" }, "ACTIVE after \(back)")
        }
        var after: Double?
        #expect(
            try eventually(60) {
                after = try uptime()
                return after != nil
            }, "ssh after resume")
        #expect((after ?? 0) > before, "uptime \(before) → \(after ?? 0): the guest was not rebooted")
        let events = try cloud.openstack(["server", "event", "list", "vm1", "-f", "value", "-c", "Action"], as: member)
        for action in ["create", "createImage", "pause", "unpause", "suspend", "resume"] {
            #expect(events.stdout.split(separator: "\n").contains(Substring(action)), "\(action): \(events.text)")
        }
        #expect(try cloud.openstack(["server", "stop", "vm1"], as: member).status == 0)
        #expect(try eventually(30) { try status() == "SHUTOFF" }, "SHUTOFF after stop")
        #expect(try ssh("virsh -c qemu:///system list --name --state-shutoff").stdout.contains("instance-"))
        #expect(try cloud.openstack(["server", "start", "vm1"], as: member).status == 0)
        #expect(try eventually(30) { try status() == "ACTIVE" }, "ACTIVE after start")
        let reboot = try cloud.openstack(["server", "reboot", "--hard", "--wait", "vm1"], as: member)
        #expect(reboot.status == 0, "\(reboot.text)")
        let startRefused = try cloud.openstack(["server", "start", "vm1"], as: member)
        #expect(startRefused.status != 0 && startRefused.text.contains("409"), "\(startRefused.text)")
        #expect(try eventually(120) { try login().status == 0 }, "ssh after the hard reboot")
        // data2 stayed attached through pause, suspend, stop, start and the hard reboot.
        let kept = try login("sudo mount /dev/vdb /mnt && cat /mnt/note; sudo umount /mnt")
        #expect(kept.stdout.contains("written-in-vm1"), "data2 after the power cycles: \(kept.text)")

        // Delete: the server, its domain, its disk and its port go; the floating IP stays.
        #expect(try cloud.openstack(["server", "delete", "--wait", "vm1"], as: member).status == 0)
        #expect(((try cloud.json(["server", "list"], as: member) as? [[String: Any]]) ?? []).isEmpty)
        #expect(
            try eventually(20) {
                let left = try ssh(
                    "virsh -c qemu:///system list --all --name | grep -c instance-; ls /var/lib/nimbus/compute-agent/instances | grep -vc _base"
                )
                return left.stdout == "0\n0\n"
            }, "the domain and its files are gone")
        let portsLeft =
            (try cloud.json(["port", "list", "--device-id", serverID], as: member) as? [[String: Any]]) ?? []
        #expect(portsLeft.isEmpty, "\(portsLeft)")
        // data2 went with it (delete_on_termination); data1 and its snapshot are kept.
        var volumesLeft: [String] = []
        #expect(
            try eventually(30) {
                volumesLeft = ((try cloud.json(["volume", "list"], as: member) as? [[String: Any]]) ?? []).map {
                    "\($0["Name"] ?? "")"
                }
                return volumesLeft == ["data1"]
            }, "volumes after the server's delete: \(volumesLeft)")
        #expect(try ssh("ls /var/lib/nimbus/volume/volumes/exports 2>/dev/null | wc -l").stdout == "0\n")
        #expect(try cloud.openstack(["volume", "snapshot", "delete", "data1-snap"], as: member).status == 0)
        #expect(try eventually(30) { try cloud.openstack(["volume", "delete", "data1"], as: member).status == 0 })
        #expect(try cloud.openstack(["floating", "ip", "delete", address], as: member).status == 0)
    }

    /// The notes' step 11 on a running server: `vol1`-like `data1` attached (the guest sees
    /// `/dev/vdb`), a filesystem made and a file written; a snapshot of the in-use volume;
    /// detached (gone from the guest); a volume from the snapshot holds the file and stays
    /// attached, deleted with the server.
    func volumesOnServer(member: [String: String], login: (String) throws -> Output) throws {
        let cloud = Self.cloud
        func volume(_ name: String) throws -> [String: Any] {
            (try cloud.json(["volume", "show", name], as: member) as? [String: Any]) ?? [:]
        }
        func status(_ name: String) throws -> String { "\(try volume(name)["status"] ?? "")" }
        func disks() throws -> String { try login("lsblk -dno NAME").stdout }
        _ = try cloud.json(["volume", "create", "--size", "1", "data1"], as: member)
        #expect(try eventually(30) { try status("data1") == "available" }, "data1 did not become available")
        let clock = ContinuousClock()
        let started = clock.now
        let added = try cloud.openstack(["server", "add", "volume", "vm1", "data1"], as: member)
        #expect(added.status == 0, "server add volume: \(added.text)")
        #expect(try eventually(30) { try disks().contains("vdb") }, "vdb in the guest")
        let seen = clock.now - started
        #expect(try eventually(30) { try status("data1") == "in-use" }, "data1: \((try? volume("data1")) ?? [:])")
        let attachments = "\(try volume("data1")["attachments"] ?? "")"
        #expect(attachments.contains("/dev/vdb"), "\(attachments)")
        // The table's own rendering (`-f value` prints the raw attachments).
        let listed = try cloud.openstack(["volume", "list"], as: member).stdout
        #expect(listed.contains("Attached to vm1 on /dev/vdb"), "volume list: \(listed)")
        let server = try cloud.json(["server", "show", "vm1"], as: member) as? [String: Any]
        let data1ID = "\(try volume("data1")["id"] ?? "-")"
        let volumesAttached = "\(server?["volumes_attached"] ?? "")"
        #expect(volumesAttached.contains(data1ID), "\(server ?? [:])")
        print("data1 attached and seen in the guest after \(seen)")
        let written = try login(
            "sudo mkfs.ext4 -q /dev/vdb && sudo mount /dev/vdb /mnt && echo written-in-vm1 | sudo tee /mnt/note"
                + " && sync && sudo umount /mnt && echo done")
        #expect(written.stdout.contains("done"), "mkfs, mount, write: \(written.text)")
        // A second attach of an in-use volume is refused; an extend of an attached one too.
        let twice = try cloud.openstack(["server", "add", "volume", "vm1", "data1"], as: member)
        #expect(twice.status != 0, "\(twice.text)")
        // The in-use volume snapshotted (--force, as the notes do).
        _ = try cloud.json(["volume", "snapshot", "create", "--volume", "data1", "--force", "data1-snap"], as: member)
        #expect(
            try eventually(30) {
                field(try cloud.json(["volume", "snapshot", "show", "data1-snap"], as: member), "status") == "available"
            }, "the snapshot of the in-use volume")
        #expect(try cloud.openstack(["server", "remove", "volume", "vm1", "data1"], as: member).status == 0)
        #expect(
            try eventually(30) { try status("data1") == "available" },
            "data1 after detach: \((try? volume("data1")) ?? [:])")
        #expect(try eventually(15) { !(try disks().contains("vdb")) }, "vdb gone from the guest")
        // A volume from the snapshot holds the file; attached with delete-on-termination.
        _ = try cloud.json(["volume", "create", "--snapshot", "data1-snap", "--size", "1", "data2"], as: member)
        #expect(try eventually(30) { try status("data2") == "available" }, "data2 did not become available")
        let second = try cloud.openstack(
            ["server", "add", "volume", "--enable-delete-on-termination", "vm1", "data2"], as: member)
        #expect(second.status == 0, "\(second.text)")
        #expect(try eventually(30) { try status("data2") == "in-use" }, "data2: \((try? volume("data2")) ?? [:])")
        var read = Output(status: -1, stdout: "", stderr: "")
        #expect(
            try eventually(30) {
                read = try login("sudo mount /dev/vdb /mnt && cat /mnt/note; sudo umount /mnt")
                return read.stdout.contains("written-in-vm1")
            }, "the file in the volume made from the snapshot: \(read.text)")
    }
}
