import Foundation
import Testing

/// The API ↔ agent channel with real processes: `nimbus-channel-test api` (the smallest API
/// with agents, validating tokens with the sandbox cloud's identity service) on loopback,
/// its agent following it, and the API killed with SIGKILL while the agent watches.
extension IntegrationTests.IdentityIntegrationTests {
    func channelBinary() -> String {
        let candidates = [
            repositoryRoot.appendingPathComponent(".build/debug/nimbus-channel-test").path,
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("nimbus-channel-test").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "nimbus-channel-test"
    }

    func start(_ arguments: [String], log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: channelBinary())
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    func channelSurvivesAPIKill() throws {
        let work = Self.directory + "/channel"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let rc = try String(contentsOfFile: Self.directory + "/keystonerc_admin", encoding: .utf8)
        let passwordLine = rc.split(separator: "\n").first { $0.hasPrefix("export OS_PASSWORD=") } ?? ""
        let password = String(passwordLine.dropFirst("export OS_PASSWORD=".count)).trimmingCharacters(
            in: CharacterSet(charactersIn: "'"))
        try password.write(toFile: work + "/password", atomically: true, encoding: .utf8)
        let port = 19_696
        let api = "http://127.0.0.1:\(port)"
        let identity = "http://\(Self.controller):5000/v3"
        let apiArguments = ["api", "--port", String(port), "--state", work + "/api", "--identity-url", identity]
        var server = try start(apiArguments, log: work + "/api.log")
        let agent = try start(
            [
                "agent", "--api", api, "--identity-url", identity, "--user", "admin", "--password-file",
                work + "/password", "--state", work + "/agent-state.json", "--view", work + "/view.json",
            ], log: work + "/agent.log")
        defer {
            server.terminate()
            agent.terminate()
            server.waitUntilExit()
            agent.waitUntilExit()
        }
        func waitFor(_ seconds: Double, _ condition: () throws -> Bool) throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if (try? condition()) == true { return true }
                Thread.sleep(forTimeInterval: 0.1)
            }
            return try condition()
        }
        func curl(_ arguments: String...) throws -> Output { try run(["curl", "-sS", "-f"] + arguments, timeout: 30) }
        func view() throws -> [String: String] {
            let data = try Data(contentsOf: URL(fileURLWithPath: work + "/view.json"))
            return (try JSONSerialization.jsonObject(with: data) as? [String: String]) ?? [:]
        }
        #expect(try waitFor(20) { try curl("\(api)/healthz").status == 0 }, "the test API did not start")
        var expected: [String: String] = [:]
        for index in 1...20 {
            #expect(try curl("-X", "POST", "--data", "v\(index)", "\(api)/items/i\(index)").status == 0)
            expected["i\(index)"] = "v\(index)"
        }
        #expect(try waitFor(20) { try view() == expected }, "the agent's view: \((try? view()) ?? [:])")
        // Mid-stream: the agent holds a watch open when the API dies.
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        Thread.sleep(forTimeInterval: 1)
        server = try start(apiArguments, log: work + "/api.log")
        #expect(try waitFor(20) { try curl("\(api)/healthz").status == 0 })
        for index in 21...30 {
            #expect(try curl("-X", "POST", "--data", "v\(index)", "\(api)/items/i\(index)").status == 0)
            expected["i\(index)"] = "v\(index)"
        }
        for index in [2, 4, 25] {
            #expect(try curl("-X", "DELETE", "\(api)/items/i\(index)").status == 0)
            expected["i\(index)"] = nil
        }
        #expect(try waitFor(30) { try view() == expected }, "after the kill the agent has \((try? view()) ?? [:])")
        let agentLog = (try? String(contentsOfFile: work + "/agent.log", encoding: .utf8)) ?? ""
        #expect(agentLog.contains("the channel failed; retrying"), "\(agentLog.suffix(2000))")
        #expect(!agentLog.contains("listing again"), "a kill of the API must not force a full list")
        // The API tells the agent is alive from its heartbeats.
        let token = try run(
            [
                "sh", "-c",
                "curl -sS -D - -o /dev/null -H 'Content-Type: application/json' -d '{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"},\"password\":\"'\"$(cat \(work)/password)\"'\"}}},\"scope\":{\"project\":{\"name\":\"admin\",\"domain\":{\"name\":\"Default\"}}}}}' \(identity)/auth/tokens | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p' | tr -d '\\r'",
            ], timeout: 30
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(
            try waitFor(10) {
                let agents = try curl("-H", "X-Auth-Token: \(token)", "\(api)/agent/v1/agents")
                return agents.stdout.contains("\"alive\":true") && agents.stdout.contains("\"type\":\"channel-test\"")
            })
    }
}
