import Foundation
import SSH
import Synchronization

/// How the rollout reaches hosts over SSH.
public struct SSHSettings: Sendable {
    public var user: String
    public var port: Int
    /// The private key (CONFIG_SSH_KEY without `.pub`).
    public var privateKey: String
    /// The public key, installed into root's authorized_keys after a password login.
    public var publicKey: String?
    public var knownHosts: String
    public var acceptNewHostKeys: Bool
    public var connectTimeout: Double
    /// Asks for a host's password when its key is refused (`--ask-password`); nil: never ask.
    public var password: (@Sendable (_ host: String, _ retry: Bool) -> String?)?

    public init(
        user: String = "root", port: Int = 22, privateKey: String, publicKey: String?, knownHosts: String,
        acceptNewHostKeys: Bool, connectTimeout: Double = 10,
        password: (@Sendable (_ host: String, _ retry: Bool) -> String?)? = nil
    ) {
        self.user = user
        self.port = port
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.knownHosts = knownHosts
        self.acceptNewHostKeys = acceptNewHostKeys
        self.connectTimeout = connectTimeout
        self.password = password
    }

    /// The private key beside a CONFIG_SSH_KEY public key (`id_ed25519.pub` → `id_ed25519`).
    public static func privateKey(forPublicKey path: String) -> String {
        path.hasSuffix(".pub") ? String(path.dropLast(4)) : path
    }

    /// Reaches a host: this machine's own addresses run locally, every other over SSH.
    public var connector: Rollout.Connect {
        { [self] host throws(ExecutorError) in
            if LocalExecutor.isLocal(host) { return LocalExecutor(host: host) }
            return try SSHExecutor(host: host, settings: self)
        }
    }
}

/// One SSH session per host (libssh2), kept for the whole run and reopened once when a
/// command finds it dropped.
public final class SSHExecutor: RemoteExecutor {
    public let host: String
    private let settings: SSHSettings
    private let session: Mutex<SSH.Session?>

    public init(host: String, settings: SSHSettings) throws(ExecutorError) {
        self.host = host
        self.settings = settings
        session = Mutex(nil)
        let opened = try Self.open(host: host, settings: settings)
        session.withLock { $0 = opened }
    }

    static func open(host: String, settings: SSHSettings) throws(ExecutorError) -> SSH.Session {
        let policy = SSH.HostKeyPolicy(knownHosts: settings.knownHosts, acceptNew: settings.acceptNewHostKeys)
        let session: SSH.Session
        do {
            session = try SSH.Session(
                host: host, port: settings.port, user: settings.user, policy: policy, timeout: settings.connectTimeout)
        } catch {
            switch error {
            case .hostKeyUnknown:
                throw ExecutorError("\(error.description); run with --accept-new-host-keys to trust and record it")
            default: throw ExecutorError(error.description)
            }
        }
        do {
            try session.authenticate(privateKey: settings.privateKey)
            return session
        } catch {
            guard let ask = settings.password else {
                session.close()
                throw ExecutorError(
                    "\(error.description); install the key (ssh-copy-id) or run with --ask-password to have Nimbus install it"
                )
            }
            try withPassword(session, host: host, settings: settings, ask: ask)
            return session
        }
    }

    /// Logs in with a password (asked once, again only if refused) and installs the public key.
    private static func withPassword(
        _ session: SSH.Session, host: String, settings: SSHSettings,
        ask: @Sendable (_ host: String, _ retry: Bool) -> String?
    ) throws(ExecutorError) {
        var retry = false
        while true {
            guard let password = ask(host, retry) else {
                session.close()
                throw ExecutorError("authentication as \(settings.user) failed: no password given")
            }
            do {
                try session.authenticate(password: password)
                break
            } catch {
                if retry {
                    session.close()
                    throw ExecutorError(error.description)
                }
                retry = true
            }
        }
        guard let key = settings.publicKey?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else {
            return
        }
        let install = """
            umask 077; mkdir -p ~/.ssh && touch ~/.ssh/authorized_keys &&
            { grep -qxF "$(cat)" ~/.ssh/authorized_keys 2>/dev/null || printf '%s\\n' \(SSH.shellQuoted(key)) >> ~/.ssh/authorized_keys; }
            """
        do {
            let output = try session.run(install, input: Data(key.utf8), timeout: 30)
            if output.status != 0 {
                throw ExecutorError("cannot install the SSH key: \(output.standardError)")
            }
        } catch {
            throw ExecutorError("cannot install the SSH key: \(error)")
        }
    }

    public func run(_ command: String, input: String?, timeout: Double) throws(ExecutorError) -> ExecutionOutput {
        let data = input.map { Data($0.utf8) }
        for attempt in 0..<2 {
            guard let current = session.withLock({ $0 }) else { throw ExecutorError("the SSH session is closed") }
            do {
                let output = try current.run(command, input: data, timeout: timeout)
                return ExecutionOutput(
                    status: output.status, stdout: output.standardOutput, stderr: output.standardError)
            } catch {
                switch error {
                case .timeout:
                    throw ExecutorError("timed out after \(Int(timeout)) s (the step may still be running on the host)")
                case .channel, .closed:
                    guard attempt == 0 else { throw ExecutorError(error.description) }
                    try reconnect(timeout: settings.connectTimeout)
                default:
                    throw ExecutorError(error.description)
                }
            }
        }
        throw ExecutorError("the SSH connection dropped twice")
    }

    /// Writes `data` to `path` over SFTP (atomically: a temporary name, then renamed). A
    /// failure other than a timeout is tried once more on a new connection: a session the
    /// host dropped during an earlier quiet command (its keepalive failed) cannot start
    /// SFTP, and the write is safe to repeat.
    public func upload(_ data: Data, to path: String, mode: Int32, timeout: Double) throws(ExecutorError) {
        for attempt in 0..<2 {
            guard let current = session.withLock({ $0 }) else { throw ExecutorError("the SSH session is closed") }
            do {
                try current.write(data, to: path, mode: mode, timeout: timeout)
                return
            } catch {
                if case .timeout = error { throw ExecutorError("cannot upload \(path): \(error.description)") }
                guard attempt == 0 else { throw ExecutorError("cannot upload \(path): \(error.description)") }
                do { try reconnect(timeout: settings.connectTimeout) } catch {
                    throw ExecutorError("cannot upload \(path): the connection dropped and \(error.description)")
                }
            }
        }
    }

    public func reconnect(timeout: Double) throws(ExecutorError) {
        var settings = self.settings
        settings.connectTimeout = timeout
        settings.password = nil
        session.withLock { $0?.close() }
        let opened = try Self.open(host: host, settings: settings)
        session.withLock { $0 = opened }
    }

    public func close() {
        session.withLock {
            $0?.close()
            $0 = nil
        }
    }
}
