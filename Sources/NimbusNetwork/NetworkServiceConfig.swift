import Foundation
import NimbusServiceKit

/// `/etc/nimbus/network.conf`, read once at start.
public struct NetworkServiceConfig: Sendable {
    public var host: String
    public var port: Int
    public var stateDirectory: String
    public var identityURL: String
    public var settings: NetworkSettings

    /// Reads and checks the file at `path`.
    public static func load(path: String) throws(ServiceConfig.Failure) -> NetworkServiceConfig {
        try NetworkServiceConfig(try ServiceConfig.load(path: path))
    }

    /// Checks a parsed file: every value in range, defaults for what is left out.
    public init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:9696")
        host = bind.host
        port = bind.port
        stateDirectory = config.string("DEFAULT", "state_dir", default: "/var/lib/nimbus/network")
        identityURL = try config.identityURL()
        let rangesText = config.string("ml2", "vni_ranges", default: "10:100")
        var ranges: [ClosedRange<Int>] = []
        for part in rangesText.split(separator: ",") {
            let bounds = part.split(separator: ":").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 1, low <= high,
                high <= 16_777_215
            else {
                throw .invalid(
                    section: "ml2", key: "vni_ranges", value: rangesText,
                    expected: "first:last pairs of VNIs from 1 to 16777215, comma-separated")
            }
            ranges.append(low...high)
        }
        guard !ranges.isEmpty else {
            throw .invalid(
                section: "ml2", key: "vni_ranges", value: rangesText, expected: "at least one first:last range")
        }
        // Flat networks go on the physical networks the hosts have a bridge for.
        let mappings = config.string("ml2", "bridge_mappings", default: "extnet:br-ex")
        var flat: [String] = []
        for entry in mappings.split(separator: ",") {
            let parts = entry.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .invalid(
                    section: "ml2", key: "bridge_mappings", value: mappings,
                    expected: "PHYSNET:BRIDGE pairs, comma-separated")
            }
            flat.append(parts[0])
        }
        let mtu = try config.int("ml2", "physical_mtu", default: 1500)
        guard (1280...9216).contains(mtu) else {
            throw .invalid(section: "ml2", key: "physical_mtu", value: String(mtu), expected: "1280 to 9216")
        }
        settings = NetworkSettings(vniRanges: ranges, flatNetworks: flat, physicalMTU: mtu)
    }

    /// The service over its store in the state directory (made, mode 0700, when missing).
    public func open() throws -> NetworkAPI {
        try FileManager.default.createDirectory(
            atPath: stateDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let origin = identityURL.hasSuffix("/v3") ? String(identityURL.dropLast(3)) : identityURL
        return try NetworkAPI(
            store: try NetworkStore(path: stateDirectory + "/network.sqlite"),
            validator: try TokenValidator(identityURL: identityURL), identityURI: origin, settings: settings)
    }
}
