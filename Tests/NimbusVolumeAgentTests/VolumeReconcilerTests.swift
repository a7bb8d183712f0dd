import Foundation
import Logging
import NimbusAgentKit
import NimbusServiceKit
import NimbusSystem
import Testing

@testable import NimbusVolumeAgent

@Suite("Volume agent: volume files, copies, snapshots inside them, extend, delete (real qemu-img)")
struct VolumeReconcilerTests {
    static func item(
        _ id: String, size: Int = 1, generation: Int = 1, source: JSON = .null, snapshots: [String] = [],
        exports: [JSON] = []
    ) -> ChangeLog.Item {
        ChangeLog.Item(
            kind: "volume", id: id, revision: 1,
            body: [
                "id": .string(id), "host": "stor1", "size": .int(Int64(size)), "generation": .int(Int64(generation)),
                "source": source, "snapshots": .array(snapshots.map(JSON.string)), "exports": .array(exports),
            ])
    }

    func info(_ path: String) async throws -> JSON? {
        let output = try await ProcessRunner().check(Command(["qemu-img", "info", "--output=json", "-U", path]))
        return try? JSON.parse(Array(output.stdout.utf8))
    }

    @Test(
        "A blank volume, written to; a snapshot; a volume from the snapshot holds the data; extend; delete",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-io")))
    func lifecycle() async throws {
        let directory = NSTemporaryDirectory() + "nimbus-volumes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reconciler = VolumeReconciler(
            settings: .init(host: "stor1", directory: directory, firewall: false), logger: Logger(label: "test"))
        let volume = "aaaaaaaa-0000-0000-0000-000000000001"
        let status = await reconciler.apply(Self.item(volume))
        #expect(status?.state == "available" && status?.detail == "1|", "\(String(describing: status))")
        let file = directory + "/volume-\(volume).qcow2"
        #expect(try await info(file)?["virtual-size"]?.int == 1 << 30)
        // The guest's data, written as a guest would (qemu-io on the qcow2).
        try await ProcessRunner().check(Command(["qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 64k", file]))
        let snapshot = "bbbbbbbb-0000-0000-0000-000000000001"
        _ = await reconciler.apply(Self.item(volume, snapshots: [snapshot]))
        let statuses = await reconciler.currentStatuses() ?? []
        #expect(statuses.contains { $0.kind == "snapshot" && $0.id == snapshot && $0.state == "available" })
        // Written after the snapshot: the copy from the snapshot must not see it.
        try await ProcessRunner().check(Command(["qemu-io", "-f", "qcow2", "-c", "write -P 0xcd 0 64k", file]))
        let copy = "aaaaaaaa-0000-0000-0000-000000000002"
        let made = await reconciler.apply(
            Self.item(copy, size: 2, source: ["snapshot": .string(snapshot), "volume": .string(volume)]))
        #expect(made?.state == "available", "\(String(describing: made))")
        let copyFile = directory + "/volume-\(copy).qcow2"
        #expect(try await info(copyFile)?["virtual-size"]?.int == 2 << 30)
        let read = try await ProcessRunner().run(
            Command(["qemu-io", "-f", "qcow2", "-r", "-U", "-c", "read -P 0xab 0 64k", copyFile]))
        #expect(read.succeeded && !read.stdout.contains("Pattern verification failed"), "\(read.stdout)")
        // Extended; the snapshot deleted; the volume deleted.
        let grown = await reconciler.apply(Self.item(volume, size: 3, generation: 2))
        let grownSize = try await info(file)?["virtual-size"]?.int
        #expect(grown?.detail == "2|" && grownSize == 3 << 30)
        let left = try await info(file)?["snapshots"]?.array ?? []
        #expect(left.isEmpty, "the snapshot left the list: deleted")
        #expect(
            await reconciler.apply(ChangeLog.Item(kind: "volume", id: volume, revision: 3, body: nil)) == nil)
        #expect(!FileManager.default.fileExists(atPath: file))
        // A resync sets aside what the API does not list (never deletes it).
        _ = await reconciler.resync([])
        #expect(!FileManager.default.fileExists(atPath: copyFile))
        #expect(FileManager.default.fileExists(atPath: directory + "/orphans/volume-\(copy).qcow2"))
    }

    @Test("A copy of a volume that is not there: error with the reason; sizes in the config")
    func failures() async throws {
        let directory = NSTemporaryDirectory() + "nimbus-volumes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reconciler = VolumeReconciler(
            settings: .init(host: "stor1", directory: directory, firewall: false), logger: Logger(label: "test"))
        let status = await reconciler.apply(
            Self.item(
                "aaaaaaaa-0000-0000-0000-000000000009", source: ["volume": "aaaaaaaa-0000-0000-0000-00000000000f"]))
        #expect(status?.state == "error" && status?.detail.hasPrefix("1|") == true, "\(String(describing: status))")
        // Another host's volume and an id that is no UUID are nothing for this agent.
        var other = Self.item("aaaaaaaa-0000-0000-0000-00000000000a")
        other.body = ["id": "x", "host": "stor2", "size": 1, "generation": 1]
        #expect(await reconciler.apply(other) == nil)
        #expect(await reconciler.apply(Self.item("../../etc")) == nil)
    }

    @Test(
        "An attached volume exported over NBD to its host alone; snapshot while exported; restarted when killed; ended",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-storage-daemon") && getuid() == 0))
    func export() async throws {
        let directory = NSTemporaryDirectory() + "nimbus-volumes-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let reconciler = VolumeReconciler(
            settings: .init(host: "stor1", directory: directory, exportAddress: "127.0.0.1"),
            logger: Logger(label: "test"))
        let volume = "aaaaaaaa-0000-0000-0000-0000000000e1"
        let port = 11801
        let export: JSON = ["attachment": "att1", "port": .int(Int64(port)), "allow": "127.0.0.1", "mode": "rw"]
        let item = Self.item(volume, exports: [export])
        let status = await reconciler.apply(item)
        #expect(status?.state == "available", "\(String(describing: status))")
        let url = "nbd://127.0.0.1:\(port)/\(volume)"
        // The guest's view: raw, 1 GiB; written and read back through the export.
        #expect(try await info(url)?["format"]?.string == "raw")
        try await ProcessRunner().check(Command(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 64k", url]))
        let ruleset = try await ProcessRunner().check(Command(["nft", "list", "table", "ip", "nimbus_volume"])).stdout
        #expect(ruleset.contains("tcp dport \(port) ip saddr 127.0.0.1 accept"), "\(ruleset)")
        // A snapshot of the in-use volume goes through the export daemon.
        let snapshot = "bbbbbbbb-0000-0000-0000-0000000000e1"
        let withSnapshot = Self.item(volume, snapshots: [snapshot], exports: [export])
        _ = await reconciler.apply(withSnapshot)
        let statuses = await reconciler.currentStatuses() ?? []
        #expect(statuses.contains { $0.id == snapshot && $0.state == "available" }, "\(statuses)")
        let names = (try await info(directory + "/volume-\(volume).qcow2")?["snapshots"]?.array ?? []).compactMap {
            $0["name"]?.string
        }
        #expect(names == [snapshot])
        // Killed: the next poll starts it again, with the data.
        let pid = try #require(await reconciler.exportDaemon(volume))
        kill(pid, SIGKILL)
        try await Task.sleep(for: .milliseconds(200))
        await reconciler.poll()
        #expect(await reconciler.exportDaemon(volume) != nil)
        let read = try await ProcessRunner().run(
            Command(["qemu-io", "-f", "raw", "-r", "-c", "read -P 0x5a 0 64k", url]))
        #expect(read.succeeded && !read.stdout.contains("Pattern verification failed"), "\(read.stdout) \(read.stderr)")
        // The attachment gone: the daemon stops, the table goes.
        _ = await reconciler.apply(Self.item(volume, snapshots: [snapshot]))
        #expect(await reconciler.exportDaemon(volume) == nil)
        let table = try await ProcessRunner().run(Command(["nft", "list", "table", "ip", "nimbus_volume"]))
        #expect(!table.succeeded)
        _ = await reconciler.apply(ChangeLog.Item(kind: "volume", id: volume, revision: 9, body: nil))
    }
}
