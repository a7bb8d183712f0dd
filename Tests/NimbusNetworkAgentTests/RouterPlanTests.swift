import NimbusNetworkAgent
import NimbusServiceKit
import Testing

@Suite("The router plan")
struct RouterPlanTests {
    let topology = Topology.fixed
    let config = L3Config(
        host: "net", stateDirectory: "/var/lib/nimbus/network-l3", bridgeMappings: ["extnet": "br-ex"])

    func router(_ items: [ChangeLog.Item]? = nil) throws -> RouterPlan.Router {
        let plan = RouterPlan(view: NetworkView(items: items ?? topology.items()), config: config)
        return try #require(plan.routers.first)
    }

    @Test("gives a router its interface with the gateway address and its gateway with the floating IP")
    func devices() throws {
        let router = try self.router()
        #expect(router.namespace == "qrouter-\(topology.router)")
        let interface = try #require(router.interfaces.first)
        #expect(interface.interface == "qr-c1c1c1c1-00" && interface.tap == "tapc1c1c1c1-00")
        #expect(interface.bridge == "brq-aaaa1111-00" && interface.mtu == 1450)
        #expect(interface.addresses.map(\.description) == ["192.168.0.254/24"])
        let gateway = try #require(router.gateway)
        #expect(gateway.interface == "qg-c2c2c2c2-00" && gateway.bridge == "br-ex" && !gateway.bridgeIsOwned)
        #expect(gateway.addresses.map(\.description) == ["10.98.0.210/24", "10.98.0.211/32"])
        #expect(router.gatewayAddresses.map(\.description) == ["10.98.0.210/24"])
        #expect(router.defaultRoute?.description == "10.98.0.1")
    }

    @Test("writes one NAT table with SNAT of the internal network and the floating IP as 1:1 maps")
    func natTable() throws {
        let nat = try #require(try router().nat)
        #expect(
            nat.script == """
                table ip nimbus_nat
                delete table ip nimbus_nat
                table ip nimbus_nat {
                  map fip_dnat { type ipv4_addr : ipv4_addr; elements = { 10.98.0.211 : 192.168.0.10 }; }
                  map fip_snat { type ipv4_addr : ipv4_addr; elements = { 192.168.0.10 : 10.98.0.211 }; }
                  chain prerouting { type nat hook prerouting priority dstnat; policy accept;
                    dnat to ip daddr map @fip_dnat comment "\(nat.fingerprint)"
                  }
                  chain output { type nat hook output priority -100; policy accept;
                    dnat to ip daddr map @fip_dnat
                  }
                  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
                    oifname "qg-c2c2c2c2-00" snat to ip saddr map @fip_snat
                    oifname "qg-c2c2c2c2-00" ip saddr { 192.168.0.0/24 } snat to 10.98.0.210
                    iifname != "qg-c2c2c2c2-00" oifname != "qg-c2c2c2c2-00" ct status dnat snat to 10.98.0.210
                  }
                }

                """)
    }

    @Test("leaves the internal SNAT out without enable_snat, and changes its fingerprint with the floating IPs")
    func variants() throws {
        let before = try #require(try router().nat)
        var items = topology.items(without: [topology.floatingIP])
        items.append(
            ChangeLog.Item(
                kind: "router", id: topology.router, revision: 500,
                body: Body.router(topology.router, gateway: topology.extNet, snat: false)))
        let after = try #require(try router(items).nat)
        #expect(!after.script.contains("ip saddr {") && after.floatingIPs.isEmpty)
        #expect(after.fingerprint != before.fingerprint)
        #expect(try router().nat?.fingerprint == before.fingerprint)
    }

    @Test("has no gateway, route or NAT for a router without a gateway port, but still its interfaces")
    func noGateway() throws {
        let router = try self.router(topology.items(without: [topology.gatewayPort]))
        #expect(router.gateway == nil && router.nat == nil && router.defaultRoute == nil)
        #expect(router.interfaces.count == 1)
    }

    @Test("wires a router that is administratively down all the same")
    func adminDown() throws {
        var items = topology.items()
        items.append(
            ChangeLog.Item(
                kind: "router", id: topology.router, revision: 600,
                body: Body.router(topology.router, gateway: topology.extNet, up: false)))
        let router = try self.router(items)
        #expect(router.interfaces.count == 1 && router.gateway != nil && router.nat != nil)
    }

    @Test("builds a gratuitous ARP frame as arping does: broadcast, sender and target the same address")
    func garpFrame() throws {
        let mac = try #require(MACAddress("fa:16:3e:00:00:c2"))
        let frame = GratuitousARP.frame(operation: 1, mac: mac, address: try #require(IPv4("10.98.0.211")))
        #expect(frame.count == 60)
        #expect(Array(frame[0..<6]) == [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] && Array(frame[12..<14]) == [0x08, 0x06])
        #expect(Array(frame[28..<32]) == [10, 98, 0, 211] && Array(frame[38..<42]) == [10, 98, 0, 211])
        #expect(frame[21] == 1 && GratuitousARP.frame(operation: 2, mac: mac, address: .any)[21] == 2)
    }
}
