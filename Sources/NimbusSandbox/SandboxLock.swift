import Foundation

/// An exclusive `flock(2)` on a sandbox, held while `up` or `down` changes it, so two
/// commands on one sandbox never interleave. Released when closed or deinitialised.
final class SandboxLock {
    private var descriptor: Int32

    /// Waits for the lock on `<root>/.<name>.lock`.
    init(root: String, name: String) throws(SandboxError) {
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let path = "\(root)/.\(name).lock"
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw .io(step: "lock the sandbox", path: path, reason: String(cString: strerror(errno)))
        }
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
    }

    func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    deinit { close() }
}
