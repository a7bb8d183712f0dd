import Foundation
import NIOHTTP1
import NimbusServiceKit

/// The services compute calls for a server: the image service (is the image there, and
/// visible to the caller?) and the network service (the caller's networks and security
/// groups; the ports, which compute makes and binds as its own admin user, as Nova does),
/// and the block-storage service (the caller's volumes; their attachments, compute's own).
public struct ComputePeers: Sendable {
    let login: ServiceLogin
    let network: ServiceClient
    let image: ServiceClient
    /// The block-storage service (`http://host:8776`); nil: volumes cannot be attached.
    let volume: ServiceClient?
    /// The image service's URL, for the links to images made here (snapshots).
    let imageURL: String

    public init(login: ServiceLogin, networkURL: String, imageURL: String, volumeURL: String = "") throws {
        self.login = login
        self.imageURL = imageURL
        volume = volumeURL.isEmpty ? nil : try ServiceClient(baseURL: volumeURL, timeout: .seconds(10))
        network = try ServiceClient(baseURL: networkURL, timeout: .seconds(10))
        image = try ServiceClient(baseURL: imageURL, timeout: .seconds(10))
    }

    public enum Target: Sendable { case network, image, volume }

    /// One request; `token` nil sends compute's own (logging in again once when refused).
    /// A service that cannot be reached is Nova's 503.
    func send(
        _ target: Target, _ method: HTTPMethod, _ path: String, token: String? = nil, body: JSON? = nil
    ) async throws -> (status: Int, body: JSON) {
        let client: ServiceClient
        switch target {
        case .network: client = network
        case .image: client = image
        case .volume:
            guard let volume else {
                throw ComputeFault(.serviceUnavailable, "This cloud has no block-storage service.")
            }
            client = volume
        }
        var headers: [(String, String)] = [("Accept", "application/json")]
        // The attachments API and its `os-complete` are 3.44's.
        if target == .volume { headers.append(("OpenStack-API-Version", "volume 3.44")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        func attempt(_ token: String) async throws -> (status: Int, body: JSON) {
            let reply: ServiceClient.Reply
            do {
                reply = try await client.send(
                    method, path, headers: headers + [("X-Auth-Token", token)], body: body?.bytes)
            } catch {
                let name = target == .network ? "network" : target == .image ? "image" : "block-storage"
                throw ComputeFault(.serviceUnavailable, "The \(name) service cannot be reached: \(error)")
            }
            return (reply.status, (try? JSON.parse(reply.body)) ?? .null)
        }
        if let token { return try await attempt(token) }
        let grant: ServiceLogin.Grant
        do { grant = try await login.grant() } catch {
            throw ComputeFault(.serviceUnavailable, "\(error)")
        }
        let answer = try await attempt(grant.token)
        guard answer.status == 401 else { return answer }
        do { return try await attempt(try await login.grant(renew: true).token) } catch let fault as ComputeFault {
            throw fault
        } catch {
            throw ComputeFault(.serviceUnavailable, "\(error)")
        }
    }

    /// The message of another service's error body (`NeutronError`, Glance's text).
    static func message(_ body: JSON) -> String {
        body["NeutronError"]?["message"]?.string ?? body["message"]?.string ?? body["error"]?["message"]?.string
            ?? body.members?.first?.1["message"]?.string ?? body.text
    }
}
