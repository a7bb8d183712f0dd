/// How Nimbus reads a Packstack answer file: which of Packstack's keys it ignores,
/// which values it reads differently, and what it does instead of what it cannot honour.
public enum PackstackCompatibility {
    /// Every key a Packstack 26 answer file has that is not in `KeyCatalogue`.
    public static let knownKeys: Set<String> = Set(PackstackKeys.names).subtracting(KeyCatalogue.all.map(\.name))

    /// Rewrites a Packstack value of a catalogue key into the Nimbus value of the same
    /// meaning, with a note saying so; nil note when nothing changed.
    static func normalize(key: String, value: String) -> (String, String?) {
        switch (key, value) {
        case (KeyDefinition.novaVirtType.name, "%{::default_hypervisor}"):
            return ("auto", "read as auto: kvm where the compute host can boot KVM guests, otherwise qemu")
        default:
            return (value, nil)
        }
    }

    /// Packstack 26 writes its bridge settings under OVN names by default
    /// (`CONFIG_NEUTRON_L2_AGENT=ovn`). Nimbus has one set of bridge keys; when the file's
    /// L2 agent is OVN, its OVN bridge values are read into them, with a note.
    static func applyAliases(_ entries: [RawEntry], notes: inout [Diagnostic]) -> [RawEntry] {
        let aliases = [
            "CONFIG_NEUTRON_OVN_BRIDGE_MAPPINGS": KeyDefinition.neutronBridgeMappings.name,
            "CONFIG_NEUTRON_OVN_BRIDGE_IFACES": KeyDefinition.neutronBridgeInterfaces.name,
            "CONFIG_NEUTRON_OVN_TUNNEL_IF": KeyDefinition.neutronTunnelInterface.name,
        ]
        guard entries.contains(where: { $0.key == "CONFIG_NEUTRON_L2_AGENT" && $0.value.lowercased() == "ovn" }) else {
            return entries
        }
        let overridden = Set(
            entries.filter { aliases[$0.key] != nil && !$0.value.isEmpty }.compactMap { aliases[$0.key] })
        var result = entries.filter { !overridden.contains($0.key) }
        for (index, entry) in result.enumerated() {
            guard let target = aliases[entry.key], !entry.value.isEmpty else { continue }
            result[index] = RawEntry(key: target, value: entry.value, line: entry.line)
            if let replaced = entries.first(where: { $0.key == target }), replaced.value != entry.value {
                notes.append(
                    Diagnostic(
                        .note, line: replaced.line, key: target,
                        "ignored: CONFIG_NEUTRON_L2_AGENT=ovn, so \(entry.key) on line \(entry.line.map(String.init) ?? "?") is read instead"
                    ))
            }
            notes.append(
                Diagnostic(
                    .note, line: entry.line, key: entry.key,
                    "read as \(target) (CONFIG_NEUTRON_L2_AGENT=ovn): Nimbus applies it to its Linux bridges and VXLAN tunnels; no OVN is installed"
                ))
        }
        return result
    }

    /// Services Packstack can install and Nimbus has not, by install key.
    static let absentServices: [String: String] = [
        "CONFIG_HEAT_INSTALL": "orchestration (Heat)",
        "CONFIG_CEILOMETER_INSTALL": "telemetry (Ceilometer)",
        "CONFIG_AODH_INSTALL": "alarming (Aodh)",
        "CONFIG_PANKO_INSTALL": "event storage (Panko)",
        "CONFIG_GNOCCHI_INSTALL": "metrics (Gnocchi)",
        "CONFIG_MANILA_INSTALL": "shared file systems (Manila)",
        "CONFIG_MAGNUM_INSTALL": "container orchestration (Magnum)",
        "CONFIG_TROVE_INSTALL": "databases (Trove)",
        "CONFIG_IRONIC_INSTALL": "bare metal (Ironic)",
        "CONFIG_SAHARA_INSTALL": "data processing (Sahara)",
        "CONFIG_NAGIOS_INSTALL": "Nagios monitoring",
    ]

    /// What Nimbus says about a Packstack key it does not use, when the value asks for
    /// something Nimbus does differently. Nil: the key is simply ignored.
    static func review(key: String, value: String) -> (Diagnostic.Severity, String)? {
        let lowered = value.lowercased()
        let yes = ["y", "yes", "true"].contains(lowered)
        if let service = absentServices[key] {
            return yes ? (.warning, "Nimbus has no \(service); nothing is installed for it") : nil
        }
        switch key {
        case "CONFIG_NEUTRON_L2_AGENT", "CONFIG_NEUTRON_ML2_MECHANISM_DRIVERS":
            if lowered.contains("ovn") || lowered.contains("openvswitch") {
                return (
                    .note,
                    "\(value) is not used: Nimbus runs its own L2 agent on Linux bridges with VXLAN tunnels; no Open vSwitch or OVN is installed"
                )
            }
            return nil
        case "CONFIG_MARIADB_INSTALL":
            return yes
                ? (.note, "no MariaDB is installed: each Nimbus service keeps its state in SQLite on its host") : nil
        case "CONFIG_CLIENT_INSTALL":
            return yes
                ? (
                    .note,
                    "the command-line clients are not installed on hosts; use python-openstackclient from PyPI on any machine"
                ) : nil
        case "CONFIG_CINDER_BACKEND":
            return (
                .note,
                "Nimbus keeps volumes in a sparse file on the storage host (CONFIG_CINDER_VOLUMES_SIZE) instead of \(value)"
            )
        case "CONFIG_CINDER_VOLUMES_CREATE":
            return yes ? nil : (.note, "Nimbus always creates the volume backing file on the storage host")
        case "CONFIG_HORIZON_SSL":
            return yes ? (.warning, "the dashboard is served over plain HTTP; put a TLS proxy in front of it") : nil
        case "CONFIG_KEYSTONE_API_VERSION":
            return lowered == "v3" ? nil : (.note, "Nimbus serves the identity API v3 only")
        case "CONFIG_PROVISION_TEMPEST":
            return yes
                ? (.warning, "Tempest is not installed on hosts; run it from any machine against the cloud") : nil
        case "CONFIG_SWIFT_STORAGES":
            return value.isEmpty
                ? nil
                : (
                    .note,
                    "no devices are formatted: object storage keeps its data under /var/lib/nimbus on the storage host"
                )
        case "CONFIG_VMWARE_BACKEND":
            return yes ? (.warning, "Nimbus runs instances on libvirt only") : nil
        case "CONFIG_NEUTRON_VPNAAS", "CONFIG_NEUTRON_FWAAS", "CONFIG_NEUTRON_METERING_AGENT_INSTALL",
            "CONFIG_LBAAS_INSTALL":
            return yes ? (.warning, "Nimbus has no such network extension; nothing is installed for it") : nil
        case "CONFIG_NEUTRON_OVN_BRIDGE_MAPPINGS", "CONFIG_NEUTRON_OVN_BRIDGE_IFACES", "CONFIG_NEUTRON_OVN_TUNNEL_IF":
            return nil
        default:
            return nil
        }
    }
}
