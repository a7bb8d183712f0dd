import CLibSSH2
import Foundation
import Testing

@testable import SSH

/// The host-key decision against a real known_hosts file, read by libssh2 into a collection of
/// an unconnected session: no SSH server needed.
@Suite("Known hosts")
struct KnownHostsTests {
    /// An SSH wire-format key blob: the type name, then each part, each as a length-prefixed string.
    static func blob(_ type: String, _ parts: [[UInt8]]) -> [UInt8] {
        ([Array(type.utf8)] + parts).flatMap { part in
            withUnsafeBytes(of: UInt32(part.count).bigEndian, Array.init) + part
        }
    }

    static let rsa = blob("ssh-rsa", [[1, 0, 1], [0] + [UInt8](repeating: 0xA5, count: 64)])
    static let otherRSA = blob("ssh-rsa", [[1, 0, 1], [0] + [UInt8](repeating: 0x5A, count: 64)])
    static let ed25519 = blob("ssh-ed25519", [[UInt8](repeating: 7, count: 32)])
    static let otherEd25519 = blob("ssh-ed25519", [[UInt8](repeating: 8, count: 32)])

    static let knownHosts = """
        10.0.0.5 ssh-rsa \(Data(rsa).base64EncodedString())
        [10.0.0.5]:2222 ssh-ed25519 \(Data(ed25519).base64EncodedString())

        """

    struct Case: Sendable, CustomTestStringConvertible {
        var what: String
        var host = "10.0.0.5"
        var port = 22
        var key: [UInt8]
        var type: Int32
        var acceptNew = true
        /// nil: proceed; "record"; "unknown"; otherwise the expected fingerprint of a change.
        var outcome: String?

        var testDescription: String { what }
    }

    static let fingerprintRSA = SSH.KnownHosts.fingerprint(of: rsa)
    static let fingerprintEd25519 = SSH.KnownHosts.fingerprint(of: ed25519)

    static let cases: [Case] = [
        Case(what: "the recorded RSA key goes on", key: rsa, type: LIBSSH2_HOSTKEY_TYPE_RSA),
        Case(
            what: "another RSA key is refused as changed", key: otherRSA, type: LIBSSH2_HOSTKEY_TYPE_RSA,
            outcome: fingerprintRSA),
        Case(
            what: "an Ed25519 key where an RSA one is recorded is refused as changed, not recorded as new",
            key: ed25519, type: LIBSSH2_HOSTKEY_TYPE_ED25519, outcome: "\(fingerprintRSA) (ssh-rsa)"),
        Case(
            what: "an Ed25519 key where an RSA one is recorded is refused as changed without accept-new too",
            key: ed25519, type: LIBSSH2_HOSTKEY_TYPE_ED25519, acceptNew: false, outcome: "\(fingerprintRSA) (ssh-rsa)"),
        Case(
            what: "another Ed25519 key on a port known by an Ed25519 key is refused as changed", port: 2222,
            key: otherEd25519, type: LIBSSH2_HOSTKEY_TYPE_ED25519, outcome: fingerprintEd25519),
        Case(
            what: "the recorded Ed25519 key of another port goes on", port: 2222, key: ed25519,
            type: LIBSSH2_HOSTKEY_TYPE_ED25519),
        Case(
            what: "a host with no key on record is recorded with accept-new", host: "10.0.0.9", key: ed25519,
            type: LIBSSH2_HOSTKEY_TYPE_ED25519, outcome: "record"),
        Case(
            what: "a host with no key on record is refused as unknown without accept-new", host: "10.0.0.9",
            key: ed25519, type: LIBSSH2_HOSTKEY_TYPE_ED25519, acceptNew: false, outcome: "unknown"),
    ]

    /// `body` with the known_hosts above in a file, read into a collection of an unconnected
    /// session.
    func withKnownHosts<T>(_ body: (_ path: String, _ session: OpaquePointer, _ hosts: OpaquePointer) throws -> T)
        throws -> T
    {
        #expect(SSH.initialized)
        let path = NSTemporaryDirectory() + "nimbus-known-hosts-" + UUID().uuidString
        try Self.knownHosts.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let session = try #require(libssh2_session_init_ex(nil, nil, nil, nil))
        defer { libssh2_session_free(session) }
        let hosts = try SSH.KnownHosts.load(session, path, error: { "libssh2 error" })
        defer { libssh2_knownhost_free(hosts) }
        return try body(path, session, hosts)
    }

    @Test(
        "A presented host key is checked against every key known_hosts has for the host, of any type", arguments: cases)
    func hostKeyDecision(_ example: Case) throws {
        let (path, decision) = try withKnownHosts { path, _, hosts in
            let policy = SSH.HostKeyPolicy(knownHosts: path, acceptNew: example.acceptNew)
            let decision = try example.key.withUnsafeBytes { key in
                try SSH.KnownHosts.check(
                    hosts, host: example.host, port: example.port, key: key, type: example.type, policy: policy,
                    error: { "libssh2 error" })
            }
            return (path, decision)
        }
        let presented = SSH.KnownHosts.fingerprint(of: example.key)
        let expected: SSH.KnownHosts.Decision =
            switch example.outcome {
            case nil: .proceed
            case "record": .record
            case "unknown":
                .refuse(.hostKeyUnknown(host: example.host, fingerprint: presented, knownHosts: path))
            case let fingerprint?:
                .refuse(
                    .hostKeyChanged(host: example.host, expected: fingerprint, presented: presented, knownHosts: path))
            }
        #expect(decision == expected)
    }

    @Test("The host key types known_hosts records for a host are asked for first, so a host with several shows one")
    func recordedKeyTypesFirst() throws {
        try withKnownHosts { _, session, hosts in
            #expect(
                SSH.KnownHosts.recordedKeyTypes(hosts, host: "10.0.0.5", port: 22) == [LIBSSH2_KNOWNHOST_KEY_SSHRSA])
            // libssh2 reads the host's port 22 line for other ports too.
            #expect(
                SSH.KnownHosts.recordedKeyTypes(hosts, host: "10.0.0.5", port: 2222)
                    == [LIBSSH2_KNOWNHOST_KEY_ED25519, LIBSSH2_KNOWNHOST_KEY_SSHRSA])
            #expect(SSH.KnownHosts.recordedKeyTypes(hosts, host: "10.0.0.9", port: 22).isEmpty)
            let methods = SSH.KnownHosts.hostKeyMethods(
                ["ecdsa-sha2-nistp256", "ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
                recorded: [LIBSSH2_KNOWNHOST_KEY_SSHRSA])
            #expect(methods == ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa", "ecdsa-sha2-nistp256", "ssh-ed25519"])
            #expect(
                libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, methods.joined(separator: ",")) == 0)
        }
    }
}
