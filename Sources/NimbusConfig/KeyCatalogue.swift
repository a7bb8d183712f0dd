import NimbusModel

/// Every key Nimbus reads, in the order the generated file and the docs list them.
public enum KeyCatalogue {
    public static let all: [KeyDefinition] = [
        // Hosts and access
        .controllerHost, .computeHosts, .networkHosts, .storageHost, .excludeServers, .sshKey, .knownHosts,
        .defaultPassword, .ntpServers, .debugMode,
        // Host preparation
        .prepFirewall, .prepSELinux, .prepNetworkManager, .prepHostsFile,
        // Services
        .glanceInstall, .cinderInstall, .novaInstall, .neutronInstall, .horizonInstall, .swiftInstall,
        .serviceListen,
        // Identity
        .keystoneAdminUsername, .keystoneAdminPassword, .keystoneAdminEmail, .keystoneRegion,
        .keystoneTokenExpiration,
        // Image
        .glanceBackend, .glanceServicePassword,
        // Compute
        .novaVirtType, .novaCPUAllocationRatio, .novaRAMAllocationRatio, .novaServicePassword,
        // Network
        .neutronTypeDrivers, .neutronTenantNetworkTypes, .neutronVNIRanges, .neutronBridgeMappings,
        .neutronBridgeInterfaces, .neutronTunnelInterface, .neutronServicePassword, .neutronMetadataSecret,
        // Block storage
        .cinderVolumesSize, .cinderServicePassword,
        // Object storage
        .swiftStorageSize, .swiftStorageReplicas, .swiftHash, .swiftServicePassword,
        // Demo
        .provisionDemo, .provisionDemoFloatRange, .provisionDemoAllocationPools, .keystoneDemoPassword,
        .provisionImageName,
        .provisionImageURL, .provisionImageFormat, .provisionImageSSHUser,
    ]

    private static let byName: [String: KeyDefinition] = Dictionary(
        uniqueKeysWithValues: all.map { ($0.name, $0) })

    public static func definition(named name: String) -> KeyDefinition? { byName[name] }

    /// Keys whose value never leaves the deploying machine in clear text.
    public static var secretKeys: [String] { all.filter(\.type.isSecret).map(\.name) }
}

extension KeyDefinition {
    // MARK: Hosts and access

    public static let controllerHost = KeyDefinition(
        "CONFIG_CONTROLLER_HOST", .host, default: .localAddress, required: true, group: .hosts,
        help:
            "The host that runs the API services, the dashboard and their state: identity, image, compute API and scheduler, network API, block-storage API."
    )
    public static let computeHosts = KeyDefinition(
        "CONFIG_COMPUTE_HOSTS", .hostList, default: .controllerHost, group: .hosts,
        help:
            "The hosts that run instances (libvirt) and the L2 agent. Add a host here and re-run deploy to grow the cloud."
    )
    public static let networkHosts = KeyDefinition(
        "CONFIG_NETWORK_HOSTS", .hostList, default: .controllerHost, group: .hosts,
        help: "The hosts that run routers (SNAT and floating IPs), DHCP and the br-ex uplink.")
    public static let storageHost = KeyDefinition(
        "CONFIG_STORAGE_HOST", .host, default: .controllerHost, group: .hosts,
        help:
            "The host that keeps volumes and objects: the block-storage volume backend and the object storage server. Unlike Packstack, a separate storage host is supported."
    )
    public static let excludeServers = KeyDefinition(
        "EXCLUDE_SERVERS", .hostList, default: .literal(""), group: .hosts,
        help:
            "Hosts to leave untouched on this run (they keep their /etc/hosts entry). Nimbus re-runs change nothing that is already right, so this is rarely needed; the controller cannot be excluded."
    )
    public static let sshKey = KeyDefinition(
        "CONFIG_SSH_KEY", .path, default: .sshPublicKey, group: .hosts,
        help:
            "The SSH public key installed on every host; Nimbus authenticates with the private key beside it (the same path without .pub). Use deploy --ask-password once to install it."
    )
    public static let knownHosts = KeyDefinition(
        "CONFIG_NIMBUS_KNOWN_HOSTS", .path, default: .literal("~/.ssh/known_hosts"), group: .hosts,
        packstack: false,
        help:
            "The known_hosts file every host key is checked against. An unknown key is refused unless deploy runs with --accept-new-host-keys (then it is recorded here); a changed key is always refused. Packstack turns this check off; Nimbus does not."
    )
    public static let defaultPassword = KeyDefinition(
        "CONFIG_DEFAULT_PASSWORD", .password, default: .literal(""), group: .hosts,
        help:
            "The password for every *_PW key left empty. When both are empty, deploy generates a password once and writes it back here, so re-runs never rotate credentials."
    )
    public static let ntpServers = KeyDefinition(
        "CONFIG_NTP_SERVERS", .hostList, default: .literal(""), group: .hosts,
        help:
            "Time servers the controller follows; every other host follows the controller. Empty: the controller serves its own clock (local stratum 10)."
    )
    public static let debugMode = KeyDefinition(
        "CONFIG_DEBUG_MODE", .bool, default: .literal("n"), group: .hosts,
        help: "Debug logging in the Nimbus services.")

    // MARK: Host preparation (Nimbus's own keys)

    public static let prepFirewall = KeyDefinition(
        "CONFIG_NIMBUS_FIREWALL", .choice(["off", "keep"]), default: .literal("off"), group: .preparation,
        packstack: false,
        help:
            "off: stop and disable firewalld, ufw or the nftables service on every host (what the Packstack guides do by hand). keep: leave the firewall as it is; you open the service ports yourself."
    )
    public static let prepSELinux = KeyDefinition(
        "CONFIG_NIMBUS_SELINUX", .choice(["permissive", "keep"]), default: .literal("permissive"),
        group: .preparation, packstack: false,
        help:
            "permissive: setenforce 0 now and SELINUX=permissive in /etc/selinux/config on hosts that have SELinux. keep: leave it as it is."
    )
    public static let prepNetworkManager = KeyDefinition(
        "CONFIG_NIMBUS_NETWORKMANAGER", .choice(["keep", "disable"]), default: .literal("keep"),
        group: .preparation, packstack: false,
        help:
            "keep: NetworkManager stays (br-ex is made as a NetworkManager keyfile where it runs). disable: stop and disable it, as older Packstack guides do."
    )
    public static let prepHostsFile = KeyDefinition(
        "CONFIG_NIMBUS_HOSTS_FILE", .bool, default: .literal("y"), group: .preparation, packstack: false,
        help: "Keep a managed block in /etc/hosts on every host naming all the hosts of the cloud.")

    // MARK: Services

    public static let serviceListen = KeyDefinition(
        "CONFIG_NIMBUS_SERVICE_LISTEN", .choice(["management", "all"]), default: .literal("management"),
        group: .services, packstack: false,
        help:
            "management: each API service listens only on its host's address as this file names it. all: on every address of its host (0.0.0.0)."
    )

    public static let glanceInstall = KeyDefinition(
        "CONFIG_GLANCE_INSTALL", .bool, default: .literal("y"), group: .services,
        help: "Install the image service (Glance v2 API) on the controller.")
    public static let cinderInstall = KeyDefinition(
        "CONFIG_CINDER_INSTALL", .bool, default: .literal("y"), group: .services,
        help: "Install block storage (Cinder v3 API): the API on the controller, volumes on the storage host.")
    public static let novaInstall = KeyDefinition(
        "CONFIG_NOVA_INSTALL", .bool, default: .literal("y"), group: .services,
        help:
            "Install compute (Nova v2.1 API): API and scheduler on the controller, the libvirt agent on the compute hosts."
    )
    public static let neutronInstall = KeyDefinition(
        "CONFIG_NEUTRON_INSTALL", .bool, default: .literal("y"), group: .services,
        help:
            "Install networking (Neutron v2.0 API): API on the controller, routers and DHCP on the network hosts, the L2 agent on network and compute hosts."
    )
    public static let horizonInstall = KeyDefinition(
        "CONFIG_HORIZON_INSTALL", .bool, default: .literal("y"), group: .services,
        help: "Install the dashboard on the controller.")
    public static let swiftInstall = KeyDefinition(
        "CONFIG_SWIFT_INSTALL", .bool, default: .literal("y"), group: .services,
        help: "Install object storage (Swift v1 API) on the storage host.")

    // MARK: Identity

    public static let keystoneAdminUsername = KeyDefinition(
        "CONFIG_KEYSTONE_ADMIN_USERNAME", .text, default: .literal("admin"), required: true, group: .identity,
        help: "The cloud administrator's user name, written to keystonerc_admin.")
    public static let keystoneAdminPassword = KeyDefinition(
        "CONFIG_KEYSTONE_ADMIN_PW", .password, default: .generatedPassword, group: .identity,
        help: "The cloud administrator's password (dashboard and CLI).")
    public static let keystoneAdminEmail = KeyDefinition(
        "CONFIG_KEYSTONE_ADMIN_EMAIL", .email, default: .literal("root@localhost"), group: .identity,
        help: "The administrator's e-mail address.")
    public static let keystoneRegion = KeyDefinition(
        "CONFIG_KEYSTONE_REGION", .text, default: .literal("RegionOne"), required: true, group: .identity,
        help: "The region every endpoint is registered in.")
    public static let keystoneTokenExpiration = KeyDefinition(
        "CONFIG_NIMBUS_TOKEN_EXPIRATION", .integer(60...604_800), default: .literal("3600"), group: .identity,
        packstack: false,
        help: "Token lifetime in seconds.")

    // MARK: Image

    public static let glanceBackend = KeyDefinition(
        "CONFIG_GLANCE_BACKEND", .choice(["file", "swift"]), default: .literal("file"), group: .image,
        help:
            "Where images are stored: file (on the controller) or swift (in object storage; needs CONFIG_SWIFT_INSTALL=y)."
    )
    public static let glanceServicePassword = KeyDefinition(
        "CONFIG_GLANCE_KS_PW", .password, default: .generatedPassword, group: .image,
        help: "Password of the image service's own identity user.")

    // MARK: Compute

    public static let novaVirtType = KeyDefinition(
        "CONFIG_NOVA_LIBVIRT_VIRT_TYPE", .choice(["auto", "kvm", "qemu"]), default: .literal("auto"),
        group: .compute,
        help:
            "kvm: hardware virtualization; qemu: software emulation (TCG); auto: kvm where the compute host can boot KVM guests, otherwise qemu."
    )
    public static let novaCPUAllocationRatio = KeyDefinition(
        "CONFIG_NOVA_SCHED_CPU_ALLOC_RATIO", .decimal(0.1...1000), default: .literal("16.0"), group: .compute,
        help: "Virtual CPUs the scheduler places per physical CPU.")
    public static let novaRAMAllocationRatio = KeyDefinition(
        "CONFIG_NOVA_SCHED_RAM_ALLOC_RATIO", .decimal(0.1...1000), default: .literal("1.5"), group: .compute,
        help: "Virtual memory the scheduler places per byte of physical memory.")
    public static let novaServicePassword = KeyDefinition(
        "CONFIG_NOVA_KS_PW", .password, default: .generatedPassword, group: .compute,
        help: "Password of the compute service's own identity user.")

    // MARK: Network

    static let networkTypes = ["flat", "vxlan", "vlan", "gre", "geneve", "local"]

    public static let neutronTypeDrivers = KeyDefinition(
        "CONFIG_NEUTRON_ML2_TYPE_DRIVERS", .choiceList(networkTypes), default: .literal("vxlan,flat"),
        required: true, group: .network,
        help:
            "Network types that can be created. Nimbus builds flat and vxlan networks on Linux bridges; vlan, gre and geneve are read as vxlan."
    )
    public static let neutronTenantNetworkTypes = KeyDefinition(
        "CONFIG_NEUTRON_ML2_TENANT_NETWORK_TYPES", .choiceList(networkTypes), default: .literal("vxlan"),
        required: true, group: .network,
        help:
            "The type of the networks projects create for themselves, in order of preference; each must be in CONFIG_NEUTRON_ML2_TYPE_DRIVERS."
    )
    public static let neutronVNIRanges = KeyDefinition(
        "CONFIG_NEUTRON_ML2_VNI_RANGES", .vniRanges, default: .literal("10:100"), group: .network,
        help: "VXLAN IDs handed to project networks.")
    public static let neutronBridgeMappings = KeyDefinition(
        "CONFIG_NEUTRON_OVS_BRIDGE_MAPPINGS", .bridgeMappings, default: .literal("extnet:br-ex"), group: .network,
        help:
            "Provider (physical) network names and the host bridges that carry them. Nimbus makes Linux bridges, not Open vSwitch ones; the key keeps Packstack's name."
    )
    public static let neutronBridgeInterfaces = KeyDefinition(
        "CONFIG_NEUTRON_OVS_BRIDGE_IFACES", .bridgeInterfaces, default: .literal(""), group: .network,
        help:
            "Host interfaces to enslave to those bridges on the network hosts, e.g. br-ex:eth1. An address on the interface moves to the bridge, made persistent the host's native way, without cutting the SSH session."
    )
    public static let neutronTunnelInterface = KeyDefinition(
        "CONFIG_NEUTRON_OVS_TUNNEL_IF", .interface, default: .literal(""), group: .network,
        help:
            "The interface whose address VXLAN tunnels use between hosts. Empty: the address Nimbus reaches the host on."
    )
    public static let neutronServicePassword = KeyDefinition(
        "CONFIG_NEUTRON_KS_PW", .password, default: .generatedPassword, group: .network,
        help: "Password of the network service's own identity user.")
    public static let neutronMetadataSecret = KeyDefinition(
        "CONFIG_NEUTRON_METADATA_PW", .password, default: .generatedPassword, group: .network,
        help:
            "The secret the routers' metadata proxy signs instance ids with for the compute service's metadata API (169.254.169.254)."
    )

    // MARK: Block storage

    public static let cinderVolumesSize = KeyDefinition(
        "CONFIG_CINDER_VOLUMES_SIZE", .size, default: .literal("20G"), group: .blockStorage,
        help: "Size of the sparse file that backs volumes on the storage host.")
    public static let cinderServicePassword = KeyDefinition(
        "CONFIG_CINDER_KS_PW", .password, default: .generatedPassword, group: .blockStorage,
        help: "Password of the block-storage service's own identity user.")

    // MARK: Object storage

    public static let swiftStorageSize = KeyDefinition(
        "CONFIG_SWIFT_STORAGE_SIZE", .size, default: .literal("2G"), group: .objectStorage,
        help: "Space object storage may use on the storage host.")
    public static let swiftStorageReplicas = KeyDefinition(
        "CONFIG_SWIFT_STORAGE_REPLICAS", .integer(1...5), default: .literal("1"), group: .objectStorage,
        help: "Copies kept of each object. With one storage host every copy is on that host.")
    public static let swiftHash = KeyDefinition(
        "CONFIG_SWIFT_HASH", .password, default: .generatedPassword, group: .objectStorage,
        help: "Secret salt of object placement; never change it once objects are stored.")
    public static let swiftServicePassword = KeyDefinition(
        "CONFIG_SWIFT_KS_PW", .password, default: .generatedPassword, group: .objectStorage,
        help: "Password of the object storage service's own identity user.")

    // MARK: Demo

    public static let provisionDemo = KeyDefinition(
        "CONFIG_PROVISION_DEMO", .bool, default: .literal("y"), group: .demo,
        help: "Create a demo project and user, an external network and a router, as Packstack does.")
    public static let provisionDemoFloatRange = KeyDefinition(
        "CONFIG_PROVISION_DEMO_FLOATRANGE", .cidr, default: .literal("172.24.4.0/24"), group: .demo,
        help: "The external (floating IP) network the demo creates.")
    public static let keystoneDemoPassword = KeyDefinition(
        "CONFIG_KEYSTONE_DEMO_PW", .password, default: .generatedPassword, group: .demo,
        help: "The demo user's password.")
}
