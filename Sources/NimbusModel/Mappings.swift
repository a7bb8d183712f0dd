/// `physnet:bridge` — a provider network name mapped onto a host bridge
/// (`CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS=extnet:br-ex`).
public struct BridgeMapping: Hashable, Sendable, CustomStringConvertible, Codable {
    public let physicalNetwork: String
    public let bridge: InterfaceName

    public init(physicalNetwork: String, bridge: InterfaceName) {
        self.physicalNetwork = physicalNetwork
        self.bridge = bridge
    }

    public static func parse(_ text: some StringProtocol) throws(MappingError) -> BridgeMapping {
        let (left, right) = try MappingError.split(text, shape: "PHYSNET:BRIDGE, e.g. extnet:br-ex")
        guard left.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }),
            left.count <= 64
        else {
            throw .badName(left, "a physical network name uses letters, digits, '_' and '-'")
        }
        do {
            return BridgeMapping(physicalNetwork: left, bridge: try InterfaceName.parse(right))
        } catch {
            throw .badInterface(right, error)
        }
    }

    public var description: String { "\(physicalNetwork):\(bridge)" }

    enum CodingKeys: String, CodingKey {
        case physicalNetwork = "physical_network"
        case bridge
    }
}

/// `bridge:iface` — a host interface to enslave to a bridge
/// (`CONFIG_NEUTRON_OVS_BRIDGE_IFACES=br-ex:eth1`).
public struct BridgeInterface: Hashable, Sendable, CustomStringConvertible, Codable {
    public let bridge: InterfaceName
    public let interface: InterfaceName

    public init(bridge: InterfaceName, interface: InterfaceName) {
        self.bridge = bridge
        self.interface = interface
    }

    public static func parse(_ text: some StringProtocol) throws(MappingError) -> BridgeInterface {
        let (left, right) = try MappingError.split(text, shape: "BRIDGE:INTERFACE, e.g. br-ex:eth1")
        let bridge: InterfaceName
        do { bridge = try InterfaceName.parse(left) } catch { throw .badInterface(left, error) }
        let interface: InterfaceName
        do { interface = try InterfaceName.parse(right) } catch { throw .badInterface(right, error) }
        guard bridge != interface else { throw .badName(right, "a bridge cannot enslave itself") }
        return BridgeInterface(bridge: bridge, interface: interface)
    }

    public var description: String { "\(bridge):\(interface)" }
}

/// Why a `left:right` mapping does not parse.
public enum MappingError: Error, Equatable, Sendable, CustomStringConvertible {
    case shape(String, expected: String)
    case badName(String, String)
    case badInterface(String, InterfaceName.ParseError)

    static func split(_ text: some StringProtocol, shape: String) throws(MappingError) -> (String, String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .shape(String(text), expected: shape)
        }
        return (String(parts[0]), String(parts[1]))
    }

    public var description: String {
        switch self {
        case .shape(let text, let expected): "'\(text)' is not \(expected)"
        case .badName(let text, let why): "'\(text)': \(why)"
        case .badInterface(let text, let error): "'\(text)': \(error)"
        }
    }
}

/// `min:max` — a range of VXLAN network identifiers (`CONFIG_NEUTRON_ML2_VNI_RANGES=10:100`).
public struct VNIRange: Hashable, Sendable, CustomStringConvertible, Codable {
    public let lower: UInt32
    public let upper: UInt32

    /// The largest VXLAN network identifier (24 bits).
    public static let maximum: UInt32 = 16_777_215

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let lower = UInt32(parts[0]), let upper = UInt32(parts[1]),
            lower >= 1, lower <= upper, upper <= VNIRange.maximum
        else { return nil }
        self.lower = lower
        self.upper = upper
    }

    public var description: String { "\(lower):\(upper)" }
}
