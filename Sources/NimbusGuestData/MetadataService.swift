import Crypto
import Foundation
import NimbusServiceKit

/// How the metadata proxy in a router vouches for the instance a request came from, as
/// Neutron's metadata agent does for Nova: `X-Instance-ID-Signature` is the HMAC-SHA256 of
/// the instance id with the shared secret, in hex.
public enum MetadataSignature {
    /// The signature of `instanceID`.
    public static func sign(_ instanceID: String, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Array(instanceID.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` is the one of `instanceID` (compared in constant time).
    public static func isValid(_ signature: String, for instanceID: String, secret: String) -> Bool {
        let expected = Array(sign(instanceID, secret: secret).utf8)
        let given = Array(signature.lowercased().utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// What the metadata service answers for a path: a listing or a value as text, a JSON
/// document, raw bytes (user data), the password (read or set by the caller, who keeps
/// it), or nothing.
public enum MetadataAnswer: Sendable, Equatable {
    case text(String)
    case json(JSON)
    case bytes([UInt8])
    case password
    case notFound
}

extension InstanceMetadata {
    /// The EC2 metadata versions Nova serves (`latest` besides).
    public static let ec2Versions = [
        "1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01",
        "2009-04-04",
    ]
    /// The OpenStack metadata versions Nova serves (`latest` besides).
    public static let openStackVersions = [
        "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06", "2017-02-22",
        "2018-08-27", "2020-10-14",
    ]

    /// The answer for `path` (`/openstack/latest/meta_data.json`, `/latest/meta-data/public-keys/0/openssh-key`).
    public func answer(for path: String) -> MetadataAnswer {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = parts.first else { return .text((Self.ec2Versions + ["latest"]).joined(separator: "\n")) }
        if first == "openstack" { return openStackAnswer(Array(parts.dropFirst())) }
        guard first == "latest" || Self.ec2Versions.contains(first) else { return .notFound }
        guard parts.count > 1 else { return .text(userData == nil ? "meta-data/" : "meta-data/\nuser-data") }
        switch parts[1] {
        case "user-data" where parts.count == 2: return userData.map(MetadataAnswer.bytes) ?? .notFound
        case "meta-data": return ec2Answer(Array(parts.dropFirst(2)))
        default: return .notFound
        }
    }

    func openStackAnswer(_ parts: [String]) -> MetadataAnswer {
        guard let version = parts.first else {
            return .text((Self.openStackVersions + ["latest"]).joined(separator: "\n"))
        }
        guard version == "latest" || Self.openStackVersions.contains(version) else { return .notFound }
        guard parts.count <= 2 else { return .notFound }
        guard parts.count == 2 else {
            var names = ["meta_data.json", "password", "vendor_data.json", "network_data.json", "vendor_data2.json"]
            if userData != nil { names.append("user_data") }
            return .text(names.joined(separator: "\n"))
        }
        switch parts[1] {
        case "meta_data.json": return .json(metaData)
        case "network_data.json": return .json(networkData)
        case "vendor_data.json", "vendor_data2.json": return .json(.object([]))
        case "password": return .password
        case "user_data": return userData.map(MetadataAnswer.bytes) ?? .notFound
        default: return .notFound
        }
    }

    /// A value of the EC2 tree, or a listing of a branch: its names, a branch's with a
    /// trailing `/`; the public keys listed as `0=name`, as EC2 does.
    func ec2Answer(_ parts: [String]) -> MetadataAnswer {
        if parts == ["public-keys"] {
            return .text(keys.enumerated().map { "\($0.offset)=\($0.element.name)" }.joined(separator: "\n"))
        }
        var node = ec2MetaData
        for part in parts {
            guard let next = node.members?.first(where: { $0.0 == part })?.1 else { return .notFound }
            node = next
        }
        if let members = node.members {
            return .text(members.map { $0.1.members == nil ? $0.0 : $0.0 + "/" }.joined(separator: "\n"))
        }
        switch node {
        case .string(let text): return .text(text)
        case .int(let number): return .text(String(number))
        default: return .text(node.text)
        }
    }
}
