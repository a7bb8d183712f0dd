import Foundation
import Testing

/// During a redeploy that rewrites the service configs, no password of the answer file is
/// where another user of a host could read it.
extension IntegrationTests.IdentityIntegrationTests {
    /// The answer file's passwords (`*_PW`, `CONFIG_DEFAULT_PASSWORD`), as deploy wrote them back.
    static func passwords() throws -> [SecretWatch.Secret] {
        try String(contentsOfFile: answers, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard let equals = line.firstIndex(of: "="), !line.hasPrefix("#") else { return nil }
            let key = String(line[..<equals])
            let value = String(line[line.index(after: equals)...])
            guard key.hasSuffix("_PW") || key.hasSuffix("PASSWORD"), value.count >= 4 else { return nil }
            return SecretWatch.Secret(key: key, value: value)
        }
    }

    /// The node's PID 1 on this machine: `/proc/<pid>/root` is its file system as it sees it,
    /// its own /tmp included.
    static func nodeInit(_ node: String) throws -> Int32 {
        let upper = "upperdir=/var/lib/nimbus/sandbox/\(name)/nodes/\(node)/upper,"
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = Int32(entry),
                let status = try? String(contentsOfFile: "/proc/\(entry)/status", encoding: .utf8),
                let nspid = status.split(separator: "\n").first(where: { $0.hasPrefix("NSpid:") }),
                nspid.split(separator: "\t").count > 2, nspid.split(separator: "\t").last == "1",
                let mounts = try? String(contentsOfFile: "/proc/\(entry)/mountinfo", encoding: .utf8),
                mounts.split(separator: "\n").contains(where: {
                    $0.split(separator: " ").dropFirst(4).first == "/" && $0.contains(upper)
                })
            else { continue }
            return pid
        }
        throw POSIXError(.ESRCH)
    }

    func watchSecretsDuringRedeploy() throws {
        let secrets = try Self.passwords()
        #expect(secrets.contains { $0.key == "CONFIG_KEYSTONE_ADMIN_PW" }, "\(secrets.map(\.key))")
        // A comment in each service config makes deploy write them all again (and restart).
        let marker = "# nimbus secrets test"
        let touched = try ssh("for f in /etc/nimbus/*.conf; do echo '\(marker)' >> \"$f\"; done; ls /etc/nimbus/*.conf")
        #expect(touched.status == 0 && touched.stdout.contains("identity.conf"), "\(touched.text)")
        let root = "/proc/\(try Self.nodeInit("node1"))/root"
        let watch = try SecretWatch(
            directories: ["/tmp", "/etc/nimbus", "/var/tmp"].map { root + $0 }, secrets: secrets)
        let deployed: Output
        do { deployed = try deploy() } catch {
            _ = watch.stop()
            throw error
        }
        let report = watch.stop()
        #expect(deployed.status == 0, "\(deployed.text)")
        let rewritten = try ssh("grep -l '\(marker)' /etc/nimbus/*.conf; true")
        #expect(rewritten.stdout.isEmpty, "not rewritten: \(rewritten.text)")

        // The watch worked: it saw the phase scripts' private directories and the configs' new files.
        let tmp = root + "/tmp/"
        let privateDirectories = report.created.filter {
            $0.hasPrefix(tmp + "nimbus.") && !$0.dropFirst(tmp.count).contains("/")
        }
        #expect(!privateDirectories.isEmpty, "no phase script directory seen in /tmp: \(report.created)")
        #expect(report.created.contains("\(root)/etc/nimbus/identity.conf.nimbus-new"), "\(report.created)")
        #expect(!report.overflowed, "inotify dropped events")
        for path in privateDirectories {
            let mode = report.directoryModes[path].map { String($0, radix: 8) }
            #expect(mode == nil || mode == "700", "\(path) has mode \(mode ?? "?")")
        }
        #expect(report.exposed.isEmpty, "world-readable files holding a password: \(report.exposed)")
        #expect(report.commandLines.isEmpty, "passwords in command lines: \(report.commandLines)")

        // Nor does any reach deploy's output, the run log, the node's journal or its processes.
        func leaks(_ text: String) -> [String] { secrets.filter { text.contains($0.value) }.map(\.key) }
        #expect(leaks(deployed.text).isEmpty, "deploy's output shows \(leaks(deployed.text))")
        let latest = URL(fileURLWithPath: Self.logs + "/latest").resolvingSymlinksInPath().path
        for path in SecretWatch.files(under: latest) {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            #expect(leaks(text).isEmpty, "\(path) shows \(leaks(text))")
        }
        #expect(!SecretWatch.files(under: latest).isEmpty, "no run log under \(latest)")
        let journal = try ssh("journalctl --no-pager -q -o cat")
        #expect(journal.status == 0 && !journal.stdout.isEmpty, "\(journal.stderr)")
        #expect(leaks(journal.text).isEmpty, "node1's journal shows \(leaks(journal.text))")
        let processes = try ssh("ps -eo args")
        #expect(processes.status == 0, "\(processes.text)")
        #expect(leaks(processes.text).isEmpty, "ps on node1 shows \(leaks(processes.text))")
    }
}
