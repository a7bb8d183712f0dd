import HTTPTypes
import Hummingbird
import NimbusServiceKit

/// Swift's error answers: a short HTML page (`<html><h1>Not Found</h1><p>…</p></html>`);
/// 401 also names the account's realm in `Www-Authenticate`.
public struct SwiftFault: ServiceFault, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    var realm: String?
    /// Headers the answer carries besides the page's (`Content-Range` of a 416).
    var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    public var response: Response {
        var response = Self.page(status, message)
        for field in headers { response.headers[field.name] = field.value }
        if let realm { response.headers[.wwwAuthenticate] = "Swift realm=\"\(realm)\"" }
        return response
    }

    static func page(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let html = "<html><h1>\(status.reasonPhrase)</h1><p>\(message.htmlEscaped)</p></html>"
        var headers: HTTPFields = [:]
        headers[.contentType] = "text/html; charset=UTF-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: html)))
    }

    static func unauthorized(account: String) -> SwiftFault {
        var fault = SwiftFault(
            .unauthorized, "This server could not verify that you are authorized to access the document you requested.")
        fault.realm = account
        return fault
    }

    static let forbidden = SwiftFault(.forbidden, "Access was denied to this resource.")
    static let notFound = SwiftFault(.notFound, "The resource could not be found.")
    static let conflict = SwiftFault(.conflict, "There was a conflict when trying to complete your request.")
    static let overQuota = SwiftFault(.contentTooLarge, "Upload exceeds quota.")
    static let preconditionFailed = SwiftFault(
        .preconditionFailed, "A precondition for this request was not met.")

    static func badRequest(_ message: String) -> SwiftFault { SwiftFault(.badRequest, message) }
}
