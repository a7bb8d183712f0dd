import Foundation
import Libvirt
import Logging
import NimbusAgentKit
import NimbusGuestData
import NimbusServiceKit
import NimbusSystem
import Testing

@testable import NimbusComputeAgent

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

    static let drive = InstanceMetadata(
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
        try await Self.drive.writeConfigDrive(to: path)
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

@Suite("Compute agent: the reconciler over libvirt's test driver (one shared driver: one test at a time)", .serialized)
struct ComputeReconcilerTests {
    /// An instance item as the compute API publishes it.
    static func instance(
        _ id: String, host: String = "cmp1", generation: Int = 1, power: String = "running", reboots: Int = 0,
        image: String = "img1", volumes: [JSON] = []
    ) -> ChangeLog.Item {
        let body: JSON = [
            "volumes": .array(volumes),
            "id": .string(id), "name": "vm one", "hostname": "vm-one",
            "instance_name": .string("instance-" + id.prefix(8)),
            "host": .string(host), "project_id": "p1", "generation": .int(Int64(generation)), "power": .string(power),
            "reboots": .int(Int64(reboots)), "reboot_type": "HARD", "vcpus": 1, "memory_mb": 96, "disk_gb": 1,
            "image_id": .string(image), "image_url": "http://127.0.0.1:9", "launch_index": 0,
            "metadata": ["role": "web"],
            "user_data": nil, "keys": [["name": "k1", "type": "ssh", "public_key": "ssh-ed25519 AAAAC3Nza k1"]],
            "ports": [
                [
                    "id": "0c3f6a9e-77aa-4b1e-8d2c-aa11bb22cc33", "mac": "fa:16:3e:12:34:56", "mtu": 1450,
                    "network_id": "n1",
                    "addresses": [
                        [
                            "address": "192.168.0.5", "version": 4, "prefix_length": 24, "gateway": "192.168.0.254",
                            "dhcp": true, "nameservers": ["10.0.0.1"],
                        ]
                    ],
                ]
            ],
        ]
        return ChangeLog.Item(kind: "instance", id: id, revision: Int64(generation), body: body)
    }

    /// A reconciler for host `cmp1` on libvirt's test driver, over a scratch directory
    /// whose image cache already holds `img1` (no download).
    static func reconciler() async throws -> (ComputeReconciler, Libvirt.Connection, String) {
        let directory = NSTemporaryDirectory() + "nimbus-reconciler-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/_base", withIntermediateDirectories: true)
        _ = try await ProcessRunner().check(
            Command(["qemu-img", "create", "-q", "-f", "qcow2", directory + "/_base/img1", "64M"]))
        let libvirt = try Libvirt.Connection(uri: "test:///default")
        let login = try ServiceLogin(
            .init(identityURL: "http://127.0.0.1:9/v3", user: "nova", password: "x", project: "services"))
        let reconciler = ComputeReconciler(
            settings: .init(host: "cmp1", virtType: .test, instancesDirectory: directory, shutdownTimeout: .seconds(1)),
            libvirt: libvirt, images: ImageCache(directory: directory + "/_base", login: login),
            logger: Logger(label: "test"))
        return (reconciler, libvirt, directory)
    }

    @Test(
        "An instance placed here is built (overlay, config drive, domain) and started; stopped, rebooted and removed as asked; another host's is not",
        .enabled(if: ComputeAgentTests.has("qemu-img") && ComputeAgentTests.has("genisoimage")))
    func lifecycle() async throws {
        let (reconciler, libvirt, directory) = try await Self.reconciler()
        defer {
            libvirt.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let id = UUID().uuidString.lowercased()
        let other = UUID().uuidString.lowercased()
        let statuses = await reconciler.resync([Self.instance(id), Self.instance(other, host: "cmp2")])
        #expect(statuses.map(\.id) == [id], "\(statuses)")
        #expect(statuses.first?.state == "ACTIVE" && statuses.first?.detail == "1|", "\(statuses)")
        #expect(try libvirt.domain(uuid: id)?.state == .running)
        #expect(try libvirt.domain(uuid: other) == nil)
        let xml = try libvirt.xml(uuid: id)
        #expect(xml.contains("tap0c3f6a9e-77") && xml.contains(directory + "/\(id)/disk.config"), "\(xml)")
        let overlay = try await InstanceDisk.info(directory + "/\(id)/disk")
        #expect(overlay.backingFile == directory + "/_base/img1" && overlay.virtualSize == 1 << 30)

        let stopped = await reconciler.apply(Self.instance(id, generation: 2, power: "stopped"))
        #expect(stopped?.state == "SHUTOFF" && stopped?.detail == "2|", "\(String(describing: stopped))")
        let started = await reconciler.apply(Self.instance(id, generation: 3, reboots: 1))
        #expect(started?.state == "ACTIVE" && started?.detail == "3|", "\(String(describing: started))")
        #expect(try String(contentsOfFile: directory + "/\(id)/reboots", encoding: .utf8) == "1")
        // Paused and unpaused; suspended (a managed save) and resumed.
        let paused = await reconciler.apply(Self.instance(id, generation: 4, power: "paused", reboots: 1))
        #expect(paused?.state == "PAUSED" && paused?.detail == "4|", "\(String(describing: paused))")
        #expect(try libvirt.state(uuid: id) == .paused)
        let unpaused = await reconciler.apply(Self.instance(id, generation: 5, reboots: 1))
        #expect(unpaused?.state == "ACTIVE" && unpaused?.detail == "5|", "\(String(describing: unpaused))")
        let suspended = await reconciler.apply(Self.instance(id, generation: 6, power: "suspended", reboots: 1))
        #expect(suspended?.state == "SUSPENDED", "\(String(describing: suspended))")
        #expect(try libvirt.state(uuid: id) == .shutoff)
        let resumed = await reconciler.apply(Self.instance(id, generation: 7, reboots: 1))
        #expect(resumed?.state == "ACTIVE" && resumed?.detail == "7|", "\(String(describing: resumed))")

        // An image that cannot be had: the instance is in ERROR with the reason.
        let broken = UUID().uuidString.lowercased()
        let failed = await reconciler.apply(Self.instance(broken, image: "missing"))
        #expect(failed?.state == "ERROR" && failed?.detail.hasPrefix("1|downloading image missing") == true)

        // Gone from the API: domain and files go.
        #expect(await reconciler.apply(ChangeLog.Item(kind: "instance", id: id, revision: 9, body: nil)) == nil)
        #expect(try libvirt.domain(uuid: id) == nil)
        #expect(!FileManager.default.fileExists(atPath: directory + "/\(id)"))
        // A resync without it removes what is left of another (a domain of this agent).
        _ = await reconciler.resync([])
        #expect(try libvirt.domains().filter { $0.name.hasPrefix("instance-") && $0.uuid == broken }.isEmpty)
    }

    @Test(
        "A volume's disk: NBD, raw, its id as serial; a host that cannot plug it in reports the attachment in error",
        .enabled(if: ComputeAgentTests.has("qemu-img") && ComputeAgentTests.has("genisoimage")))
    func volumes() async throws {
        let (reconciler, libvirt, directory) = try await Self.reconciler()
        defer {
            libvirt.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let id = UUID().uuidString.lowercased()
        let volume = "dddddddd-0000-0000-0000-000000000001"
        let listed: JSON = [
            "id": .string(volume), "attachment_id": "att1", "device": "vdb", "host": "10.0.0.13", "port": 10810,
            "name": .string(volume), "read_only": false, "attached": true,
        ]
        let wanted = try #require(ComputeReconciler.WantedVolume(listed))
        let element = wanted.xml
        #expect(element.contains("<source protocol='nbd' name='\(volume)'>") && element.contains("port='10810'"))
        #expect(element.contains("type='raw'") && element.contains("<serial>\(volume)</serial>"))
        // The parser finds a network disk in a domain document by its serial.
        #expect(ComputeReconciler.networkDisks(in: "<devices>\(element)</devices>")[volume] == element)
        // libvirt's test driver cannot hot-plug: the attachment is in error, the instance is not.
        let status = await reconciler.apply(Self.instance(id, volumes: [listed]))
        #expect(status?.state == "ACTIVE", "\(String(describing: status))")
        var statuses = await reconciler.currentStatuses() ?? []
        let attachment = statuses.first { $0.kind == "attachment" && $0.id == id + "/att1" }
        #expect(attachment?.state == "error" && attachment?.detail.contains("not supported") == true)
        // No longer listed: its status goes.
        _ = await reconciler.apply(Self.instance(id))
        statuses = await reconciler.currentStatuses() ?? []
        #expect(!statuses.contains { $0.kind == "attachment" })
        _ = await reconciler.apply(ChangeLog.Item(kind: "instance", id: id, revision: 9, body: nil))
    }
}
