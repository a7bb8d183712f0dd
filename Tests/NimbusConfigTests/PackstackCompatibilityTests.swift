import NimbusConfig
import NimbusModel
import Testing

@Suite("Packstack answer files")
struct PackstackCompatibilityTests {
    @Test("A real Packstack 26 answer file loads, with its unused keys listed once")
    func packstack26Loads() throws {
        let result = AnswerFileLoader.load(bytes: try fixture("packstack-26-answers.txt"))
        let file = try #require(result.file, "\(result.diagnostics)")
        #expect(file.controller.description == "192.168.122.10")
        let ignored = result.diagnostics.filter { $0.message.contains("not used by Nimbus and ignored") }
        #expect(ignored.count == 1)
        #expect(ignored.first?.message.hasPrefix("244 Packstack keys are not used by Nimbus and ignored: ") == true)
        #expect(!result.diagnostics.contains { $0.message.hasPrefix("unknown key") })
        #expect(file.text(.novaVirtType) == "auto")
    }

    @Test(
        "Values Nimbus cannot honour say what it does instead",
        arguments: [
            ("CONFIG_NEUTRON_L2_AGENT", "Nimbus runs its own L2 agent on Linux bridges with VXLAN tunnels"),
            ("CONFIG_NEUTRON_ML2_MECHANISM_DRIVERS", "no Open vSwitch or OVN is installed"),
            ("CONFIG_NEUTRON_ML2_TYPE_DRIVERS", "networks of that type are built as VXLAN on Linux bridges"),
            ("CONFIG_CEILOMETER_INSTALL", "Nimbus has no telemetry (Ceilometer); nothing is installed for it"),
            ("CONFIG_MARIADB_INSTALL", "each Nimbus service keeps its state in SQLite on its host"),
            ("CONFIG_NOVA_LIBVIRT_VIRT_TYPE", "read as auto"),
        ])
    func unhonoured(key: String, phrase: String) throws {
        let result = AnswerFileLoader.load(bytes: try fixture("packstack-26-answers.txt"))
        #expect(result.diagnostics.contains { $0.key == key && $0.message.contains(phrase) }, "\(key)")
    }

    @Test("The course notes' edits to a Packstack file are honoured, OVN bridge keys included")
    func seedEdits() throws {
        let overrides = [
            "CONFIG_KEYSTONE_ADMIN_PW": "abc123", "CONFIG_PROVISION_DEMO": "n", "CONFIG_DEFAULT_PASSWORD": "abc123",
            "CONFIG_CEILOMETER_INSTALL": "n", "CONFIG_AODH_INSTALL": "n",
            "CONFIG_NEUTRON_OVN_BRIDGE_IFACES": "br-ex:ens33",
        ]
        let result = AnswerFileLoader.load(bytes: try fixture("packstack-26-answers.txt"), overrides: overrides)
        let file = try #require(result.file, "\(result.diagnostics)")
        #expect(file.bridgeInterfaces.map(\.description) == ["br-ex:ens33"])
        #expect(file.text(.keystoneAdminPassword) == "abc123")
        #expect(!file.bool(.provisionDemo))
        #expect(!result.diagnostics.contains { $0.severity == .warning && $0.key == "CONFIG_CEILOMETER_INSTALL" })
    }

    @Test("The seeds' older Open vSwitch spelling works as it is")
    func ovsSpelling() {
        let text = """
            [general]
            CONFIG_CONTROLLER_HOST=192.168.1.128
            CONFIG_DEFAULT_PASSWORD=Test1234!
            CONFIG_KEYSTONE_ADMIN_PW=Test1234!
            CONFIG_CINDER_VOLUMES_SIZE=90G
            CONFIG_NTP_SERVERS=0.kr.pool.ntp.org
            CONFIG_HEAT_INSTALL=y
            CONFIG_NEUTRON_L2_AGENT=openvswitch
            CONFIG_NEUTRON_ML2_TYPE_DRIVERS=vxlan,flat
            CONFIG_NEUTRON_ML2_TENANT_NETWORK_TYPES=vxlan
            CONFIG_NEUTRON_ML2_MECHANISM_DRIVERS=openvswitch
            CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS=extnet:br-ex
            CONFIG_NEUTRON_OVS_BRIDGE_IFACES=br-ex:ens160
            CONFIG_PROVISION_DEMO=n
            """
        #expect(
            diagnose(text) == [
                "a.txt:7: CONFIG_HEAT_INSTALL: warning: Nimbus has no orchestration (Heat); nothing is installed for it",
                "a.txt:8: CONFIG_NEUTRON_L2_AGENT: note: openvswitch is not used: Nimbus runs its own L2 agent on Linux bridges with VXLAN tunnels; no Open vSwitch or OVN is installed",
                "a.txt:11: CONFIG_NEUTRON_ML2_MECHANISM_DRIVERS: note: openvswitch is not used: Nimbus runs its own L2 agent on Linux bridges with VXLAN tunnels; no Open vSwitch or OVN is installed",
                "a.txt: note: 3 Packstack keys are not used by Nimbus and ignored: CONFIG_HEAT_INSTALL, CONFIG_NEUTRON_L2_AGENT, CONFIG_NEUTRON_ML2_MECHANISM_DRIVERS",
            ])
    }
}
