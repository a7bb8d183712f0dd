/// One command an agent runs, and where: what planning produces and `HostExecutor` runs.
/// Plans are lists of these, so tests read them as the commands a person would type.
public struct HostCommand: Sendable, Equatable, CustomStringConvertible {
    /// Which network namespace the command runs in.
    public enum Scope: Sendable, Hashable {
        /// The host's: the executor's host namespace, or the agent's own when it has none.
        case host
        /// A namespace of the agent's own making (`qdhcp-…`, `qrouter-…`), by name.
        case namespace(String)
        /// The agent's own context, for managing namespaces (`ip netns add`): never run
        /// inside another namespace, or the name would be mounted where nobody sees it.
        case agent
    }

    /// Where it runs.
    public var scope: Scope
    /// The program and its arguments.
    public var arguments: [String]
    /// Written to the program's standard input (`nft -f -`).
    public var input: String?
    /// A failure is logged and passed over (cleanup whose target may be gone already).
    public var mayFail: Bool

    /// `arguments` run in `scope`.
    public init(_ scope: Scope, _ arguments: [String], input: String? = nil, mayFail: Bool = false) {
        self.scope = scope
        self.arguments = arguments
        self.input = input
        self.mayFail = mayFail
    }

    /// `ip …` in `scope`.
    public static func ip(_ scope: Scope = .host, _ arguments: String..., mayFail: Bool = false) -> HostCommand {
        HostCommand(scope, ["ip"] + arguments, mayFail: mayFail)
    }

    /// `bridge …` in `scope`.
    public static func bridge(_ scope: Scope = .host, _ arguments: String..., mayFail: Bool = false) -> HostCommand {
        HostCommand(scope, ["bridge"] + arguments, mayFail: mayFail)
    }

    /// `nft -f -` with `script`: one transaction.
    public static func nft(_ scope: Scope = .host, script: String) -> HostCommand {
        HostCommand(scope, ["nft", "-f", "-"], input: script)
    }

    /// `sysctl -w key=value …`.
    public static func sysctl(_ scope: Scope, _ settings: [(String, String)]) -> HostCommand {
        HostCommand(scope, ["sysctl", "-q", "-w"] + settings.map { "\($0.0)=\($0.1)" })
    }

    /// Whether the command only reads (lists, shows): what a resync with nothing to do runs.
    public var isReadOnly: Bool {
        switch arguments.first {
        case "ip", "bridge": arguments.contains("-j") && (arguments.contains("show") || arguments.contains("list"))
        case "nft": arguments.contains("-j") && arguments.contains("list")
        case "sysctl": arguments.contains("-n")
        default: false
        }
    }

    /// The command as typed, prefixed by its namespace (`[qrouter-…] ip …`), with its input.
    public var description: String {
        let prefix =
            switch scope {
            case .host, .agent: ""
            case .namespace(let name): "[\(name)] "
            }
        return prefix + arguments.joined(separator: " ") + (input.map { " <<\n" + $0 } ?? "")
    }
}
