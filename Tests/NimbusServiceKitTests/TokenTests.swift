import Crypto
import Foundation
import Testing

@testable import NimbusServiceKit

@Suite("Tokens")
struct TokenTests {
    let ring = TokenKeyRing(keys: [.init(id: 7, key: SymmetricKey(size: .bits256))])
    let claims = TokenClaims(
        userID: "0123456789abcdef0123456789abcdef", scope: .project("fedcba9876543210fedcba9876543210"),
        methods: [.password], issuedAt: 1_800_000_000, expiresAt: 1_800_003_600,
        auditID: Array(0..<16))

    @Test("base64url: every length round-trips and matches Foundation's alphabet; padding and stray bits are refused")
    func base64URL() {
        for length in 0...40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            let foundation = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(text == foundation)
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.decode("AA==") == nil)
        #expect(Base64URL.decode("A") == nil)
        #expect(Base64URL.decode("AB") == nil)  // the last 4 bits are not zero
        #expect(Base64URL.decode("a+b/") == nil)
    }

    @Test("Sealed claims open to the same claims, and the token is short")
    func roundTrip() throws {
        let token = try TokenCodec.seal(claims, with: ring)
        #expect(token.hasPrefix("n1"))
        #expect(token.count < 140)
        #expect(try TokenCodec.open(token, with: ring, now: 1_800_000_100) == claims)
        #expect(claims.methods.names == ["password"])
    }

    @Test("An id starting with ff survives (it once read as a short name), and an unsealable id is refused")
    func ffIDs() throws {
        var claims = claims
        claims.userID = "ff9192daa5234352821f400154dbb8bf"
        claims.scope = .project("ffffffffffffffffffffffffffffffff")
        let token = try TokenCodec.seal(claims, with: ring)
        #expect(try TokenCodec.open(token, with: ring, now: 1_800_000_100) == claims)
        claims.userID = "a-name-longer-than-sixteen-bytes"
        #expect(throws: TokenCodec.Failure.self) { _ = try TokenCodec.seal(claims, with: ring) }
    }

    @Test("Short ids (the Default domain's 'default') and every scope survive")
    func scopes() throws {
        for scope in [TokenClaims.Scope.unscoped, .domain("default"), .system, .project(claims.userID)] {
            var scoped = claims
            scoped.scope = scope
            scoped.methods = [.password, .token]
            let token = try TokenCodec.seal(scoped, with: ring)
            #expect(try TokenCodec.open(token, with: ring, now: 1_800_000_000) == scoped)
        }
    }

    @Test("Expired, tampered, foreign and garbage tokens are refused, each for its reason")
    func refusals() throws {
        let token = try TokenCodec.seal(claims, with: ring)
        #expect(throws: TokenCodec.Failure.expired) { try TokenCodec.open(token, with: ring, now: 1_800_003_600) }
        var bytes = Array(token.utf8)
        bytes[40] = bytes[40] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: TokenCodec.Failure.forged) {
            try TokenCodec.open(String(decoding: bytes, as: UTF8.self), with: ring, now: 1_800_000_000)
        }
        let other = TokenKeyRing(keys: [.init(id: 7, key: SymmetricKey(size: .bits256))])
        #expect(throws: TokenCodec.Failure.forged) { try TokenCodec.open(token, with: other, now: 1_800_000_000) }
        let rotatedAway = TokenKeyRing(keys: [.init(id: 8, key: SymmetricKey(size: .bits256))])
        #expect(throws: TokenCodec.Failure.unknownKey) {
            try TokenCodec.open(token, with: rotatedAway, now: 1_800_000_000)
        }
        #expect(throws: TokenCodec.Failure.malformed) { try TokenCodec.open("gAAAAAB", with: ring, now: 0) }
        #expect(throws: TokenCodec.Failure.malformed) { try TokenCodec.open("n1!!!", with: ring, now: 0) }
    }

    @Test("Rotation: the new key seals, tokens of kept keys still open, the oldest goes")
    func rotation() throws {
        let directory = NSTemporaryDirectory() + "keys-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repository = TokenKeyRepository(directory: directory)
        let first = try repository.load()
        #expect(first.keys.map(\.id) == [1])
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(directory)/1.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let old = try TokenCodec.seal(claims, with: first)
        try repository.rotate(keep: 2)
        let second = try repository.load()
        #expect(second.primary.id == 2)
        #expect(try TokenCodec.open(old, with: second, now: 1_800_000_000) == claims)
        try repository.rotate(keep: 2)
        let third = try repository.load()
        #expect(third.keys.map(\.id) == [3, 2])
        #expect(throws: TokenCodec.Failure.unknownKey) { try TokenCodec.open(old, with: third, now: 1_800_000_000) }
    }
}
