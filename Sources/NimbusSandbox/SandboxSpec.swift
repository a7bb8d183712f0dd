import NimbusModel

/// What a sandbox is: its name, its nodes and its two networks. Everything else — names of
/// namespaces, interfaces and directories, addresses, MACs — follows from it, so that `up`
/// after a crash finds exactly what the last `up` made.
public struct SandboxSpec: Codable, Sendable, Equatable {
    public var name: String
    public var nodeCount: Int
    public var layout: SandboxLayout
    public var managementNetwork: CIDR
    public var providerNetwork: CIDR

    public static let defaultName = "nimbus"
    public static let defaultManagement = CIDR(network: IPv4Address(value: 0x0AFB_0000), prefixLength: 24)
    public static let defaultProvider = CIDR(network: IPv4Address(value: 0x0AFC_0000), prefixLength: 24)
    public static let maximumNodes = 32

    public init(
        name: String = SandboxSpec.defaultName, nodeCount: Int, layout: SandboxLayout? = nil,
        managementNetwork: CIDR = SandboxSpec.defaultManagement, providerNetwork: CIDR = SandboxSpec.defaultProvider
    ) {
        self.name = name
        self.nodeCount = nodeCount
        self.layout = layout ?? SandboxLayout.natural(for: nodeCount)
        self.managementNetwork = managementNetwork
        self.providerNetwork = providerNetwork
    }

    /// Every problem with the spec, phrased for the person who typed it.
    public func problems() -> [String] {
        var problems: [String] = []
        if !(1...8).contains(name.count) || !name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) })
            || name.first?.isLetter != true
        {
            problems.append(
                "sandbox name '\(name)': 1–8 lower-case letters and digits, starting with a letter (it prefixes interface names, which Linux limits to 15 characters)"
            )
        }
        if !(1...Self.maximumNodes).contains(nodeCount) {
            problems.append("--nodes \(nodeCount): a sandbox has 1 to \(Self.maximumNodes) nodes")
        }
        if nodeCount < layout.minimumNodes {
            problems.append(
                "the \(layout.rawValue) layout needs at least \(layout.minimumNodes) nodes; --nodes is \(nodeCount)")
        }
        for (flag, network) in [("--management-network", managementNetwork), ("--provider-network", providerNetwork)]
        where network.prefixLength > 26 || network.prefixLength < 8 {
            problems.append("\(flag) \(network): use a prefix from /8 to /26 so every node gets an address")
        }
        if managementNetwork.contains(providerNetwork.network) || providerNetwork.contains(managementNetwork.network) {
            problems.append("the management and provider networks overlap (\(managementNetwork), \(providerNetwork))")
        }
        return problems
    }

    public var nodes: [SandboxNode] { (1...max(1, nodeCount)).map { SandboxNode(sandbox: self, index: $0) } }

    public var managementBridge: String { "\(name)-mgmt" }
    public var providerBridge: String { "\(name)-prov" }

    /// The host's own address on each bridge: the first of the network.
    public var hostManagementAddress: IPv4Address { IPv4Address(value: managementNetwork.network.value + 1) }
    public var hostProviderAddress: IPv4Address { IPv4Address(value: providerNetwork.network.value + 1) }
}

/// The node layouts a sandbox can write an answer file for.
public enum SandboxLayout: String, Codable, Sendable, CaseIterable {
    case allinone, two, three, four

    public var minimumNodes: Int {
        switch self {
        case .allinone: 1
        case .two: 2
        case .three: 3
        case .four: 4
        }
    }

    /// The layout that uses every node: all-in-one for 1, two-node for 2, …, four-node from 4.
    public static func natural(for nodes: Int) -> SandboxLayout {
        switch nodes {
        case ...1: .allinone
        case 2: .two
        case 3: .three
        default: .four
        }
    }
}

/// One node: its names and addresses, all derived from the sandbox and its index.
public struct SandboxNode: Sendable, Equatable {
    public let sandbox: String
    /// 1-based.
    public let index: Int
    public let managementAddress: IPv4Address
    public let providerAddress: IPv4Address

    init(sandbox spec: SandboxSpec, index: Int) {
        self.sandbox = spec.name
        self.index = index
        managementAddress = IPv4Address(value: spec.managementNetwork.network.value + 10 + UInt32(index))
        providerAddress = IPv4Address(value: spec.providerNetwork.network.value + 10 + UInt32(index))
    }

    public var name: String { "node\(index)" }
    /// `/run/netns/<namespace>`.
    public var namespace: String { "\(sandbox)-\(name)" }
    /// Host ends of the node's veths (at most 15 characters: name ≤ 8, index ≤ 2 digits).
    public var managementVeth: String { "\(sandbox)-\(index)m" }
    public var providerVeth: String { "\(sandbox)-\(index)p" }

    /// Locally administered unicast MACs, stable across restarts so peers' ARP stays right.
    public var managementMAC: String { mac(network: 1) }
    public var providerMAC: String { mac(network: 2) }

    private func mac(network: UInt8) -> String {
        let hash = FNV1a.hash(sandbox)
        let bytes: [UInt8] = [
            0x02, UInt8(truncatingIfNeeded: hash), UInt8(truncatingIfNeeded: hash >> 8),
            UInt8(truncatingIfNeeded: hash >> 16), network, UInt8(index),
        ]
        return bytes.map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: ":")
    }
}

/// FNV-1a, 64 bit: a stable hash for cache keys and MACs (not for security).
public enum FNV1a {
    public static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        return hash
    }

    public static func hex(_ text: String) -> String {
        let value = String(hash(text), radix: 16)
        return String(repeating: "0", count: 16 - value.count) + value
    }
}
