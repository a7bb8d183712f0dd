import Foundation
import NimbusModel
import NimbusSystem

/// Facts about the machine Nimbus runs on, read without contacting any host.
public enum LocalMachine {
    /// The IPv4 address of the interface that carries the default route (the lowest
    /// metric in `/proc/net/route`), as Packstack picks its defaults. Nil without one.
    public static func defaultRouteAddress(routeTable: String = "/proc/net/route") -> String? {
        guard let table = SystemFile.text(routeTable) else { return nil }
        var best: (interface: String, metric: Int)?
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count > 6, fields[1] == "00000000", let metric = Int(fields[6]) else { continue }
            if metric < best?.metric ?? .max { best = (String(fields[0]), metric) }
        }
        guard let interface = best?.interface else { return nil }
        return ipv4Address(of: interface)
    }

    /// The first IPv4 address of `interface` (`getifaddrs(3)`).
    public static func ipv4Address(of interface: String) -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                String(cString: entry.pointee.ifa_name) == interface
            else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let result = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { inet in
                var addr = inet.pointee.sin_addr
                return inet_ntop(AF_INET, &addr, &text, socklen_t(INET_ADDRSTRLEN))
            }
            if result != nil {
                return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
        return nil
    }

    /// The deploying user's SSH public key path, written with `~`: ed25519 if present,
    /// then RSA, else the ed25519 path (deploy creates the key pair there when missing).
    public static func sshPublicKeyPath(home: String = NSHomeDirectory()) -> String {
        for name in ["id_ed25519.pub", "id_rsa.pub"]
        where FileManager.default.fileExists(atPath: "\(home)/.ssh/\(name)") {
            return "~/.ssh/\(name)"
        }
        return "~/.ssh/id_ed25519.pub"
    }
}
