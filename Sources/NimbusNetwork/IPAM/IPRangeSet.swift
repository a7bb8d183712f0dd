/// A set of addresses kept as sorted, disjoint, non-adjacent ranges: netaddr's `IPSet`,
/// which Neutron uses to carve allocation pools around a gateway and to find the free
/// space of a subnet pool. Operations cost O(ranges), never O(addresses).
public struct IPRangeSet: Hashable, Sendable, CustomStringConvertible {
    /// The ranges of the set, lowest first, merged where they touch.
    public private(set) var ranges: [IPRange] = []

    /// The empty set.
    public init() {}

    /// The union of the ranges.
    public init(_ ranges: some Sequence<IPRange>) {
        for range in ranges.sorted() { append(range) }
    }

    /// The union of the networks' addresses.
    public init(_ networks: some Sequence<IPNetwork>) {
        self.init(networks.map(\.range))
    }

    /// Whether the set holds no address.
    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether the address is in the set (binary search, O(log ranges)).
    public func contains(_ address: IPAddress) -> Bool {
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].last < address { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(address)
    }

    /// Whether the two sets share any address.
    public func intersects(_ other: IPRangeSet) -> Bool {
        var (left, right) = (0, 0)
        while left < ranges.count && right < other.ranges.count {
            if ranges[left].overlaps(other.ranges[right]) { return true }
            if ranges[left].last < other.ranges[right].last { left += 1 } else { right += 1 }
        }
        return false
    }

    /// Whether every address of this set is in `other`.
    public func isSubset(of other: IPRangeSet) -> Bool {
        subtracting(other).isEmpty
    }

    /// The addresses in either set.
    public func union(_ other: IPRangeSet) -> IPRangeSet {
        IPRangeSet(ranges + other.ranges)
    }

    /// The addresses of this set that are not in `other`.
    public func subtracting(_ other: IPRangeSet) -> IPRangeSet {
        var result = IPRangeSet()
        var index = 0
        for range in ranges {
            var low = range.first
            var exhausted = false
            while index < other.ranges.count && other.ranges[index].last < low { index += 1 }
            var cursor = index
            while !exhausted && cursor < other.ranges.count && other.ranges[cursor].first <= range.last {
                let hole = other.ranges[cursor]
                if hole.first > low, let end = hole.first - 1, let piece = IPRange(first: low, last: end) {
                    result.append(piece)
                }
                if hole.last >= range.last {
                    exhausted = true
                } else if let next = hole.last + 1 {
                    low = max(low, next)
                }
                cursor += 1
            }
            if !exhausted, let piece = IPRange(first: low, last: range.last) { result.append(piece) }
        }
        return result
    }

    /// The set without one address.
    public func removing(_ address: IPAddress) -> IPRangeSet {
        subtracting(IPRangeSet([IPRange(address)]))
    }

    /// The set as the fewest CIDR blocks, lowest first (netaddr's `iter_cidrs` of a
    /// compacted set).
    public var cidrs: [IPNetwork] { ranges.flatMap(\.cidrs) }

    /// The number of addresses in the set, saturating at `UInt128.max`.
    public var size: UInt128 {
        ranges.reduce(0) { total, range in
            let (sum, overflow) = total.addingReportingOverflow(range.size)
            return overflow ? .max : sum
        }
    }

    /// The ranges, comma separated.
    public var description: String { ranges.map(\.description).joined(separator: ", ") }

    /// Adds a range that starts no lower than every range already held.
    private mutating func append(_ range: IPRange) {
        guard let previous = ranges.last, previous.version == range.version else {
            ranges.append(range)
            return
        }
        let touches = previous.last.advanced(by: 1).map { range.first <= $0 } ?? true
        guard touches else {
            ranges.append(range)
            return
        }
        if range.last > previous.last {
            ranges[ranges.count - 1] = IPRange(uncheckedFirst: previous.first, last: range.last)
        }
    }
}
