/// Why a sandbox operation failed, with what to do about it.
public enum SandboxError: Error, CustomStringConvertible, Equatable {
    case requirements([String])
    case invalidSpec([String])
    case notFound(String)
    case unknownNode(sandbox: String, node: String, known: [String])
    case command(step: String, CommandError)
    case io(step: String, path: String, reason: String)
    case timeout(step: String, seconds: Int, detail: String)
    case conflict(String)

    public var description: String {
        switch self {
        case .requirements(let problems):
            "this machine cannot run a sandbox yet:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
        case .invalidSpec(let problems): problems.joined(separator: "\n")
        case .notFound(let name): "no sandbox named '\(name)' (nimbus sandbox list shows them)"
        case .unknownNode(let sandbox, let node, let known):
            "sandbox '\(sandbox)' has no node '\(node)'; its nodes: \(known.joined(separator: ", "))"
        case .command(let step, let error): "\(step): \(error)"
        case .io(let step, let path, let reason): "\(step): \(path): \(reason)"
        case .timeout(let step, let seconds, let detail): "\(step): not done after \(seconds) s; \(detail)"
        case .conflict(let message): message
        }
    }
}
