import Foundation
import Libvirt
import NimbusComputeAgent
import NimbusServiceKit
import NimbusSystem
import Testing

@Suite("Compute agent: domain XML, config drive, instance disk")
struct ComputeAgentTests {
    static let spec = DomainSpec(
        uuid: "5f0c6a3e-1b6d-4f4e-9a51-6f3c2d7e8a90", name: "instance-00000001", title: "vm1 & <test>",
        memoryMiB: 128, vcpus: 1, virtType: .qemu, disk: "/var/lib/nimbus/compute/instances/5f0c/disk",
        configDrive: "/var/lib/nimbus/compute/instances/5f0c/disk.config",
        interfaces: [.init(portID: "0c3f6a9e-77aa-4b1e-8d2c-aa11bb22cc33", mac: "fa:16:3e:12:34:56", mtu: 1450)],
        consoleLog: "/var/lib/nimbus/compute/instances/5f0c/console.log")

    @Test("The domain XML: TCG on machine pc, the overlay on virtio, the config drive on IDE, the tap and its MTU")
    func domainXML() throws {
        let xml = DomainXML.render(Self.spec)
        for part in [
            "<domain type='qemu'>", "<name>instance-00000001</name>", "<title>vm1 &amp; &lt;test&gt;</title>",
            "<memory unit='MiB'>128</memory>", "machine='pc'", "<target dev='vda' bus='virtio'/>",
            "<target dev='hdd' bus='ide'/>", "<target dev='tap0c3f6a9e-77'/>", "<mac address='fa:16:3e:12:34:56'/>",
            "<mtu size='1450'/>", "<tb-cache unit='MiB'>32</tb-cache>",
            "<source path='/var/lib/nimbus/compute/instances/5f0c/console.log'/>",
        ] {
            #expect(xml.contains(part), "\(part) in\n\(xml)")
        }
        #expect(!xml.contains("cputune") && !xml.contains("memtune") && !xml.contains("cache="))
        var kvm = Self.spec
        kvm.virtType = .kvm
        kvm.configDrive = nil
        let other = DomainXML.render(kvm)
        #expect(other.contains("<domain type='kvm'>") && !other.contains("tb-cache") && !other.contains("cdrom"))
    }

    @Test("libvirt's own parser takes the document (its test driver, which only runs type 'test')")
    func libvirtParses() throws {
        let libvirt = try Libvirt.Connection(uri: "test:///default")
        defer { libvirt.close() }
        var spec = Self.spec
        spec.uuid = UUID().uuidString.lowercased()
        spec.name = "instance-" + spec.uuid.prefix(8)
        let xml = DomainXML.render(spec).replacingOccurrences(of: "<domain type='qemu'>", with: "<domain type='test'>")
        let domain = try libvirt.define(xml: xml)
        #expect(domain.uuid == spec.uuid && domain.state == .shutoff)
        let kept = try libvirt.xml(uuid: spec.uuid)
        #expect(kept.contains("tap0c3f6a9e-77") && kept.contains("fa:16:3e:12:34:56"), "\(kept)")
        try libvirt.perform(.undefine, uuid: spec.uuid)
    }

    static let drive = ConfigDrive(
        uuid: "5f0c6a3e-1b6d-4f4e-9a51-6f3c2d7e8a90", name: "vm1", hostname: "vm1", availabilityZone: "nova",
        projectID: "p1", keys: [.init(name: "key1", publicKey: "ssh-ed25519 AAAAC3Nza test@nimbus")],
        metadata: ["role": "web"], userData: Array("#!/bin/sh\necho hi\n".utf8),
        links: [
            .init(
                portID: "0c3f6a9e-77aa-4b1e-8d2c-aa11bb22cc33", mac: "fa:16:3e:12:34:56", mtu: 1450, networkID: "n1",
                dhcp: false, address: "192.168.0.5", prefixLength: 24, gateway: "192.168.0.254")
        ], nameservers: ["10.0.0.1"])

    @Test("The config drive's documents: keys, hostname, metadata; links, networks and DNS as Nova writes them")
    func configDriveDocuments() throws {
        let meta = Self.drive.metaData
        #expect(meta["uuid"]?.string == Self.drive.uuid && meta["hostname"]?.string == "vm1")
        #expect(meta["public_keys"]?["key1"]?.string == "ssh-ed25519 AAAAC3Nza test@nimbus")
        #expect(meta["keys"]?.array?.first?["type"]?.string == "ssh")
        #expect(meta["meta"]?["role"]?.string == "web")
        #expect(meta["random_seed"]?.string?.count == 684)
        let network = Self.drive.networkData
        #expect(network["links"]?.array?.first?["id"]?.string == "tap0c3f6a9e-77")
        #expect(network["links"]?.array?.first?["mtu"]?.int == 1450)
        let first = network["networks"]?.array?.first
        #expect(first?["type"]?.string == "ipv4" && first?["netmask"]?.string == "255.255.255.0")
        #expect(first?["routes"]?.array?.first?["gateway"]?.string == "192.168.0.254")
        #expect(network["services"]?.array?.first?["address"]?.string == "10.0.0.1")
        let paths = Self.drive.files.map(\.path)
        #expect(paths.contains("openstack/latest/meta_data.json") && paths.contains("openstack/latest/user_data"))
        #expect(paths.contains("openstack/2013-10-17/network_data.json") && paths.contains("ec2/latest/meta-data.json"))
    }

    @Test(
        "Netmasks of prefix lengths",
        arguments: [
            (24, false, "255.255.255.0"), (28, false, "255.255.255.240"),
            (0, false, "0.0.0.0"), (64, true, "ffff:ffff:ffff:ffff:0:0:0:0"),
        ])
    func netmasks(length: Int, v6: Bool, mask: String) {
        var drive = Self.drive
        drive.links[0].prefixLength = length
        drive.links[0].address = v6 ? "2001:db8::5" : "192.168.0.5"
        let network = drive.networkData["networks"]?.array?.first
        #expect(network?["netmask"]?.string == mask)
    }

    static func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "nimbus-compute-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("genisoimage makes the ISO labelled config-2 with every file", .enabled(if: Self.has("genisoimage")))
    func configDriveISO() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/disk.config"
        try await Self.drive.write(to: path)
        let runner = ProcessRunner()
        let label = try await runner.check(Command(["isoinfo", "-d", "-i", path]))
        #expect(label.stdout.contains("Volume id: config-2"), "\(label.stdout)")
        let listing = try await runner.check(Command(["isoinfo", "-J", "-f", "-i", path]))
        #expect(listing.stdout.contains("/openstack/latest/meta_data.json"), "\(listing.stdout)")
        let meta = try await runner.check(
            Command(["isoinfo", "-J", "-x", "/openstack/latest/meta_data.json", "-i", path]))
        #expect(try JSON.parse(Array(meta.stdout.utf8))["hostname"]?.string == "vm1")
        #expect(!FileManager.default.fileExists(atPath: path + ".files"))
    }

    @Test(
        "An overlay on the image, sized to the flavor; a flavor smaller than the image refused",
        .enabled(if: Self.has("qemu-img")))
    func overlay() async throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = ProcessRunner()
        let base = directory + "/base.qcow2"
        try await runner.check(Command(["qemu-img", "create", "-q", "-f", "qcow2", base, "64M"]))
        let disk = directory + "/disk"
        try await InstanceDisk.createOverlay(on: base, at: disk, sizeGiB: 1)
        let info = try await InstanceDisk.info(disk)
        #expect(info.format == "qcow2" && info.virtualSize == 1 << 30 && info.backingFile == base, "\(info)")
        let own = directory + "/own"
        try await InstanceDisk.createOverlay(on: base, at: own, sizeGiB: 0)
        #expect(try await InstanceDisk.info(own).virtualSize == 64 << 20)
        let big = directory + "/big.qcow2"
        try await runner.check(Command(["qemu-img", "create", "-q", "-f", "qcow2", big, "2G"]))
        await #expect(throws: DiskError.flavorTooSmall(flavorBytes: 1 << 30, imageBytes: 2 << 30)) {
            try await InstanceDisk.createOverlay(on: big, at: directory + "/small", sizeGiB: 1)
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/small"))
    }

    static func has(_ tool: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)")
        }
    }

    @Test("The hypervisor as libvirt tells it, and the heartbeat's configuration")
    func hypervisor() throws {
        let libvirt = try Libvirt.Connection(uri: "test:///default")
        defer { libvirt.close() }
        let read = try Hypervisor.read(
            libvirt, hostname: "cmp1", virtType: "qemu", instancesDirectory: NSTemporaryDirectory(), hostIP: "10.0.0.3")
        #expect(read.type == "TEST" && read.vcpus > 0 && read.memoryMiB > 0 && read.localGiB > 0)
        #expect(read.configuration["hypervisor_hostname"]?.string == "cmp1")
        #expect(read.configuration["host_ip"]?.string == "10.0.0.3")
    }
}
