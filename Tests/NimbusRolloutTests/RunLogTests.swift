import Foundation
import Testing

@testable import NimbusRollout

/// The run log's root lives in world-writable /var/tmp: it is used only when it is a
/// directory of ours that nobody else can write.
@Suite("Run log directories")
struct RunLogTests {
    let base = NSTemporaryDirectory() + "runlog-\(UUID().uuidString)"
    var root: String { base + "/nimbus" }
    static let nobody: uid_t = 65534

    init() throws {
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    }

    func mode(_ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    /// The error `RunLog` throws for `root`, after checking it made no run directory there.
    func refusal() throws -> RunLog.Error? {
        var refused: RunLog.Error?
        do { _ = try RunLog(root: root, secrets: []) } catch { refused = error }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        #expect(entries.isEmpty, "\(entries)")
        return refused
    }

    @Test("A new root and its run directory are 0700, files 0600, and latest names the run")
    func fresh() throws {
        let log = try RunLog(root: root, secrets: [])
        log.write("plan.txt", "plan")
        #expect(try mode(root) == 0o700)
        #expect(try mode(log.directory) == 0o700)
        #expect(try mode(log.directory + "/plan.txt") == 0o600)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: root + "/latest")
                == URL(fileURLWithPath: log.directory).lastPathComponent)
        let second = try RunLog(root: root, secrets: [], now: Date())
        #expect(second.directory != log.directory)
    }

    @Test("A root made by another user is refused, naming the owner", .enabled(if: geteuid() == 0, "chown needs root"))
    func otherOwner() throws {
        #expect(mkdir(root, 0o700) == 0)
        #expect(chown(root, Self.nobody, gid_t(Self.nobody)) == 0)
        let error = try #require(try refusal())
        guard case .unsafe(let path, let reason) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(path == root)
        #expect(reason.contains("is owned by uid 65534"), "\(reason)")
        #expect(error.description.contains("remove it (or pass another --log-root)"), "\(error)")
    }

    @Test("A root its group or everyone can write is refused", arguments: [0o777, 0o1777, 0o770, 0o702])
    func writable(mode: Int) throws {
        #expect(mkdir(root, 0o700) == 0)
        #expect(chmod(root, mode_t(mode)) == 0)
        let error = try #require(try refusal())
        guard case .unsafe(_, let reason) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(reason.contains("is writable by") && reason.contains(String(mode, radix: 8)), "\(reason)")
    }

    @Test("A root of ours that others can read is made private", arguments: [0o755, 0o750, 0o711])
    func readable(mode: Int) throws {
        #expect(mkdir(root, 0o700) == 0)
        #expect(chmod(root, mode_t(mode)) == 0)
        _ = try RunLog(root: root, secrets: [])
        #expect(try self.mode(root) == 0o700)
    }

    @Test("A link at the root planted by another user is refused", .enabled(if: geteuid() == 0, "lchown needs root"))
    func otherUsersLink() throws {
        let target = base + "/elsewhere"
        #expect(mkdir(target, 0o700) == 0)
        #expect(symlink(target, root) == 0)
        #expect(lchown(root, Self.nobody, gid_t(Self.nobody)) == 0)
        let error = try #require(try refusal())
        #expect(error.description.contains("is a symbolic link owned by uid 65534"), "\(error)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
    }

    @Test("A file at the root is refused")
    func notADirectory() throws {
        #expect(FileManager.default.createFile(atPath: root, contents: Data()))
        let error = try #require(try refusal())
        #expect(error == .unsafe(path: root, reason: "is not a directory"))
    }

    @Test("Missing parents of the root are made as mkdir -p makes them")
    func parents() throws {
        let deep = base + "/a/b/nimbus"
        let log = try RunLog(root: deep, secrets: [])
        #expect(log.directory.hasPrefix(deep + "/"))
        #expect(try mode(base + "/a/b") == 0o755)
        #expect(try mode(deep) == 0o700)
    }
}
