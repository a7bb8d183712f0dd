import Foundation
import Synchronization

/// Watches directories of a node (through `/proc/<pid>/root`, so its own /tmp) and every
/// process of this machine (the nodes' too) while a deploy runs, for a secret someone else
/// could read: a world-readable file holding it, or a command line showing it.
///
/// Each new file is opened the moment inotify names it, so even a file deleted a
/// millisecond later is read whole; files are read and checked when the watch stops.
final class SecretWatch: Sendable {
    struct Secret: Sendable {
        var key: String
        var value: String
    }

    /// What the watch saw: where a secret was exposed (key names only, never values), and
    /// what it watched, to tell that it was working.
    struct Report: Sendable {
        var exposed: [String] = []
        var commandLines: [String] = []
        /// Every file and directory created or moved into a watched directory.
        var created: [String] = []
        /// Modes of the directories created, as first seen.
        var directoryModes: [String: mode_t] = [:]
        var overflowed = false
    }

    private struct Held: Sendable {
        var path: String
        var fd: Int32
        var inode: ino_t
        var worldReadable: Bool
    }

    private struct State: Sendable {
        var stopped = false
        var watches: [Int32: String] = [:]
        var held: [Held] = []
        var report = Report()
    }

    private let secrets: [Secret]
    private let directories: [String]
    private let inotify: Int32
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    // <sys/inotify.h>
    private static let create: UInt32 = 0x100, movedTo: UInt32 = 0x80, closeWrite: UInt32 = 0x8
    private static let attributes: UInt32 = 0x4, overflow: UInt32 = 0x4000

    init(directories: [String], secrets: [Secret]) throws {
        self.secrets = secrets.filter { $0.value.count >= 4 }
        self.directories = directories
        inotify = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
        guard inotify >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        for directory in directories { addTree(directory) }
        Thread { [self] in watchFiles() }.start()
        Thread { [self] in watchProcesses() }.start()
    }

    /// Stops both watchers, reads what they held and scans the directories once more.
    func stop() -> Report {
        state.withLock { $0.stopped = true }
        finished.wait()
        finished.wait()
        close(inotify)
        var report = state.withLock { state in
            for held in state.held {
                var info = stat()
                let readable = held.worldReadable || (fstat(held.fd, &info) == 0 && info.st_mode & S_IROTH != 0)
                if readable { state.report.exposed += found(in: read(held.fd), at: held.path) }
                close(held.fd)
            }
            state.held = []
            return state.report
        }
        for directory in directories {
            for path in Self.files(under: directory) {
                var info = stat()
                guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & S_IROTH != 0 else {
                    continue
                }
                let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW)
                guard fd >= 0 else { continue }
                report.exposed += found(in: read(fd), at: path)
                close(fd)
            }
        }
        report.exposed = Array(Set(report.exposed)).sorted()
        report.commandLines = Array(Set(report.commandLines)).sorted()
        return report
    }

    private func found(in data: Data, at place: String) -> [String] {
        let text = String(decoding: data, as: UTF8.self)
        return secrets.filter { text.contains($0.value) }.map { "\($0.key) in \(place)" }
    }

    private func read(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count < 4 << 20 {
            let count = pread(fd, &buffer, buffer.count, off_t(data.count))
            guard count > 0 else { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    private func addTree(_ directory: String) {
        let wd = inotify_add_watch(inotify, directory, Self.create | Self.movedTo | Self.closeWrite | Self.attributes)
        guard wd >= 0 else { return }
        state.withLock { $0.watches[wd] = directory }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in entries { seen("\(directory)/\(name)", created: false) }
    }

    /// A path inotify named: a directory is watched in turn; a regular file is held open.
    private func seen(_ path: String, created: Bool) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if created { state.withLock { $0.report.directoryModes[path] = info.st_mode & 0o7777 } }
            addTree(path)
            return
        }
        guard info.st_mode & S_IFMT == S_IFREG else { return }
        let readable = info.st_mode & S_IROTH != 0
        let known = state.withLock { state in
            guard let index = state.held.firstIndex(where: { $0.path == path && $0.inode == info.st_ino }) else {
                return false
            }
            state.held[index].worldReadable = state.held[index].worldReadable || readable
            return true
        }
        guard !known else { return }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        state.withLock { $0.held.append(Held(path: path, fd: fd, inode: info.st_ino, worldReadable: readable)) }
    }

    private func watchFiles() {
        defer { finished.signal() }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !state.withLock({ $0.stopped }) {
            var poller = pollfd(fd: inotify, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) > 0 else { continue }
            let count = Glibc.read(inotify, &buffer, buffer.count)
            var offset = 0
            while count > 0 && offset + 16 <= count {
                let (wd, mask, length) = buffer.withUnsafeBytes { bytes in
                    (
                        bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                        bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                        Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    )
                }
                let name = String(
                    decoding: buffer[(offset + 16)..<(offset + 16 + length)].prefix { $0 != 0 }, as: UTF8.self)
                offset += 16 + length
                if mask & Self.overflow != 0 { state.withLock { $0.report.overflowed = true } }
                guard let directory = state.withLock({ $0.watches[wd] }), !name.isEmpty else { continue }
                let path = "\(directory)/\(name)"
                let created = mask & (Self.create | Self.movedTo) != 0
                if created { state.withLock { $0.report.created.append(path) } }
                seen(path, created: created)
            }
        }
    }

    private func watchProcesses() {
        defer { finished.signal() }
        while !state.withLock({ $0.stopped }) {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            where entry.first?.isNumber == true {
                let fd = open("/proc/\(entry)/cmdline", O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { continue }
                let words = read(fd).split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                close(fd)
                let line = words.joined(separator: " ")
                let leaked = secrets.filter { line.contains($0.value) }.map {
                    "\($0.key) in the command line of pid \(entry) (\(words.first ?? "?"))"
                }
                if !leaked.isEmpty { state.withLock { $0.report.commandLines += leaked } }
            }
            usleep(2000)
        }
    }

    /// Regular files below `directory`, without following links.
    static func files(under directory: String) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        return walker.compactMap { $0 as? String }.map { "\(directory)/\($0)" }
    }
}
