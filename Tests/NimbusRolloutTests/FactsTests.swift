import Foundation
import Testing

@testable import NimbusRollout

@Suite("Facts")
struct FactsTests {
    @Test("A sandbox node's facts (captured with the probe script)")
    func sandboxNode() throws {
        let facts = try fixtureFacts("debian12-nspawn-bridged")
        #expect(facts.family == .debian)
        #expect(facts.packageManager == .apt)
        #expect(facts.hostname == "node2")
        #expect(facts.virtualization == "systemd-nspawn")
        #expect(facts.networkStack == .networkd)
        #expect(facts.connectedAddress == "10.251.0.12")
        #expect(facts.interface("eth1")?.master == "br-ex")
        #expect(facts.interface("br-ex")?.addresses.map(\.cidr) == ["10.252.0.12/24"])
        #expect(facts.interface(holding: "10.251.0.12")?.name == "eth0")
        #expect(facts.activeUnits.contains("chrony.service"))
        #expect(!facts.activeUnits.contains("nftables.service"))
        #expect(facts.unitFiles["nftables.service"] == "disabled")
        #expect(facts.selinux == nil)
        #expect(facts.timeSync.hasPrefix("chrony: following 10.251.0.11"))
    }

    @Test("RHEL family and its network styles")
    func rhel() throws {
        let nine = try fixtureFacts("rocky9-networkmanager")
        #expect(nine.family == .rhel)
        #expect(nine.packageManager == .dnf)
        #expect(nine.networkStack == .networkManager)
        #expect(nine.selinux == "Enforcing")
        #expect(nine.interface("eth1")?.addresses.first?.dynamic == true)
        let eight = try fixtureFacts("rocky8-network-scripts")
        #expect(eight.networkStack == .networkScripts)
        #expect(eight.hardwareVirtualization && eight.kvm)
        #expect(try fixtureFacts("debian12-ifupdown").networkStack == .ifupdown)
    }

    @Test("Truncated output and unknown systems are refused clearly")
    func refusals() throws {
        #expect(throws: FactsProbe.ParseError.missingSection("end")) {
            try FactsProbe.parse("@@os-release\nID=debian\n")
        }
        #expect(throws: FactsProbe.ParseError.self) {
            try FactsProbe.parse("@@os-release\nID=alpine\nPRETTY_NAME=\"Alpine Linux v3.20\"\n@@end\n")
        }
        do { _ = try FactsProbe.parse("@@os-release\nID=alpine\nPRETTY_NAME=\"Alpine Linux v3.20\"\n@@end\n") } catch {
            #expect(error.description.contains("Alpine Linux v3.20"))
        }
    }
}
