import HTTPTypes
import Hummingbird

/// The error answer Nova and Cinder share (their WSGI layer's `Fault`):
/// `{"itemNotFound": {"code": 404, "message": "…"}}`, the key named by the status; 401 comes
/// from keystonemiddleware in Keystone's shape, pointing at the identity service.
public enum WSGIFault {
    /// The body's key (`Fault._fault_names`; 413 is `overLimit`, as is 429 for Nova).
    public static func name(_ status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "badRequest"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "itemNotFound"
        case 405: "badMethod"
        case 409: "conflictingRequest"
        case 413, 429: "overLimit"
        case 415: "badMediaType"
        case 501: "notImplemented"
        case 503: "serviceUnavailable"
        default: "computeFault"
        }
    }

    /// The answer for `status` and `message`; `extra` members go beside `code` and
    /// `message` (Cinder's `retryAfter`), with `headers`.
    public static func response(
        _ status: HTTPResponse.Status, _ message: String, identityURI: String, extra: [(String, JSON)] = [],
        headers: HTTPFields = [:]
    ) -> Response {
        if status == .unauthorized {
            var headers: HTTPFields = [:]
            headers[.wwwAuthenticate] = "Keystone uri=\"\(identityURI)\""
            return Response.json(
                [
                    "error": [
                        "code": 401, "title": "Unauthorized",
                        "message": "The request you have made requires authentication.",
                    ]
                ], status: status, headers: headers)
        }
        let fields: [(String, JSON)] = [("code", .int(Int64(status.code))), ("message", .string(message))] + extra
        return Response.json([name(status): .object(fields)], status: status, headers: headers)
    }
}
