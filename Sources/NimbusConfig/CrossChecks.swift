import NimbusModel

/// Checks that look at several keys at once. Each runs only on keys that parsed.
enum CrossChecks {
    typealias Context = AnswerFileValidator.Context

    static func run(_ context: inout Context) {
        roleHosts(&context)
        hostKinds(&context)
        excludedServers(&context)
        bridges(&context)
        networkTypes(&context)
        services(&context)
        demoPools(&context)
    }

    /// The demo's floating pools lie inside its range, past the gateway (its first address),
    /// short of the broadcast address, and do not overlap.
    static func demoPools(_ context: inout Context) {
        if context.values[KeyDefinition.provisionDemo.name] == .bool(true),
            context.values[KeyDefinition.neutronInstall.name] != .bool(false)
        {
            if case .cidr(let range) = context.values[KeyDefinition.provisionDemoFloatRange.name] {
                if range.prefixLength > 29 {
                    context.error(
                        .provisionDemoFloatRange,
                        "\(range) is too small for a gateway and floating IPs; give a /29 or larger")
                }
                let privateRange = DemoSpec.privateRangeDefault
                if range.contains(privateRange.network) || privateRange.contains(range.network) {
                    context.error(
                        .provisionDemoFloatRange,
                        "\(range) overlaps the demo's private network \(privateRange), which router1 joins to it; choose another range"
                    )
                }
            }
            let mappings = context.values[KeyDefinition.neutronBridgeMappings.name]
            if !context.broken.contains(KeyDefinition.neutronBridgeMappings.name),
                mappings == nil || mappings == .empty || mappings == .bridgeMappings([])
            {
                context.error(
                    .neutronBridgeMappings,
                    "is empty, but CONFIG_PROVISION_DEMO=y puts the external network public on its first physical network; map one (extnet:br-ex) or set CONFIG_PROVISION_DEMO=n"
                )
            }
        }
        guard context.isUsable(.provisionDemoAllocationPools), context.isUsable(.provisionDemoFloatRange),
            case .cidr(let range) = context.values[KeyDefinition.provisionDemoFloatRange.name],
            case .text(let text) = context.values[KeyDefinition.provisionDemoAllocationPools.name],
            let pools = try? AllocationPool.parseList(text)
        else { return }
        let gateway = range.network.value &+ 1
        let broadcast = range.network.value &+ UInt32(truncatingIfNeeded: range.size &- 1)
        for pool in pools {
            guard range.contains(pool.start), range.contains(pool.end) else {
                context.error(
                    .provisionDemoAllocationPools,
                    "\(pool) is not inside CONFIG_PROVISION_DEMO_FLOATRANGE=\(range)")
                return
            }
            if pool.start.value <= gateway || pool.end.value >= broadcast {
                context.error(
                    .provisionDemoAllocationPools,
                    "\(pool) takes the gateway \(IPv4Address(value: gateway)), the network or the broadcast address of \(range); start after the gateway"
                )
                return
            }
        }
        let sorted = pools.sorted { $0.start < $1.start }
        for (first, second) in zip(sorted, sorted.dropFirst()) where second.start <= first.end {
            context.error(.provisionDemoAllocationPools, "\(first) and \(second) overlap")
            return
        }
    }

    static let hostKeys: [KeyDefinition] = [
        .controllerHost, .networkHosts, .computeHosts, .storageHost, .excludeServers,
    ]

    static func hosts(_ context: Context, _ key: KeyDefinition) -> [HostAddress] {
        switch context.values[key.name] {
        case .host(let host): [host]
        case .hosts(let hosts): hosts
        default: []
        }
    }

    /// Compute and network hosts are needed when their service is installed; lists name a host once.
    static func roleHosts(_ context: inout Context) {
        for (key, service) in [(KeyDefinition.computeHosts, OptionalService.compute), (.networkHosts, .network)] {
            guard context.isUsable(key) else { continue }
            let list = hosts(context, key)
            if list.isEmpty && context.values[service.installKey.name] == .bool(true) {
                context.error(
                    key,
                    "is empty, but \(service.installKey.name)=y needs at least one host; name a host or set \(service.installKey.name)=n"
                )
            }
            var seen = Set<HostAddress>()
            for host in list where !seen.insert(host).inserted {
                context.warn(key, "\(host) is listed twice; it is used once")
            }
        }
        let all = hostKeys.filter { $0 != .excludeServers }.flatMap { hosts(context, $0) }
        if Set(all).count > 1,
            let loopback = all.first(where: { if case .ipv4(let a) = $0 { a.isLoopback } else { false } })
        {
            let key = hostKeys.first { hosts(context, $0).contains(loopback) } ?? .controllerHost
            context.error(
                key, "\(loopback) is a loopback address, which other hosts cannot reach; use the host's network address"
            )
        }
    }

    /// One answer file uses IPv4 addresses or hostnames, not both: mixed, a node is known
    /// under two names and certificates, /etc/hosts and endpoints disagree.
    static func hostKinds(_ context: inout Context) {
        let controllerKind: HostAddress.Kind? = hosts(context, .controllerHost).first?.kind
        let kinds = hostKeys.flatMap { hosts(context, $0).map(\.kind) }
        guard let expected = controllerKind ?? kinds.first, kinds.contains(where: { $0 != expected }) else { return }
        for key in hostKeys {
            let odd = hosts(context, key).filter { $0.kind != expected }
            guard !odd.isEmpty else { continue }
            let names = odd.map(\.description).joined(separator: ", ")
            context.error(
                key,
                "\(names) \(odd.count == 1 ? "is a" : "are") \(odd[0].kind.rawValue)\(odd.count == 1 ? "" : "es"), but the controller is given as an \(expected.rawValue); use \(expected.rawValue)es for every host"
            )
        }
    }

    static func excludedServers(_ context: inout Context) {
        let excluded = hosts(context, .excludeServers)
        guard !excluded.isEmpty else { return }
        let controller = hosts(context, .controllerHost).first
        let members = Set(hostKeys.filter { $0 != .excludeServers }.flatMap { hosts(context, $0) })
        for host in excluded {
            if host == controller {
                context.error(
                    .excludeServers,
                    "\(host) is the controller, which cannot be excluded: every other host registers with it. Re-runs change nothing that is already right, so leave it in"
                )
            } else if !members.contains(host) {
                context.warn(.excludeServers, "\(host) is not a host of this cloud; nothing to exclude")
            }
        }
    }

    static func bridges(_ context: inout Context) {
        guard case .bridgeInterfaces(let pairs)? = context.values[KeyDefinition.neutronBridgeInterfaces.name] else {
            return
        }
        if case .bridgeMappings(let mappings)? = context.values[KeyDefinition.neutronBridgeMappings.name] {
            let mapped = Set(mappings.map(\.bridge))
            let listed = mappings.map(\.description).joined(separator: ",").ifEmpty("empty")
            for pair in pairs where !mapped.contains(pair.bridge) {
                context.error(
                    .neutronBridgeInterfaces,
                    "bridge \(pair.bridge) is not in \(KeyDefinition.neutronBridgeMappings.name) (\(listed)); map a physical network to it there, e.g. extnet:\(pair.bridge)"
                )
            }
            var physnets = Set<String>()
            for mapping in mappings where !physnets.insert(mapping.physicalNetwork).inserted {
                context.error(.neutronBridgeMappings, "physical network \(mapping.physicalNetwork) is mapped twice")
            }
        }
        var owners: [InterfaceName: InterfaceName] = [:]
        for pair in pairs {
            if let other = owners[pair.interface], other != pair.bridge {
                context.error(
                    .neutronBridgeInterfaces,
                    "\(pair.interface) is enslaved to both \(other) and \(pair.bridge); an interface joins one bridge")
            }
            owners[pair.interface] = pair.bridge
            if pair.interface.value == "lo" {
                context.error(.neutronBridgeInterfaces, "the loopback interface lo cannot join a bridge")
            }
        }
        guard case .interface(let tunnel)? = context.values[KeyDefinition.neutronTunnelInterface.name] else { return }
        if tunnel.value == "lo" {
            context.error(
                .neutronTunnelInterface,
                "VXLAN tunnels cannot run over the loopback interface lo; name the interface that carries the tunnel network"
            )
        } else if let bridge = owners[tunnel] {
            context.error(
                .neutronTunnelInterface,
                "\(tunnel) is enslaved to \(bridge) by \(KeyDefinition.neutronBridgeInterfaces.name), so it has no address of its own; use \(bridge) or another interface"
            )
        }
    }

    /// Tenant types must be type drivers; what Nimbus builds instead of geneve, gre and vlan.
    static func networkTypes(_ context: inout Context) {
        guard case .words(let drivers)? = context.values[KeyDefinition.neutronTypeDrivers.name],
            case .words(let tenant)? = context.values[KeyDefinition.neutronTenantNetworkTypes.name]
        else { return }
        for type in tenant where !drivers.contains(type) {
            context.error(
                .neutronTenantNetworkTypes,
                "\(type) is not in \(KeyDefinition.neutronTypeDrivers.name) (\(drivers.joined(separator: ","))); add it there or remove it here"
            )
        }
        let emulated = drivers.filter { ["geneve", "gre"].contains($0) }
        if !emulated.isEmpty {
            context.note(
                .neutronTypeDrivers,
                "Nimbus has no \(emulated.joined(separator: " or ")) (they need Open vSwitch or OVN); networks of that type are built as VXLAN on Linux bridges"
            )
        }
        if drivers.contains("local") {
            context.note(
                .neutronTypeDrivers, "local networks are built as VXLAN networks confined to one host's bridge")
        }
        if !tenant.isEmpty && tenant.allSatisfy({ $0 == "vlan" }) {
            context.note(
                .neutronTenantNetworkTypes,
                "VLAN-only tenant networks need switch trunks and VLAN ranges Nimbus does not manage; project networks are made as VXLAN instead"
            )
        }
        let usesVXLAN = tenant.contains { ["vxlan", "geneve", "gre", "vlan"].contains($0) }
        if usesVXLAN, case .empty? = context.values[KeyDefinition.neutronVNIRanges.name] {
            context.error(.neutronVNIRanges, "is empty, but project networks are VXLAN; give a range such as 10:100")
        }
    }

    static func services(_ context: inout Context) {
        if context.values[KeyDefinition.glanceBackend.name] == .words(["swift"]),
            context.values[KeyDefinition.swiftInstall.name] == .bool(false)
        {
            context.error(.glanceBackend, "is swift, but CONFIG_SWIFT_INSTALL=n; install object storage or use file")
        }
        if context.values[KeyDefinition.horizonInstall.name] == .bool(true),
            context.values[KeyDefinition.novaInstall.name] == .bool(false)
        {
            context.note(.horizonInstall, "the dashboard shows only identity, image and storage pages without compute")
        }
        if context.values[KeyDefinition.ntpServers.name] == .empty, context.lines[KeyDefinition.ntpServers.name] != nil
        {
            context.note(
                .ntpServers, "empty: the controller serves its own clock (local stratum 10) to the other hosts")
        }
    }
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
