import Foundation
import Testing

/// The notes' compute steps that exist so far, with the stock `openstack` client: flavors
/// (step 3, one private to a project) and key pairs (step 7).
extension IntegrationTests.IdentityIntegrationTests {
    func computeWalkthrough() throws {
        let cloud = Self.cloud
        // Admin: m1.nano as the notes make it, and a.nano private to a project.
        let nano = try cloud.json([
            "flavor", "create", "--id", "0", "--vcpus", "1", "--ram", "64", "--disk", "1", "m1.nano",
        ])
        #expect(field(nano, "id") == "0" && field(nano, "ram") == "64", "\(nano ?? "")")
        let member = try newMember("cmp")
        let project = member["OS_PROJECT_NAME"] ?? ""
        _ = try cloud.json([
            "flavor", "create", "--private", "--project", project, "--id", "100", "--vcpus", "1", "--ram", "128",
            "--disk", "1", "a.nano",
        ])
        let other = try newMember("cmpo")
        func flavors(_ who: [String: String]) throws -> [String] {
            ((try cloud.json(["flavor", "list"], as: who) as? [[String: Any]]) ?? []).map { "\($0["Name"] ?? "")" }
        }
        #expect(try flavors(member).sorted() == ["a.nano", "m1.nano"])
        #expect(try flavors(other) == ["m1.nano"])
        let refused = try cloud.openstack(
            ["flavor", "create", "--ram", "64", "--vcpus", "1", "--disk", "1", "x"], as: member)
        #expect(refused.status != 0 && refused.text.contains("403"), "\(refused.text)")

        // The member's key pair: the client makes it and uploads the public key.
        let made = try cloud.openstack(["keypair", "create", "k1"], as: member)
        #expect(made.status == 0 && made.stdout.contains("PRIVATE KEY"), "\(made.text)")
        let list = (try cloud.json(["keypair", "list"], as: member) as? [[String: Any]]) ?? []
        #expect(list.map { "\($0["Name"] ?? "")" } == ["k1"], "\(list)")
        #expect("\(list.first?["Fingerprint"] ?? "")".split(separator: ":").count == 16, "\(list)")
        #expect(((try cloud.json(["keypair", "list"], as: other) as? [[String: Any]]) ?? []).isEmpty)
        let again = try cloud.openstack(["keypair", "create", "k1"], as: member)
        #expect(again.status != 0 && again.text.contains("already exists"), "\(again.text)")
        #expect(try cloud.openstack(["keypair", "delete", "k1"], as: member).status == 0)
    }
}
