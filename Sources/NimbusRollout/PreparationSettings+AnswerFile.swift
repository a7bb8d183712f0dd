import NimbusConfig
import NimbusModel

extension PreparationSettings {
    /// The settings of `host` from a validated answer file and the facts of every host
    /// (their names go into /etc/hosts).
    public static func from(_ file: AnswerFile, host: String, facts: [String: HostFacts]) -> PreparationSettings {
        let all = file.allHosts.map(\.description)
        let entries: [HostsEntry] = file.allHosts.compactMap { address in
            let names: [String]
            switch address {
            case .hostname(let name):
                names = [name.value]
            case .ipv4:
                guard let hostname = facts[address.description]?.hostname, !hostname.isEmpty else { return nil }
                names = [hostname]
            }
            var withShort = names
            if let full = names.first, full.contains("."), let short = full.split(separator: ".").first {
                withShort.append(String(short))
            }
            return HostsEntry(address: address.description, names: withShort)
        }
        let isNetworkHost = file.networkHosts.map(\.description).contains(host)
        let bridges: [Bridge] =
            isNetworkHost
            ? file.bridgeMappings.map { mapping in
                Bridge(
                    name: mapping.bridge.value,
                    port: file.bridgeInterfaces.first {
                        $0.bridge == mapping.bridge
                    }?
                    .interface.value)
            } : []
        return PreparationSettings(
            host: host, controller: file.controller.description, isController: file.controller.description == host,
            ntpServers: file.hosts(.ntpServers).map(\.description), otherHosts: all.filter { $0 != host },
            hostsEntries: entries,
            bridges: bridges)
    }
}
