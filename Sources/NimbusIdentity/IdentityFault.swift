import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// Keystone's error body, `{"error": {"code", "message", "title"}}`, with the status it
/// goes with; 401s carry `WWW-Authenticate: Keystone uri="…"` as Keystone's do.
public struct IdentityFault: ServiceFault, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var authenticateURI: String?

    public init(_ status: HTTPResponse.Status, _ message: String, authenticateURI: String? = nil) {
        self.status = status
        self.message = message
        self.authenticateURI = authenticateURI
    }

    public var description: String { "\(status.code) \(message)" }

    public var title: String {
        switch status.code {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Request Entity Too Large"
        case 500: "Internal Server Error"
        default: status.reasonPhrase
        }
    }

    public var response: Response {
        var headers: HTTPFields = [:]
        if let authenticateURI { headers[.wwwAuthenticate] = "Keystone uri=\"\(authenticateURI)\"" }
        let body: JSON = [
            "error": ["code": .int(Int64(status.code)), "message": .string(message), "title": .string(title)]
        ]
        return .json(body, status: status, headers: headers)
    }

    static func notFound(_ kind: String, _ id: String) -> IdentityFault {
        IdentityFault(.notFound, "Could not find \(kind): \(id).")
    }

    static func badRequest(_ message: String) -> IdentityFault {
        IdentityFault(.badRequest, "Invalid input for field/attribute. \(message)")
    }

    static func forbidden(_ action: String) -> IdentityFault {
        IdentityFault(.forbidden, "You are not authorized to perform the requested action: identity:\(action).")
    }

    static func unauthorized(_ uri: String) -> IdentityFault {
        IdentityFault(.unauthorized, "The request you have made requires authentication.", authenticateURI: uri)
    }

    static func conflict(_ kind: String, _ detail: String) -> IdentityFault {
        IdentityFault(.conflict, "Conflict occurred attempting to store \(kind) - \(detail).")
    }

    /// How the router renders a route that does not exist or an unexpected error.
    public static let render: @Sendable (HTTPResponse.Status, String) -> Response = { status, message in
        IdentityFault(status, message).response
    }
}
