import Foundation
import Libvirt
import NimbusServiceKit

/// What a compute host offers, as the compute agent reads it from libvirt and tells it in
/// its heartbeats (the agent's `configuration`): Nova's hypervisor fields.
public struct Hypervisor: Sendable, Equatable {
    /// The name instances are placed by (`hypervisor_hostname`, the service's host).
    public var hostname: String
    /// libvirt's driver name (`QEMU`).
    public var type: String
    /// `major * 1,000,000 + minor * 1,000 + release` of the hypervisor.
    public var version: Int
    /// `kvm` or `qemu` (TCG), as the domains are defined.
    public var virtType: String
    public var vcpus: Int
    public var memoryMiB: Int
    /// The instances' filesystem's size.
    public var localGiB: Int
    /// The address other hosts reach it at (its management address).
    public var hostIP: String

    public init(
        hostname: String, type: String, version: Int, virtType: String, vcpus: Int, memoryMiB: Int, localGiB: Int,
        hostIP: String
    ) {
        self.hostname = hostname
        self.type = type
        self.version = version
        self.virtType = virtType
        self.vcpus = vcpus
        self.memoryMiB = memoryMiB
        self.localGiB = localGiB
        self.hostIP = hostIP
    }

    /// The host as `libvirt` and the filesystem of `instancesDirectory` describe it.
    public static func read(
        _ libvirt: Libvirt.Connection, hostname: String, virtType: String, instancesDirectory: String, hostIP: String
    ) throws(Libvirt.Error) -> Hypervisor {
        let node = try libvirt.nodeInfo()
        var size = 0
        if let attributes = try? FileManager.default.attributesOfFileSystem(forPath: instancesDirectory),
            let bytes = attributes[.systemSize] as? NSNumber
        {
            size = Int(bytes.int64Value >> 30)
        }
        return Hypervisor(
            hostname: hostname, type: try libvirt.hypervisorType(), version: try libvirt.hypervisorVersion(),
            virtType: virtType, vcpus: node.cpus, memoryMiB: Int(node.memoryKiB / 1024), localGiB: size, hostIP: hostIP)
    }

    /// The heartbeat's `configuration` (the compute API reads these keys).
    public var configuration: JSON {
        [
            "hypervisor_hostname": .string(hostname), "hypervisor_type": .string(type),
            "hypervisor_version": .int(Int64(version)), "virt_type": .string(virtType), "vcpus": .int(Int64(vcpus)),
            "memory_mb": .int(Int64(memoryMiB)), "local_gb": .int(Int64(localGiB)), "host_ip": .string(hostIP),
        ]
    }
}
