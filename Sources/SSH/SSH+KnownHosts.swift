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
            let blob = UnsafeRawBufferPointer(start: key, count: length)
            let hosts = try load(session, policy.knownHosts, error: raw.lastError)
            defer { libssh2_knownhost_free(hosts) }
            switch try check(hosts, host: host, port: port, key: blob, type: type, policy: policy, error: raw.lastError)
            {
            case .proceed:
                return
            case .refuse(let error):
                throw error
            case .record:
                let name = port == 22 ? host : "[\(host)]:\(port)"
                let typeMask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | keyTypeMask(type)
                var added: UnsafeMutablePointer<libssh2_knownhost>?
                var line = [CChar](repeating: 0, count: 8192)
                var lineLength = 0
                guard
                    libssh2_knownhost_addc(
                        hosts, name, nil, blob.baseAddress, length, "nimbus", 6, typeMask, &added) == 0,
                    let added,
                    libssh2_knownhost_writeline(
                        hosts, added, &line, line.count, &lineLength, LIBSSH2_KNOWNHOST_FILE_OPENSSH) == 0
                else { throw .handshake("cannot record \(host)'s key in \(policy.knownHosts): \(raw.lastError())") }
                try append(line: Array(line.prefix(lineLength).map { UInt8(bitPattern: $0) }), to: policy.knownHosts)
            }
        }

        /// A known-hosts collection of `session` (`libssh2_knownhost_init`) holding the entries
        /// of the file at `path` (`libssh2_knownhost_readfile`; none when there is no file yet).
        /// The caller frees it (`libssh2_knownhost_free`).
        static func load(_ session: OpaquePointer, _ path: String, error: () -> String) throws(SSH.Error)
            -> OpaquePointer
        {
            guard let hosts = libssh2_knownhost_init(session) else { throw .handshake(error()) }
            if FileManager.default.fileExists(atPath: path) {
                let read = libssh2_knownhost_readfile(hosts, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
                if read < 0 {
                    libssh2_knownhost_free(hosts)
                    throw .handshake("\(path): unreadable known_hosts (\(error()))")
                }
            }
            return hosts
        }

        /// What to do about `key` (a host key blob of libssh2 type `type`) that `host` presents.
        static func check(
            _ hosts: OpaquePointer, host: String, port: Int, key: UnsafeRawBufferPointer, type: Int32,
            policy: HostKeyPolicy, error: () -> String
        ) throws(SSH.Error) -> Decision {
            let record = try lookup(hosts, host: host, port: port, key: key, type: type, error: error)
            return decide(record, host: host, presented: fingerprint(of: key), policy: policy)
        }

        /// What known_hosts records for a host, as far as the key it presents is concerned.
        enum Record: Equatable {
            /// This very key.
            case same
            /// Another key (its fingerprint): of the presented key's type, or of another type.
            case other(expected: String)
            /// No key of any type.
            case none
        }

        /// What `verify` does about a presented key.
        enum Decision: Equatable {
            case proceed
            /// Accept the key and append it to known_hosts.
            case record
            case refuse(SSH.Error)
        }

        /// The policy, as a pure function: a recorded key goes on, another recorded key
        /// (whatever its type: a host that had an RSA key and now shows an Ed25519 one has
        /// changed as much as one whose RSA key did) is refused whatever the policy, and
        /// only a host with no key on record may be recorded (`acceptNew`).
        static func decide(_ record: Record, host: String, presented: String, policy: HostKeyPolicy) -> Decision {
            switch record {
            case .same:
                .proceed
            case .other(let expected):
                .refuse(
                    .hostKeyChanged(
                        host: host, expected: expected, presented: presented, knownHosts: policy.knownHosts))
            case .none:
                policy.acceptNew
                    ? .record
                    : .refuse(.hostKeyUnknown(host: host, fingerprint: presented, knownHosts: policy.knownHosts))
            }
        }

        /// Looks the presented key up in the loaded `hosts` (`libssh2_knownhost_checkp`): first
        /// among the host's keys of its own type; when there is none, among all of the host's
        /// keys (key type 0 matches any), since libssh2 answers "not found" for a host known
        /// only by keys of another type.
        static func lookup(
            _ hosts: OpaquePointer, host: String, port: Int, key: UnsafeRawBufferPointer, type: Int32,
            error: () -> String
        ) throws(SSH.Error) -> Record {
            let format = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW
            for typeMask in [format | keyTypeMask(type), format] {
                var entry: UnsafeMutablePointer<libssh2_knownhost>?
                let check = libssh2_knownhost_checkp(
                    hosts, host, Int32(port), key.baseAddress, key.count, typeMask, &entry)
                switch check {
                case LIBSSH2_KNOWNHOST_CHECK_MATCH:
                    return .same
                case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
                    let recorded = entry.flatMap { $0.pointee.key }.map { String(cString: $0) }
                    let expected =
                        recorded.flatMap { Data(base64Encoded: $0) }.map { fingerprint(of: $0) } ?? "another key"
                    let recordedType = entry.map { $0.pointee.typemask & LIBSSH2_KNOWNHOST_KEY_MASK }
                    let changedType = recordedType.map { $0 != keyTypeMask(type) } ?? false
                    return .other(expected: changedType ? "\(expected) (\(keyTypeName(recordedType)))" : expected)
                case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
                    continue
                default:
                    throw .handshake("cannot check \(host)'s host key: \(error())")
                }
            }
            return .none
        }

        /// Before the handshake: asks the host for the key types known_hosts records for it
        /// first (`libssh2_session_method_pref`), as OpenSSH does. A host with keys of several
        /// types then shows one on record, so that another type can be refused as a change.
        static func preferRecordedKeyTypes(_ raw: Handle, host: String, port: Int, policy: HostKeyPolicy)
            throws(SSH.Error)
        {
            guard let session = raw.session else { throw .closed }
            let hosts = try load(session, policy.knownHosts, error: raw.lastError)
            defer { libssh2_knownhost_free(hosts) }
            let recorded = recordedKeyTypes(hosts, host: host, port: port)
            guard !recorded.isEmpty else { return }
            var names: UnsafeMutablePointer<UnsafePointer<CChar>?>?
            let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &names)
            guard count > 0, let names else { return }
            defer { libssh2_free(session, names) }
            let supported = (0..<Int(count)).compactMap { names[$0].map { String(cString: $0) } }
            let methods = hostKeyMethods(supported, recorded: recorded).joined(separator: ",")
            guard libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, methods) == 0 else {
                throw .handshake("cannot prefer \(host)'s recorded host key types: \(raw.lastError())")
            }
        }

        /// The key types (`LIBSSH2_KNOWNHOST_KEY_*`) known_hosts records for the host: a
        /// check of a key that matches nothing answers "mismatch" for a type the host has.
        static func recordedKeyTypes(_ hosts: OpaquePointer, host: String, port: Int) -> Set<Int32> {
            let types = [
                LIBSSH2_KNOWNHOST_KEY_SSHRSA, LIBSSH2_KNOWNHOST_KEY_SSHDSS, LIBSSH2_KNOWNHOST_KEY_ECDSA_256,
                LIBSSH2_KNOWNHOST_KEY_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ED25519,
            ]
            let probe: [CChar] = [0, 0, 0, 0]
            return Set(
                types.filter { type in
                    let mask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | type
                    return libssh2_knownhost_checkp(hosts, host, Int32(port), probe, probe.count, mask, nil)
                        == LIBSSH2_KNOWNHOST_CHECK_MISMATCH
                })
        }

        /// `supported` (libssh2's host key methods, in its order) with those of the `recorded`
        /// key types first.
        static func hostKeyMethods(_ supported: [String], recorded: Set<Int32>) -> [String] {
            func type(_ method: String) -> Int32? {
                switch method {
                case "ssh-rsa", "rsa-sha2-256", "rsa-sha2-512": LIBSSH2_KNOWNHOST_KEY_SSHRSA
                case "ssh-dss": LIBSSH2_KNOWNHOST_KEY_SSHDSS
                case "ecdsa-sha2-nistp256": LIBSSH2_KNOWNHOST_KEY_ECDSA_256
                case "ecdsa-sha2-nistp384": LIBSSH2_KNOWNHOST_KEY_ECDSA_384
                case "ecdsa-sha2-nistp521": LIBSSH2_KNOWNHOST_KEY_ECDSA_521
                case "ssh-ed25519": LIBSSH2_KNOWNHOST_KEY_ED25519
                default: nil
                }
            }
            let first = supported.filter { type($0).map(recorded.contains) ?? false }
            return first + supported.filter { !first.contains($0) }
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

        /// The OpenSSH name of a known_hosts key type (`LIBSSH2_KNOWNHOST_KEY_*`).
        static func keyTypeName(_ typeMask: Int32?) -> String {
            switch typeMask {
            case LIBSSH2_KNOWNHOST_KEY_SSHRSA: "ssh-rsa"
            case LIBSSH2_KNOWNHOST_KEY_SSHDSS: "ssh-dss"
            case LIBSSH2_KNOWNHOST_KEY_ECDSA_256: "ecdsa-sha2-nistp256"
            case LIBSSH2_KNOWNHOST_KEY_ECDSA_384: "ecdsa-sha2-nistp384"
            case LIBSSH2_KNOWNHOST_KEY_ECDSA_521: "ecdsa-sha2-nistp521"
            case LIBSSH2_KNOWNHOST_KEY_ED25519: "ssh-ed25519"
            default: "a key of another type"
            }
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
