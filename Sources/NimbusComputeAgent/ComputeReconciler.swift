import Logging
import NimbusAgentKit
import NimbusServiceKit

/// The compute agent's reconciler. The compute API publishes no instances yet (servers
/// are the next step), so there is nothing to make the host hold: it follows the channel
/// and records what it sees, so the agent's revision is current and the API can tell a
/// live agent from a stale one.
public actor ComputeReconciler: Reconciler {
    let logger: Logger
    public private(set) var items: [String: ChangeLog.Item] = [:]

    public init(logger: Logger) { self.logger = logger }

    public func resync(_ items: [ChangeLog.Item]) async -> [ResourceStatus] {
        self.items = Dictionary(items.map { ("\($0.kind)/\($0.id)", $0) }, uniquingKeysWith: { $1 })
        return []
    }

    public func apply(_ item: ChangeLog.Item) async -> ResourceStatus? {
        items["\(item.kind)/\(item.id)"] = item.body == nil ? nil : item
        return nil
    }
}
