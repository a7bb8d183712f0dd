import NimbusConfig
import NimbusModel
import Testing

@Suite("Demo provisioning: the answer file's pools, image and names")
struct DemoProvisioningTests {
    @Test(
        "Packstack's pool lists parse, with or without brackets and quotes",
        arguments: [
            ("[]", []),
            ("", []),
            ("[\"start=172.24.4.100,end=172.24.4.200\"]", ["start=172.24.4.100,end=172.24.4.200"]),
            (
                "[\"start=172.24.4.10,end=172.24.4.20\",\"start=172.24.4.30,end=172.24.4.40\"]",
                ["start=172.24.4.10,end=172.24.4.20", "start=172.24.4.30,end=172.24.4.40"]
            ),
            ("start=10.0.0.5,end=10.0.0.9", ["start=10.0.0.5,end=10.0.0.9"]),
        ])
    func poolsParse(text: String, expected: [String]) throws {
        #expect(try AllocationPool.parseList(text).map(\.description) == expected)
    }

    @Test(
        "A bad pool is refused at its line with what is wrong",
        arguments: [
            (
                "CONFIG_PROVISION_DEMO_ALLOCATION_POOLS=[\"start=172.24.4.10\"]",
                "a.txt:4: CONFIG_PROVISION_DEMO_ALLOCATION_POOLS: '[\"start=172.24.4.10\"]' is not a list of pools like [\"start=172.24.4.100,end=172.24.4.200\"]; expected [\"start=IP,end=IP\", …] (Packstack's list), or [] for the whole range"
            ),
            (
                "CONFIG_PROVISION_DEMO_ALLOCATION_POOLS=[\"start=172.24.4.50,end=172.24.4.40\"]",
                "a.txt:4: CONFIG_PROVISION_DEMO_ALLOCATION_POOLS: the pool start=172.24.4.50,end=172.24.4.40 ends before it starts; expected [\"start=IP,end=IP\", …] (Packstack's list), or [] for the whole range"
            ),
            (
                "CONFIG_PROVISION_DEMO_ALLOCATION_POOLS=[\"start=10.9.9.2,end=10.9.9.9\"]",
                "a.txt:4: CONFIG_PROVISION_DEMO_ALLOCATION_POOLS: start=10.9.9.2,end=10.9.9.9 is not inside CONFIG_PROVISION_DEMO_FLOATRANGE=172.24.4.0/24"
            ),
            (
                "CONFIG_PROVISION_DEMO_ALLOCATION_POOLS=[\"start=172.24.4.1,end=172.24.4.9\"]",
                "a.txt:4: CONFIG_PROVISION_DEMO_ALLOCATION_POOLS: start=172.24.4.1,end=172.24.4.9 takes the gateway 172.24.4.1, the network or the broadcast address of 172.24.4.0/24; start after the gateway"
            ),
            (
                "CONFIG_PROVISION_DEMO_ALLOCATION_POOLS=[\"start=172.24.4.10,end=172.24.4.20\",\"start=172.24.4.15,end=172.24.4.30\"]",
                "a.txt:4: CONFIG_PROVISION_DEMO_ALLOCATION_POOLS: start=172.24.4.10,end=172.24.4.20 and start=172.24.4.15,end=172.24.4.30 overlap"
            ),
        ])
    func badPools(line: String, message: String) {
        #expect(diagnose(twoHost(line)).contains(message), "\(diagnose(twoHost(line)))")
    }

    @Test(
        "With the demo on: a float range too small or over the private network, or no physical network, is refused",
        arguments: [
            (
                "CONFIG_PROVISION_DEMO_FLOATRANGE=172.24.4.0/30",
                "a.txt:4: CONFIG_PROVISION_DEMO_FLOATRANGE: 172.24.4.0/30 is too small for a gateway and floating IPs; give a /29 or larger"
            ),
            (
                "CONFIG_PROVISION_DEMO_FLOATRANGE=10.0.0.0/16",
                "a.txt:4: CONFIG_PROVISION_DEMO_FLOATRANGE: 10.0.0.0/16 overlaps the demo's private network 10.0.0.0/24, which router1 joins to it; choose another range"
            ),
        ])
    func demoRanges(line: String, message: String) {
        #expect(diagnose(twoHost(line)).contains(message), "\(diagnose(twoHost(line)))")
        #expect(!diagnose(twoHost(line + "\nCONFIG_PROVISION_DEMO=n")).contains(message))
    }

    @Test("The demo's defaults are Packstack's: public on the first mapped physnet, cirros, the whole range")
    func defaults() throws {
        let file = try #require(AnswerFileLoader.load(bytes: Array(twoHost("").utf8)).file)
        let spec = DemoSpec(file)
        #expect(spec.physicalNetwork == "extnet")
        #expect(spec.publicRange.description == "172.24.4.0/24")
        #expect(spec.publicGateway.description == "172.24.4.1")
        #expect(spec.poolsOrDefault.map(\.description) == ["start=172.24.4.2,end=172.24.4.254"])
        #expect(spec.imageName == "cirros" && spec.imageSource.isEmpty && spec.imageFormat == "qcow2")
        #expect(spec.sshUser == "cirros")
        #expect(DefaultFlavor.all.prefix(5).map(\.id) == ["1", "2", "3", "4", "5"])
        #expect(DefaultFlavor.all.map(\.name).contains("m1.micro"))
    }
}
