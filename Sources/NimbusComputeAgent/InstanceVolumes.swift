import Foundation
import Libvirt
import NimbusAgentKit
import NimbusServiceKit

/// The volumes of an instance: each an NBD export of its storage host, plugged into the
/// domain as a virtio disk (`<disk type='network'>`, raw, the volume id as its serial) while
/// the server lists it as attached, unplugged when it is detaching or gone. Each
/// attachment's status (`attachment` `<instance>/<attachment>`: `attached`, `detached` or
/// `error` with the reason) goes to the compute API, which completes or rolls back the
/// block-storage attachment by it.
extension ComputeReconciler {
    /// A volume as the server lists it.
    struct WantedVolume: Equatable {
        var id: String
        var attachment: String
        var device: String
        var host: String
        var port: Int
        var name: String
        var readOnly: Bool
        var attached: Bool

        init?(_ body: JSON) {
            guard let id = body["id"]?.string, let attachment = body["attachment_id"]?.string,
                let host = body["host"]?.string, let port = body["port"]?.int, let name = body["name"]?.string
            else { return nil }
            self.id = id
            self.attachment = attachment
            device = body["device"]?.string ?? "vdb"
            self.host = host
            self.port = Int(port)
            self.name = name
            readOnly = body["read_only"]?.bool ?? false
            attached = body["attached"]?.bool ?? true
        }

        /// The device XML libvirt plugs in.
        var xml: String {
            let escape = DomainXML.escape
            return """
                <disk type='network' device='disk'>
                  <driver name='qemu' type='raw' cache='none'/>
                  <source protocol='nbd' name='\(escape(name))'>
                    <host name='\(escape(host))' port='\(port)'/>
                  </source>
                  <target dev='\(escape(device))' bus='virtio'/>
                  <serial>\(escape(id))</serial>\(readOnly ? "\n  <readonly/>" : "")
                </disk>
                """
        }
    }

    /// The network disks of a domain's XML: each one's element, by its serial.
    static func networkDisks(in xml: String) -> [String: String] {
        var disks: [String: String] = [:]
        var rest = Substring(xml)
        while let start = rest.range(of: "<disk type='network'") {
            guard let end = rest[start.upperBound...].range(of: "</disk>") else { break }
            let element = rest[start.lowerBound..<end.upperBound]
            if let open = element.range(of: "<serial>"), let close = element[open.upperBound...].range(of: "</serial>")
            {
                disks[String(element[open.upperBound..<close.lowerBound])] = String(element)
            }
            rest = rest[end.upperBound...]
        }
        return disks
    }

    /// Plugs in and unplugs the instance's volumes to match its server; records each
    /// attachment's status.
    func keepVolumes(_ id: String, _ body: JSON) async {
        let volumes = (body["volumes"]?.array ?? []).compactMap(WantedVolume.init)
        let listed = Set(volumes.map(\.attachment))
        for (attachment, entry) in volumeStatuses where entry.instance == id && !listed.contains(attachment) {
            volumeStatuses[attachment] = nil
        }
        guard var present = (try? libvirt.xml(uuid: id)).map(Self.networkDisks) else { return }
        for volume in volumes {
            var state = volume.attached ? "attached" : "detached"
            var message = ""
            do {
                if volume.attached, present[volume.id] == nil {
                    try await plug(volume, into: id)
                } else if !volume.attached, let element = present[volume.id] {
                    try await unplug(element, volume.id, from: id)
                }
            } catch {
                state = "error"
                message = "\(error)"
                logger.error(
                    "volume \(volume.attached ? "attach" : "detach") failed",
                    metadata: ["instance": "\(id)", "volume": "\(volume.id)", "error": "\(error)"])
            }
            present[volume.id] = nil
            volumeStatuses[volume.attachment] = (
                id,
                ResourceStatus(kind: "attachment", id: id + "/" + volume.attachment, state: state, detail: message)
            )
        }
        // A disk no attachment names any more (an attach rolled back) is unplugged too.
        for (serial, element) in present {
            try? await unplug(element, serial, from: id)
        }
    }

    /// Plugs a volume in; the export may take a moment to come up on its storage host (it
    /// is started as the same change reaches that host's agent), so a refusal is tried
    /// again for up to 10 s.
    func plug(_ volume: WantedVolume, into id: String) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        while true {
            do {
                try libvirt.attachDevice(xml: volume.xml, uuid: id)
                logger.info(
                    "volume attached",
                    metadata: [
                        "instance": "\(id)", "volume": "\(volume.id)", "device": "\(volume.device)",
                        "nbd": "\(volume.host):\(volume.port)", "took": "\(clock.now - started)",
                    ])
                return
            } catch {
                // VIR_ERR_NO_SUPPORT: a driver that cannot hot-plug at all.
                if case .call(_, 3, _) = error { throw error }
                if clock.now - started > .seconds(10) { throw error }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// Unplugs a disk and waits (up to 10 s) until the guest let it go.
    func unplug(_ element: String, _ serial: String, from id: String) async throws {
        try libvirt.detachDevice(xml: element, uuid: id)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard let xml = try? libvirt.xml(uuid: id), Self.networkDisks(in: xml)[serial] != nil else {
                logger.info("volume detached", metadata: ["instance": "\(id)", "volume": "\(serial)"])
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw VolumeDetachError(description: "the guest did not release volume \(serial) within 10 s")
    }
}

struct VolumeDetachError: Error, CustomStringConvertible {
    var description: String
}
