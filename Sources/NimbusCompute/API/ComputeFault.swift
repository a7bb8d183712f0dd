import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// Nova's error answer: `{"itemNotFound": {"code": 404, "message": "…"}}`, the key named by
/// the status as Nova's WSGI layer names it; 401 comes from keystonemiddleware in
/// Keystone's shape.
public struct ComputeFault: ServiceFault, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// For 401: the identity service clients are pointed at.
    var identityURI = ""

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(name): \(message)" }

    /// The body's key (`nova/api/openstack/wsgi.py` `Fault._fault_names`).
    public var name: String { WSGIFault.name(status) }

    public var response: Response { WSGIFault.response(status, message, identityURI: identityURI) }

    static func unauthorized(_ identityURI: String) -> ComputeFault {
        var fault = ComputeFault(.unauthorized, "")
        fault.identityURI = identityURI
        return fault
    }

    static func badRequest(_ message: String) -> ComputeFault { ComputeFault(.badRequest, message) }
    static func notFound(_ message: String) -> ComputeFault { ComputeFault(.notFound, message) }
    static func conflict(_ message: String) -> ComputeFault { ComputeFault(.conflict, message) }

    /// 403 as oslo.policy words it.
    static func policy(_ rule: String) -> ComputeFault {
        ComputeFault(.forbidden, "Policy doesn't allow \(rule) to be performed.")
    }

    /// A schema refusal, worded as Nova's validator words it.
    static func invalid(_ field: String, _ value: JSON?, _ reason: String) -> ComputeFault {
        let shown = value.map { $0.string ?? $0.text } ?? "None"
        return badRequest("Invalid input for field/attribute \(field). Value: \(shown). \(reason)")
    }
}
