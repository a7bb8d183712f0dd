import Foundation

/// Where sandboxes keep their state: `<root>/<sandbox>/…` per sandbox and
/// `<root>/base-<recipe hash>/` for the cached base rootfs and package repository.
public struct SandboxPaths: Sendable {
    public let root: String

    public static let defaultRoot = "/var/lib/nimbus/sandbox"

    public init(root: String = SandboxPaths.defaultRoot) {
        self.root = root
    }

    public func sandbox(_ name: String) -> String { "\(root)/\(name)" }
    public func spec(_ name: String) -> String { "\(sandbox(name))/sandbox.json" }
    public func privateKey(_ name: String) -> String { "\(sandbox(name))/id_ed25519" }
    public func knownHosts(_ name: String) -> String { "\(sandbox(name))/known_hosts" }
    public func node(_ name: String, _ node: String) -> String { "\(sandbox(name))/nodes/\(node)" }
    public func base(_ hash: String) -> String { "\(root)/base-\(hash)" }

    /// The names of the sandboxes that have state here.
    public func sandboxNames() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return entries.filter { FileManager.default.fileExists(atPath: spec($0)) }.sorted()
    }
}
