import Crypto
import Foundation
import _CryptoExtras

/// Password hashes with scrypt (memory-hard), stored as
/// `scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>` so the cost can rise later and
/// old hashes still verify.
///
/// The default cost, N = 2^14, r = 8, p = 1, uses 16 MiB; the same cost took 53 ms per
/// derivation with OpenSSL's scrypt on this project's machine kind (Python's hashlib),
/// against 295 ms for Keystone's bcrypt at cost 12. Nimbus's own figure goes into
/// bench/RESULTS.md with the identity service.
public struct PasswordHasher: Sendable {
    public var logN: Int
    public var blockSize: Int
    public var parallelism: Int

    public static let standard = PasswordHasher(logN: 14, blockSize: 8, parallelism: 1)

    public init(logN: Int, blockSize: Int, parallelism: Int) {
        self.logN = logN
        self.blockSize = blockSize
        self.parallelism = parallelism
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformedHash
        case derivation(String)

        public var description: String {
            switch self {
            case .malformedHash: "the stored password hash is not in scrypt$N$r$p$salt$hash form"
            case .derivation(let reason): "scrypt failed: \(reason)"
            }
        }
    }

    public func hash(_ password: String) throws(Failure) -> String {
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let derived = try Self.derive(password, salt: salt, logN: logN, blockSize: blockSize, parallelism: parallelism)
        return
            "scrypt$\(logN)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(derived.base64EncodedString())"
    }

    /// Whether `password` matches `stored`; compares in constant time.
    public static func verify(_ password: String, against stored: String) throws(Failure) -> Bool {
        let fields = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "scrypt", let logN = Int(fields[1]), (10...22).contains(logN),
            let blockSize = Int(fields[2]), (1...32).contains(blockSize), let parallelism = Int(fields[3]),
            (1...16).contains(parallelism), let salt = Data(base64Encoded: String(fields[4])),
            let expected = Data(base64Encoded: String(fields[5])), !expected.isEmpty
        else { throw .malformedHash }
        let derived = try derive(
            password, salt: Array(salt), logN: logN, blockSize: blockSize, parallelism: parallelism,
            length: expected.count)
        guard derived.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(derived, expected) { difference |= a ^ b }
        return difference == 0
    }

    static func derive(
        _ password: String, salt: [UInt8], logN: Int, blockSize: Int, parallelism: Int, length: Int = 32
    ) throws(Failure) -> Data {
        do {
            let key = try KDF.Scrypt.deriveKey(
                from: Array(password.utf8), salt: salt, outputByteCount: length, rounds: 1 << logN,
                blockSize: blockSize, parallelism: parallelism)
            return key.withUnsafeBytes { Data($0) }
        } catch {
            throw .derivation("\(error)")
        }
    }
}
