import Foundation
import NimbusServiceKit

/// An instance (Nova's `instances` row with its network info cache): what was asked for,
/// where it was placed, the ports made for it, and the power state wanted of it. What the
/// hypervisor actually holds comes from its compute agent's status.
public struct Server: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var projectID: String
    public var userID: String
    /// The flavor as it was at boot (a flavor changed or deleted later does not change it).
    public var flavor: Flavor
    public var imageID: String
    public var imageName: String
    public var keyName: String?
    public var publicKey: String?
    /// The names of the security groups of its ports.
    public var securityGroups: [String]
    public var metadata: [String: String]
    /// Base64 as given.
    public var userData: String?
    public var accessIPv4: String
    public var accessIPv6: String
    /// `AUTO` or `MANUAL`.
    public var diskConfig: String
    /// The compute host (its agent's host name); empty when none was found.
    public var host: String
    public var ports: [ServerPort]
    /// `running` or `stopped`: what the agent is asked to hold.
    public var power: String
    /// Raised by each reboot; the agent reboots when it passes the one it applied.
    public var reboots: Int
    public var rebootType: String
    /// Raised by each change the agent must act on; its status names the one it applied.
    public var generation: Int
    /// What is under way (`spawning`, `powering-off`, `powering-on`, `reboot_started`,
    /// `reboot_started_hard`); cleared once the agent reports the generation.
    public var task: String?
    /// Why the server is in ERROR, when the API put it there (no host, no port).
    public var fault: String?
    /// Nova's instance number (`instance-0000000a`).
    public var serial: Int
    public var launchIndex: Int
    public var reservationID: String
    public var createdAt: Int64
    public var updatedAt: Int64
    /// Whether it has a config drive (nil: made before the choice was kept, with one).
    public var configDrive: Bool? = nil
    /// What the guest posted to the metadata service's `password` (encrypted with its
    /// key pair; Nova's `os-server-password`).
    public var password: String? = nil
    /// The image a snapshot asked for is to be uploaded to (`createImage`); the agent
    /// uploads it once.
    public var snapshotImage: String? = nil
    /// What was done to it, oldest first (Nova's instance actions).
    public var actions: [InstanceAction]? = nil
    /// The availability zone it was placed in (nil: made before zones, `nova`).
    public var zone: String? = nil
    /// The zone the request named (Nova's pinned availability zone).
    public var requestedZone: String? = nil
    /// The server group it was made in (`os:scheduler_hints` `group`).
    public var group: String? = nil
    /// The volumes attached to it (Nova's volume block device mappings), in order.
    public var volumes: [ServerVolume]? = nil

    /// The zone it is shown in: where it was placed, or asked for when it never was.
    public var shownZone: String { zone ?? (host.isEmpty ? requestedZone ?? "" : ComputeState.defaultZone) }
}

/// A volume attached to a server: the block-storage attachment it holds, the device the
/// guest sees it as, and the NBD export the compute host reads it from.
public struct ServerVolume: Codable, Sendable, Equatable {
    public var volumeID: String
    /// The block-storage service's attachment.
    public var attachmentID: String
    /// Nova's block device mapping id (`bdm_uuid`).
    public var mappingID: String
    /// `/dev/vdb`, …
    public var device: String
    public var tag: String?
    public var deleteOnTermination: Bool
    /// The export (the attachment's `connection_info`).
    public var exportHost: String
    public var exportPort: Int
    public var exportName: String
    public var readOnly: Bool
    /// `attaching` (until the agent reports the disk plugged in), `attached`, `detaching`
    /// (until it reports it unplugged).
    public var state: String
    /// When it entered that state.
    public var since: Int64
}

/// One action on a server (`os-instance-actions`): who asked, in which request, when.
public struct InstanceAction: Codable, Sendable, Equatable {
    public var action: String
    public var requestID: String
    public var userID: String
    public var projectID: String
    public var startTime: Int64
}

/// A port the server is plugged into, as the network service made or handed it over.
public struct ServerPort: Codable, Sendable, Equatable {
    public var id: String
    public var networkID: String
    public var networkName: String
    public var mac: String
    public var mtu: Int
    public var addresses: [ServerAddress]
    /// Made by compute (deleted with the server) rather than given by the caller.
    public var madeHere: Bool
}

/// A fixed address of a port and its subnet's shape, for the config drive.
public struct ServerAddress: Codable, Sendable, Equatable {
    public var address: String
    /// The subnet it is on (nil in rows kept before it was recorded).
    public var subnetID: String?
    public var version: Int
    public var prefixLength: Int
    public var gateway: String?
    public var dhcp: Bool
    public var nameservers: [String]
}

extension Server {
    /// The domain's name on the hypervisor (Nova's `instance_name_template`).
    public var instanceName: String { String(format: "instance-%08x", serial) }

    /// The host name its name gives the guest (Nova's `sanitize_hostname`).
    public var hostname: String {
        var result = ""
        for character in name.lowercased() {
            if (character.isLetter || character.isNumber) && character.isASCII || character == "-" {
                result.append(character)
            } else if character == " " || character == "_" || character == "." {
                result.append("-")
            }
        }
        result = String(result.trimmingCharacters(in: CharacterSet(charactersIn: "-.")).prefix(63))
        return result.isEmpty ? "server" : result
    }

    /// What the agent is sent: everything it needs to make and keep the domain, and the
    /// config drive's contents.
    func channelBody(imageURL: String) -> JSON {
        var fields: [(String, JSON)] = [
            ("id", .string(id)), ("name", .string(name)), ("hostname", .string(hostname)),
            ("instance_name", .string(instanceName)),
            ("host", .string(host)), ("project_id", .string(projectID)), ("generation", .int(Int64(generation))),
            ("power", .string(power)), ("reboots", .int(Int64(reboots))), ("reboot_type", .string(rebootType)),
            ("vcpus", .int(Int64(flavor.vcpus))), ("memory_mb", .int(Int64(flavor.memoryMiB))),
            ("disk_gb", .int(Int64(flavor.diskGiB))), ("image_id", .string(imageID)),
            ("image_url", .string(imageURL)), ("launch_index", .int(Int64(launchIndex))),
            ("metadata", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("user_data", .optional(userData)), ("config_drive", .bool(configDrive ?? true)),
            ("availability_zone", .string(shownZone)),
            ("snapshot", snapshotImage.map { ["image_id": .string($0)] } ?? .null),
            (
                "volumes",
                .array(
                    (volumes ?? []).map { volume in
                        [
                            "id": .string(volume.volumeID), "attachment_id": .string(volume.attachmentID),
                            "device": .string(String(volume.device.split(separator: "/").last ?? "vdb")),
                            "host": .string(volume.exportHost), "port": .int(Int64(volume.exportPort)),
                            "name": .string(volume.exportName), "read_only": .bool(volume.readOnly),
                            "attached": .bool(volume.state != "detaching"),
                        ]
                    })
            ),
        ]
        if let keyName, let publicKey {
            fields.append(("keys", [["name": .string(keyName), "type": "ssh", "public_key": .string(publicKey)]]))
        } else {
            fields.append(("keys", []))
        }
        fields.append(
            (
                "ports",
                .array(
                    ports.map { port in
                        [
                            "id": .string(port.id), "mac": .string(port.mac), "mtu": .int(Int64(port.mtu)),
                            "network_id": .string(port.networkID),
                            "addresses": .array(
                                port.addresses.map { address in
                                    [
                                        "address": .string(address.address), "version": .int(Int64(address.version)),
                                        "prefix_length": .int(Int64(address.prefixLength)),
                                        "gateway": .optional(address.gateway), "dhcp": .bool(address.dhcp),
                                        "nameservers": .array(address.nameservers.map(JSON.string)),
                                    ]
                                }),
                        ]
                    })
            ))
        return .object(fields)
    }
}
