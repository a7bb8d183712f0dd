import CLibSSH2
import Foundation
import Synchronization

extension SSH {
    /// How unknown host keys are treated. A changed key is refused whatever the policy.
    public struct HostKeyPolicy: Sendable, Equatable {
        /// The known_hosts file (OpenSSH format).
        public var knownHosts: String
        /// Record a host's key on first contact instead of refusing it.
        public var acceptNew: Bool

        public init(knownHosts: String, acceptNew: Bool = false) {
            self.knownHosts = knownHosts
            self.acceptNew = acceptNew
        }
    }

    /// One SSH connection to one host, authenticated, reused for many commands.
    /// Thread-safe: calls are serialised on the session.
    public final class Session: Sendable {
        public let host: String
        public let port: Int
        public let user: String
        private let handle: Mutex<Handle>

        /// Connects (`connect(2)` with `timeout`), handshakes (`libssh2_session_handshake`,
        /// asking first for the host key types known_hosts records for the host) and checks the
        /// host key against `policy` (`libssh2_knownhost_checkp`).
        public init(host: String, port: Int = 22, user: String = "root", policy: HostKeyPolicy, timeout: Double = 10)
            throws(SSH.Error)
        {
            precondition(SSH.initialized, "libssh2_init failed")
            self.host = host
            self.port = port
            self.user = user
            let raw = Handle()
            raw.socket = try SSH.connectSocket(host: host, port: port, timeout: timeout)
            guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
                raw.close()
                throw .handshake("libssh2_session_init failed")
            }
            raw.session = session
            libssh2_session_set_blocking(session, 1)
            libssh2_session_set_timeout(session, Int(timeout * 1000))
            do { try KnownHosts.preferRecordedKeyTypes(raw, host: host, port: port, policy: policy) } catch {
                raw.close()
                throw error
            }
            guard libssh2_session_handshake(session, raw.socket) == 0 else {
                let reason = raw.lastError()
                raw.close()
                throw .handshake(reason)
            }
            libssh2_keepalive_config(session, 1, 15)
            do { try KnownHosts.verify(raw, host: host, port: port, policy: policy) } catch {
                raw.close()
                throw error
            }
            handle = Mutex(raw)
        }

        /// Public-key authentication from a private key file
        /// (`libssh2_userauth_publickey_fromfile_ex`); the public key is derived from it.
        public func authenticate(privateKey: String, passphrase: String? = nil) throws(SSH.Error) {
            try handle.withLock { (raw) throws(SSH.Error) in
                guard let session = raw.session else { throw .closed }
                let result = libssh2_userauth_publickey_fromfile_ex(
                    session, user, UInt32(user.utf8.count), nil, privateKey, passphrase)
                guard result == 0 else {
                    throw .authentication(user: user, reason: "\(privateKey): \(raw.lastError())")
                }
            }
        }

        /// Password authentication (`libssh2_userauth_password_ex`), e.g. once to install a key.
        public func authenticate(password: String) throws(SSH.Error) {
            try handle.withLock { (raw) throws(SSH.Error) in
                guard let session = raw.session else { throw .closed }
                let result = libssh2_userauth_password_ex(
                    session, user, UInt32(user.utf8.count), password, UInt32(password.utf8.count), nil)
                guard result == 0 else { throw .authentication(user: user, reason: raw.lastError()) }
            }
        }

        /// Runs `command` on a new channel and waits for it (at most `timeout` seconds).
        public func run(_ command: String, input: Data? = nil, timeout: Double = 60) throws(SSH.Error) -> CommandOutput
        {
            try handle.withLock { (raw) throws(SSH.Error) -> CommandOutput in
                try Channel.exec(raw, command: command, input: input, deadline: Date().addingTimeInterval(timeout))
            }
        }

        /// Writes `data` to `path` atomically over SFTP: a temporary file beside it with
        /// `mode`, then a rename over the target.
        public func write(_ data: Data, to path: String, mode: Int32 = 0o644, timeout: Double = 60) throws(SSH.Error) {
            try handle.withLock { (raw) throws(SSH.Error) in
                try SFTP.writeAtomically(
                    raw, data: data, path: path, mode: mode, deadline: Date().addingTimeInterval(timeout))
            }
        }

        /// Disconnects; idempotent. Later calls throw `.closed`.
        public func close() {
            handle.withLock { $0.close() }
        }
    }

    /// What a remote command printed and how it ended.
    public struct CommandOutput: Sendable, Equatable {
        public var status: Int32
        public var stdout: Data
        public var stderr: Data

        public var standardOutput: String { String(decoding: stdout, as: UTF8.self) }
        public var standardError: String { String(decoding: stderr, as: UTF8.self) }
    }
}
