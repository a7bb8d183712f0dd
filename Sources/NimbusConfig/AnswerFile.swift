import NimbusModel

/// A services Nimbus can leave out, with the key that switches it.
public enum OptionalService: String, CaseIterable, Sendable, Codable {
    case image
    case blockStorage = "block-storage"
    case compute, network, dashboard
    case objectStorage = "object-storage"

    public var installKey: KeyDefinition {
        switch self {
        case .image: .glanceInstall
        case .blockStorage: .cinderInstall
        case .compute: .novaInstall
        case .network: .neutronInstall
        case .dashboard: .horizonInstall
        case .objectStorage: .swiftInstall
        }
    }
}

/// A validated answer file: every catalogue key has a typed value (defaults applied).
/// Only `AnswerFileValidator` makes one, and only when the file has no errors.
public struct AnswerFile: Sendable {
    /// Typed value of every catalogue key.
    public let values: [String: ConfigValue]
    /// The text of every catalogue key as it is written back into a file.
    public let texts: [String: String]
    /// Where each key was set in the file (absent: default or command line).
    public let lines: [String: Int]

    init(values: [String: ConfigValue], texts: [String: String], lines: [String: Int]) {
        self.values = values
        self.texts = texts
        self.lines = lines
    }

    public subscript(key: KeyDefinition) -> ConfigValue { values[key.name] ?? .empty }

    public func text(_ key: KeyDefinition) -> String { texts[key.name] ?? "" }

    /// A password key's value; empty means CONFIG_DEFAULT_PASSWORD, as in Packstack.
    public func password(_ key: KeyDefinition) -> String {
        let own = text(key)
        return own.isEmpty ? text(.defaultPassword) : own
    }

    public func hosts(_ key: KeyDefinition) -> [HostAddress] {
        switch self[key] {
        case .hosts(let hosts): hosts
        case .host(let host): [host]
        default: []
        }
    }

    public func bool(_ key: KeyDefinition) -> Bool {
        if case .bool(let value) = self[key] { return value }
        return false
    }

    public func words(_ key: KeyDefinition) -> [String] {
        if case .words(let words) = self[key] { return words }
        return []
    }

    // MARK: Topology

    public var controller: HostAddress {
        guard case .host(let host) = self[.controllerHost] else {
            preconditionFailure("a validated answer file always has a controller")
        }
        return host
    }

    public var computeHosts: [HostAddress] { hosts(.computeHosts).uniqued() }
    public var networkHosts: [HostAddress] { hosts(.networkHosts).uniqued() }
    public var storageHost: HostAddress { hosts(.storageHost).first ?? controller }
    public var excludedHosts: Set<HostAddress> { Set(hosts(.excludeServers)) }

    public func installs(_ service: OptionalService) -> Bool { bool(service.installKey) }

    public var bridgeMappings: [BridgeMapping] {
        if case .bridgeMappings(let mappings) = self[.neutronBridgeMappings] { return mappings }
        return []
    }

    public var bridgeInterfaces: [BridgeInterface] {
        if case .bridgeInterfaces(let pairs) = self[.neutronBridgeInterfaces] { return pairs }
        return []
    }

    public var tunnelInterface: InterfaceName? {
        if case .interface(let name) = self[.neutronTunnelInterface] { return name }
        return nil
    }

    /// Every host of the cloud once, controller first, in the order the file names them.
    public var allHosts: [HostAddress] {
        ([controller] + networkHosts + computeHosts + [storageHost]).uniqued()
    }
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    public func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
