import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// Neutron's error answer: `{"NeutronError": {"type": "NetworkNotFound", "message": "…",
/// "detail": ""}}`; 401 comes from keystonemiddleware in Keystone's shape.
public struct NeutronFault: ServiceFault, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// Neutron's exception class name (`NetworkInUse`, `IpAddressAlreadyAllocated`, …).
    public var type: String
    public var message: String

    public init(_ status: HTTPResponse.Status, _ type: String, _ message: String) {
        self.status = status
        self.type = type
        self.message = message
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    public var response: Response {
        if status == .unauthorized {
            var headers: HTTPFields = [:]
            headers[.wwwAuthenticate] = "Keystone uri=\"\(type)\""
            return Response.json(
                [
                    "error": [
                        "code": 401, "title": "Unauthorized",
                        "message": "The request you have made requires authentication.",
                    ]
                ], status: status, headers: headers)
        }
        return Response.json(
            ["NeutronError": ["type": .string(type), "message": .string(message), "detail": ""]], status: status)
    }

    /// 401, pointing the client at the identity service (`identityURI`).
    static func unauthorized(_ identityURI: String) -> NeutronFault { NeutronFault(.unauthorized, identityURI, "") }

    static func badRequest(_ message: String) -> NeutronFault { NeutronFault(.badRequest, "HTTPBadRequest", message) }

    static func invalidInput(_ message: String) -> NeutronFault {
        NeutronFault(.badRequest, "InvalidInput", "Invalid input for operation: \(message).")
    }

    /// A resource the caller cannot see: 404, as if it did not exist (Neutron hides others'
    /// resources this way).
    static func notFound(_ kind: ResourceKind, _ id: String) -> NeutronFault {
        NeutronFault(.notFound, kind.notFoundType, kind.notFoundMessage(id))
    }

    /// A policy refusal of something the caller can see.
    static func policy(_ action: String) -> NeutronFault {
        NeutronFault(.forbidden, "HTTPForbidden", "(rule:\(action)) is disallowed by policy")
    }

    static func conflict(_ type: String, _ message: String) -> NeutronFault { NeutronFault(.conflict, type, message) }

    /// The route exists but not with this method.
    static func unsupportedMethod() -> NeutronFault {
        NeutronFault(.methodNotAllowed, "HTTPMethodNotAllowed", "The method is not allowed for this resource.")
    }
}
