import Crypto
import Foundation
import NimbusSystem

/// Public keys as Nova takes them: OpenSSH public keys (`ssh-ed25519 AAAA… comment`) with
/// their MD5 fingerprint, and x509 certificates with their SHA-1 one; new ssh key pairs
/// made by `ssh-keygen`, new x509 ones by `openssl`.
public enum KeyPairs {
    /// `aa:bb:…`: the MD5 of an OpenSSH public key's blob (what Nova and `ssh-keygen -E md5 -l`
    /// print); nil for anything that is not `<type> <base64>[ comment]`.
    public static func sshFingerprint(_ publicKey: String) -> String? {
        let fields = publicKey.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, fields[0].hasPrefix("ssh-") || fields[0].hasPrefix("ecdsa-"),
            let blob = Data(base64Encoded: String(fields[1])), blob.count > 4
        else { return nil }
        // The blob begins with its key type, length-prefixed: it must name the same type.
        let length = blob.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard blob.count >= 4 + length, String(decoding: blob.dropFirst(4).prefix(length), as: UTF8.self) == fields[0]
        else { return nil }
        return hex(Insecure.MD5.hash(data: blob))
    }

    /// The SHA-1 of an x509 certificate's DER (PEM `-----BEGIN CERTIFICATE-----`); nil if
    /// it is not one.
    public static func x509Fingerprint(_ certificate: String) -> String? {
        let lines = certificate.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN CERTIFICATE-----"),
            let end = lines.firstIndex(of: "-----END CERTIFICATE-----"), begin < end,
            let der = Data(base64Encoded: lines[(begin + 1)..<end].joined()), !der.isEmpty
        else { return nil }
        return hex(Insecure.SHA1.hash(data: der))
    }

    static func hex(_ digest: some Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined(separator: ":")
    }

    /// A new RSA key pair (2048 bits, PEM private key, as Nova made them), by `ssh-keygen`:
    /// the private key, the public key.
    public static func generate(runner: any ProcessRunning = ProcessRunner()) async throws -> (
        privateKey: String, publicKey: String
    ) {
        let directory = NSTemporaryDirectory() + "nimbus-keygen-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/key"
        try await runner.check(
            Command([
                "ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-C", "Generated-by-Nova", "-f",
                path,
            ]))
        let privateKey = try String(contentsOfFile: path, encoding: .utf8)
        let publicKey = try String(contentsOfFile: path + ".pub", encoding: .utf8)
        return (privateKey, publicKey.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A new x509 key pair, as Nova makes one for `type: x509`: an RSA 2048 private key and
    /// a self-signed certificate for `CN=<user>` valid ten years, by `openssl req`.
    public static func generateX509(user: String, runner: any ProcessRunning = ProcessRunner()) async throws -> (
        privateKey: String, certificate: String
    ) {
        let directory = NSTemporaryDirectory() + "nimbus-keygen-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let subject = "/CN=" + user.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        try await runner.check(
            Command([
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj", subject,
                "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem",
            ]))
        return (
            try String(contentsOfFile: directory + "/key.pem", encoding: .utf8),
            try String(contentsOfFile: directory + "/cert.pem", encoding: .utf8)
        )
    }
}
