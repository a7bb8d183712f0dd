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
}
