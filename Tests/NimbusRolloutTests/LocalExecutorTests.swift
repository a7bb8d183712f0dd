import Foundation
import Testing

@testable import NimbusRollout

/// Runs synchronous, blocking code (as the rollout's host workers do) on a thread of its
/// own, never on the test's thread of the concurrency pool.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

@Suite("Local executor")
struct LocalExecutorTests {
    @Test("Runs sh -c with stdin; status, stdout and stderr come back apart")
    func runs() async throws {
        let output = try await onOwnThread {
            try LocalExecutor(host: "127.0.0.1").run("cat; echo oops >&2; exit 3", input: "hello\n", timeout: 10)
        }
        #expect(output.status == 3)
        #expect(output.stdout == "hello\n")
        #expect(output.stderr == "oops\n")
    }

    @Test("A command past its timeout is stopped (SIGTERM, then SIGKILL) and reported")
    func timeout() async throws {
        let started = Date()
        let outcome = try await onOwnThread { () -> String in
            do {
                _ = try LocalExecutor(host: "127.0.0.1").run("trap '' TERM; sleep 30", input: nil, timeout: 0.3)
                return "finished"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == "timed out after 0 s")
        // SIGTERM is ignored: SIGKILL follows after the 5 s grace period, to the shell and
        // its sleep alike, before the sleep's 30 s end (a loaded machine has taken 21 s to
        // get there: no tighter bound than the sleep itself).
        #expect(Date().timeIntervalSince(started) < 29)
    }

    @Test("Loopback and this machine's addresses are local; others are not")
    func locality() {
        #expect(LocalExecutor.isLocal("127.0.0.1"))
        #expect(LocalExecutor.isLocal("localhost"))
        #expect(!LocalExecutor.isLocal("192.0.2.77"))
    }
}
