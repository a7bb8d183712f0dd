import Glibc

/// The UTC date and time the OpenStack APIs write, `2026-11-22T10:37:30` (each service adds
/// its own fraction and zone marker: Keystone `.000000Z`, Glance `Z`).
public enum Timestamp {
    public static func utc(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }

    /// The inverse of `utc`: `2026-11-22T10:37:30` with anything after the seconds (a
    /// fraction, `Z`) → seconds since 1970; nil when it is not that form.
    public static func seconds(_ text: String) -> Int64? {
        guard text.count >= 19 else { return nil }
        let digits = text.prefix(19).split(whereSeparator: { "-T:".contains($0) }).compactMap { Int32($0) }
        guard digits.count == 6 else { return nil }
        var parts = tm()
        (parts.tm_year, parts.tm_mon, parts.tm_mday) = (digits[0] - 1900, digits[1] - 1, digits[2])
        (parts.tm_hour, parts.tm_min, parts.tm_sec) = (digits[3], digits[4], digits[5])
        return Int64(timegm(&parts))
    }
}
