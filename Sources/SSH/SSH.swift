import CLibSSH2
import Foundation

/// A small owner of libssh2: sessions with host-key checking, commands on channels,
/// files over SFTP. Knows nothing of clouds or deployments.
public enum SSH {}

extension SSH {
    /// What went wrong, with the library's own message where it gave one.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case connect(host: String, port: Int, reason: String)
        case handshake(String)
        /// No known_hosts entry for the host, and new keys are not accepted.
        case hostKeyUnknown(host: String, fingerprint: String, knownHosts: String)
        /// The host presents another key than known_hosts records: never accepted.
        case hostKeyChanged(host: String, expected: String, presented: String, knownHosts: String)
        case authentication(user: String, reason: String)
        case channel(String)
        case sftp(path: String, reason: String)
        case timeout(String)
        case closed

        public var description: String {
            switch self {
            case .connect(let host, let port, let reason): "cannot connect to \(host):\(port): \(reason)"
            case .handshake(let reason): "SSH handshake failed: \(reason)"
            case .hostKeyUnknown(let host, let fingerprint, let knownHosts):
                "\(host) is not in \(knownHosts) (its key is \(fingerprint)); check it, then accept it with --accept-new-host-keys"
            case .hostKeyChanged(let host, let expected, let presented, let knownHosts):
                "\(host) presents a different host key than \(knownHosts) records: expected \(expected), got \(presented). Refused: if the host was reinstalled, remove its line from \(knownHosts)"
            case .authentication(let user, let reason): "authentication as \(user) failed: \(reason)"
            case .channel(let reason): "command channel: \(reason)"
            case .sftp(let path, let reason): "\(path): \(reason)"
            case .timeout(let what): "timed out: \(what)"
            case .closed: "the SSH session is closed"
            }
        }
    }

    /// libssh2_init, once per process (thread-safe after it ran).
    static let initialized: Bool = libssh2_init(0) == 0

    /// `SHA256:<base64 without padding>`, as OpenSSH prints fingerprints.
    static func fingerprint(sha256 bytes: some Sequence<UInt8>) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return "SHA256:" + text
    }
}
