import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// Glance's error answers: webob's HTML page with the status and message (the clients strip
/// the tags), except 401, which keystonemiddleware answers in Keystone's JSON with
/// `WWW-Authenticate`.
public struct GlanceFault: ServiceFault, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    var authenticateURI: String?

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    public var response: Response {
        if let authenticateURI {
            var headers: HTTPFields = [:]
            headers[.wwwAuthenticate] = "Keystone uri=\"\(authenticateURI)\""
            let body: JSON = [
                "error": [
                    "code": 401, "title": "Unauthorized",
                    "message": "The request you have made requires authentication.",
                ]
            ]
            return .json(body, status: status, headers: headers)
        }
        return Self.page(status, message)
    }

    static func page(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let title = "\(status.code) \(status.reasonPhrase)"
        let html =
            "<html>\n <head>\n  <title>\(title)</title>\n </head>\n <body>\n  <h1>\(title)</h1>\n  \(message.htmlEscaped)<br /><br />\n\n\n\n </body>\n</html>"
        var headers: HTTPFields = [:]
        headers[.contentType] = "text/html; charset=UTF-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: html)))
    }

    static func unauthorized(_ identityURI: String) -> GlanceFault {
        var fault = GlanceFault(.unauthorized, "The request you have made requires authentication.")
        fault.authenticateURI = identityURI
        return fault
    }

    static func notFound(_ id: String) -> GlanceFault { GlanceFault(.notFound, "No image found with ID \(id)") }

    static func badRequest(_ message: String) -> GlanceFault { GlanceFault(.badRequest, message) }

    static func sizeMismatch(_ size: Int64, declared: Int64) -> GlanceFault {
        badRequest("The image is \(size) bytes, but X-OpenStack-Image-Size said \(declared).")
    }

    static func forbidden(_ message: String) -> GlanceFault { GlanceFault(.forbidden, message) }

    static func policy(_ action: String) -> GlanceFault {
        GlanceFault(.forbidden, "You are not authorized to complete \(action) action.")
    }
}
