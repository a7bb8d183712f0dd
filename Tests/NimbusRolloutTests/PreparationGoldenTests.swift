import Foundation
import NimbusPlan
import Testing

@testable import NimbusRollout

let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

func fixtureFacts(_ name: String) throws -> HostFacts {
    let text = try String(
        contentsOf: testsDirectory.appendingPathComponent("Fixtures/facts/\(name).txt"), encoding: .utf8)
    return try FactsProbe.parse(text)
}

/// Resources as text: every file, block, package, unit, sysctl and command.
func describe(_ resources: [ResourceStep]) -> String {
    var out = ""
    for resource in resources {
        switch resource.resource {
        case .file(let path, let content, let mode, let owner, let group):
            out += "[\(resource.id)] file \(path) \(mode) \(owner):\(group)\n\(content)--\n"
        case .block(let path, let marker, let content):
            out += "[\(resource.id)] block \(marker) in \(path)\n\(content)\n--\n"
        case .packages(let names):
            out += "[\(resource.id)] packages \(names.joined(separator: " "))\n"
        case .familyPackages(let byFamily):
            for family in byFamily.keys.sorted() {
                out += "[\(resource.id)] packages (\(family)) \(byFamily[family, default: []].joined(separator: " "))\n"
            }
        case .service(let name, let enabled, let running, let restartOn):
            out +=
                "[\(resource.id)] service \(name) enabled=\(enabled) running=\(running) restart-on=\(restartOn.joined(separator: ","))\n"
        case .sysctl(let key, let value):
            out += "[\(resource.id)] sysctl \(key) = \(value)\n"
        case .command(let run, let unless):
            out += "[\(resource.id)] run: \(run)\n    unless: \(unless)\n"
        case .check(let run, let describe):
            out += "[\(resource.id)] check: \(run)\n    (\(describe))\n"
        }
    }
    return out
}

/// Everything a host's preparation would write and run, as text.
func describe(_ preparation: HostPreparation) -> String {
    var out = ""
    for step in PreparationStep.allCases {
        out += "== prepare.\(step.rawValue) ==\n"
        do {
            let prepared = try preparation.step(step)
            if let note = prepared.note { out += "note: \(note)\n" }
            for transaction in prepared.transactions { out += "detached transaction: \(transaction.script)\n" }
            out += describe(prepared.resources)
        } catch {
            out += "error: \(error.description)\n"
        }
    }
    return out
}

@Suite("Host preparation per OS family (golden)")
struct PreparationGoldenTests {
    static let hostsEntries = [
        PreparationSettings.HostsEntry(address: "192.168.10.11", names: ["ctl1"]),
        PreparationSettings.HostsEntry(address: "192.168.10.12", names: ["net1.example.com", "net1"]),
    ]

    static let cases: [(String, String, PreparationSettings)] = [
        (
            "debian12-nspawn", "compute and network node of the sandbox: networkd, br-ex on eth1",
            PreparationSettings(
                host: "10.251.0.13", controller: "10.251.0.11", isController: false, ntpServers: [],
                otherHosts: ["10.251.0.11"],
                hostsEntries: [
                    .init(address: "10.251.0.11", names: ["node1"]), .init(address: "10.251.0.13", names: ["node3"]),
                ],
                bridges: [.init(name: "br-ex", port: "eth1")])
        ),
        (
            "debian12-ifupdown", "network node with ifupdown and ufw, br-ex on ens4",
            PreparationSettings(
                host: "192.168.10.12", controller: "192.168.10.11", isController: false, ntpServers: [],
                otherHosts: ["192.168.10.11"], hostsEntries: hostsEntries, bridges: [.init(name: "br-ex", port: "ens4")]
            )
        ),
        (
            "rocky9-networkmanager", "EL9 network node: NetworkManager keyfiles, DHCP on the port, SELinux enforcing",
            PreparationSettings(
                host: "192.168.10.12", controller: "192.168.10.11", isController: false, ntpServers: [],
                otherHosts: ["192.168.10.11"], hostsEntries: hostsEntries, bridges: [.init(name: "br-ex", port: "eth1")]
            )
        ),
        (
            "rocky8-network-scripts", "EL8 controller with NTP servers; br-ex on eth0, the SSH interface",
            PreparationSettings(
                host: "192.168.10.11", controller: "192.168.10.11", isController: true,
                ntpServers: ["0.pool.ntp.org", "1.pool.ntp.org"], otherHosts: ["192.168.10.12"],
                hostsEntries: hostsEntries, bridges: [.init(name: "br-ex", port: "eth0")])
        ),
    ]

    @Test("Each family's preparation matches its golden file", arguments: 0..<cases.count)
    func golden(index: Int) throws {
        let (name, title, settings) = Self.cases[index]
        let facts = try fixtureFacts(name)
        let actual = "# \(title)\n" + describe(HostPreparation(facts: facts, settings: settings))
        let path = testsDirectory.appendingPathComponent("Fixtures/golden/\(name).txt")
        if ProcessInfo.processInfo.environment["NIMBUS_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(
                at: path.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: path, encoding: .utf8)
        #expect(
            actual == expected, "\(name) differs from its golden file; NIMBUS_UPDATE_GOLDEN=1 swift test rewrites it")
    }

    @Test("The bridge script is the same before and after the move, so a re-run changes nothing")
    func bridgeStableAcrossMove() throws {
        let before = try fixtureFacts("debian12-nspawn")
        var after = before
        let port = try #require(after.interfaces.firstIndex { $0.name == "eth1" })
        var bridge = after.interfaces[port]
        bridge.name = "br-ex"
        bridge.kind = "bridge"
        after.interfaces[port].addresses = []
        after.interfaces[port].master = "br-ex"
        after.interfaces.append(bridge)
        let spec = PreparationSettings.Bridge(name: "br-ex", port: "eth1")
        let first = try BridgeTransaction(bridge: spec, facts: before)
        let second = try BridgeTransaction(bridge: spec, facts: after)
        #expect(first.addresses == ["10.252.0.13/24"])
        #expect(first.render() == second.render())
    }

    @Test("A missing or taken port is refused with what the host has")
    func badPort() throws {
        let facts = try fixtureFacts("debian12-nspawn")
        #expect(throws: PreparationError.self) {
            try BridgeTransaction(bridge: .init(name: "br-ex", port: "eth7"), facts: facts)
        }
        do {
            _ = try BridgeTransaction(bridge: .init(name: "br-ex", port: "eth7"), facts: facts)
        } catch {
            #expect(error.description.contains("eth7"))
            #expect(error.description.contains("eth0, eth1"))
        }
    }

    @Test("Disabling NetworkManager with nothing to take over is refused")
    func networkManagerAlone() throws {
        var facts = try fixtureFacts("rocky9-networkmanager")
        facts.unitFiles["systemd-networkd.service"] = nil
        let preparation = HostPreparation(facts: facts, settings: Self.cases[2].2)
        #expect(throws: PreparationError.self) { try preparation.step(.networkManager) }
    }
}
