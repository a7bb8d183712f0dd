import Foundation
import SSH
import Testing

/// The libssh2 wrapper against real sandbox nodes (the `itest` sandbox).
extension IntegrationTests {
    @Suite("SSH through libssh2 on sandbox nodes")
    struct SSHIntegrationTests {
        let directory = "/var/lib/nimbus/sandbox/\(SandboxIntegrationTests.name)"
        var knownHosts: String { "\(directory)/known_hosts" }
        var key: String { "\(directory)/id_ed25519" }

        func session(_ host: String = "10.248.0.11") throws -> SSH.Session {
            let session = try SSH.Session(host: host, policy: .init(knownHosts: knownHosts), timeout: 5)
            try session.authenticate(privateKey: key)
            return session
        }

        func bringUp() throws {
            let output = try run(
                [
                    nimbusBinary(), "sandbox", "up", "--name", SandboxIntegrationTests.name, "--nodes", "2",
                    "--answer-file",
                    SandboxIntegrationTests.answers,
                ] + SandboxIntegrationTests.networks)
            #expect(output.status == 0, "\(output.text)")
        }

        @Test("One session runs many commands with exit status, stdout, stderr and input")
        func commands() throws {
            try bringUp()
            let session = try session()
            defer { session.close() }
            #expect(try session.run("hostname").standardOutput == "node1\n")
            #expect(try session.run("exit 3").status == 3)
            let both = try session.run("echo out; echo err >&2")
            #expect(both.standardOutput == "out\n" && both.standardError == "err\n")
            #expect(try session.run("cat", input: Data("hello".utf8)).standardOutput == "hello")
            // Large outputs on both streams at once must not stall each other.
            let large = try session.run("head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2", timeout: 60)
            #expect(large.stdout.count == 3_000_000 && large.stderr.count == 3_000_000)
        }

        @Test("Files are written atomically over SFTP with their mode")
        func sftp() throws {
            try bringUp()
            let session = try session()
            defer { session.close() }
            try session.write(Data("secret\n".utf8), to: "/root/nimbus-sftp-test", mode: 0o600)
            let check = try session.run(
                "stat -c %a /root/nimbus-sftp-test; cat /root/nimbus-sftp-test; ls /root | grep -c nimbus- ")
            #expect(check.standardOutput == "600\nsecret\n1\n")
            try session.write(Data("again\n".utf8), to: "/root/nimbus-sftp-test", mode: 0o600)
            #expect(try session.run("cat /root/nimbus-sftp-test").standardOutput == "again\n")
        }

        @Test("An unknown host key is refused unless accepted, then recorded")
        func unknownHostKey() throws {
            try bringUp()
            let empty = NSTemporaryDirectory() + "known-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: empty, contents: Data())
            defer { try? FileManager.default.removeItem(atPath: empty) }
            do {
                _ = try SSH.Session(host: "10.248.0.11", policy: .init(knownHosts: empty), timeout: 5)
                Issue.record("an unknown host key was accepted")
            } catch {
                guard case .hostKeyUnknown(let host, let fingerprint, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(host == "10.248.0.11" && fingerprint.hasPrefix("SHA256:"))
            }
            let accepted = try SSH.Session(
                host: "10.248.0.11", policy: .init(knownHosts: empty, acceptNew: true), timeout: 5)
            accepted.close()
            #expect(try String(contentsOfFile: empty, encoding: .utf8).contains("10.248.0.11 ssh-ed25519 "))
            _ = try SSH.Session(host: "10.248.0.11", policy: .init(knownHosts: empty), timeout: 5)
        }

        @Test("A changed host key is refused even when new keys are accepted, showing both fingerprints")
        func changedHostKey() throws {
            try bringUp()
            // node2's key recorded under node1's address: what a replaced host looks like.
            let node2 =
                try String(contentsOfFile: knownHosts, encoding: .utf8).split(separator: "\n")
                .first { $0.hasPrefix("10.248.0.12 ") } ?? ""
            let forged = NSTemporaryDirectory() + "known-\(UUID().uuidString)"
            try (node2.replacingOccurrences(of: "10.248.0.12 ", with: "10.248.0.11 ") + "\n").write(
                toFile: forged, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: forged) }
            do {
                _ = try SSH.Session(host: "10.248.0.11", policy: .init(knownHosts: forged, acceptNew: true), timeout: 5)
                Issue.record("a changed host key was accepted")
            } catch {
                guard case .hostKeyChanged(_, let expected, let presented, _) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(expected.hasPrefix("SHA256:") && presented.hasPrefix("SHA256:") && expected != presented)
            }
        }

        @Test("A key the host does not know is refused; an address nobody answers times out")
        func refusals() throws {
            try bringUp()
            let stranger = NSTemporaryDirectory() + "stranger-\(UUID().uuidString)"
            _ = try run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", stranger])
            defer {
                try? FileManager.default.removeItem(atPath: stranger)
                try? FileManager.default.removeItem(atPath: stranger + ".pub")
            }
            let session = try SSH.Session(host: "10.248.0.11", policy: .init(knownHosts: knownHosts), timeout: 5)
            #expect(throws: SSH.Error.self) { try session.authenticate(privateKey: stranger) }
            let started = Date()
            #expect(throws: SSH.Error.self) {
                _ = try SSH.Session(host: "10.248.0.99", policy: .init(knownHosts: knownHosts), timeout: 2)
            }
            #expect(Date().timeIntervalSince(started) < 10)
        }
    }
}
