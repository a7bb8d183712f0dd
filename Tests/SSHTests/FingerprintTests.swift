import Foundation
import Testing

@testable import SSH

@Suite("SSH helpers")
struct FingerprintTests {
    @Test("Fingerprints read like OpenSSH's: SHA256: and unpadded base64")
    func fingerprintFormat() {
        #expect(
            SSH.fingerprint(sha256: [UInt8](repeating: 0, count: 32))
                == "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    }

    @Test("Connecting to a closed port fails at once with the system's reason")
    func closedPort() {
        do {
            _ = try SSH.Session(host: "127.0.0.1", port: 9, policy: .init(knownHosts: "/dev/null"), timeout: 2)
            Issue.record("connected to a closed port")
        } catch {
            #expect(error == .connect(host: "127.0.0.1", port: 9, reason: "Connection refused"))
        }
    }

    @Test("An unknown host name is reported as such")
    func unknownName() {
        #expect(throws: SSH.Error.self) {
            _ = try SSH.Session(host: "no-such-host.invalid", policy: .init(knownHosts: "/dev/null"), timeout: 2)
        }
    }
}
