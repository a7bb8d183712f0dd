import Foundation
import Testing

/// The object storage part of the all-in-one suite: the stock `swift` CLI
/// (python-swiftclient, `$SWIFT_CLIENT`), curl without a token, and Tempest (`$TEMPEST`).
extension IntegrationTests.IdentityIntegrationTests {
    func swift(_ arguments: String..., as changes: [String: String] = [:], in directory: String? = nil) throws
        -> Output
    {
        let client = try requireTool("SWIFT_CLIENT")
        return try Self.withCredentials(client, arguments, changes: changes, in: directory, timeout: 900)
    }

    func shell(_ script: String, timeout: Double = 300) throws -> Output {
        try run(["sh", "-c", script], timeout: timeout)
    }

    func objectStorageWalkthrough() throws {
        let work = Self.directory + "/swift"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work + "/down", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        // The course's steps (seed 002, §4).
        try "hello object storage\n".write(toFile: work + "/file1.txt", atomically: true, encoding: .utf8)
        #expect(try swift("post", "demo-c1").status == 0)
        let upload = try swift("upload", "demo-c1", "file1.txt", in: work)
        #expect(upload.status == 0 && upload.stdout == "file1.txt\n", "\(upload.text)")
        let listed = try swift("list", "demo-c1", "--lh")
        #expect(listed.status == 0 && listed.stdout.contains("text/plain file1.txt"), "\(listed.text)")
        let download = try swift("download", "demo-c1", in: work + "/down")
        #expect(download.status == 0, "\(download.text)")
        #expect(FileManager.default.contentsEqual(atPath: work + "/file1.txt", andPath: work + "/down/file1.txt"))
        let stat = try swift("stat", "demo-c1")
        #expect(stat.stdout.contains("Objects: 1"), "\(stat.text)")
        let containers = try openstack("container", "list", "-f", "value", "-c", "Name")
        #expect(containers.stdout.contains("demo-c1"), "\(containers.text)")
        let shown = try openstack("object", "show", "demo-c1", "file1.txt", "-f", "value", "-c", "content-type")
        #expect(shown.stdout == "text/plain\n", "\(shown.text)")

        // One 1 GiB object, uploaded in one PUT and downloaded, compared byte for byte.
        #expect(try shell("head -c 1073741824 /dev/urandom > '\(work)/big.bin'").status == 0)
        let bigUpload = try swift("upload", "large", "big.bin", in: work)
        #expect(bigUpload.status == 0, "\(bigUpload.text)")
        let bigStat = try swift("stat", "large", "big.bin")
        #expect(bigStat.stdout.contains("Content Length: 1073741824"), "\(bigStat.text)")
        let bigDownload = try swift("download", "large", "big.bin", "-o", work + "/down/big.bin")
        #expect(bigDownload.status == 0, "\(bigDownload.text)")
        #expect(try shell("cmp '\(work)/big.bin' '\(work)/down/big.bin'").status == 0)
        try? FileManager.default.removeItem(atPath: work + "/big.bin")
        try? FileManager.default.removeItem(atPath: work + "/down/big.bin")

        // 10,000 objects of 4 KiB, then listed in pages of 1,000 (marker after marker).
        let many = work + "/many"
        try FileManager.default.createDirectory(atPath: many, withIntermediateDirectories: true)
        let block = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0) })
        for index in 0..<10_000 {
            try block.write(to: URL(fileURLWithPath: String(format: "%@/%05d", many, index)))
        }
        let manyUpload = try swift("upload", "--object-threads", "8", "many", "many", in: work)
        #expect(manyUpload.status == 0, "\(manyUpload.stderr.prefix(2000))")
        let paged = try openstack("object", "list", "many", "--limit", "1000", "--all", "-f", "value", "-c", "Name")
        let names = paged.stdout.split(separator: "\n")
        #expect(names.count == 10_000 && names.first == "many/00000" && names.last == "many/09999", "\(paged.stderr)")
        let swiftListed = try swift("list", "many")
        #expect(swiftListed.stdout.split(separator: "\n").count == 10_000)
        #expect(try swift("stat", "many").stdout.contains("Objects: 10000"))

        // A public container: readable with curl and no token; others still need one.
        let auth = try swift("auth")
        let storageURL = try #require(
            auth.stdout.split(separator: "\n").first { $0.contains("OS_STORAGE_URL=") }.map {
                String($0.split(separator: "=", maxSplits: 1)[1])
            }, "\(auth.text)")
        #expect(try swift("post", "-r", ".r:*,.rlistings", "demo-c1").status == 0)
        let anonymous = try shell("curl -s -f '\(storageURL)/demo-c1/file1.txt'")
        #expect(anonymous.stdout == "hello object storage\n", "\(anonymous.text)")
        let anonymousListing = try shell("curl -s -f '\(storageURL)/demo-c1'")
        #expect(anonymousListing.stdout == "file1.txt\n", "\(anonymousListing.text)")
        let closed = try shell("curl -s -o /dev/null -w '%{http_code}' '\(storageURL)/large/big.bin'")
        #expect(closed.stdout == "401", "\(closed.text)")

        // A member of another project is refused admin's private containers.
        let member = try newMember("objects")
        let refused = try swift("--os-storage-url", storageURL, "stat", "large", as: member)
        #expect(refused.status != 0 && refused.text.contains("403"), "\(refused.text)")
        let own = try swift("list", as: member)
        #expect(own.status == 0 && own.stdout.isEmpty, "\(own.text)")
    }

    /// Tempest's counts line (`- Passed: 19`).
    static func count(_ label: String, in text: String) -> Int {
        for line in text.split(separator: "\n") where line.contains("- \(label):") {
            return Int(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0
        }
        return 0
    }

    /// Tempest's counts of a run: passed, failed, skipped.
    static func counts(_ output: Output) -> (passed: Int, failed: Int, skipped: Int) {
        (count("Passed", in: output.stdout), count("Failed", in: output.stdout), count("Skipped", in: output.stdout))
    }

    /// The tests a run failed.
    static func failures(_ output: Output) -> [Substring] {
        output.stdout.split(separator: "\n").filter { $0.hasSuffix("... FAILED") || $0.contains("] ... FAILED") }
    }

    func runTempest() throws {
        let script = repositoryRoot.appendingPathComponent("Tests/Tempest/run.sh").path
        let workspace = Self.directory + "/tempest"
        let rc = Self.directory + "/keystonerc_admin"
        func tempest(_ regex: String, timeout: Double) throws -> Output {
            try run([script, rc, workspace, "--regex", regex, "--concurrency", "2"], timeout: timeout)
        }
        // The network tests run because the walk-through made an external network
        // (Tests/Tempest/run.sh turns the network service on when there is one).
        let smoke = try tempest(#"^tempest\.api\.(image|object_storage|network)\..*\[.*\bsmoke\b"#, timeout: 900)
        #expect(smoke.status == 0, "\(smoke.text.suffix(4000))")
        #expect(Self.count("Passed", in: smoke.stdout) == 19 + 48, "\(smoke.stdout.suffix(2000))")

        let full = try tempest(#"^tempest\.api\.(image\.v2|object_storage)\."#, timeout: 1200)
        let (passed, failed, skipped) = Self.counts(full)
        print(
            "Tempest tempest.api.image.v2 + tempest.api.object_storage: \(passed) passed, \(failed) failed, \(skipped) skipped"
        )
        // What fails is only what Nimbus does not carry out yet (docs/object-storage.md):
        // Glance's tasks (import from a URL).
        let unexpected = Self.failures(full).filter { line in !line.contains("test_image_task") }
        #expect(unexpected.isEmpty, "\(unexpected.joined(separator: "\n"))")
        #expect(passed >= 170, "\(full.stdout.suffix(3000))")

        let network = try tempest(#"^tempest\.api\.network\."#, timeout: 1200)
        let counts = Self.counts(network)
        print(
            "Tempest tempest.api.network: \(counts.passed) passed, \(counts.failed) failed, \(counts.skipped) skipped")
        #expect(network.status == 0 && counts.failed == 0, "\(Self.failures(network).joined(separator: "\n"))")
        #expect(counts.passed >= 235, "\(network.stdout.suffix(3000))")

        // Compute's and block storage's smoke tests, on the guest image and m1.guest the
        // walk-through made (Tempest's projects get their own networks and routers), a
        // volume attached to a server among them; the one skipped needs interface
        // attachment, and boot from volume (not carried out yet) is left out.
        let compute = try run(
            [
                "env", "TEMPEST_COMPUTE=1", script, rc, workspace + "-compute", "--regex",
                #"^tempest\.api\.(compute|volume)\..*\[.*\bsmoke\b"#, "--exclude-regex", "ServersTestBootFromVolume",
                "--concurrency", "2",
            ], timeout: 900)
        let computeCounts = Self.counts(compute)
        print(
            "Tempest compute + volume smoke: \(computeCounts.passed) passed, \(computeCounts.failed) failed, \(computeCounts.skipped) skipped"
        )
        #expect(compute.status == 0 && computeCounts.passed == 19, "\(compute.text.suffix(4000))")
    }
}
