import Foundation
import Testing

@testable import NimbusRollout

@Suite("Local executor")
struct LocalExecutorTests {
    @Test("Runs sh -c with stdin; status, stdout and stderr come back apart")
    func runs() throws {
        let executor = LocalExecutor(host: "127.0.0.1")
        let output = try executor.run("cat; echo oops >&2; exit 3", input: "hello\n", timeout: 10)
        #expect(output.status == 3)
        #expect(output.stdout == "hello\n")
        #expect(output.stderr == "oops\n")
    }

    @Test("A command past its timeout is stopped and reported")
    func timeout() {
        let executor = LocalExecutor(host: "127.0.0.1")
        #expect(throws: ExecutorError.self) { try executor.run("sleep 5", input: nil, timeout: 0.3) }
    }

    @Test("Loopback and this machine's addresses are local; others are not")
    func locality() {
        #expect(LocalExecutor.isLocal("127.0.0.1"))
        #expect(LocalExecutor.isLocal("localhost"))
        #expect(!LocalExecutor.isLocal("192.0.2.77"))
    }
}
