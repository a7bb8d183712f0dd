import Foundation
import Testing

/// Servers on the four-node sandbox's two computes (node3, node4), on the network the
/// network walk made: a zone aggregate puts node4 in zone-b, an anti-affinity group sends
/// the second server to the other host, the guests ping each other over VXLAN, a third
/// server of the group finds no host; the compute agent killed with SIGKILL leaves its
/// guest running, a rebooted compute host starts its instance again; a disabled compute
/// service takes no server; deleting leaves no domain, disk or tap.
extension IntegrationTests.DeployIntegrationTests {
    func computeAcrossHosts(cloud: CloudClient, member: [String: String], hosts: [String], step: (String) -> Void)
        throws
    {
        let keyFile = Self.directory + "/guest-key"
        try cloud.guestImageFlavorAndKey(keyFile: keyFile, member: member)
        // Both computes are hypervisors, up.
        let hypervisors = (try cloud.json(["hypervisor", "list"]) as? [[String: Any]]) ?? []
        #expect(
            Set(hypervisors.map { "\($0["Hypervisor Hostname"] ?? "")" }) == [hosts[2], hosts[3]]
                && hypervisors.allSatisfy { "\($0["State"] ?? "")" == "up" }, "\(hypervisors)")
        step("image, flavor, key, hypervisors")

        // node4 in zone-b (the notes' 호스트 집합 with its 가용성 존).
        _ = try cloud.json(["aggregate", "create", "--zone", "zone-b", "agg-b"])
        #expect(try cloud.openstack(["aggregate", "add", "host", "agg-b", hosts[3]]).status == 0)
        let zones =
            (try cloud.json(["availability", "zone", "list", "--compute"], as: member) as? [[String: Any]]) ?? []
        #expect(Set(zones.map { "\($0["Zone Name"] ?? "")" }) == ["nova", "zone-b"], "\(zones)")
        let group = try cloud.json(["server", "group", "create", "--policy", "anti-affinity", "apart"], as: member)
        let groupID = field(group, "id")

        func create(_ name: String, _ extra: [String]) throws -> Output {
            try cloud.openstack(
                [
                    "server", "create", "--image", "nimbus-guest", "--flavor", "m1.guest", "--network", "int1",
                    "--security-group", "class1", "--key-name", "guest-key", "--hint", "group=\(groupID)", "--wait",
                    "-f", "json",
                ] + extra + [name], as: member)
        }
        // Where a server went, as the admin sees it (by id: the name is the member's).
        func host(_ created: Output) throws -> String {
            let id = field(try? JSONSerialization.jsonObject(with: Data(created.stdout.utf8)), "id")
            let shown = try cloud.json(["server", "show", id]) as? [String: Any]
            return "\(shown?["OS-EXT-SRV-ATTR:host"] ?? "")"
        }
        func fixedAddress(_ name: String) throws -> String {
            let shown = try cloud.json(["server", "show", name], as: member) as? [String: Any]
            let text = "\(shown?["addresses"] ?? "")"
            return text.firstMatch(of: /192\.168\.0\.\d+/).map { String($0.output) } ?? ""
        }
        // Booted together in spirit: vm1 asked for zone-b, vm2 kept away from it by the group.
        let vm1 = try create("vm1", ["--availability-zone", "zone-b"])
        #expect(vm1.status == 0 && vm1.stdout.contains("ACTIVE"), "\(vm1.text)")
        let vm2 = try create("vm2", [])
        #expect(vm2.status == 0 && vm2.stdout.contains("ACTIVE"), "\(vm2.text)")
        #expect(try host(vm1) == hosts[3], "vm1 in zone-b is on node4")
        #expect(try host(vm2) == hosts[2], "vm2, anti-affine to vm1, is on node3")
        let zoneShown = try cloud.json(["server", "show", "vm1", "-c", "OS-EXT-AZ:availability_zone"], as: member)
        #expect(field(zoneShown, "OS-EXT-AZ:availability_zone") == "zone-b", "\(zoneShown ?? "")")
        // A third member has no host left: ERROR with Nova's fault, at once.
        let vm3 = try create("vm3", [])
        #expect(vm3.status != 0, "\(vm3.text)")
        let fault = try cloud.json(["server", "show", "vm3", "-c", "status", "-c", "fault"], as: member)
        #expect(field(fault, "status") == "ERROR" && "\(fault ?? "")".contains("No valid host"), "\(fault ?? "")")
        #expect(try cloud.openstack(["server", "delete", "--wait", "vm3"], as: member).status == 0)
        let members = try cloud.json(["server", "group", "show", "apart", "-c", "members"], as: member)
        #expect("\(members ?? "")".split(separator: ",").count == 2, "\(members ?? "")")
        step("vm1 on node4 (zone-b), vm2 on node3 (anti-affinity), vm3 no host")

        // In through vm2's floating IP; vm2 pings vm1 on the other compute (VXLAN).
        let floating = try cloud.json(["floating", "ip", "create", "ext1"], as: member)
        let address = field(floating, "floating_ip_address")
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm2", address], as: member).status == 0)
        let vm1Address = try fixedAddress("vm1")
        func login(_ command: String) throws -> Output {
            try guestLogin(keyFile: keyFile, address: address, command, timeout: 20)
        }
        func uptime() throws -> Double? {
            let output = try login("cat /proc/uptime")
            return output.status == 0 ? Double(output.stdout.split(separator: " ").first ?? "") : nil
        }
        var session = Output(status: -1, stdout: "", stderr: "")
        #expect(
            try eventually(120) {
                session = try login("hostname; ping -c1 -W2 \(vm1Address)")
                return session.status == 0
            }, "vm2 → vm1 (\(vm1Address)): \(session.text)")
        #expect(session.stdout.hasPrefix("vm2\n"), "\(session.text)")
        step("vm2 pings vm1 across the computes")

        // The compute agent on node3 killed: the guest runs on (same QEMU, no reboot),
        // the agent comes back and keeps it ACTIVE.
        let qemu = try ssh("node3", "pgrep -f qemu-system").stdout
        let before = try uptime() ?? 0
        let pid = try ssh("node3", "systemctl show -p MainPID --value nimbus-compute-agent").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try ssh("node3", "kill -9 \(pid)").status == 0)
        #expect(
            try eventually(30) {
                let now = try ssh("node3", "systemctl show -p MainPID --value nimbus-compute-agent").stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                return now != pid && now != "0"
            }, "the compute agent started again")
        Thread.sleep(forTimeInterval: 5)
        #expect(try ssh("node3", "pgrep -f qemu-system").stdout == qemu, "the guest's QEMU is the same")
        #expect((try uptime() ?? 0) > before, "vm2 was not rebooted by the agent's restart")
        let status2 = try cloud.json(["server", "show", "vm2", "-c", "status"], as: member)
        #expect(field(status2, "status") == "ACTIVE", "\(status2 ?? "")")
        step("compute agent killed, guest untouched")

        try volumeAcrossHosts(
            cloud: cloud, member: member, address: address, keyFile: keyFile, storageNode: "node1", step: step)
        try volumeKeptAndDeleted(
            cloud: cloud, member: member, address: address, keyFile: keyFile, vm1Address: vm1Address, step: step)

        // node3 disabled: a server for the nova zone finds no host; enabled again.
        #expect(
            try cloud.openstack([
                "compute", "service", "set", "--disable", "--disable-reason", "maintenance", hosts[2], "nova-compute",
            ])
            .status == 0)
        let services = (try cloud.json(["compute", "service", "list", "--long"]) as? [[String: Any]]) ?? []
        let node3 = services.first { "\($0["Host"] ?? "")" == hosts[2] }
        #expect(
            "\(node3?["Status"] ?? "")" == "disabled" && "\(node3?["Disabled Reason"] ?? "")" == "maintenance",
            "\(services)")
        // The zone's one host disabled: the zone is not available.
        let refused = try cloud.openstack(
            [
                "server", "create", "--image", "nimbus-guest", "--flavor", "m1.guest", "--network", "int1",
                "--availability-zone", "nova", "vm4",
            ], as: member)
        #expect(
            refused.status != 0 && refused.text.contains("The requested availability zone is not available"),
            "\(refused.text)")
        #expect(try cloud.openstack(["compute", "service", "set", "--enable", hosts[2], "nova-compute"]).status == 0)

        // Everything deleted: no domain, disk, tap or port left on either compute (the image
        // cache, `_base`, stays).
        var taps: [String] = []
        for name in ["vm1", "vm2"] {
            let ports = (try cloud.json(["port", "list", "--server", name], as: member) as? [[String: Any]]) ?? []
            taps += ports.map { "tap" + "\($0["ID"] ?? "")".prefix(11) }
        }
        #expect(taps.count == 2, "\(taps)")
        #expect(try cloud.openstack(["server", "delete", "--wait", "vm1", "vm2"], as: member).status == 0)
        _ = try cloud.openstack(["floating", "ip", "delete", address], as: member)
        for node in ["node3", "node4"] {
            var left = ""
            #expect(
                try eventually(30) {
                    left = try ssh(
                        node,
                        "virsh -c qemu:///system list --all --name | grep . ; ls /var/lib/nimbus/compute-agent/instances 2>/dev/null | grep -vx _base; for t in \(taps.joined(separator: " ")); do ip link show $t >/dev/null 2>&1 && echo $t; done; true"
                    ).stdout
                    return left.isEmpty
                }, "\(node) keeps: \(left)")
        }
        #expect(try cloud.openstack(["server", "group", "delete", "apart"], as: member).status == 0)
        #expect(try cloud.openstack(["aggregate", "remove", "host", "agg-b", hosts[3]]).status == 0)
        #expect(try cloud.openstack(["aggregate", "delete", "agg-b"]).status == 0)
        step("servers deleted, nothing left on the computes")
    }

    /// A volume on the storage host (node1) attached to vm2 on node3, written, detached,
    /// attached to vm1 on node4 and read back; its NBD export open to the attaching host
    /// only; the export's daemon killed and started again by the volume agent.
    func volumeAcrossHosts(
        cloud: CloudClient, member: [String: String], address: String, keyFile: String, storageNode: String,
        step: (String) -> Void
    ) throws {
        func login(_ command: String) throws -> Output {
            try guestLogin(keyFile: keyFile, address: address, command, timeout: 30)
        }
        func status() throws -> String {
            field(try cloud.json(["volume", "show", "xvol", "-c", "status"], as: member), "status")
        }
        _ = try cloud.json(["volume", "create", "--size", "1", "xvol"], as: member)
        #expect(try eventually(30) { try status() == "available" }, "xvol did not become available")
        let volumeID = field(try cloud.json(["volume", "show", "xvol", "-c", "id"], as: member), "id")
        #expect(try ssh(storageNode, "ls /var/lib/nimbus/volume/volumes").stdout.contains(volumeID))
        #expect(try cloud.openstack(["server", "add", "volume", "vm2", "xvol"], as: member).status == 0)
        #expect(try eventually(30) { try status() == "in-use" }, "xvol attached to vm2")
        var written = Output(status: -1, stdout: "", stderr: "")
        #expect(
            try eventually(30) {
                written = try login(
                    "lsblk -dno NAME | grep -qx vdb && sudo mkfs.ext4 -q /dev/vdb && sudo mount /dev/vdb /mnt"
                        + " && echo from-vm2-on-node3 | sudo tee /mnt/note && sync && sudo umount /mnt && echo done")
                return written.stdout.contains("done")
            }, "vdb in vm2, written: \(written.text)")
        // The export: on node1's management address, open to node3 alone.
        let attachment = try cloud.json(["volume", "show", "xvol", "-c", "attachments"], as: member)
        print("xvol attachments: \(attachment ?? "")")
        let command = try ssh(
            storageNode, "tr '\\0' ' ' < /proc/$(cat /var/lib/nimbus/volume/volumes/exports/\(volumeID).pid)/cmdline")
        let exportPort = command.stdout.firstMatch(of: /addr\.port=(\d+)/).map { String($0.output.1) } ?? ""
        let storageIP = try ssh(storageNode, "hostname -I").stdout.split(separator: " ").first.map(String.init) ?? ""
        let probe = "timeout 3 bash -c '</dev/tcp/\(storageIP)/\(exportPort)' && echo open || echo closed"
        #expect(try ssh("node3", probe).stdout.contains("open"), "node3 reaches the export \(storageIP):\(exportPort)")
        #expect(try ssh("node2", probe).stdout.contains("closed"), "node2 must not reach the export")
        // The export's daemon killed: the agent starts it again; the guest reads on.
        #expect(
            try ssh(storageNode, "kill -9 $(cat /var/lib/nimbus/volume/volumes/exports/\(volumeID).pid)").status == 0)
        var reread = Output(status: -1, stdout: "", stderr: "")
        #expect(
            try eventually(60) {
                reread = try login("sudo mount /dev/vdb /mnt && cat /mnt/note; sudo umount /mnt")
                return reread.stdout.contains("from-vm2-on-node3")
            }, "vm2 reads xvol after its export was restarted: \(reread.text)")
        step("xvol on node1 attached to vm2 on node3, export restarted")
        #expect(try cloud.openstack(["server", "remove", "volume", "vm2", "xvol"], as: member).status == 0)
        #expect(try eventually(30) { try status() == "available" }, "xvol detached")
        #expect(try cloud.openstack(["server", "remove", "floating", "ip", "vm2", address], as: member).status == 0)
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm1", address], as: member).status == 0)
        #expect(try cloud.openstack(["server", "add", "volume", "vm1", "xvol"], as: member).status == 0)
        #expect(try eventually(30) { try status() == "in-use" }, "xvol attached to vm1")
        var read = Output(status: -1, stdout: "", stderr: "")
        #expect(
            try eventually(90) {
                read = try login("hostname; sudo mount /dev/vdb /mnt && cat /mnt/note; sudo umount /mnt")
                return read.stdout == "vm1\nfrom-vm2-on-node3\n"
            }, "vm1 on node4 reads what vm2 wrote: \(read.text)")
        #expect(try cloud.openstack(["server", "remove", "floating", "ip", "vm1", address], as: member).status == 0)
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm2", address], as: member).status == 0)
        step("xvol detached, attached to vm1 on node4, read back")
    }

    /// node4 rebooted with xvol attached to vm1: vm1 is started again with its volume,
    /// answers vm2's ping and still reads its file; xvol detached and deleted.
    func volumeKeptAndDeleted(
        cloud: CloudClient, member: [String: String], address: String, keyFile: String, vm1Address: String,
        step: (String) -> Void
    ) throws {
        func login(_ command: String) throws -> Output {
            try guestLogin(keyFile: keyFile, address: address, command, timeout: 30)
        }
        let reboot = try nimbus("sandbox", "reboot", "--name", Self.name, "--timeout", "150", "node4", timeout: 240)
        #expect(reboot.status == 0, "\(reboot.text)")
        var running = ""
        #expect(
            try eventually(120) {
                running = try ssh("node4", "virsh -c qemu:///system list --name").stdout
                return running.contains("instance-")
            }, "vm1's domain after node4's reboot: \(running)")
        #expect(
            try eventually(120) { try login("ping -c1 -W2 \(vm1Address)").status == 0 }, "vm2 → vm1 after the reboot")
        let status1 = try cloud.json(["server", "show", "vm1", "-c", "status"], as: member)
        #expect(field(status1, "status") == "ACTIVE", "\(status1 ?? "")")
        step("node4 rebooted with xvol attached, vm1 back")
        #expect(try cloud.openstack(["server", "remove", "floating", "ip", "vm2", address], as: member).status == 0)
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm1", address], as: member).status == 0)
        var read = Output(status: -1, stdout: "", stderr: "")
        #expect(
            try eventually(90) {
                read = try login("hostname; sudo mount /dev/vdb /mnt && cat /mnt/note; sudo umount /mnt")
                return read.stdout == "vm1\nfrom-vm2-on-node3\n"
            }, "xvol in vm1 again: \(read.text)")
        func status() throws -> String {
            field(try cloud.json(["volume", "show", "xvol", "-c", "status"], as: member), "status")
        }
        #expect(try status() == "in-use")
        #expect(try cloud.openstack(["server", "remove", "volume", "vm1", "xvol"], as: member).status == 0)
        #expect(try eventually(30) { try status() == "available" }, "xvol detached from vm1")
        #expect(try cloud.openstack(["volume", "delete", "xvol"], as: member).status == 0)
        #expect(try cloud.openstack(["server", "remove", "floating", "ip", "vm1", address], as: member).status == 0)
        #expect(try cloud.openstack(["server", "add", "floating", "ip", "vm2", address], as: member).status == 0)
        step("vm1 still has xvol and its file; detached, deleted")
    }
}
