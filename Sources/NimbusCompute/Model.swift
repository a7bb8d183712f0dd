/// A flavor: the size of an instance (Nova's `flavors` table with its projects and extra specs).
public struct Flavor: Codable, Sendable, Equatable {
    /// The flavor id (`flavorid`): any string, `1` or a UUID.
    public var id: String
    public var name: String
    public var memoryMiB: Int
    public var vcpus: Int
    public var diskGiB: Int
    public var ephemeralGiB: Int
    public var swapMiB: Int
    public var rxtxFactor: Double
    public var isPublic: Bool
    public var disabled: Bool
    public var description: String?
    public var extraSpecs: [String: String]
    /// Projects a private flavor is open to (`os-flavor-access`).
    public var projects: [String]
    public var createdAt: Int64
}

/// A key pair: a user's public key, found by name.
public struct KeyPair: Codable, Sendable, Equatable {
    public var name: String
    public var userID: String
    public var publicKey: String
    public var fingerprint: String
    /// `ssh` or `x509`.
    public var type: String
    /// A number Nova shows as `id` (its row id).
    public var serial: Int
    public var createdAt: Int64

    /// The state's key of a user's key pair.
    static func key(user: String, name: String) -> String { user + "/" + name }
}
