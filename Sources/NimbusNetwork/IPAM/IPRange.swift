/// An inclusive range of addresses of one version, such as an allocation pool; netaddr's
/// `IPRange`, printed as Neutron's messages print it: `10.0.0.2-10.0.0.254`.
public struct IPRange: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The lowest address of the range.
    public let first: IPAddress
    /// The highest address of the range.
    public let last: IPAddress

    /// The range from `first` to `last`; nil when their versions differ or `first` is
    /// higher, which netaddr refuses ("lower bound IP greater than upper bound!").
    public init?(first: IPAddress, last: IPAddress) {
        guard first.version == last.version, first <= last else { return nil }
        self.first = first
        self.last = last
    }

    /// A range known to be well formed.
    init(uncheckedFirst first: IPAddress, last: IPAddress) {
        self.first = first
        self.last = last
    }

    /// The range of one address.
    public init(_ address: IPAddress) {
        self.init(uncheckedFirst: address, last: address)
    }

    /// IPv4 or IPv6.
    public var version: IPVersion { first.version }

    /// The number of addresses; the whole IPv6 space reports `UInt128.max`.
    public var size: UInt128 {
        let span = last.value - first.value
        return span == .max ? .max : span + 1
    }

    /// Whether the address lies in the range.
    public func contains(_ address: IPAddress) -> Bool {
        address.version == version && first <= address && address <= last
    }

    /// Whether `other` lies wholly inside this range.
    public func contains(_ other: IPRange) -> Bool {
        other.version == version && first <= other.first && other.last <= last
    }

    /// Whether the two ranges share any address.
    public func overlaps(_ other: IPRange) -> Bool {
        other.version == version && first <= other.last && other.first <= last
    }

    /// The smallest list of CIDR blocks that covers exactly this range, lowest first, as
    /// netaddr's `IPRange.cidrs()`.
    public var cidrs: [IPNetwork] {
        var result: [IPNetwork] = []
        let width = version.bitWidth
        var start = first.value
        while true {
            // The largest block aligned at `start` that ends inside the range.
            var hostBits = start == 0 ? width : min(start.trailingZeroBitCount, width)
            while hostBits > 0 && IPRange.blockEnd(start, hostBits) > last.value { hostBits -= 1 }
            if let network = IPNetwork(address: first.with(value: start), prefixLength: width - hostBits) {
                result.append(network)
            }
            let end = IPRange.blockEnd(start, hostBits)
            if end >= last.value { return result }
            start = end + 1
        }
    }

    private static func blockEnd(_ start: UInt128, _ hostBits: Int) -> UInt128 {
        hostBits >= 128 ? .max : start | ((UInt128(1) << hostBits) - 1)
    }

    public static func < (lhs: IPRange, rhs: IPRange) -> Bool {
        (lhs.first, lhs.last) < (rhs.first, rhs.last)
    }

    /// `first-last`, as netaddr prints a range.
    public var description: String { "\(first)-\(last)" }
}
