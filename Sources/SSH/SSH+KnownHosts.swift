import CLibSSH2
import Crypto
import Foundation

extension SSH {
    /// Host-key checking against an OpenSSH known_hosts file (`libssh2_knownhost_*`).
    enum KnownHosts {
        static func verify(_ raw: Handle, host: String, port: Int, policy: HostKeyPolicy) throws(SSH.Error) {
            guard let session = raw.session else { throw .closed }
            var length = 0
            var type: Int32 = 0
            guard let key = libssh2_session_hostkey(session, &length, &type) else {
                throw .handshake("the host presented no host key")
            }
            let presented = fingerprint(of: UnsafeRawBufferPointer(start: key, count: length))
            guard let hosts = libssh2_knownhost_init(session) else { throw .handshake(raw.lastError()) }
            defer { libssh2_knownhost_free(hosts) }
            if FileManager.default.fileExists(atPath: policy.knownHosts) {
                let read = libssh2_knownhost_readfile(hosts, policy.knownHosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
                if read < 0 { throw .handshake("\(policy.knownHosts): unreadable known_hosts (\(raw.lastError()))") }
            }
            let typeMask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keyTypeMask(type)
            var entry: UnsafeMutablePointer<libssh2_knownhost>?
            let check = libssh2_knownhost_checkp(hosts, host, Int32(port), key, length, typeMask, &entry)
            switch check {
            case LIBSSH2_KNOWNHOST_CHECK_MATCH:
                return
            case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
                let expected =
                    entry.flatMap { $0.pointee.key }.map { String(cString: $0) }
                    .flatMap { Data(base64Encoded: $0) }.map { fingerprint(of: $0) } ?? "another key"
                throw .hostKeyChanged(
                    host: host, expected: expected, presented: presented, knownHosts: policy.knownHosts)
            case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
                guard policy.acceptNew else {
                    throw .hostKeyUnknown(host: host, fingerprint: presented, knownHosts: policy.knownHosts)
                }
                let name = port == 22 ? host : "[\(host)]:\(port)"
                var added: UnsafeMutablePointer<libssh2_knownhost>?
                var line = [CChar](repeating: 0, count: 8192)
                var lineLength = 0
                guard libssh2_knownhost_addc(hosts, name, nil, key, length, "nimbus", 6, typeMask, &added) == 0,
                    let added,
                    libssh2_knownhost_writeline(
                        hosts, added, &line, line.count, &lineLength, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0
                else { throw .handshake("cannot record \(host)'s key in \(policy.knownHosts): \(raw.lastError())") }
                try append(line: Array(line.prefix(lineLength).map { UInt8(bitPattern: $0) }), to: policy.knownHosts)
            default:
                throw .handshake("cannot check \(host)'s host key: \(raw.lastError())")
            }
        }

        /// Appends one line under an exclusive lock: sessions to many hosts accept their keys
        /// at once, and rewriting the whole file from each would lose all but the last.
        static func append(line: [UInt8], to path: String) throws(SSH.Error) {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw .handshake("cannot open \(path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            flock(fd, LOCK_EX)
            defer { flock(fd, LOCK_UN) }
            var bytes = line
            if bytes.last != UInt8(ascii: "\n") { bytes.append(UInt8(ascii: "\n")) }
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count else {
                throw .handshake("cannot append to \(path): \(String(cString: strerror(errno)))")
            }
        }

        static func fingerprint(of key: some DataProtocol) -> String {
            SSH.fingerprint(sha256: SHA256.hash(data: key))
        }

        static func keyTypeMask(_ hostKeyType: Int32) -> Int32 {
            switch hostKeyType {
            case LIBSSH2_HOSTKEY_TYPE_RSA: LIBSSH2_KNOWNHOST_KEY_SSHRSA
            case LIBSSH2_HOSTKEY_TYPE_DSS: LIBSSH2_KNOWNHOST_KEY_SSHDSS
            case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: LIBSSH2_KNOWNHOST_KEY_ECDSA_256
            case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: LIBSSH2_KNOWNHOST_KEY_ECDSA_384
            case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: LIBSSH2_KNOWNHOST_KEY_ECDSA_521
            case LIBSSH2_HOSTKEY_TYPE_ED25519: LIBSSH2_KNOWNHOST_KEY_ED25519
            default: LIBSSH2_KNOWNHOST_KEY_UNKNOWN
            }
        }
    }
}
