import ArgumentParser
import Foundation
import Libvirt
import Logging
import NimbusAgentKit
import NimbusComputeAgent
import NimbusServiceKit

/// `nimbus-agent compute-agent`: the hypervisor agent of a compute host (Nova's
/// `nova-compute`). It connects to libvirt, tells the compute API what the host offers in
/// its heartbeats (`openstack hypervisor list`, `compute service list`) and follows the
/// API's channel: the instances placed on this host become libvirt domains.
struct ComputeAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compute-agent", abstract: "The hypervisor agent: libvirt domains of this host's instances.")

    @Option(name: .long, help: "The agent's configuration file.")
    var config = "/etc/nimbus/compute-agent.conf"

    func run() async throws {
        let settings = try ComputeAgentSettings.load(path: config)
        let logger = Logger(label: "nimbus.compute-agent")
        try FileManager.default.createDirectory(
            atPath: settings.instancesDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        let libvirt = try Libvirt.Connection(uri: settings.libvirtURI)
        // auto: KVM where libvirt offers it and /dev/kvm opens, TCG otherwise.
        var virtType = settings.virtType
        if virtType == "auto" {
            let offered = try libvirt.capabilities().contains("<domain type='kvm'")
            virtType = offered && FileManager.default.isWritableFile(atPath: "/dev/kvm") ? "kvm" : "qemu"
        }
        let hypervisor = try Hypervisor.read(
            libvirt, hostname: settings.basics.host, virtType: virtType,
            instancesDirectory: settings.instancesDirectory, hostIP: settings.hostIP)
        logger.info(
            "hypervisor",
            metadata: [
                "type": "\(hypervisor.type)", "virt_type": "\(hypervisor.virtType)", "vcpus": "\(hypervisor.vcpus)",
                "memory_mb": "\(hypervisor.memoryMiB)",
            ])
        // Its own login for the image downloads (the channel's is the runner's).
        let images = ImageCache(
            directory: settings.instancesDirectory + "/_base", login: try ServiceLogin(settings.basics.credentials))
        // The consoles' tails go to the API beside the channel (`openstack console log show`).
        let reports = try ChannelClient(
            apiURL: settings.basics.apiURL, login: try ServiceLogin(settings.basics.credentials))
        let reconciler = ComputeReconciler(
            settings: .init(
                host: settings.basics.host, virtType: virtType == "kvm" ? .kvm : .qemu,
                instancesDirectory: settings.instancesDirectory),
            libvirt: libvirt, images: images,
            report: { kind, id, body in
                do {
                    try await reports.report(kind: kind, id: id, body)
                    return true
                } catch {
                    return false
                }
            }, logger: logger)
        try await AgentRunner.run(
            basics: settings.basics, reconciler: reconciler, state: "compute-state.json",
            heartbeats: [("compute", hypervisor.configuration)], logger: logger)
    }
}

/// `/etc/nimbus/compute-agent.conf`.
struct ComputeAgentSettings: Sendable {
    var basics: AgentBasics
    var libvirtURI: String
    var virtType: String
    /// Where the instances' disks, config drives and console logs go.
    var instancesDirectory: String
    var hostIP: String

    static func load(path: String) throws -> ComputeAgentSettings {
        try ComputeAgentSettings(try ServiceConfig.load(path: path))
    }

    init(_ config: ServiceConfig) throws(ServiceConfig.Failure) {
        basics = try AgentBasics(config, defaultState: "/var/lib/nimbus/compute-agent", api: "compute")
        libvirtURI = config.string("libvirt", "uri", default: "qemu:///system")
        virtType = config.string("libvirt", "virt_type", default: "auto")
        guard ["kvm", "qemu", "auto"].contains(virtType) else {
            throw .invalid(section: "libvirt", key: "virt_type", value: virtType, expected: "kvm, qemu or auto")
        }
        instancesDirectory = config.string(
            "libvirt", "instances_dir", default: basics.stateDirectory + "/instances")
        hostIP = config.string("DEFAULT", "host_ip", default: "")
    }
}
