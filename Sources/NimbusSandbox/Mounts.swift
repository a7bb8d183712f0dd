import Foundation
import NimbusModel
import NimbusSystem

/// Reads `/proc/self/mountinfo`.
enum Mounts {
    static func entries() -> [(mountPoint: String, type: String, options: String)] {
        guard let text = SystemFile.text("/proc/self/mountinfo") else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let halves = line.components(separatedBy: " - ")
            let left = halves[0].split(separator: " ")
            guard halves.count == 2, left.count > 4 else { return nil }
            let right = halves[1].split(separator: " ")
            return (
                unescape(String(left[4])), right.first.map(String.init) ?? "", right.count > 2 ? String(right[2]) : ""
            )
        }
    }

    static func isMountPoint(_ path: String) -> Bool { entries().contains { $0.mountPoint == path } }

    static func isOverlay(_ path: String, lower: String) -> Bool {
        entries().contains { $0.mountPoint == path && $0.type == "overlay" && $0.options.contains("lowerdir=\(lower)") }
    }

    /// Mount points at or under `prefix`, deepest first (the order to unmount them).
    static func under(_ prefix: String) -> [String] {
        entries().map(\.mountPoint).filter { $0 == prefix || $0.hasPrefix(prefix + "/") }.sorted { $0.count > $1.count }
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }
}
