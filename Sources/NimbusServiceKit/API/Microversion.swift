import HTTPTypes
import Hummingbird

/// An API microversion, `MAJOR.MINOR` (`2.96`, `3.71`), ordered numerically.
public struct Microversion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `2.96`; nil for anything else (`2`, `2.x`, `02.1` is accepted as 2.1 as Nova does).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2,
            parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let major = Int(parts[0]), let minor = Int(parts[1])
        else { return nil }
        self.init(major, minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: Microversion, rhs: Microversion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}

/// How one service negotiates microversions: the service name in `OpenStack-API-Version`
/// (`compute`, `volume`), the legacy header it also honours, and the versions it serves.
public struct MicroversionPolicy: Sendable {
    public var service: String
    public var legacyHeader: HTTPField.Name?
    public var minimum: Microversion
    public var maximum: Microversion

    public init(service: String, legacyHeader: HTTPField.Name? = nil, minimum: Microversion, maximum: Microversion) {
        precondition(minimum <= maximum)
        self.service = service
        self.legacyHeader = legacyHeader
        self.minimum = minimum
        self.maximum = maximum
    }

    /// Why a request's version cannot be served, worded as Nova and Cinder word it.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// 400: the header's value is not `MAJOR.MINOR` or `latest`.
        case malformed(String)
        /// 406: outside the served range.
        case unsupported(Microversion, minimum: Microversion, maximum: Microversion)

        public var status: HTTPResponse.Status { if case .malformed = self { .badRequest } else { .notAcceptable } }

        public var description: String {
            switch self {
            case .malformed(let text):
                "API Version String \(text) is of invalid format. Must be of format MajorNum.MinorNum."
            case .unsupported(let version, let minimum, let maximum):
                "Version \(version) is not supported by the API. Minimum is \(minimum) and maximum is \(maximum)."
            }
        }
    }

    /// The version a request asks for: `OpenStack-API-Version: <service> X.Y` (the entry for
    /// this service in a comma-separated list), else the legacy header, else the minimum;
    /// `latest` is the maximum.
    public func negotiate(_ headers: HTTPFields) throws(Failure) -> Microversion {
        var requested: String?
        for value in headers[values: .openStackAPIVersion] {
            for entry in value.split(separator: ",") {
                let words = entry.split(separator: " ", omittingEmptySubsequences: true)
                if words.count == 2, words[0].lowercased() == service { requested = String(words[1]) }
            }
        }
        if requested == nil, let legacyHeader, let legacy = headers[legacyHeader] {
            requested = legacy.trimmingCharacters(in: .whitespaces)
        }
        guard let requested else { return minimum }
        if requested.lowercased() == "latest" { return maximum }
        guard let version = Microversion(requested) else { throw .malformed(requested) }
        guard version >= minimum, version <= maximum else {
            throw .unsupported(version, minimum: minimum, maximum: maximum)
        }
        return version
    }

    /// The headers every microversioned answer carries: the version served, under both
    /// names, and `Vary` so caches keep answers of different versions apart.
    public func echo(_ version: Microversion, into headers: inout HTTPFields) {
        headers[.openStackAPIVersion] = "\(service) \(version)"
        var vary = "OpenStack-API-Version"
        if let legacyHeader {
            headers[legacyHeader] = version.description
            vary += ", " + legacyHeader.rawName
        }
        headers[.vary] = vary
    }
}

/// Negotiates the microversion of every request under the service's versioned paths,
/// leaves it in `context.microversion`, and echoes it on the answer (errors included).
/// A version the service cannot serve is answered by `fault` before any route runs.
public struct MicroversionMiddleware: RouterMiddleware {
    public typealias Context = ServiceContext
    let policy: MicroversionPolicy
    let pathPrefix: String
    let fault: @Sendable (MicroversionPolicy.Failure) -> any ServiceFault

    /// - Parameters:
    ///   - pathPrefix: the versioned API's paths (`/v2.1`); version documents elsewhere are
    ///     not negotiated.
    ///   - fault: the service's own error body for a refused version.
    public init(
        policy: MicroversionPolicy, pathPrefix: String,
        fault: @escaping @Sendable (MicroversionPolicy.Failure) -> any ServiceFault
    ) {
        self.policy = policy
        self.pathPrefix = pathPrefix
        self.fault = fault
    }

    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path == pathPrefix || request.uri.path.hasPrefix(pathPrefix + "/") else {
            return try await next(request, context)
        }
        let version: Microversion
        do { version = try policy.negotiate(request.headers) } catch { throw fault(error) }
        var context = context
        context.microversion = version
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any ServiceFault {
            response = error.response
        }
        policy.echo(version, into: &response.headers)
        return response
    }
}
