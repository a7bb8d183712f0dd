import NimbusModel

/// Where a key's default comes from when the file leaves it out, and what
/// `gen-answer-file` writes for it.
public enum KeyDefault: Sendable, Hashable {
    case literal(String)
    /// This machine's default-route source address (as Packstack does). Required: a file
    /// without the key is an error, since validation never guesses where hosts are.
    case localAddress
    /// Whatever `CONFIG_CONTROLLER_HOST` says (the generated file writes the address).
    case controllerHost
    /// A fresh CSPRNG password in a generated file; left empty in a file, it is
    /// `CONFIG_DEFAULT_PASSWORD`, or generated at deploy and written back.
    case generatedPassword
    /// The deploying user's SSH public key (`~/.ssh/id_ed25519.pub` or `~/.ssh/id_rsa.pub`).
    case sshPublicKey

    public var summary: String {
        switch self {
        case .literal(let text): text.isEmpty ? "(empty)" : text
        case .localAddress: "this machine's default-route address"
        case .controllerHost: "CONFIG_CONTROLLER_HOST"
        case .generatedPassword: "a random password"
        case .sshPublicKey: "~/.ssh/id_ed25519.pub, or ~/.ssh/id_rsa.pub if only that exists"
        }
    }
}

/// What a group of keys is about, and which hosts or services it concerns.
public enum KeyGroup: String, Sendable, CaseIterable, Hashable {
    case hosts
    case preparation
    case services
    case identity
    case image
    case compute
    case network
    case blockStorage
    case objectStorage
    case demo

    public var title: String {
        switch self {
        case .hosts: "Hosts and access"
        case .preparation: "Host preparation"
        case .services: "Services to install"
        case .identity: "Identity (Keystone)"
        case .image: "Image (Glance)"
        case .compute: "Compute (Nova)"
        case .network: "Networking (Neutron)"
        case .blockStorage: "Block storage (Cinder)"
        case .objectStorage: "Object storage (Swift)"
        case .demo: "Demo provisioning"
        }
    }

    /// The roles (hosts) the group's keys take effect on, for the docs.
    public var scope: String {
        switch self {
        case .hosts, .preparation: "all hosts"
        case .services: "the roles that run each service"
        case .identity, .image, .demo: "controller"
        case .compute: "controller (API, scheduler), compute"
        case .network: "controller (API), network, compute"
        case .blockStorage, .objectStorage: "controller (API), storage"
        }
    }
}

/// One key of the answer file: the single source for generation, parsing,
/// validation and `docs/answer-file.md`.
public struct KeyDefinition: Sendable, Hashable {
    public let name: String
    public let type: KeyType
    public let defaultValue: KeyDefault
    /// An empty value is an error.
    public let required: Bool
    public let group: KeyGroup
    /// True when Packstack has a key of this name with the same meaning.
    public let fromPackstack: Bool
    public let help: String

    public init(
        _ name: String, _ type: KeyType, default defaultValue: KeyDefault, required: Bool = false,
        group: KeyGroup, packstack: Bool = true, help: String
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.required = required
        self.group = group
        self.fromPackstack = packstack
        self.help = help
    }
}
