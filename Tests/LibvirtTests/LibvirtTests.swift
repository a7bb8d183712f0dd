import Foundation
import Libvirt
import Testing

/// Against libvirt's own in-process test driver (`test:///default`): the real library, no
/// daemon. The default connection's state is shared in the process, so every test names
/// its domains apart.
@Suite("Libvirt: a connection and the lifecycle of its domains")
struct LibvirtTests {
    static func xml(_ name: String, uuid: String = UUID().uuidString.lowercased(), memoryKiB: Int = 65536) -> String {
        """
        <domain type='test'>
          <name>\(name)</name>
          <uuid>\(uuid)</uuid>
          <memory unit='KiB'>\(memoryKiB)</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64'>hvm</type></os>
        </domain>
        """
    }

    @Test("A connection tells the host: name, version, processors and memory, capabilities")
    func host() throws {
        let libvirt = try Libvirt.Connection(uri: "test:///default")
        defer { libvirt.close() }
        #expect(libvirt.isAlive)
        #expect(!(try libvirt.hostname()).isEmpty)
        #expect(try libvirt.libraryVersion().major >= 9)
        let node = try libvirt.nodeInfo()
        #expect(node.cpus > 0 && node.memoryKiB > 0)
        #expect(try libvirt.capabilities().contains("<capabilities>"))
        #expect(try libvirt.hypervisorType() == "TEST")
        #expect(try libvirt.hypervisorVersion() > 0)
    }

    @Test("A domain is defined, started, paused, resumed, destroyed and undefined")
    func lifecycle() throws {
        let libvirt = try Libvirt.Connection(uri: "test:///default")
        defer { libvirt.close() }
        let uuid = UUID().uuidString.lowercased()
        let defined = try libvirt.define(xml: Self.xml("lifecycle", uuid: uuid))
        #expect(defined == Libvirt.Domain(uuid: uuid, name: "lifecycle", state: .shutoff))
        #expect(try libvirt.domains().contains(defined))
        for (action, state) in [
            (Libvirt.Connection.Action.start, Libvirt.State.running), (.suspend, .paused),
            (.resume, .running), (.destroy, .shutoff),
        ] {
            try libvirt.perform(action, uuid: uuid)
            #expect(try libvirt.state(uuid: uuid) == state, "after \(action)")
        }
        try libvirt.setAutostart(true, uuid: uuid)
        #expect(try libvirt.xml(uuid: uuid).contains("<name>lifecycle</name>"))
        // Redefining with the same UUID changes the definition in place.
        try libvirt.define(xml: Self.xml("lifecycle", uuid: uuid, memoryKiB: 131072))
        #expect(try libvirt.xml(uuid: uuid).contains("131072"))
        try libvirt.perform(.undefine, uuid: uuid)
        #expect(try libvirt.domain(uuid: uuid) == nil)
    }

    @Test("Refusals carry libvirt's own message: bad XML, a missing domain, a wrong state, a closed connection")
    func refusals() throws {
        let libvirt = try Libvirt.Connection(uri: "test:///default")
        #expect {
            try libvirt.define(xml: "<domain type='test'><name>broken")
        } throws: { error in
            guard case .call("virDomainDefineXML", _, let reason) = error as? Libvirt.Error else { return false }
            return !reason.isEmpty
        }
        let missing = UUID().uuidString.lowercased()
        #expect(throws: Libvirt.Error.noDomain(missing)) { try libvirt.perform(.start, uuid: missing) }
        let uuid = UUID().uuidString.lowercased()
        try libvirt.define(xml: Self.xml("refusals", uuid: uuid))
        #expect {
            try libvirt.perform(.suspend, uuid: uuid)
        } throws: { error in
            guard case .call("virDomainSuspend", _, let reason) = error as? Libvirt.Error else { return false }
            return reason.contains("not running")
        }
        try libvirt.perform(.undefine, uuid: uuid)
        libvirt.close()
        libvirt.close()
        #expect(throws: Libvirt.Error.closed) { try libvirt.domains() }
        #expect(!libvirt.isAlive)
    }

    @Test("A URI no driver serves is a connect error")
    func unknownURI() {
        #expect {
            try Libvirt.Connection(uri: "nosuchdriver:///system")
        } throws: { error in
            guard case .connect(let uri, let reason) = error as? Libvirt.Error else { return false }
            return uri == "nosuchdriver:///system" && !reason.isEmpty
        }
    }
}
