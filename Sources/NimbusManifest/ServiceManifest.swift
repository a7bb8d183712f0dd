import Foundation
import Yams

/// Every Nimbus service in one place (`roles/services.yaml`): what runs it, where it
/// listens, how its health is told, what it registers in the catalog, which files and
/// units it gets, which identity user and Linux capabilities it needs. The roles name
/// services; everything else about a service is read from here, by the deploy side
/// (plan, delivery, status) and by `nimbus-server` on the hosts.
public struct ServiceManifest: Sendable, Equatable {
    /// In the file's order.
    public var services: [ServiceEntry]
    /// The text it was read from (a deploy copies it to the hosts).
    public var source: String

    public init(services: [ServiceEntry], source: String = "") {
        self.services = services
        self.source = source
    }

    public subscript(name: String) -> ServiceEntry? { services.first { $0.name == name } }

    /// The service that holds the catalog and is bootstrapped first (identity).
    public var catalogService: ServiceEntry? { services.first { $0.registersCatalog } }

    /// The service behind a catalog type (`volumev3` → block storage).
    public func service(forCatalogType type: String) -> ServiceEntry? {
        services.first { $0.catalog.contains { $0.type == type } }
    }

    /// Where a deploy puts the manifest on every host, for `nimbus-server`.
    public static let hostPath = "/etc/nimbus/services.yaml"

    /// Why the manifest cannot be used.
    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case missing(path: String)
        case invalid(path: String, reason: String)

        public var description: String {
            switch self {
            case .missing(let path): "\(path): service manifest missing"
            case .invalid(let path, let reason): "\(path): \(reason)"
            }
        }
    }

    public static func load(path: String) throws(LoadError) -> ServiceManifest {
        guard let data = FileManager.default.contents(atPath: path) else { throw .missing(path: path) }
        return try decode(String(decoding: data, as: UTF8.self), path: path)
    }

    /// Decodes and checks the manifest: unique names, known dependencies, well-formed
    /// capabilities and users, a port for every HTTP health check, one catalog service.
    public static func decode(_ text: String, path: String) throws(LoadError) -> ServiceManifest {
        struct File: Decodable { var services: [ServiceEntry] }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw .invalid(path: path, reason: "\(error)")
        }
        let manifest = ServiceManifest(services: file.services, source: text)
        let problems = manifest.problems()
        guard problems.isEmpty else { throw .invalid(path: path, reason: problems.joined(separator: "; ")) }
        return manifest
    }

    /// Every inconsistency at once.
    func problems() -> [String] {
        var problems: [String] = []
        var seen: Set<String> = []
        for entry in services {
            let name = entry.name
            if !seen.insert(name).inserted { problems.append("service \(name) is listed twice") }
            if name.isEmpty || !name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }) {
                problems.append("service \(name): names are lower-case letters, digits and -")
            }
            for required in entry.requires where self[required] == nil {
                problems.append("service \(name) requires \(required), which the manifest does not define")
            }
            if entry.health == .http && entry.port == nil {
                problems.append("service \(name): health http needs a port")
            }
            for capability in entry.capabilities where !capability.isWellFormed {
                problems.append("service \(name): \(capability.rawValue) is not a capability name (CAP_…)")
            }
            if let user = entry.user, user.isEmpty || user == "root" || user.contains(" ") {
                problems.append("service \(name): user \(user) must be an unprivileged system user name")
            }
            if entry.user != nil && !entry.capabilities.isEmpty && entry.binary == .agent {
                problems.append("service \(name): an agent runs as root with a bounded capability set, not as a user")
            }
        }
        if services.filter(\.registersCatalog).count != 1 {
            problems.append("exactly one service must have registers_catalog: true (the identity service)")
        }
        return problems
    }
}
