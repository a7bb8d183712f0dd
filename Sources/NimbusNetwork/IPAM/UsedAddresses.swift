extension IPAM {
    /// The addresses already allocated in a subnet, kept sorted so that allocation asks
    /// only O(log n) questions of it, whatever the size of the subnet.
    public struct UsedAddresses: Hashable, Sendable, ExpressibleByArrayLiteral {
        /// The addresses, lowest first, each once.
        public private(set) var sorted: [IPAddress]

        /// The set of `addresses` (sorted once, O(n log n)).
        public init(_ addresses: some Sequence<IPAddress>) {
            var unique = Array(Set(addresses))
            unique.sort()
            sorted = unique
        }

        /// The set of the listed addresses.
        public init(arrayLiteral addresses: IPAddress...) {
            self.init(addresses)
        }

        /// How many addresses are used.
        public var count: Int { sorted.count }

        /// Whether the address is used.
        public func contains(_ address: IPAddress) -> Bool {
            let index = firstIndex(notBelow: address)
            return index < sorted.count && sorted[index] == address
        }

        /// Marks an address used.
        public mutating func insert(_ address: IPAddress) {
            let index = firstIndex(notBelow: address)
            if index == sorted.count || sorted[index] != address { sorted.insert(address, at: index) }
        }

        /// Marks an address free again.
        public mutating func remove(_ address: IPAddress) {
            let index = firstIndex(notBelow: address)
            if index < sorted.count && sorted[index] == address { sorted.remove(at: index) }
        }

        /// The index of the first address not below `address` (binary search).
        func firstIndex(notBelow address: IPAddress) -> Int {
            var low = 0
            var high = sorted.count
            while low < high {
                let middle = (low + high) / 2
                if sorted[middle] < address { low = middle + 1 } else { high = middle }
            }
            return low
        }

        /// The indices of the used addresses inside `range`.
        func indices(in range: IPRange) -> Range<Int> {
            let low = firstIndex(notBelow: range.first)
            let high = range.last.advanced(by: 1).map { firstIndex(notBelow: $0) } ?? endIndex(of: range.version)
            return low..<max(low, high)
        }

        private func endIndex(of version: IPVersion) -> Int {
            version == .v4 ? firstIndex(notBelow: IPAddress(ipv6: 0)) : sorted.count
        }

        /// How many addresses of `range` are free.
        func freeCount(in range: IPRange) -> UInt128 {
            range.size - UInt128(indices(in: range).count)
        }

        /// The free address of `range` that has `offset` free addresses before it, found
        /// by binary search over the used addresses of the range: the used address at
        /// relative index r has `value - first - r` free addresses before it, which never
        /// decreases with r. Requires `offset < freeCount(in: range)`.
        func free(at offset: UInt128, in range: IPRange) -> IPAddress? {
            let used = indices(in: range)
            var low = 0
            var high = used.count
            while low < high {
                let middle = (low + high) / 2
                let freeBefore = sorted[used.lowerBound + middle].value - range.first.value - UInt128(middle)
                if freeBefore <= offset { low = middle + 1 } else { high = middle }
            }
            let (value, overflow) = range.first.value.addingReportingOverflow(offset + UInt128(low))
            guard !overflow, let address = IPAddress(version: range.version, value: value), range.contains(address)
            else { return nil }
            return address
        }
    }
}
