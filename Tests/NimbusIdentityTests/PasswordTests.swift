import Crypto
import Foundation
import Testing

@testable import NimbusIdentity

@Suite("Passwords")
struct PasswordTests {
    let hasher = PasswordHasher(logN: 10, blockSize: 8, parallelism: 1)

    @Test("A hash verifies its password only; salts differ")
    func verify() throws {
        let stored = try hasher.hash("s3cret pässword")
        #expect(stored.hasPrefix("scrypt$10$8$1$"))
        #expect(try PasswordHasher.verify("s3cret pässword", against: stored))
        #expect(try !PasswordHasher.verify("s3cret password", against: stored))
        #expect(try !PasswordHasher.verify("", against: stored))
        #expect(try hasher.hash("s3cret pässword") != stored)
    }

    @Test("The standard cost verifies too, and malformed hashes are refused")
    func standardAndMalformed() throws {
        let stored = try PasswordHasher.standard.hash("admin")
        #expect(stored.hasPrefix("scrypt$14$8$1$"))
        #expect(try PasswordHasher.verify("admin", against: stored))
        for bad in ["", "bcrypt$12$x", "scrypt$40$8$1$AA==$AA==", "scrypt$14$8$1$!!$AA=="] {
            #expect(throws: PasswordHasher.Failure.malformedHash) { try PasswordHasher.verify("x", against: bad) }
        }
    }
}
