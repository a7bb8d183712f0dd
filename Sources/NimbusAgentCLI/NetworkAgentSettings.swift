import Foundation
import NimbusNetworkAgent
import NimbusServiceKit

/// `/etc/nimbus/network-agent.conf` and `/etc/nimbus/network-gateway.conf`: who the agent
/// is, the network API it follows, the identity it logs in with, and its host's L2 facts.
struct NetworkAgentSettings: Sendable {
    var basics: AgentBasics
    var host: String { basics.host }
    var stateDirectory: String { basics.stateDirectory }
    var tunnelIP: IPv4
    var bridgeMappings: [String: String]
    var servesAllNetworks: Bool
    var securityGroups: Bool
    /// The compute service's metadata API and the secret the proxies sign with; nil: none.
    var metadata: MetadataProxyConfig?

    static func load(path: String) throws -> NetworkAgentSettings {
        try NetworkAgentSettings(try ServiceConfig.load(path: path))
    }

    init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        basics = try AgentBasics(config, defaultState: "/var/lib/nimbus/network-agent", api: "network")
        let tunnel = try config.require("l2", "tunnel_ip")
        guard let address = IPv4(tunnel) else {
            throw .invalid(section: "l2", key: "tunnel_ip", value: tunnel, expected: "this host's IPv4 tunnel address")
        }
        tunnelIP = address
        let mappings = config.string("l2", "bridge_mappings", default: "")
        var parsed: [String: String] = [:]
        for entry in mappings.split(separator: ",") {
            let parts = entry.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .invalid(section: "l2", key: "bridge_mappings", value: mappings, expected: "PHYSNET:BRIDGE pairs")
            }
            parsed[parts[0]] = parts[1]
        }
        bridgeMappings = parsed
        servesAllNetworks = try config.bool("l2", "serves_all_networks", default: false)
        securityGroups = try config.bool("l2", "security_groups", default: true)
        let metadataURL = config.string("metadata", "url", default: "")
        let secret = config.string("metadata", "shared_secret", default: "")
        if !metadataURL.isEmpty && !secret.isEmpty {
            guard metadataURL.hasPrefix("http://") else {
                throw .invalid(
                    section: "metadata", key: "url", value: metadataURL, expected: "the metadata API's http:// URL")
            }
            metadata = MetadataProxyConfig(url: metadataURL, secret: secret)
        }
    }

    var dhcp: DHCPConfig {
        DHCPConfig(host: host, stateDirectory: stateDirectory + "/dhcp", bridgeMappings: bridgeMappings)
    }

    var l3: L3Config {
        L3Config(host: host, stateDirectory: stateDirectory + "/l3", bridgeMappings: bridgeMappings, metadata: metadata)
    }

    var l2: L2Config {
        L2Config(
            host: host, tunnelIP: tunnelIP, bridgeMappings: bridgeMappings, servesAllNetworks: servesAllNetworks,
            securityGroups: securityGroups)
    }
}
