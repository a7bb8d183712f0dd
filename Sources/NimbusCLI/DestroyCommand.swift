import ArgumentParser
import Foundation
import NimbusConfig
import NimbusManifest
import NimbusPlan
import NimbusRollout
import Synchronization

/// `nimbus destroy FILE`: takes off every host of an answer file what Nimbus installed —
/// instances, volume exports, router and DHCP namespaces, the agents' bridges, VXLAN links,
/// taps and nftables tables, the units, binaries, configuration and state — so that a
/// following deploy starts from scratch. The host preparation is left (it says which and why).
struct DestroyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Remove the cloud from every host of an answer file: instances, volumes, networks, services, state.",
        discussion: """
            Asks first (type the controller's address), unless --yes. The hosts are worked on in \
            parallel, the agents stopped before what they made is removed; each host says what \
            went. Left in place, since other software may rely on them: the host preparation \
            (chrony, /etc/hosts, sysctls, br-ex and its network files, firewall, SELinux and \
            NetworkManager settings), the distribution packages and the libvirt settings the \
            compute agent's setup made (cgroup_controllers in qemu.conf, libvirt-guests). keystonerc_admin and \
            keystonerc_demo beside the answer file are removed too; the answer file is kept.
            """
    )

    @Argument(help: "The answer file that was deployed.")
    var file: String

    @Flag(help: "Do not ask.")
    var yes = false

    @OptionGroup var data: DataOptions

    func run() throws {
        let deployed = try Deployed.load(file: file, logRoot: RunLog.defaultRoot, data: data)
        if !deployed.answers.excludedHosts.isEmpty {
            throw CLIError(
                "\(KeyDefinition.excludeServers.name)=\(deployed.answers.text(.excludeServers)) keeps hosts out of the run, so destroy would leave the cloud half there; clear it to destroy every host, nothing was changed"
            )
        }
        let hosts = deployed.plan.hosts.filter { !$0.excluded && !$0.steps.isEmpty }
        let names = hosts.map(\.host.description)
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else {
                throw CLIError("destroy deletes every instance, volume and network of the cloud: confirm with --yes")
            }
            print(
                "This deletes every instance, volume, image, object and network of the cloud on \(names.joined(separator: ", ")), and its services."
            )
            print("Type the controller's address (\(deployed.answers.controller)) to go on: ", terminator: "")
            guard readLine()?.trimmingCharacters(in: .whitespaces) == deployed.answers.controller.description else {
                print("Nothing was changed.")
                throw ExitCode(1)
            }
        }
        let manifest = deployed.roles.manifest
        let outputs = Mutex<[String: String]>([:])
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let host = hosts[index]
            let text: String
            do {
                let executor = try deployed.connect(host.host.description)
                defer { executor.close() }
                let output = try executor.run("sh -s", input: Self.script(manifest), timeout: 300)
                // The script names each failure itself; anything else it printed to stderr
                // on a failed run is the reason.
                let stderr = output.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                if output.status == 0 || output.stdout.contains("failed:") {
                    text = output.stdout
                } else {
                    text = output.stdout + "failed: " + (stderr.isEmpty ? "exit status \(output.status)" : stderr)
                }
            } catch {
                text = "failed: \(error)"
            }
            outputs.withLock { $0[host.host.description] = text }
        }
        var failed = false
        for name in names {
            let text = outputs.withLock { $0[name] ?? "" }
            if text.contains("failed:") { failed = true }
            let lines = text.split(separator: "\n").map(String.init)
            print("\(name): " + (lines.isEmpty ? "nothing of Nimbus found" : lines.joined(separator: "; ")))
        }
        // The credentials go with the cloud, once every host is clear of it.
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent()
        for rc in ["keystonerc_admin", "keystonerc_demo"] where !failed {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(rc))
        }
        print(
            """

            Left on the hosts: the host preparation (chrony, /etc/hosts, sysctls, br-ex, firewall, \
            SELinux and NetworkManager settings), the distribution packages and libvirt's settings \
            (qemu.conf's cgroup_controllers, libvirt-guests), which other software may rely on and \
            a new deploy reuses. Deploy again with: nimbus deploy \(file)
            """)
        if failed { throw ExitCode(1) }
    }

    /// The host's script: each part reports what it removed, one line each (a part that
    /// finds nothing says nothing), and each thing it could not remove as `failed: …`, which
    /// makes its exit status 1. It removes only what is Nimbus's by its own marks: namespaces
    /// the agents keep a marker directory for, bridges named `brq-…` (Neutron's have no
    /// dash) with their VXLAN links and taps, domains whose disks are under /var/lib/nimbus,
    /// state directories under /var/lib/nimbus, users named `nimbus-…`.
    static func script(_ manifest: ServiceManifest) -> String {
        // Every Nimbus unit, state directory and user, not only this host's: a host that
        // lost a role since still has what it had.
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let states = manifest.services.map(\.stateDirectory).filter {
            $0.hasPrefix("/var/lib/nimbus/") && !$0.contains("..") && $0.count > "/var/lib/nimbus/".count
        }
        let users = Set(manifest.services.compactMap(\.user)).filter { $0.hasPrefix("nimbus-") }.sorted()
        let gateway = manifest["network-gateway"]?.stateDirectory ?? "/var/lib/nimbus/network-gateway"
        return """
            set -u
            fail=0
            failed() { echo "failed: $*"; fail=1; }
            # A namespace's veth peer goes a moment after the namespace (the kernel cleans
            # up asynchronously): a link that is gone by the time it is deleted is removed.
            droplink() {
              for _ in 1 2 3 4 5; do
                ip link delete "$1" 2>/dev/null && return 0
                ip link show "$1" >/dev/null 2>&1 || return 0
                sleep 0.2
              done
              return 1
            }
            units=$(systemctl list-unit-files 'nimbus-*.service' --no-legend 2>/dev/null | awk '{print $1}')
            if [ -n "$units" ]; then
              systemctl disable --now $units >/dev/null 2>&1 || failed "systemctl disable --now $units"
              echo "stopped and disabled $(echo $units | wc -w) units"
            fi
            # virsh uri starts a socket-activated libvirtd (or virtqemud) that is idle.
            if command -v virsh >/dev/null 2>&1 && virsh -c qemu:///system uri >/dev/null 2>&1; then
              n=0
              for d in $(virsh -c qemu:///system list --all --name 2>/dev/null | grep '^instance-'); do
                virsh -c qemu:///system domblklist "$d" 2>/dev/null | grep -q ' /var/lib/nimbus/' || continue
                virsh -c qemu:///system destroy "$d" >/dev/null 2>&1
                if virsh -c qemu:///system undefine --nvram "$d" >/dev/null 2>&1 || virsh -c qemu:///system undefine "$d" >/dev/null 2>&1; then
                  n=$((n + 1))
                else
                  failed "virsh undefine $d"
                fi
              done
              [ $n -gt 0 ] && echo "removed $n instances"
            fi
            n=$(pgrep -fc 'qemu-storage-daemon.*/var/lib/nimbus/' 2>/dev/null || true)
            if [ "${n:-0}" -gt 0 ]; then pkill -9 -f 'qemu-storage-daemon.*/var/lib/nimbus/'; echo "stopped $n volume exports"; fi
            n=0
            for ns in $(ls \(quoted(gateway + "/dhcp")) 2>/dev/null | sed 's/^/qdhcp-/') $(ls \(quoted(gateway + "/l3")) 2>/dev/null | sed 's/^/qrouter-/'); do
              ip netns list 2>/dev/null | grep -q "^$ns\\( \\|$\\)" || continue
              ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
              if ip netns delete "$ns"; then n=$((n + 1)); else failed "ip netns delete $ns"; fi
            done
            [ $n -gt 0 ] && echo "removed $n router and DHCP namespaces"
            n=0
            for b in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E '^brq-'); do
              for l in $(ls /sys/class/net/"$b"/brif 2>/dev/null | grep -E '^(vxlan-[0-9]+|tap.+)$'); do
                if droplink "$l"; then n=$((n + 1)); else failed "ip link delete $l"; fi
              done
              if droplink "$b"; then n=$((n + 1)); else failed "ip link delete $b"; fi
            done
            [ $n -gt 0 ] && echo "removed $n bridges, VXLAN links and taps"
            n=0
            for t in 'inet nimbus_sg' 'bridge nimbus_sg_l2' 'ip nimbus_volume'; do
              nft delete table $t 2>/dev/null && n=$((n + 1))
            done
            [ $n -gt 0 ] && echo "removed $n nftables tables"
            files=$(ls /etc/systemd/system/nimbus-*.service /usr/local/bin/nimbus-server /usr/local/bin/nimbus-agent /root/keystonerc_admin /root/keystonerc_demo 2>/dev/null | wc -l)
            rm -f /etc/systemd/system/nimbus-*.service /usr/local/bin/nimbus-server /usr/local/bin/nimbus-agent /root/keystonerc_admin /root/keystonerc_demo || failed "rm the units and binaries"
            systemctl daemon-reload 2>/dev/null
            dirs=0
            for d in /etc/nimbus \(states.map(quoted).joined(separator: " ")); do
              [ -e "$d" ] || continue
              if rm -rf "$d"; then dirs=$((dirs + 1)); else failed "rm -rf $d"; fi
            done
            [ $files -gt 0 ] || [ $dirs -gt 0 ] && echo "removed $files units and binaries, $dirs configuration and state directories"
            n=0
            for u in \(users.joined(separator: " ")); do
              id -u "$u" >/dev/null 2>&1 || continue
              if userdel "$u" 2>/dev/null; then n=$((n + 1)); else failed "userdel $u (a process of it still runs?)"; fi
            done
            [ $n -gt 0 ] && echo "removed $n service users"
            exit $fail

            """
    }
}
