import NimbusModel

/// One allocation pool of a subnet: the addresses from `start` to `end`, both included.
public struct AllocationPool: Sendable, Hashable, CustomStringConvertible {
    public var start: IPv4Address
    public var end: IPv4Address

    public init(start: IPv4Address, end: IPv4Address) {
        self.start = start
        self.end = end
    }

    public var description: String { "start=\(start),end=\(end)" }

    /// Packstack's `CONFIG_PROVISION_DEMO_ALLOCATION_POOLS`: `[]`, `["start=A,end=B"]`,
    /// several of them comma-separated inside the brackets, or the same without brackets
    /// and quotes (`start=A,end=B`).
    public static func parseList(_ text: String) throws(ValueError) -> [AllocationPool] {
        var body = text.trimmed
        if body.hasPrefix("[") {
            guard body.hasSuffix("]") else { throw ValueError("'\(text)' opens a [ list it does not close") }
            body = String(body.dropFirst().dropLast())
        }
        let bare = body.replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "'", with: "")
        let items = bare.split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty }
        var pools: [AllocationPool] = []
        var index = 0
        while index < items.count {
            guard index + 1 < items.count, items[index].hasPrefix("start="), items[index + 1].hasPrefix("end="),
                let start = IPv4Address(items[index].dropFirst("start=".count)),
                let end = IPv4Address(items[index + 1].dropFirst("end=".count))
            else {
                throw ValueError(
                    "'\(text)' is not a list of pools like [\"start=172.24.4.100,end=172.24.4.200\"]")
            }
            guard start <= end else { throw ValueError("the pool start=\(start),end=\(end) ends before it starts") }
            pools.append(AllocationPool(start: start, end: end))
            index += 2
        }
        return pools
    }
}

extension AnswerFile {
    /// The demo's floating IP pools; empty: the whole range but the gateway.
    public var demoAllocationPools: [AllocationPool] {
        (try? AllocationPool.parseList(text(.provisionDemoAllocationPools))) ?? []
    }
}

extension KeyDefinition {
    public static let provisionDemoAllocationPools = KeyDefinition(
        "CONFIG_PROVISION_DEMO_ALLOCATION_POOLS", .allocationPools, default: .literal("[]"), group: .demo,
        help:
            "Floating IP pools of the demo's external subnet, inside CONFIG_PROVISION_DEMO_FLOATRANGE; [] uses the whole range but the gateway (its first address)."
    )
    public static let provisionImageName = KeyDefinition(
        "CONFIG_PROVISION_IMAGE_NAME", .text, default: .literal("cirros"), group: .demo,
        help: "The name of the public image uploaded once (as Packstack's cirros); re-runs leave it alone.")
    public static let provisionImageURL = KeyDefinition(
        "CONFIG_PROVISION_IMAGE_URL", .text, default: .literal(""), group: .demo,
        help:
            "An image file on the deploying machine, or an http(s) URL it can fetch; empty: Nimbus's own guest image (docs/guest-image.md), which boots in seconds under TCG."
    )
    public static let provisionImageFormat = KeyDefinition(
        "CONFIG_PROVISION_IMAGE_FORMAT", .choice(["qcow2", "raw"]), default: .literal("qcow2"), group: .demo,
        help: "The disk format of that image.")
    public static let provisionImageSSHUser = KeyDefinition(
        "CONFIG_PROVISION_IMAGE_SSH_USER", .text, default: .literal("cirros"), group: .demo,
        help: "The user that logs into instances of that image (the bundled image's is cirros).")
}

/// A flavor a deploy makes when it is missing.
public struct DefaultFlavor: Sendable, Hashable {
    public var id: String
    public var name: String
    public var ramMiB: Int
    public var diskGiB: Int
    public var vcpus: Int

    /// Seed 003's listing (Nova's old defaults, ids 1–5) and `m1.micro`, the smallest
    /// flavor the bundled guest boots in (its kernel needs 72–76 MiB; docs/guest-image.md),
    /// under an id no numbered flavor of a student's takes.
    public static let all: [DefaultFlavor] = [
        DefaultFlavor(id: "1", name: "m1.tiny", ramMiB: 512, diskGiB: 1, vcpus: 1),
        DefaultFlavor(id: "2", name: "m1.small", ramMiB: 2048, diskGiB: 20, vcpus: 1),
        DefaultFlavor(id: "3", name: "m1.medium", ramMiB: 4096, diskGiB: 40, vcpus: 2),
        DefaultFlavor(id: "4", name: "m1.large", ramMiB: 8192, diskGiB: 80, vcpus: 4),
        DefaultFlavor(id: "5", name: "m1.xlarge", ramMiB: 16384, diskGiB: 160, vcpus: 8),
        DefaultFlavor(id: "m1.micro", name: "m1.micro", ramMiB: 96, diskGiB: 1, vcpus: 1),
    ]
}

/// What demo provisioning makes, from the answer file (Packstack's names).
public struct DemoSpec: Sendable, Equatable {
    public var physicalNetwork: String
    public var publicRange: CIDR
    public var publicGateway: IPv4Address
    /// Empty: the whole range but the gateway.
    public var pools: [AllocationPool]
    public var privateRange: CIDR
    public var imageName: String
    public var imageSource: String
    public var imageFormat: String
    public var sshUser: String

    public static let publicNetwork = "public"
    public static let publicSubnet = "public_subnet"
    public static let privateNetwork = "private"
    public static let privateSubnet = "private_subnet"
    public static let router = "router1"
    public static let project = "demo"
    /// Packstack's private subnet for the demo project.
    public static let privateRangeDefault = CIDR(network: IPv4Address(value: 0x0A00_0000), prefixLength: 24)

    public init(_ file: AnswerFile) {
        physicalNetwork = file.bridgeMappings.first?.physicalNetwork ?? "extnet"
        publicRange =
            CIDR(file.text(.provisionDemoFloatRange))
            ?? CIDR(network: IPv4Address(value: 0xAC18_0400), prefixLength: 24)
        publicGateway = IPv4Address(value: publicRange.network.value &+ 1)
        pools = file.demoAllocationPools
        privateRange = Self.privateRangeDefault
        imageName = file.text(.provisionImageName).ifEmpty("cirros")
        imageSource = file.text(.provisionImageURL)
        imageFormat = file.words(.provisionImageFormat).first ?? "qcow2"
        sshUser = file.text(.provisionImageSSHUser).ifEmpty("cirros")
    }

    /// The pools as the network API takes them; the whole range but the gateway when none
    /// are given.
    public var poolsOrDefault: [AllocationPool] {
        if !pools.isEmpty { return pools }
        let last = publicRange.network.value &+ UInt32(truncatingIfNeeded: publicRange.size &- 2)
        return [AllocationPool(start: IPv4Address(value: publicGateway.value &+ 1), end: IPv4Address(value: last))]
    }
}
