import NimbusConfig
import NimbusManifest
import NimbusModel

/// Builds the plan: a pure function of a validated answer file and the role catalogue.
public struct Planner: Sendable {
    public let roles: RoleCatalog

    public init(roles: RoleCatalog) {
        self.roles = roles
    }

    public func plan(_ file: AnswerFile) -> Plan {
        let assignment = roleAssignment(file)
        let controller = file.controller
        let excluded = file.excludedHosts
        var servicesByHost: [HostAddress: [ServiceEntry]] = [:]
        for (host, hostRoles) in assignment {
            servicesByHost[host] = excluded.contains(host) ? [] : services(for: hostRoles, in: file)
        }
        var hosts: [HostPlan] = []
        for (host, hostRoles) in assignment {
            let services = servicesByHost[host] ?? []
            let steps =
                excluded.contains(host)
                ? []
                : StepBuilder(
                    host: host, roles: hostRoles, services: services, file: file, catalog: roles,
                    servicesByHost: servicesByHost
                ).build()
            hosts.append(
                HostPlan(
                    host: host, roles: hostRoles, excluded: excluded.contains(host), services: services.map(\.name),
                    steps: steps))
        }
        return Plan(layout: layout(of: assignment, file: file), controller: controller, hosts: hosts)
    }

    /// Each host with its roles, hosts in the order the file first names them.
    func roleAssignment(_ file: AnswerFile) -> [(HostAddress, [NodeRole])] {
        var roles: [HostAddress: Set<NodeRole>] = [:]
        roles[file.controller, default: []].insert(.controller)
        for host in file.networkHosts { roles[host, default: []].insert(.network) }
        for host in file.computeHosts { roles[host, default: []].insert(.compute) }
        roles[file.storageHost, default: []].insert(.storage)
        return file.allHosts.map { ($0, (roles[$0] ?? []).sorted()) }
    }

    func layout(of assignment: [(HostAddress, [NodeRole])], file: AnswerFile) -> Layout {
        let controller = file.controller
        let network = Set(file.networkHosts)
        let compute = Set(file.computeHosts)
        let storage = file.storageHost
        if assignment.count == 1 { return .allInOne }
        let computeApart =
            !compute.isEmpty && !compute.contains(controller) && compute.isDisjoint(with: network)
            && !compute.contains(storage)
        guard computeApart else { return .custom }
        if network == [controller] && storage == controller { return .twoNode }
        let networkApart = !network.isEmpty && !network.contains(controller) && !network.contains(storage)
        guard networkApart else { return .custom }
        if storage == controller { return .threeNode }
        return .fourNode
    }

    /// The services a host with these roles runs, each once, those it needs first.
    func services(for hostRoles: [NodeRole], in file: AnswerFile) -> [ServiceEntry] {
        var result: [ServiceEntry] = []
        for role in hostRoles {
            for name in roles[role]?.services ?? [] where !result.contains(where: { $0.name == name }) {
                guard let service = roles.manifest[name] else { continue }
                if let condition = service.when.flatMap(ServiceCondition.init), !condition.holds(in: file) { continue }
                result.append(service)
            }
        }
        // Stable order in which every service comes after those on this host it requires.
        var ordered: [ServiceEntry] = []
        func visit(_ service: ServiceEntry, depth: Int) {
            guard depth < 32, !ordered.contains(where: { $0.name == service.name }) else { return }
            for required in service.requires {
                if let local = result.first(where: { $0.name == required }) { visit(local, depth: depth + 1) }
            }
            if !ordered.contains(where: { $0.name == service.name }) { ordered.append(service) }
        }
        for service in result { visit(service, depth: 0) }
        return ordered
    }
}
