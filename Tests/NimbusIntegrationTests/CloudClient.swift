import Foundation
import Testing

/// The stock clients (`$OPENSTACK`, `$SWIFT_CLIENT`) against a deployed cloud, as the admin
/// of its keystonerc_admin or, with `changes` to the `OS_*` variables, as another user.
struct CloudClient {
    /// The keystonerc_admin `nimbus deploy` wrote next to the answer file.
    let keystonerc: String

    /// keystonerc_admin's `OS_*` variables with `changes` applied.
    func environment(_ changes: [String: String] = [:]) throws -> [String: String] {
        var environment: [String: String] = [:]
        let rc = try String(contentsOfFile: keystonerc, encoding: .utf8)
        for line in rc.split(separator: "\n") where line.hasPrefix("export OS_") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            var value = String(assignment[assignment.index(after: equals)...])
            if value.hasPrefix("'") && value.hasSuffix("'") { value = String(value.dropFirst().dropLast()) }
            environment[String(assignment[..<equals])] = value
        }
        environment.merge(changes) { $1 }
        return environment
    }

    /// Runs `client` with the credentials, in `directory` when given.
    func run(
        _ client: String, _ arguments: [String], changes: [String: String] = [:], in directory: String? = nil,
        timeout: Double = 120
    ) throws -> Output {
        let command = ["env"] + (try environment(changes)).map { "\($0)=\($1)" } + [client] + arguments
        guard let directory else { return try NimbusIntegrationTests.run(command, timeout: timeout) }
        let quoted = command.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        return try NimbusIntegrationTests.run(["sh", "-c", "cd '\(directory)' && exec \(quoted)"], timeout: timeout)
    }

    /// `openstack …`.
    func openstack(_ arguments: [String], as changes: [String: String] = [:]) throws -> Output {
        try run(try requireTool("OPENSTACK"), arguments, changes: changes)
    }

    /// `openstack … -f json`, expected to succeed, parsed.
    func json(
        _ arguments: [String], as changes: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> Any? {
        let output = try openstack(arguments + ["-f", "json"], as: changes)
        #expect(
            output.status == 0, "openstack \(arguments.joined(separator: " ")): \(output.text)",
            sourceLocation: sourceLocation)
        return try? JSONSerialization.jsonObject(with: Data(output.stdout.utf8))
    }

    /// What the server walk-throughs boot: the guest image of `make guest-image`
    /// (`$NIMBUS_GUEST_IMAGE`, public `nimbus-guest`), the flavor `m1.guest` (96 MiB), and
    /// `member`'s key pair `guest-key` of a key made at `keyFile`.
    func guestImageFlavorAndKey(keyFile: String, member: [String: String]) throws {
        let cloud = self
        let image = try #require(
            ProcessInfo.processInfo.environment["NIMBUS_GUEST_IMAGE"], "NIMBUS_GUEST_IMAGE (make guest-image)")
        let uploaded = try cloud.json([
            "image", "create", "--disk-format", "qcow2", "--container-format", "bare", "--public", "--min-ram", "80",
            "--file", image, "nimbus-guest",
        ])
        #expect(field(uploaded, "status") == "active", "\(uploaded ?? "")")
        _ = try cloud.json(["flavor", "create", "--vcpus", "1", "--ram", "96", "--disk", "1", "m1.guest"])
        try? FileManager.default.removeItem(atPath: keyFile)
        try? FileManager.default.removeItem(atPath: keyFile + ".pub")
        let keygen = try NimbusIntegrationTests.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyFile], timeout: 20)
        #expect(keygen.status == 0, "\(keygen.text)")
        #expect(
            try cloud.openstack(["keypair", "create", "--public-key", keyFile + ".pub", "guest-key"], as: member)
                .status == 0)
    }

    /// A new project with a member user; the `OS_*` changes that act as that user.
    func newMember(_ prefix: String) throws -> [String: String] {
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let project = "\(prefix)-\(suffix)"
        let user = "\(prefix)-user-\(suffix)"
        #expect(try openstack(["project", "create", project]).status == 0)
        #expect(
            try openstack(["user", "create", "--project", project, "--password", "pw-\(suffix)", user]).status == 0)
        #expect(try openstack(["role", "add", "--project", project, "--user", user, "member"]).status == 0)
        return ["OS_USERNAME": user, "OS_PASSWORD": "pw-\(suffix)", "OS_PROJECT_NAME": project]
    }
}

/// `command` in the guest at `address` as cirros, with the test's key (host keys not kept).
func guestLogin(keyFile: String, address: String, _ command: String, timeout: Double) throws -> Output {
    try NimbusIntegrationTests.run(
        [
            "ssh", "-i", keyFile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=5", "-o", "BatchMode=yes", "cirros@\(address)", command,
        ], timeout: timeout)
}

/// A member of a JSON object as text ("" when absent).
func field(_ object: Any?, _ key: String) -> String {
    ((object as? [String: Any])?[key]).map { "\($0)" } ?? ""
}

/// Polls `check` every half second for up to `seconds`.
func eventually(_ seconds: Double, _ check: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if try check() { return true }
        Thread.sleep(forTimeInterval: 0.5)
    } while Date() < deadline
    return false
}
