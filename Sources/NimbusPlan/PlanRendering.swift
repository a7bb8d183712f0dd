import Foundation
import NimbusModel

extension Plan {
    /// The stable JSON form: sorted keys, two-space indentation, a final newline.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The plan for a person: each host's roles, services and numbered steps; a step's
    /// dependencies on other hosts are shown under it.
    public func text() -> String {
        let hostWord = hosts.count == 1 ? "host" : "hosts"
        var out =
            "Layout: \(layout.rawValue), \(hosts.count) \(hostWord), controller \(controller), \(stepCount) steps\n"
        let width = hosts.flatMap { $0.steps.map(\.name.count) }.max() ?? 0
        for host in hosts {
            out += "\n\(host.host)  \(host.roles.map(\.rawValue).joined(separator: ", "))"
            if host.excluded {
                out += "  (excluded: EXCLUDE_SERVERS; only named in /etc/hosts)\n"
                continue
            }
            out += "\n"
            if !host.services.isEmpty { out += "  services: \(host.services.joined(separator: ", "))\n" }
            let prefix = "\(host.host):"
            for (index, step) in host.steps.enumerated() {
                let number = String(index + 1).leftPadded(to: 4)
                out += "\(number). \(step.name.rightPadded(to: width))  \(step.summary)\n"
                let remote = step.after.filter { !$0.hasPrefix(prefix) }
                if !remote.isEmpty {
                    out += String(repeating: " ", count: 6 + width + 2) + "after \(remote.joined(separator: ", "))\n"
                }
            }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
    func rightPadded(to width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}
