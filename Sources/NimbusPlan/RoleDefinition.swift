import Foundation
import NimbusConfig
import NimbusManifest
import NimbusModel
import Yams

/// A role as `roles/<role>.yaml` defines it: the preparation steps and services a host
/// with that role gets.
public struct RoleDefinition: Sendable, Decodable, Equatable {
    public var role: NodeRole
    public var summary: String
    public var preparation: [PreparationStep]
    /// The services it runs, by manifest name (`services.yaml` says what each is).
    public var services: [String]
}

/// Host preparation steps, in the order they run.
public enum PreparationStep: String, Sendable, Decodable, CaseIterable, Comparable {
    case facts
    case timeSync = "time-sync"
    case firewall
    case selinux
    case networkManager = "networkmanager"
    case hostsFile = "hosts-file"
    case sysctl
    case bridges

    public var summary: String {
        switch self {
        case .facts: "read OS family and version, interfaces and addresses, virtualization support, time sync"
        case .timeSync: "chrony"
        case .firewall: "stop and disable firewalld, ufw or the nftables service"
        case .selinux: "SELinux permissive now and in /etc/selinux/config, where present"
        case .networkManager: "stop and disable NetworkManager"
        case .hostsFile: "managed block of all hosts in /etc/hosts"
        case .sysctl: "ip_forward and bridge netfilter sysctls, persisted"
        case .bridges: "bridges for the provider networks, persistent the host's native way"
        }
    }

    public static func < (lhs: PreparationStep, rhs: PreparationStep) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// The roles, read from a directory of YAML files, one per role, and the service
/// manifest beside them (`services.yaml`).
public struct RoleCatalog: Sendable, Equatable {
    public var roles: [NodeRole: RoleDefinition]
    public var manifest: ServiceManifest

    public init(roles: [NodeRole: RoleDefinition], manifest: ServiceManifest) {
        self.roles = roles
        self.manifest = manifest
    }

    /// Why the role files cannot be used.
    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case missing(path: String)
        case invalid(path: String, reason: String)

        public var description: String {
            switch self {
            case .missing(let path):
                "\(path): missing (every role needs a role file, and the roles their services.yaml)"
            case .invalid(let path, let reason): "\(path): \(reason)"
            }
        }
    }

    /// Reads `<directory>/<role>.yaml` for every role.
    public static func load(directory: String) throws(LoadError) -> RoleCatalog {
        var roles: [NodeRole: RoleDefinition] = [:]
        for role in NodeRole.allCases {
            let path = "\(directory)/\(role.rawValue).yaml"
            guard let data = FileManager.default.contents(atPath: path) else { throw .missing(path: path) }
            let definition: RoleDefinition
            do {
                definition = try YAMLDecoder().decode(RoleDefinition.self, from: data)
            } catch {
                throw .invalid(path: path, reason: "\(error)")
            }
            guard definition.role == role else {
                throw .invalid(path: path, reason: "says role: \(definition.role), expected \(role)")
            }
            roles[role] = definition
        }
        let manifest: ServiceManifest
        do {
            manifest = try ServiceManifest.load(path: "\(directory)/services.yaml")
        } catch {
            switch error {
            case .missing(let path): throw .missing(path: path)
            case .invalid(let path, let reason): throw .invalid(path: path, reason: reason)
            }
        }
        for entry in manifest.services {
            if let condition = entry.when, ServiceCondition(condition) == nil {
                throw .invalid(
                    path: "\(directory)/services.yaml",
                    reason: "service \(entry.name): when: \(condition) names no y/n answer-file key")
            }
            for (name, value) in entry.values where KeyCatalogue.definition(named: value.key) == nil {
                throw .invalid(
                    path: "\(directory)/services.yaml",
                    reason: "service \(entry.name): value \(name) names \(value.key), which is no answer-file key")
            }
            if let user = entry.serviceUser, KeyCatalogue.definition(named: user.password) == nil {
                throw .invalid(
                    path: "\(directory)/services.yaml",
                    reason: "service \(entry.name): service_user password \(user.password) is no answer-file key")
            }
        }
        for (role, definition) in roles {
            for name in definition.services where manifest[name] == nil {
                throw .invalid(
                    path: "\(directory)/\(role.rawValue).yaml",
                    reason: "service \(name) is not in services.yaml")
            }
        }
        let names = Set(roles.values.flatMap(\.services))
        for entry in manifest.services where names.contains(entry.name) {
            for required in entry.requires where !names.contains(required) {
                throw .invalid(
                    path: "\(directory)/services.yaml",
                    reason: "service \(entry.name) requires \(required), which no role runs")
            }
        }
        return RoleCatalog(roles: roles, manifest: manifest)
    }

    public subscript(role: NodeRole) -> RoleDefinition? { roles[role] }
}

/// `KEY` (y/n key is y) or `KEY=value` (the key's text equals value).
struct ServiceCondition {
    let key: KeyDefinition
    let value: String?

    init?(_ text: String) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard let key = KeyCatalogue.definition(named: parts[0]) else { return nil }
        if parts.count == 1 && key.type != .bool { return nil }
        self.key = key
        self.value = parts.count == 2 ? parts[1] : nil
    }

    func holds(in file: AnswerFile) -> Bool {
        if let value { return file.text(key).lowercased() == value.lowercased() }
        return file.bool(key)
    }
}
