import ArgumentParser
import Foundation
import NimbusConfig
import NimbusPlan

/// Where Nimbus's data (`roles/`, later `templates/`) is read from.
struct DataOptions: ParsableArguments {
    @Option(
        name: .customLong("roles-dir"),
        help: ArgumentHelp(
            "Directory of role definitions (controller.yaml, …). Default: $NIMBUS_ROLES_DIR, the roles/ of the installation or of the source tree.",
            valueName: "dir"))
    var rolesDirectory: String?

    func roles() throws -> RoleCatalog {
        guard let directory = rolesDirectory ?? DataDirectory.locate("roles") else {
            throw CLIError("cannot find the roles/ directory; pass --roles-dir DIR or set NIMBUS_ROLES_DIR")
        }
        do { return try RoleCatalog.load(directory: directory) } catch { throw CLIError(error.description) }
    }
}

/// Options that change the hosts of an answer file, as Packstack's do.
struct HostOptions: ParsableArguments {
    @Flag(help: "All roles on this machine (its default-route address), as Packstack's --allinone.")
    var allinone = false

    @Option(
        name: .customLong("install-hosts"),
        help: ArgumentHelp(
            "Comma-separated hosts: the first is the controller (and network and storage host), the others compute hosts; one host alone is all-in-one.",
            valueName: "hosts"))
    var installHosts: String?

    @Option(
        name: .customLong("default-password"),
        help: ArgumentHelp("The password for every password key left empty.", valueName: "password"))
    var defaultPassword: String?

    /// The answer-file values these options set.
    func overrides(localAddress: () -> String) throws -> [String: String] {
        var values: [String: String] = [:]
        if allinone && installHosts != nil {
            throw ValidationError("--allinone and --install-hosts both say where the cloud goes; give one of them")
        }
        var hosts: [String] = []
        if allinone { hosts = [localAddress()] }
        if let installHosts {
            hosts = installHosts.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            if hosts.contains(where: \.isEmpty) {
                throw ValidationError("--install-hosts: '\(installHosts)' has an empty host")
            }
        }
        if let controller = hosts.first {
            values[KeyDefinition.controllerHost.name] = controller
            values[KeyDefinition.networkHosts.name] = controller
            values[KeyDefinition.storageHost.name] = controller
            values[KeyDefinition.computeHosts.name] =
                hosts.count == 1 ? controller : hosts.dropFirst().joined(separator: ",")
        }
        if let defaultPassword { values[KeyDefinition.defaultPassword.name] = defaultPassword }
        return values
    }

    var isEmpty: Bool { !allinone && installHosts == nil && defaultPassword == nil }
}

/// Locates data directories shipped beside the binary or in the source tree.
enum DataDirectory {
    static func locate(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit = environment["NIMBUS_\(name.uppercased())_DIR"] { return explicit }
        var candidates: [String] = []
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
            candidates.append(directory.appendingPathComponent("../share/nimbus/\(name)").path)
            // A build tree: .build/<triple>/<config>/nimbus → walk up to the package root.
            for _ in 0..<5 {
                candidates.append(directory.appendingPathComponent(name).path)
                directory = directory.deletingLastPathComponent()
            }
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/\(name)")
        let marker = ["roles": "/controller.yaml", "templates": "/sandbox/supervise.sh"][name] ?? ""
        return candidates.first { FileManager.default.fileExists(atPath: $0 + marker) }
            .map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }
}

/// A failure the user can act on; printed as `nimbus: message`, exit 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
