import Foundation
import NimbusServiceKit

/// What an instance is told about itself, as Nova tells it: `openstack/<version>/meta_data.json`,
/// `network_data.json`, `vendor_data.json`, `user_data`, and the EC2-style metadata. The
/// compute agent writes it onto the config drive; the compute API's metadata service
/// serves the same documents at 169.254.169.254 (through the router's proxy). The bundled
/// guest image and cloud-init read either.
public struct InstanceMetadata: Sendable, Equatable {
    public var uuid: String
    /// The display name.
    public var name: String
    public var hostname: String
    public var availabilityZone: String
    public var projectID: String
    public var launchIndex: Int
    public var keys: [Key]
    /// The server's metadata (`meta`).
    public var metadata: [String: String]
    /// The user data as given (already base64-decoded).
    public var userData: [UInt8]?
    public var links: [Link]
    /// DNS servers of the instance's subnets.
    public var nameservers: [String]
    /// What only the compute API knows, for the EC2-style documents (empty on a drive the
    /// agent writes): the EC2 instance id (`i-0000000a`), the flavor's name, the image,
    /// the reservation, the security groups, the floating addresses.
    public var ec2InstanceID = ""
    public var instanceType = ""
    public var imageID = ""
    public var reservationID = ""
    public var securityGroups: [String] = []
    public var floatingAddresses: [String] = []

    /// A key pair's public key.
    public struct Key: Sendable, Equatable {
        public var name: String
        /// `ssh` or `x509`.
        public var type: String
        public var publicKey: String

        public init(name: String, type: String = "ssh", publicKey: String) {
            self.name = name
            self.type = type
            self.publicKey = publicKey
        }
    }

    /// A port of the instance and the address it holds on one subnet.
    public struct Link: Sendable, Equatable {
        public var portID: String
        public var mac: String
        public var mtu: Int
        public var networkID: String
        /// With DHCP the guest asks; without, it is told the address below.
        public var dhcp: Bool
        public var address: String
        public var prefixLength: Int
        public var gateway: String?

        public init(
            portID: String, mac: String, mtu: Int, networkID: String, dhcp: Bool, address: String, prefixLength: Int,
            gateway: String?
        ) {
            self.portID = portID
            self.mac = mac
            self.mtu = mtu
            self.networkID = networkID
            self.dhcp = dhcp
            self.address = address
            self.prefixLength = prefixLength
            self.gateway = gateway
        }
    }

    public init(
        uuid: String, name: String, hostname: String, availabilityZone: String, projectID: String,
        launchIndex: Int = 0, keys: [Key], metadata: [String: String] = [:], userData: [UInt8]? = nil,
        links: [Link], nameservers: [String] = []
    ) {
        self.uuid = uuid
        self.name = name
        self.hostname = hostname
        self.availabilityZone = availabilityZone
        self.projectID = projectID
        self.launchIndex = launchIndex
        self.keys = keys
        self.metadata = metadata
        self.userData = userData
        self.links = links
        self.nameservers = nameservers
    }

    /// The OpenStack metadata versions written (the newest as `latest`); `2013-10-17` is
    /// the one Tempest posts passwords to.
    public static let versions = ["2013-10-17", "latest"]

    /// `meta_data.json`.
    public var metaData: JSON {
        var seed = SystemRandomNumberGenerator()
        let random = (0..<512).map { _ in UInt8.random(in: 0...255, using: &seed) }
        return .object([
            ("uuid", .string(uuid)), ("name", .string(name)), ("hostname", .string(hostname)),
            ("launch_index", .int(Int64(launchIndex))), ("availability_zone", .string(availabilityZone)),
            ("project_id", .string(projectID)),
            ("random_seed", .string(Data(random).base64EncodedString())),
            ("meta", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
            ("public_keys", .object(keys.map { ($0.name, .string($0.publicKey)) })),
            (
                "keys",
                .array(
                    keys.map {
                        .object([
                            ("name", .string($0.name)), ("type", .string($0.type)), ("data", .string($0.publicKey)),
                        ])
                    })
            ),
            ("devices", .array([])),
        ])
    }

    /// `network_data.json`: a link per port, a network per address, the DNS servers.
    public var networkData: JSON {
        let links = links.map { link -> JSON in
            .object([
                ("id", .string("tap" + link.portID.prefix(11))), ("vif_id", .string(link.portID)),
                ("type", .string("bridge")), ("mtu", .int(Int64(link.mtu))),
                ("ethernet_mac_address", .string(link.mac)),
            ])
        }
        let networks = self.links.enumerated().map { index, link -> JSON in
            var members: [(String, JSON)] = [
                ("id", .string("network\(index)")), ("link", .string("tap" + link.portID.prefix(11))),
                ("network_id", .string(link.networkID)),
            ]
            let v6 = link.address.contains(":")
            if link.dhcp {
                members.append(("type", .string(v6 ? "ipv6_dhcp" : "ipv4_dhcp")))
            } else {
                members.append(("type", .string(v6 ? "ipv6" : "ipv4")))
                members.append(("ip_address", .string(link.address)))
                members.append(("netmask", .string(Self.netmask(link.prefixLength, v6: v6))))
                if let gateway = link.gateway {
                    members.append(
                        (
                            "routes",
                            .array([
                                .object([
                                    ("network", .string(v6 ? "::" : "0.0.0.0")),
                                    ("netmask", .string(v6 ? "::" : "0.0.0.0")), ("gateway", .string(gateway)),
                                ])
                            ])
                        ))
                }
            }
            return .object(members)
        }
        let services = nameservers.map { JSON.object([("type", .string("dns")), ("address", .string($0))]) }
        return .object([("links", .array(links)), ("networks", .array(networks)), ("services", .array(services))])
    }

    /// `ec2/latest/meta-data.json`, for guests that read the EC2 layout: the tree Nova's
    /// metadata service serves under `<version>/meta-data/`.
    public var ec2MetaData: JSON {
        var members: [(String, JSON)] = []
        if !imageID.isEmpty { members.append(("ami-id", .string("ami-" + imageID.filter(\.isHexDigit).prefix(8)))) }
        members += [
            ("ami-launch-index", .int(Int64(launchIndex))), ("ami-manifest-path", "FIXME"),
            ("block-device-mapping", .object([("ami", "vda"), ("root", "/dev/vda")])),
            ("hostname", .string(hostname)), ("instance-action", "none"),
            ("instance-id", .string(ec2InstanceID.isEmpty ? uuid : ec2InstanceID)),
        ]
        if !instanceType.isEmpty { members.append(("instance-type", .string(instanceType))) }
        members += [
            ("local-hostname", .string(hostname)),
            ("local-ipv4", .string(links.first { !$0.address.contains(":") }?.address ?? "")),
            ("placement", .object([("availability-zone", .string(availabilityZone))])),
            ("public-hostname", .string(hostname)),
            ("public-ipv4", .string(floatingAddresses.first ?? "")),
            (
                "public-keys",
                .object(
                    keys.enumerated().map { index, key in
                        ("\(index)", .object([("openssh-key", .string(key.publicKey))]))
                    })
            ),
        ]
        if !reservationID.isEmpty { members.append(("reservation-id", .string(reservationID))) }
        members.append(("security-groups", .string(securityGroups.joined(separator: "\n"))))
        return .object(members)
    }

    /// Every file of the drive: its path inside the drive and its bytes.
    public var files: [(path: String, contents: [UInt8])] {
        var files: [(path: String, contents: [UInt8])] = []
        for version in Self.versions {
            let directory = "openstack/\(version)/"
            files.append((directory + "meta_data.json", metaData.bytes))
            files.append((directory + "network_data.json", networkData.bytes))
            files.append((directory + "vendor_data.json", Array("{}".utf8)))
            files.append((directory + "vendor_data2.json", Array("{}".utf8)))
            if let userData { files.append((directory + "user_data", userData)) }
        }
        files.append(("ec2/latest/meta-data.json", ec2MetaData.bytes))
        if let userData { files.append(("ec2/latest/user-data", userData)) }
        return files
    }

    /// A dotted netmask (IPv4) or a `ffff:…` mask (IPv6) of a prefix length.
    public static func netmask(_ length: Int, v6: Bool) -> String {
        let bits = v6 ? 128 : 32
        let ones = max(0, min(length, bits))
        var bytes = [UInt8](repeating: 0, count: bits / 8)
        for bit in 0..<ones { bytes[bit / 8] |= UInt8(0x80 >> (bit % 8)) }
        guard v6 else { return bytes.map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

extension InstanceMetadata {
    /// The metadata of instance `id` as the compute API describes it to the agents (the
    /// server's channel body: name, hostname, keys, metadata, user data, ports).
    public init(id: String, body: JSON) {
        var links: [InstanceMetadata.Link] = []
        var nameservers: [String] = []
        for port in body["ports"]?.array ?? [] {
            for address in port["addresses"]?.array ?? [] where address["version"]?.int == 4 {
                links.append(
                    InstanceMetadata.Link(
                        portID: port["id"]?.string ?? "", mac: port["mac"]?.string ?? "",
                        mtu: Int(port["mtu"]?.int ?? 1450), networkID: port["network_id"]?.string ?? "",
                        dhcp: address["dhcp"]?.bool ?? true, address: address["address"]?.string ?? "",
                        prefixLength: Int(address["prefix_length"]?.int ?? 24), gateway: address["gateway"]?.string))
                for server in address["nameservers"]?.array ?? [] {
                    if let text = server.string, !nameservers.contains(text) { nameservers.append(text) }
                }
            }
        }
        let name = body["name"]?.string ?? id
        self.init(
            uuid: id, name: name, hostname: body["hostname"]?.string ?? "server",
            availabilityZone: body["availability_zone"]?.string ?? "nova",
            projectID: body["project_id"]?.string ?? "", launchIndex: Int(body["launch_index"]?.int ?? 0),
            keys: (body["keys"]?.array ?? []).map {
                InstanceMetadata.Key(
                    name: $0["name"]?.string ?? "", type: $0["type"]?.string ?? "ssh",
                    publicKey: $0["public_key"]?.string ?? "")
            },
            metadata: Dictionary(
                (body["metadata"]?.members ?? []).map { ($0.0, $0.1.string ?? "") }, uniquingKeysWith: { $1 }),
            userData: body["user_data"]?.string.flatMap { Data(base64Encoded: $0) }.map { Array($0) },
            links: links, nameservers: nameservers)
    }
}
