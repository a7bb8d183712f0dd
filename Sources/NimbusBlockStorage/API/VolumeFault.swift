import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// Cinder's error answer: `{"itemNotFound": {"code": 404, "message": "…"}}`, the key named
/// as Cinder's WSGI layer names it (413 `overLimit` with `retryAfter`); 401 in Keystone's
/// shape.
public struct VolumeFault: ServiceFault, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    var identityURI = ""

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(name): \(message)" }

    /// `cinder/api/openstack/wsgi.py` `Fault._fault_names`.
    public var name: String { WSGIFault.name(status) }

    /// 413 carries `retryAfter` (and `Retry-After`), as Cinder's quota errors do.
    public var response: Response {
        guard status.code == 413 else { return WSGIFault.response(status, message, identityURI: identityURI) }
        var headers: HTTPFields = [:]
        headers[.retryAfter] = "0"
        return WSGIFault.response(
            status, message, identityURI: identityURI, extra: [("retryAfter", "0")], headers: headers)
    }

    static func unauthorized(_ identityURI: String) -> VolumeFault {
        var fault = VolumeFault(.unauthorized, "")
        fault.identityURI = identityURI
        return fault
    }

    static func badRequest(_ message: String) -> VolumeFault { VolumeFault(.badRequest, message) }
    static func notFound(_ message: String) -> VolumeFault { VolumeFault(.notFound, message) }
    static func invalidVolume(_ message: String) -> VolumeFault {
        VolumeFault(.badRequest, "Invalid volume: " + message)
    }
    static func invalidInput(_ message: String) -> VolumeFault {
        VolumeFault(.badRequest, "Invalid input received: " + message)
    }
    static func overLimit(_ kind: String, _ message: String) -> VolumeFault {
        VolumeFault(HTTPResponse.Status(code: 413), "\(kind): \(message)")
    }

    /// 403 as oslo.policy words it.
    static func policy(_ rule: String) -> VolumeFault {
        VolumeFault(.forbidden, "Policy doesn't allow \(rule) to be performed.")
    }

    /// A schema refusal, worded as Cinder's validator words it.
    static func invalid(_ field: String, _ value: JSON?, _ reason: String) -> VolumeFault {
        let shown = value.map { $0.string ?? $0.text } ?? "None"
        return badRequest("Invalid input for field/attribute \(field). Value: \(shown). \(reason)")
    }
}
