import Foundation
import Glibc
import Logging
import NimbusNetworkAgent
import NimbusSystem
import Synchronization

/// Three simulated hosts on this machine, as network namespaces: a network host and two
/// compute hosts, each with a management interface (10.99.0.10/.11/.12) on a `mgmt` switch,
/// the network host also with `br-ex` holding its provider interface on a `prov` switch,
/// where a provider host (10.98.0.1, the upstream gateway and "outside") sits too. The
/// switches are bridges inside a fabric namespace. Every namespace name starts with a
/// prefix unique to the run, and `stop()` removes what the run made and nothing else.
final class Lab: Sendable {
    let prefix: String
    let directory: String
    let runner = ProcessRunner()
    private let made = Mutex<[String]>([])

    var fabric: String { prefix + "-fab" }
    var network: String { prefix + "-net" }
    var compute1: String { prefix + "-cmp1" }
    var compute2: String { prefix + "-cmp2" }
    var provider: String { prefix + "-ext" }

    /// The programs the dataplane tests need.
    static let tools = ["ip", "bridge", "nft", "dnsmasq", "busybox", "nsenter", "conntrack", "sysctl", "ping"]
    /// Whether this machine can run them: root, and every tool installed.
    static var available: Bool { getuid() == 0 && tools.allSatisfy { ProcessRunner.resolve($0) != nil } }

    private init() {
        prefix = "nwt" + String(format: "%04x", Int.random(in: 0...0xFFFF))
        directory = NSTemporaryDirectory() + prefix
    }

    /// Brings the hosts up, runs `body`, and always takes everything down, the agents'
    /// namespaces named in `agentNamespaces` (which `body` may leave behind) included.
    static func with(agentNamespaces: [String], _ body: (Lab) async throws -> Void) async throws {
        let lab = Lab()
        do {
            try await lab.start()
            try await body(lab)
        } catch {
            await lab.stop(extra: agentNamespaces)
            throw error
        }
        await lab.stop(extra: agentNamespaces)
    }

    /// Runs a command (in namespace `namespace`), requiring success.
    @discardableResult
    func run(_ arguments: [String], in namespace: String? = nil, timeout: Double = 15) async throws -> String {
        let full = namespace.map { ["nsenter", "--net=/run/netns/\($0)", "--"] + arguments } ?? arguments
        return try await runner.check(Command(full, timeout: timeout, graceSeconds: 1)).stdout
    }

    /// Runs a command and tells whether it succeeded.
    func succeeds(_ arguments: [String], in namespace: String? = nil, timeout: Double = 10) async -> Bool {
        (try? await run(arguments, in: namespace, timeout: timeout)) != nil
    }

    /// Adds a namespace of the run's own, with its loopback up.
    func addNamespace(_ name: String) async throws {
        try await run(["ip", "netns", "add", name])
        made.withLock { $0.append(name) }
        try await run(["ip", "-n", name, "link", "set", "lo", "up"])
    }

    func start() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in [fabric, network, compute1, compute2, provider] { try await addNamespace(name) }
        for bridge in ["mgmt", "prov"] {
            try await run(["ip", "-n", fabric, "link", "add", bridge, "type", "bridge"])
            try await run(["ip", "-n", fabric, "link", "set", bridge, "up"])
        }
        let uplinks = [
            (network, "eth-mgmt", "m-net", "mgmt", "10.99.0.10/24"),
            (compute1, "eth-mgmt", "m-cmp1", "mgmt", "10.99.0.11/24"),
            (compute2, "eth-mgmt", "m-cmp2", "mgmt", "10.99.0.12/24"), (network, "eth-prov", "p-net", "prov", nil),
            (provider, "eth0", "p-ext", "prov", "10.98.0.1/24"),
        ]
        for (host, inside, outside, bridge, address) in uplinks {
            try await run([
                "ip", "-n", host, "link", "add", inside, "type", "veth", "peer", "name", outside, "netns", fabric,
            ])
            try await run(["ip", "-n", fabric, "link", "set", outside, "master", bridge, "up"])
            try await run(["ip", "-n", host, "link", "set", inside, "up"])
            if let address { try await run(["ip", "-n", host, "addr", "add", address, "dev", inside]) }
        }
        // The host preparation's part: the physical network's bridge with the provider NIC.
        try await run(["ip", "-n", network, "link", "add", "br-ex", "type", "bridge"])
        try await run(["ip", "-n", network, "link", "set", "eth-prov", "master", "br-ex"])
        try await run(["ip", "-n", network, "link", "set", "br-ex", "up"])
        try udhcpcScript.write(toFile: directory + "/udhcpc.script", atomically: true, encoding: .utf8)
        chmod(directory + "/udhcpc.script", 0o755)
    }

    /// Kills what runs in the run's namespaces (dnsmasq, udhcpc), deletes them and the
    /// agents' namespaces named in `extra`, and the run's directory.
    func stop(extra: [String] = []) async {
        let mine = made.withLock { $0 } + extra
        for namespace in mine {
            let pids = (try? await run(["ip", "netns", "pids", namespace]))?.split(separator: "\n") ?? []
            for pid in pids.compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        }
        let existing = (try? await run(["ip", "netns", "list"])) ?? ""
        for namespace in mine
        where existing.split(separator: "\n").contains(where: { $0.hasPrefix(namespace + " ") || $0 == namespace }) {
            _ = try? await run(["ip", "netns", "del", namespace])
        }
        made.withLock { $0.removeAll() }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// An instance: a namespace with `eth0` carrying the port's MAC, its peer `tap<11>` on
    /// `host`, as the compute agent would plug a VM (MTU 1500 until DHCP says otherwise).
    func instance(port: String, mac: String, on host: String) async throws -> String {
        let name = prefix + "-vm-" + port.prefix(6)
        try await addNamespace(name)
        let tap = DeviceName.tap(port: port)
        let hostMAC = "fe" + mac.dropFirst(2)
        try await run([
            "ip", "-n", host, "link", "add", tap, "address", String(hostMAC), "type", "veth", "peer", "name", "eth0",
            "address", mac, "netns", name,
        ])
        try await run(["ip", "-n", name, "link", "set", "eth0", "up"])
        return name
    }

    /// A DHCP lease as the udhcpc hook saw it.
    struct Lease: Equatable {
        var ip: String
        var mtu: String
        var router: String
    }

    /// Runs busybox's udhcpc once in `instance` (three tries a second apart); the lease.
    func lease(_ instance: String) async -> Lease? {
        let file = directory + "/lease-" + instance
        let script = directory + "/udhcpc.script"
        let command = Command(
            [
                "nsenter", "--net=/run/netns/\(instance)", "--", "busybox", "udhcpc", "-f", "-q", "-n", "-t", "3", "-T",
                "1",
                "-i", "eth0", "-s", script, "-O", "mtu", "-O", "staticroutes",
            ],
            timeout: 15, environment: ["LEASE_FILE": file])
        guard (try? await runner.run(command))?.succeeded == true,
            let text = try? String(contentsOfFile: file, encoding: .utf8)
        else { return nil }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return Lease(ip: fields["ip"] ?? "", mtu: fields["mtu"] ?? "", router: fields["router"] ?? "")
    }

    /// Whether `address` answers one ping from `namespace` within a second.
    func ping(from namespace: String, _ address: String) async -> Bool {
        await succeeds(["ping", "-c", "1", "-W", "1", address], in: namespace)
    }

    /// The hook udhcpc runs: address, MTU (option 26), the default route (option 3) or the
    /// classless routes (121), written to $LEASE_FILE; /etc/resolv.conf is left alone.
    let udhcpcScript = """
        #!/bin/sh
        case "$1" in
          deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
          bound|renew)
            ip addr replace "$ip/$mask" dev "$interface"
            [ -n "$mtu" ] && ip link set dev "$interface" mtu "$mtu"
            if [ -n "$staticroutes" ]; then
              set -- $staticroutes
              while [ $# -ge 2 ]; do
                if [ "$1" = 0.0.0.0/0 ]; then ip route replace default via "$2" dev "$interface"
                else ip route replace "$1" via "$2" dev "$interface"; fi
                shift 2
              done
            elif [ -n "$router" ]; then
              ip route replace default via "${router%% *}" dev "$interface"
            fi
            printf 'ip=%s\\nmtu=%s\\nrouter=%s\\n' "$ip" "$mtu" "$router" > "$LEASE_FILE" ;;
        esac
        exit 0

        """
}
