import Foundation
import NimbusServiceKit

/// What every agent's config says of it: the host name it reports as, where it keeps the
/// state it last applied, the API whose channel it follows, and the identity it logs in with.
struct AgentBasics: Sendable {
    var host: String
    var stateDirectory: String
    var apiURL: String
    var credentials: ServiceLogin.Credentials

    /// - Parameters:
    ///   - defaultState: the state directory when the file names none.
    ///   - api: the API's name, for the refusal of an `api_url` that is not `http://`.
    init(_ config: ServiceConfig, defaultState: String, api: String) throws(ServiceConfig.Failure) {
        let name = config.string("DEFAULT", "host", default: "")
        host = name.isEmpty ? ProcessInfo.processInfo.hostName : name
        stateDirectory = config.string("DEFAULT", "state_dir", default: defaultState)
        apiURL = try config.require("channel", "api_url")
        guard apiURL.hasPrefix("http://") else {
            throw .invalid(section: "channel", key: "api_url", value: apiURL, expected: "the \(api) API's http:// URL")
        }
        credentials = ServiceLogin.Credentials(
            identityURL: try config.identityURL(), user: try config.require("auth", "user"),
            password: try config.require("auth", "password"),
            project: config.string("auth", "project", default: "services"))
    }
}
