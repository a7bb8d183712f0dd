import Foundation
import Glibc
import Synchronization

/// Work that must happen inside a network namespace, such as opening a socket there (a
/// socket stays in the namespace it was made in, whichever thread uses it later). It runs
/// on a thread of its own that enters the namespace with setns(2) and ends with the work:
/// setns changes only the calling thread, and no thread of the concurrency pool may be
/// left in another namespace.
public enum NamespaceThread {
    /// setns(2), looked up at run time: glibc declares it only with _GNU_SOURCE, which the
    /// Glibc module is not built with.
    private static let setns: (@convention(c) (Int32, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "setns") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    /// CLONE_NEWNET (sched.h).
    static let newNetworkNamespace: Int32 = 0x4000_0000

    /// Enters `/run/netns/<name>` on the calling thread: only ever a thread of our own.
    static func enter(_ name: String) throws(DataplaneError) {
        guard let setns else { throw .hostUnprepared("setns(2) is not available") }
        let file = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { throw .hostUnprepared("namespace \(name): \(String(cString: strerror(errno)))") }
        defer { close(file) }
        guard setns(file, newNetworkNamespace) == 0 else {
            throw .hostUnprepared("entering namespace \(name): \(String(cString: strerror(errno)))")
        }
    }

    /// Starts `body` on a new thread inside namespace `name` and returns at once; `body`
    /// runs only if entering succeeded, `failed` otherwise.
    public static func start(
        in name: String, _ body: @escaping @Sendable () -> Void, failed: @escaping @Sendable (DataplaneError) -> Void
    ) {
        let thread = Thread {
            do throws(DataplaneError) {
                try enter(name)
            } catch {
                failed(error)
                return
            }
            body()
        }
        thread.name = "netns \(name)"
        thread.start()
    }

    /// Runs `body` on a new thread inside namespace `name` and awaits its result; the
    /// awaiting task holds no thread meanwhile.
    public static func run<T: Sendable>(
        in name: String, _ body: @escaping @Sendable () throws(DataplaneError) -> T
    ) async throws(DataplaneError) -> T {
        let result: Result<T, DataplaneError> = await withCheckedContinuation { continuation in
            start(in: name) {
                do throws(DataplaneError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            } failed: { error in
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }
}
