import Crypto
import Foundation

/// What a token says: who, scoped to what, how authenticated, until when. Every service
/// decodes it locally with the shared key ring; nothing else is looked up to trust it.
public struct TokenClaims: Sendable, Equatable {
    public enum Scope: Sendable, Equatable {
        case unscoped
        case project(String)
        case domain(String)
        case system
    }

    public struct Methods: OptionSet, Sendable, Equatable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let password = Methods(rawValue: 1)
        public static let token = Methods(rawValue: 2)

        public var names: [String] {
            (contains(.password) ? ["password"] : []) + (contains(.token) ? ["token"] : [])
        }
    }

    /// A 32-hex-digit id (Keystone's form).
    public var userID: String
    public var scope: Scope
    public var methods: Methods
    /// Milliseconds since 1970: a password change revokes what was issued before it, even
    /// within the same second.
    public var issuedAt: Int64
    /// Whole seconds since 1970.
    public var expiresAt: Int64
    /// 16 random bytes naming this token (and the tokens rescoped from it) for revocation.
    public var auditID: [UInt8]

    public init(
        userID: String, scope: Scope, methods: Methods, issuedAt: Int64, expiresAt: Int64, auditID: [UInt8]
    ) {
        self.userID = userID
        self.scope = scope
        self.methods = methods
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.auditID = auditID
    }

    /// The project or domain id of the scope.
    public var scopeID: String? {
        switch scope {
        case .project(let id), .domain(let id): id
        case .unscoped, .system: nil
        }
    }

    /// Keystone's `audit_ids` form: URL-safe base64 without padding.
    public var auditIDText: String { Base64URL.encode(auditID) }
}

/// The symmetric keys tokens are sealed with: the newest seals, every one opens, so keys
/// can rotate while tokens issued under the previous ones stay valid until they expire.
public struct TokenKeyRing: Sendable {
    public struct Key: Sendable {
        public var id: UInt32
        public var key: SymmetricKey

        public init(id: UInt32, key: SymmetricKey) {
            self.id = id
            self.key = key
        }
    }

    /// Newest first.
    public let keys: [Key]

    public init(keys: [Key]) {
        precondition(!keys.isEmpty, "a key ring needs a key")
        self.keys = keys.sorted { $0.id > $1.id }
    }

    public var primary: Key { keys[0] }
}

/// Tokens as `n1` + URL-safe base64 of key id (4 bytes), AES-256-GCM nonce (12), the
/// sealed claims and the tag (16): about 135 characters, against Fernet's ~180.
public enum TokenCodec {
    public static let prefix = "n1"

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed
        case unknownKey
        case forged
        case expired

        public var description: String {
            switch self {
            case .malformed: "the token is not a Nimbus token"
            case .unknownKey: "the token was sealed with a key this service no longer has"
            case .forged: "the token does not authenticate"
            case .expired: "the token has expired"
            }
        }
    }

    public static func seal(_ claims: TokenClaims, with ring: TokenKeyRing) throws -> String {
        for id in [claims.userID, claims.scopeID].compactMap({ $0 }) where !sealable(id) {
            throw Failure.malformed
        }
        let key = ring.primary
        let header = Array(prefix.utf8) + bigEndian(key.id)
        let sealed = try AES.GCM.seal(encode(claims), using: key.key, authenticating: header)
        return prefix + Base64URL.encode(bigEndian(key.id) + Array(sealed.nonce) + sealed.ciphertext + sealed.tag)
    }

    /// The claims of a token sealed with any key of `ring`, unless it has expired at `now`.
    public static func open(_ token: String, with ring: TokenKeyRing, now: Int64) throws(Failure) -> TokenClaims {
        guard token.hasPrefix(prefix), let bytes = Base64URL.decode(token.dropFirst(prefix.count)),
            bytes.count > 4 + 12 + 16
        else { throw .malformed }
        let id = bytes[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard let key = ring.keys.first(where: { $0.id == id }) else { throw .unknownKey }
        let plain: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: bytes[4..<16]), ciphertext: bytes[16..<(bytes.count - 16)],
                tag: bytes[(bytes.count - 16)...])
            plain = try AES.GCM.open(box, using: key.key, authenticating: Array(prefix.utf8) + bigEndian(id))
        } catch {
            throw .forged
        }
        guard let claims = decode(Array(plain)) else { throw .malformed }
        guard claims.expiresAt > now else { throw .expired }
        return claims
    }

    // MARK: Claims layout: version 2, user id (17), scope kind (1) + id (17), methods (1),
    // issued (8), expires (8), audit id (16). An id is a tag byte (0: 32 hex digits as 16
    // bytes; 1: a short name, UTF-8, zero-padded) and 16 bytes.

    static func encode(_ claims: TokenClaims) -> [UInt8] {
        var out: [UInt8] = [2]
        out += hexBytes(claims.userID)
        switch claims.scope {
        case .unscoped: out += [0] + [UInt8](repeating: 0, count: 17)
        case .project(let id): out += [1] + hexBytes(id)
        case .domain(let id): out += [2] + hexBytes(id)
        case .system: out += [3] + [UInt8](repeating: 0, count: 17)
        }
        out.append(claims.methods.rawValue)
        out += bigEndian(UInt64(bitPattern: claims.issuedAt)) + bigEndian(UInt64(bitPattern: claims.expiresAt))
        out += claims.auditID.count == 16 ? claims.auditID : [UInt8](repeating: 0, count: 16)
        return out
    }

    static func decode(_ bytes: [UInt8]) -> TokenClaims? {
        guard bytes.count == 1 + 17 + 18 + 1 + 8 + 8 + 16, bytes[0] == 2 else { return nil }
        let user = hexText(bytes[1..<18])
        let scopeID = hexText(bytes[19..<36])
        let scope: TokenClaims.Scope
        switch bytes[18] {
        case 0: scope = .unscoped
        case 1: scope = .project(scopeID)
        case 2: scope = .domain(scopeID)
        case 3: scope = .system
        default: return nil
        }
        func int64(_ slice: ArraySlice<UInt8>) -> Int64 {
            Int64(bitPattern: slice.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        return TokenClaims(
            userID: user, scope: scope, methods: .init(rawValue: bytes[36]), issuedAt: int64(bytes[37..<45]),
            expiresAt: int64(bytes[45..<53]), auditID: Array(bytes[53..<69]))
    }

    /// Ids are 32 lowercase hex digits, or short names of at most 16 bytes such as
    /// `default` (the Default domain's id); anything else cannot go into a token.
    static func hexBytes(_ id: String) -> [UInt8] {
        let utf8 = Array(id.utf8)
        if utf8.count == 32, id == id.lowercased(), let bytes = parseHex(utf8) { return [0] + bytes }
        return [1] + utf8.prefix(16) + [UInt8](repeating: 0, count: max(0, 16 - utf8.count))
    }

    static func hexText(_ bytes: ArraySlice<UInt8>) -> String {
        guard let tag = bytes.first else { return "" }
        let body = bytes.dropFirst()
        if tag == 1 { return String(decoding: body.prefix { $0 != 0 }, as: UTF8.self) }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in body { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether an id survives the token layout unchanged.
    static func sealable(_ id: String) -> Bool { hexText(hexBytes(id)[...]) == id }

    static func parseHex(_ utf8: [UInt8]) -> [UInt8]? {
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }
}

/// URL-safe base64 without padding (tokens travel in headers and URLs).
/// Unpadded base64url (RFC 4648 §5), byte by byte: every token check decodes one or two,
/// and Foundation's base64 plus character replacement was a tenth of a validation's time.
public enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            out.append(alphabet[Int(group >> 6 & 63)])
            out.append(alphabet[Int(group & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let group = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out += [alphabet[Int(group >> 18 & 63)], alphabet[Int(group >> 12 & 63)]]
            if rest == 2 { out.append(alphabet[Int(group >> 6 & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil for anything but unpadded base64url whose unused trailing bits are zero.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard accumulator == 0 else { return nil }
        return out
    }
}
