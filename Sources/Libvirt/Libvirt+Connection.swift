import CLibvirt
import Synchronization

extension Libvirt {
    /// A connection to a hypervisor (`qemu:///system`, or libvirt's in-process
    /// `test:///default` in tests). `Sendable`: calls on one connection are serialised.
    public final class Connection: Sendable {
        public let uri: String
        let handle: Mutex<Handle>

        /// `virConnectOpen`.
        public init(uri: String) throws(Error) {
            _ = Libvirt.quiet
            guard let connection = virConnectOpen(uri) else {
                throw .connect(uri: uri, reason: Libvirt.lastError().message)
            }
            self.uri = uri
            handle = Mutex(Handle(connection))
        }

        /// `virConnectClose`; idempotent.
        public func close() { handle.withLock { $0.close() } }

        /// Runs `body` with the open connection, under the lock.
        @discardableResult
        func with<T: Sendable>(_ body: (Handle) throws(Error) -> T) throws(Error) -> T {
            try handle.withLock { handle throws(Error) in try body(handle) }
        }

        /// Whether the connection still works (`virConnectIsAlive`): false once libvirtd went away.
        public var isAlive: Bool {
            (try? with { handle throws(Error) in virConnectIsAlive(try handle.open()) == 1 }) ?? false
        }

        /// The host's name (`virConnectGetHostname`).
        public func hostname() throws(Error) -> String {
            try with { handle throws(Error) in
                try Libvirt.owned(virConnectGetHostname(try handle.open()), "virConnectGetHostname")
            }
        }

        /// The capabilities document (`virConnectGetCapabilities`): guest types, arches, machines.
        public func capabilities() throws(Error) -> String {
            try with { handle throws(Error) in
                try Libvirt.owned(virConnectGetCapabilities(try handle.open()), "virConnectGetCapabilities")
            }
        }

        /// libvirt's version as major, minor, release (`virConnectGetLibVersion`).
        public func libraryVersion() throws(Error) -> (major: Int, minor: Int, release: Int) {
            let version = try with { handle throws(Error) -> UInt in
                var version: UInt = 0
                try Libvirt.check(virConnectGetLibVersion(try handle.open(), &version), "virConnectGetLibVersion")
                return version
            }
            return (Int(version / 1_000_000), Int(version / 1000 % 1000), Int(version % 1000))
        }

        /// The hypervisor's name as libvirt's driver calls it (`virConnectGetType`: `QEMU`).
        public func hypervisorType() throws(Error) -> String {
            try with { handle throws(Error) in
                guard let type = virConnectGetType(try handle.open()) else {
                    let (code, message) = Libvirt.lastError()
                    throw .call("virConnectGetType", code: code, reason: message)
                }
                return String(cString: type)
            }
        }

        /// The hypervisor's version, `major * 1,000,000 + minor * 1,000 + release`
        /// (`virConnectGetVersion`; Nova's `hypervisor_version`).
        public func hypervisorVersion() throws(Error) -> Int {
            try with { handle throws(Error) in
                var version: UInt = 0
                try Libvirt.check(virConnectGetVersion(try handle.open(), &version), "virConnectGetVersion")
                return Int(version)
            }
        }

        /// The host's processors and memory (`virNodeGetInfo`).
        public func nodeInfo() throws(Error) -> NodeInfo {
            try with { handle throws(Error) in
                var info = virNodeInfo()
                try Libvirt.check(virNodeGetInfo(try handle.open(), &info), "virNodeGetInfo")
                return NodeInfo(cpus: Int(info.cpus), memoryKiB: UInt64(info.memory), mhz: Int(info.mhz))
            }
        }
    }

    /// What `virNodeGetInfo` tells of the host.
    public struct NodeInfo: Sendable, Equatable {
        public var cpus: Int
        public var memoryKiB: UInt64
        public var mhz: Int
    }
}
