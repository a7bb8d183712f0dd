/// An instance as libvirt runs it: what the compute agent knows once the API scheduled it
/// here and its disks, config drive and ports exist.
public struct DomainSpec: Sendable, Equatable {
    /// The instance's UUID, also the domain's.
    public var uuid: String
    /// The domain's name, Nova's `instance-<8 hex digits>`.
    public var name: String
    /// The display name, kept as the domain's title.
    public var title: String
    public var memoryMiB: Int
    public var vcpus: Int
    public var virtType: VirtType
    /// The instance's qcow2 overlay on its image.
    public var disk: String
    /// The config drive (ISO 9660, `config-2`), as an IDE CD-ROM: the guest kernel may have
    /// no AHCI, so the machine is `pc`.
    public var configDrive: String?
    public var interfaces: [Interface]
    /// The serial console's file (`openstack console log show` reads it).
    public var consoleLog: String

    /// `kvm` where the host can run KVM guests, `qemu` (TCG) otherwise; `test` for libvirt's
    /// in-process test driver, which runs only that type.
    public enum VirtType: String, Sendable, Equatable {
        case kvm, qemu, test
    }

    /// A port as the guest sees it: a virtio NIC with the port's MAC on a tap the L2 agent
    /// plugs into the port's network bridge.
    public struct Interface: Sendable, Equatable {
        public var mac: String
        /// `tap<first 11 characters of the port id>`, as Neutron names it.
        public var tap: String
        public var mtu: Int

        public init(mac: String, tap: String, mtu: Int) {
            self.mac = mac
            self.tap = tap
            self.mtu = mtu
        }

        /// The interface of a port: its tap named from the port id.
        public init(portID: String, mac: String, mtu: Int) {
            self.init(mac: mac, tap: "tap" + portID.prefix(11), mtu: mtu)
        }
    }

    public init(
        uuid: String, name: String, title: String, memoryMiB: Int, vcpus: Int, virtType: VirtType, disk: String,
        configDrive: String?, interfaces: [Interface], consoleLog: String
    ) {
        self.uuid = uuid
        self.name = name
        self.title = title
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.virtType = virtType
        self.disk = disk
        self.configDrive = configDrive
        self.interfaces = interfaces
        self.consoleLog = consoleLog
    }
}
