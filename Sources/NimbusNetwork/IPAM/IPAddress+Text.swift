extension IPAddress {
    /// Parses an address strictly, as `inet_pton` does (and so netaddr, under Neutron):
    /// IPv4 as four decimal octets without leading zeros, IPv6 as up to eight groups of
    /// one to four hex digits with at most one `::` and optionally a dotted IPv4 tail.
    /// No whitespace, zone index or prefix. Returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        let utf8 = Array(text.utf8)
        if utf8.contains(UInt8(ascii: ":")) {
            guard let value = IPAddress.parseIPv6(utf8) else { return nil }
            self.init(ipv6: value)
        } else {
            guard let value = IPAddress.parseIPv4(utf8, allowLeadingZeros: false) else { return nil }
            self.init(ipv4: value)
        }
    }

    /// The address an IPv4 text with leading zeros in its octets stands for (`010.0.0.1` is
    /// 10.0.0.1), as netaddr's `ZEROFILL` reads it; nil when it is not such a text.
    /// Neutron refuses these with "'010.0.0.1' is not an accepted IP address, '10.0.0.1'
    /// is recommended".
    static func zeroFilledIPv4(_ text: some StringProtocol) -> IPAddress? {
        parseIPv4(Array(text.utf8), allowLeadingZeros: true).map(IPAddress.init(ipv4:))
    }

    /// The address in canonical text: dotted quad, or RFC 5952 IPv6 (lowercase, no
    /// leading zeros, the longest run of two or more zero groups as `::`, the first on
    /// a tie; IPv4-mapped addresses as `::ffff:a.b.c.d`).
    public var description: String {
        switch version {
        case .v4: return IPAddress.formatIPv4(UInt32(truncatingIfNeeded: value))
        case .v6: return IPAddress.formatIPv6(value)
        }
    }

    private static func parseIPv4(_ bytes: [UInt8], allowLeadingZeros: Bool) -> UInt32? {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            if !allowLeadingZeros && (part.count > 3 || (part.count > 1 && part.first == 0x30)) { return nil }
            var octet: UInt32 = 0
            for digit in part {
                octet = octet * 10 + UInt32(digit - 0x30)
                if octet > 255 { return nil }
            }
            value = value << 8 | octet
        }
        return value
    }

    private static func parseIPv6(_ bytes: [UInt8]) -> UInt128? {
        let colon = UInt8(ascii: ":")
        let gap = bytes.indices.dropLast().first { bytes[$0] == colon && bytes[$0 + 1] == colon }
        let head: [UInt16]
        var tail: [UInt16] = []
        if let gap {
            guard let before = groups(bytes[..<gap], dottedTail: false),
                let after = groups(bytes[(gap + 2)...], dottedTail: true)
            else { return nil }
            head = before
            tail = after
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard let all = groups(bytes[...], dottedTail: true), all.count == 8 else { return nil }
            head = all
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    /// The 16-bit groups of one side of an IPv6 text: hex groups of one to four digits
    /// between single colons, the last of them optionally a dotted IPv4 address.
    private static func groups(_ bytes: ArraySlice<UInt8>, dottedTail: Bool) -> [UInt16]? {
        if bytes.isEmpty { return [] }
        let pieces = bytes.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (index, piece) in pieces.enumerated() {
            if dottedTail, index == pieces.count - 1, piece.contains(UInt8(ascii: ".")) {
                guard let v4 = parseIPv4(Array(piece), allowLeadingZeros: false) else { return nil }
                result += [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                continue
            }
            guard (1...4).contains(piece.count) else { return nil }
            var group: UInt16 = 0
            for byte in piece {
                guard let digit = hexDigit(byte) else { return nil }
                group = group << 4 | digit
            }
            result.append(group)
        }
        return result
    }

    private static func hexDigit(_ byte: UInt8) -> UInt16? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt16(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt16(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt16(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private static func formatIPv4(_ value: UInt32) -> String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }

    private static func formatIPv6(_ value: UInt128) -> String {
        if value >> 32 == 0xFFFF {
            return "::ffff:" + formatIPv4(UInt32(truncatingIfNeeded: value))
        }
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: value >> (16 * (7 - UInt128($0)))) }
        var best = (start: -1, length: 0)
        var run = (start: -1, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                run = run.start < 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let before = hex[..<best.start].joined(separator: ":")
        let after = hex[(best.start + best.length)...].joined(separator: ":")
        return before + "::" + after
    }
}
