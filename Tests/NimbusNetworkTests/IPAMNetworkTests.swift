import Testing

@testable import NimbusNetwork

@Suite("IP networks, ranges and range sets")
struct IPAMNetworkTests {
    @Test(
        "Strict parsing refuses host bits and missing prefixes; truncating parsing corrects them as subnet create does",
        arguments: [
            ("10.0.0.0/24", "10.0.0.0/24", "10.0.0.0/24"), ("10.0.0.5/24", nil, "10.0.0.0/24"),
            ("10.129.122.5/8", nil, "10.0.0.0/8"), ("17.129.122.5/32", "17.129.122.5/32", "17.129.122.5/32"),
            ("10.0.2.0", nil, "10.0.2.0/32"), ("10.0.0.0/255.255.255.0", nil, "10.0.0.0/24"),
            ("10.0.0.0/255.0.255.0", nil, nil), ("10.0.0.0/33", nil, nil), ("10.0.0.0/", nil, nil),
            ("2001:db8::5/64", nil, "2001:db8::/64"), ("2001:DB8::/64", "2001:db8::/64", "2001:db8::/64"),
            ("2001:db8::/129", nil, nil), ("abc", nil, nil), ("10.0.0.0/24/1", nil, nil),
        ] as [(String, String?, String?)])
    func parsing(text: String, strict: String?, truncating: String?) {
        #expect(IPNetwork(text)?.description == strict)
        #expect(IPNetwork(truncating: text)?.description == truncating)
    }

    @Test(
        "A network knows its first and last address, size and IPv4 broadcast as netaddr does",
        arguments: [
            ("10.0.0.0/24", "10.0.0.0", "10.0.0.255", 256, "10.0.0.255"),
            ("10.14.0.20/31", "10.14.0.20", "10.14.0.21", 2, nil),
            ("10.14.0.20/32", "10.14.0.20", "10.14.0.20", 1, nil),
            ("2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", UInt128(1) << 64, nil),
        ] as [(String, String, String, UInt128, String?)])
    func bounds(cidr: String, first: String, last: String, size: UInt128, broadcast: String?) {
        let network = net(cidr)
        #expect(network.first.description == first)
        #expect(network.last.description == last)
        #expect(network.size == size)
        #expect(network.broadcast?.description == broadcast)
    }

    @Test("The whole IPv6 space saturates its size instead of overflowing")
    func wholeSpace() {
        #expect(net("::/0").size == .max)
        #expect(net("0.0.0.0/0").size == UInt128(1) << 32)
    }

    @Test(
        "Containment and overlap compare whole networks of one version",
        arguments: [
            ("10.0.0.0/8", "10.1.0.0/16", true, true), ("10.1.0.0/16", "10.0.0.0/8", false, true),
            ("10.0.0.0/25", "10.0.0.128/25", false, false), ("::/0", "10.0.0.0/8", false, false),
        ])
    func containment(outer: String, inner: String, contains: Bool, overlaps: Bool) {
        #expect(net(outer).contains(net(inner)) == contains)
        #expect(net(outer).overlaps(net(inner)) == overlaps)
        #expect(net(inner).overlaps(net(outer)) == overlaps)
    }

    @Test("A network contains its own addresses only")
    func membership() {
        #expect(net("10.0.0.0/24").contains(ip("10.0.0.77")))
        #expect(!net("10.0.0.0/24").contains(ip("10.0.1.0")))
        #expect(!net("::/0").contains(ip("10.0.0.1")))
    }

    @Test(
        "A range splits into the fewest CIDR blocks, lowest first",
        arguments: [
            (
                "10.0.0.1", "10.0.0.254",
                "10.0.0.1/32 10.0.0.2/31 10.0.0.4/30 10.0.0.8/29 10.0.0.16/28 10.0.0.32/27 "
                    + "10.0.0.64/26 10.0.0.128/26 10.0.0.192/27 10.0.0.224/28 10.0.0.240/29 10.0.0.248/30 10.0.0.252/31 "
                    + "10.0.0.254/32"
            ),
            ("0.0.0.0", "255.255.255.255", "0.0.0.0/0"), ("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0"),
            ("10.0.0.0", "10.0.1.255", "10.0.0.0/23"),
        ])
    func rangeCIDRs(first: String, last: String, cidrs: String) {
        let range = IPRange(first: ip(first), last: ip(last))!
        #expect(range.cidrs.map(\.description).joined(separator: " ") == cidrs)
    }

    @Test("A range refuses bounds out of order or of two versions, and prints as netaddr does")
    func rangeBounds() {
        #expect(IPRange(first: ip("10.0.0.5"), last: ip("10.0.0.1")) == nil)
        #expect(IPRange(first: ip("10.0.0.5"), last: ip("::5")) == nil)
        #expect(IPRange(first: ip("10.0.0.2"), last: ip("10.0.0.254"))?.description == "10.0.0.2-10.0.0.254")
    }

    @Test("A range set merges touching ranges and subtracts holes")
    func rangeSet() {
        let set = IPRangeSet([net("10.0.0.0/25"), net("10.0.0.128/25"), net("10.0.2.0/24")])
        #expect(set.cidrs.map(\.description) == ["10.0.0.0/24", "10.0.2.0/24"])
        let carved = set.subtracting(IPRangeSet([net("10.0.0.64/26"), net("10.0.2.0/25")]))
        #expect(carved.cidrs.map(\.description) == ["10.0.0.0/26", "10.0.0.128/25", "10.0.2.128/25"])
        #expect(carved.size == 64 + 128 + 128)
        #expect(carved.contains(ip("10.0.0.200")) && !carved.contains(ip("10.0.0.70")))
        #expect(set.removing(ip("10.0.0.0")).ranges.first?.description == "10.0.0.1-10.0.0.255")
        #expect(set.intersects(IPRangeSet([net("10.0.2.7/32")])))
        #expect(!set.intersects(IPRangeSet([net("10.0.1.0/24")])))
        #expect(IPRangeSet([net("10.0.0.0/26")]).isSubset(of: set))
    }

    @Test("Range set union, difference and CIDR cover agree with sets of single addresses")
    func rangeSetAgainstBruteForce() {
        var generator = SeededGenerator(state: 11)
        func randomSet() -> (IPRangeSet, Set<UInt32>) {
            var ranges: [IPRange] = []
            var members: Set<UInt32> = []
            for _ in 0..<Int.random(in: 0...5, using: &generator) {
                let first = UInt32.random(in: 0...60, using: &generator)
                let last = first + UInt32.random(in: 0...8, using: &generator)
                ranges.append(IPRange(first: IPAddress(ipv4: first), last: IPAddress(ipv4: last))!)
                members.formUnion(first...last)
            }
            return (IPRangeSet(ranges), members)
        }
        func members(_ set: IPRangeSet) -> Set<UInt32> {
            Set((0..<80).filter { set.contains(IPAddress(ipv4: $0)) })
        }
        for _ in 0..<200 {
            let (left, leftMembers) = randomSet()
            let (right, rightMembers) = randomSet()
            #expect(members(left) == leftMembers)
            #expect(members(left.subtracting(right)) == leftMembers.subtracting(rightMembers))
            #expect(members(left.union(right)) == leftMembers.union(rightMembers))
            #expect(left.intersects(right) == !leftMembers.isDisjoint(with: rightMembers))
            #expect(left.size == UInt128(leftMembers.count))
            #expect(members(IPRangeSet(left.cidrs)) == leftMembers)
        }
    }
}
