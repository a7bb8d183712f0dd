import Foundation
import Glibc
import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// The object storage service (Swift v1): accounts `AUTH_<project id>`, containers and
/// objects. The index is SQLite; each object's bytes are one immutable file under
/// `dataDirectory`, written to `tmp/` first, fsynced and renamed into place (the directory
/// fsynced too) before its row is committed, so an object is either all there or not there.
public struct ObjectAPI: Sendable {
    let store: ObjectStore
    let validator: TokenValidator
    /// `objects/<2 hex>/<id>` and `tmp/`.
    let dataDirectory: String
    let limits: Limits
    /// Microseconds since 1970.
    let clock: @Sendable () -> Int64

    /// Swift's constraints (published by `/info`).
    public struct Limits: Sendable {
        public var maxFileSize: Int64 = 5 << 30
        public var maxMetaNameLength = 128
        public var maxMetaValueLength = 256
        public var maxMetaCount = 90
        public var maxMetaOverallSize = 4096
        public var maxObjectNameLength = 1024
        public var maxContainerNameLength = 256
        public var listingLimit = 10_000
        public var maxManifestSegments = 1000
        public var maxManifestSize = 8 << 20
        public init() {}
    }

    /// Roles that make a project's user an operator of its account (keystoneauth's
    /// `operator_roles`), and the role that may act on every account.
    static let operatorRoles: Set = ["admin", "manager", "member", "swiftoperator", "_member_"]
    static let resellerRole = "resellerAdmin".lowercased()

    public init(
        store: ObjectStore, validator: TokenValidator, dataDirectory: String, limits: Limits = Limits(),
        clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1_000_000) }
    ) throws {
        self.store = store
        self.validator = validator
        self.dataDirectory = dataDirectory
        self.limits = limits
        self.clock = clock
        for directory in ["tmp", "objects"] {
            try FileManager.default.createDirectory(
                atPath: "\(dataDirectory)/\(directory)", withIntermediateDirectories: true)
        }
    }

    // MARK: Paths

    /// `/v1/<account>[/<container>[/<object>]]`, percent-decoded; the object keeps its slashes.
    struct Target: Sendable {
        var account: String
        var container: String?
        var object: String?

        var project: String { String(account.dropFirst(5)) }

        /// The container's name, on a path that has one (the routes only call this there).
        func containerName() throws -> String {
            guard let container else { throw SwiftFault.notFound }
            return container
        }

        /// The object's name, on a path that has one.
        func objectName() throws -> String {
            guard let object else { throw SwiftFault.notFound }
            return object
        }
    }

    static func target(_ path: String) throws -> Target {
        guard path.hasPrefix("/v1/") else { throw SwiftFault.notFound }
        let parts = path.dropFirst(4).split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        func decode(_ part: Substring) throws -> String {
            guard let text = String(part).removingPercentEncoding, !text.contains("\0") else {
                throw SwiftFault(.preconditionFailed, "Invalid UTF8 or contains NULL")
            }
            return text
        }
        let account = try decode(parts[0])
        guard !account.isEmpty else { throw SwiftFault.notFound }
        let container = parts.count > 1 && !parts[1].isEmpty ? try decode(parts[1]) : nil
        let object = parts.count > 2 && !parts[2].isEmpty ? try decode(parts[2]) : nil
        if container == nil, object != nil { throw SwiftFault.notFound }
        return Target(account: account, container: container, object: object)
    }

    func objectPath(_ file: String) -> String { "\(dataDirectory)/objects/\(file.prefix(2))/\(file)" }
    func temporaryPath() -> String { "\(dataDirectory)/tmp/\(UUID().uuidString)" }

    /// A new data file's name; its directory is made on first use (and `objects/` fsynced,
    /// so the new directory survives a power loss as the files renamed into it do).
    func newFile() throws -> String {
        let file = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let directory = "\(dataDirectory)/objects/\(file.prefix(2))"
        if Glibc.access(directory, F_OK) != 0 {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try DataFile.syncDirectory("\(dataDirectory)/objects")
        }
        return file
    }

    // MARK: Who may do what

    /// What the caller may do in the account; container ACLs may allow more.
    struct Access: Sendable {
        var caller: Caller?
        var account: String
        /// An operator of the account, or a reseller admin.
        var isOwner = false
        var isReseller = false
        /// A reader of the account's project: may look, not change.
        var isReader = false

        var canRead: Bool { isOwner || isReader }

        /// The refusal for a caller not allowed: 401 without a (valid) token, else 403.
        var refusal: SwiftFault { caller == nil ? .unauthorized(account: account) : .forbidden }

        /// Whether `acl` (an `X-Container-Read` or `-Write` value) names this caller.
        func named(in acl: String?) -> Bool {
            guard let caller, let acl else { return false }
            for entry in ACL.entries(acl) where !entry.hasPrefix(".") {
                let parts = entry.split(separator: ":", maxSplits: 1).map(String.init)
                if parts.count == 2 {
                    let project = parts[0]
                    let user = parts[1]
                    let projectMatches =
                        project == "*" || project == caller.projectID || project == caller.projectName
                    let userMatches = user == "*" || user == caller.userID || user == caller.userName
                    if projectMatches, userMatches { return true }
                } else if caller.roles.contains(where: { $0.lowercased() == entry.lowercased() }) {
                    return true
                }
            }
            return false
        }
    }

    func access(_ request: Request, _ target: Target) async throws -> Access {
        var access = Access(account: target.account)
        guard let token = request.headers[.xAuthToken] ?? request.header("X-Storage-Token"), !token.isEmpty else {
            return access
        }
        do {
            access.caller = try await validator.caller(token: token)
        } catch let error as TokenValidator.Unavailable {
            throw SwiftFault(.serviceUnavailable, "\(error)")
        }
        guard let caller = access.caller else { return access }
        let roles = Set(caller.roles.map { $0.lowercased() })
        if roles.contains(Self.resellerRole) {
            access.isOwner = true
            access.isReseller = true
        } else if target.account.hasPrefix("AUTH_"), caller.projectID == target.project {
            access.isOwner = !roles.isDisjoint(with: Self.operatorRoles)
            access.isReader = roles.contains("reader")
        }
        return access
    }

    // MARK: Metadata

    /// `x-object-meta-color` → `X-Object-Meta-Color`.
    static func canonical(_ name: String) -> String {
        name.split(separator: "-", omittingEmptySubsequences: false).map { part in
            part.prefix(1).uppercased() + part.dropFirst().lowercased()
        }.joined(separator: "-")
    }

    /// The value standing for "remove this key" (`X-Remove-…-Meta-…`; no header value can be it).
    static let removal = "\u{0}"

    /// The user metadata headers of a request under `prefix` (`X-Container-Meta-`), checked
    /// against the limits; `X-Remove-…` headers come back as `removal`.
    func metadataHeaders(_ request: Request, prefix: String) throws -> Metadata {
        var found: Metadata = [:]
        let lowered = prefix.lowercased()
        let removal = "x-remove-" + lowered.dropFirst(2)
        for field in request.headers {
            let name = field.name.canonicalName
            if name.hasPrefix(lowered) {
                let key = String(name.dropFirst(lowered.count))
                guard !key.isEmpty else { throw SwiftFault.badRequest("Metadata name cannot be empty") }
                guard key.utf8.count <= limits.maxMetaNameLength else {
                    throw SwiftFault.badRequest("Metadata name too long; max \(limits.maxMetaNameLength)")
                }
                guard field.value.utf8.count <= limits.maxMetaValueLength else {
                    throw SwiftFault.badRequest("Metadata value longer than \(limits.maxMetaValueLength)")
                }
                found[Self.canonical(name)] = field.value
            } else if name.hasPrefix(removal) {
                let key = String(name.dropFirst(removal.count))
                if !key.isEmpty, found[Self.canonical(lowered + key)] == nil {
                    found[Self.canonical(lowered + key)] = Self.removal
                }
            }
        }
        return found
    }

    /// `stored` with `changes` applied, checked against the limits. An empty value removes the
    /// key from accounts and containers; objects keep it (`keepEmpty`), as Swift does.
    func merged(_ stored: Metadata, _ changes: Metadata, prefix: String, keepEmpty: Bool = false) throws -> Metadata {
        var result = stored
        for (key, value) in changes {
            result[key] = value == Self.removal || (value.isEmpty && !keepEmpty) ? nil : value
        }
        let user = result.filter { $0.key.hasPrefix(prefix) }
        guard user.count <= limits.maxMetaCount else {
            throw SwiftFault.badRequest("Too many metadata items; max \(limits.maxMetaCount)")
        }
        let size = user.reduce(0) { $0 + $1.key.utf8.count - prefix.utf8.count + $1.value.utf8.count }
        guard size <= limits.maxMetaOverallSize else {
            throw SwiftFault.badRequest("Total metadata too large; max \(limits.maxMetaOverallSize)")
        }
        return result
    }

    // MARK: Times and answers

    /// `1732271850.10606`.
    static func xTimestamp(_ micros: Int64) -> String {
        let tenths = (micros + 5) / 10
        let fraction = String(tenths % 100_000)
        return "\(tenths / 100_000).\(String(repeating: "0", count: 5 - fraction.count))\(fraction)"
    }

    /// The whole second at or after the timestamp, as an HTTP date (Swift rounds up).
    static func lastModified(_ micros: Int64) -> String { HTTPDate.format(lastModifiedSeconds(micros)) }

    static func lastModifiedSeconds(_ micros: Int64) -> Int64 {
        let tenths = (micros + 5) / 10
        return tenths / 100_000 + (tenths % 100_000 == 0 ? 0 : 1)
    }

    /// `2026-11-22T10:37:30.106060` (listings: microseconds, no zone).
    static func listingTime(_ micros: Int64) -> String {
        let tenths = (micros + 5) / 10
        let fraction = String((tenths % 100_000) * 10)
        return Timestamp.utc(tenths / 100_000) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    static func isTrue(_ value: String?) -> Bool {
        guard let value = value?.lowercased() else { return false }
        return ["true", "1", "yes", "on", "t", "y"].contains(value)
    }

    /// Hummingbird's JSON/plain answers with the headers every Swift answer carries.
    static func answer(
        _ status: HTTPResponse.Status, headers: HTTPFields = [:], body: [UInt8] = [],
        contentType: String = "text/html; charset=UTF-8"
    ) -> Response {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = contentType }
        headers[.contentLength] = String(body.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Container ACL values: `X-Container-Read: .r:*,.rlistings,project:user`.
enum ACL {
    static func entries(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The value as stored: entries trimmed, checked (400 for what Swift refuses).
    static func clean(_ value: String, read: Bool) throws -> String {
        var cleaned: [String] = []
        for entry in entries(value) {
            if entry.hasPrefix(".") {
                guard read else { throw SwiftFault.badRequest("Referrers not allowed in write ACL: \"\(entry)\"") }
                if entry == ".rlistings" {
                    cleaned.append(entry)
                } else if entry.hasPrefix(".r:") || entry.hasPrefix(".ref:") || entry.hasPrefix(".referer:")
                    || entry.hasPrefix(".referrer:")
                {
                    let host = entry[entry.index(after: entry.firstIndex(of: ":")!)...]
                    guard !host.isEmpty, host != "-" else {
                        throw SwiftFault.badRequest(
                            "No host/domain value after referrer designation in ACL: \"\(entry)\"")
                    }
                    cleaned.append(".r:" + host)
                } else {
                    throw SwiftFault.badRequest("Unknown designator \"\(entry)\" in ACL \"\(value)\"")
                }
            } else {
                cleaned.append(entry)
            }
        }
        return cleaned.joined(separator: ",")
    }

    /// Whether `.r:*` is in the ACL (any referrer, that is anyone, may read objects).
    static func allowsAnyone(_ acl: String?) -> Bool {
        guard let acl else { return false }
        return entries(acl).contains(".r:*")
    }

    static func allowsListing(_ acl: String?) -> Bool {
        guard let acl else { return false }
        return allowsAnyone(acl) && entries(acl).contains(".rlistings")
    }
}

/// RFC 9110 dates (`Sun, 06 Nov 1994 08:49:37 GMT`).
enum HTTPDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// Seconds since 1970, or nil for anything but the RFC 9110 form.
    static func parse(_ text: String) -> Int64? {
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[5] == "GMT", let day = Int32(fields[1]),
            let month = months.firstIndex(of: String(fields[2])), let year = Int32(fields[3])
        else { return nil }
        let clock = fields[4].split(separator: ":").compactMap { Int32($0) }
        guard clock.count == 3 else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = Int32(month)
        parts.tm_mday = day
        (parts.tm_hour, parts.tm_min, parts.tm_sec) = (clock[0], clock[1], clock[2])
        return Int64(timegm(&parts))
    }
}
