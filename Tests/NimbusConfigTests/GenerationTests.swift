import Foundation
import NimbusConfig
import Testing

@Suite("Generation")
struct GenerationTests {
    @Test("generate → parse → generate is byte-identical")
    func roundTrip() throws {
        let generator = AnswerFileGenerator(localAddress: "192.168.122.10", sshPublicKey: "~/.ssh/id_ed25519.pub")
        let first = AnswerFileGenerator.render(generator.initialValues())
        let result = AnswerFileLoader.load(bytes: Array(first.utf8))
        let file = try #require(result.file, "\(result.diagnostics)")
        #expect(AnswerFileGenerator.render(file.texts) == first)
    }

    @Test("A generated file validates with no error or warning")
    func generatedFileIsValid() {
        let text = AnswerFileGenerator.render(deterministicGenerator().initialValues())
        let diagnostics = AnswerFileLoader.load(bytes: Array(text.utf8)).diagnostics
        #expect(!diagnostics.contains { $0.severity != .note }, "\(diagnostics)")
    }

    @Test("Every password key gets its own random password of at least 16 characters")
    func passwords() {
        let values = AnswerFileGenerator(localAddress: "10.0.0.1", sshPublicKey: "~/.ssh/id_rsa.pub").initialValues()
        let passwords = KeyCatalogue.all.filter { $0.type == .password && $0.defaultValue == .generatedPassword }
            .map { values[$0.name] ?? "" }
        #expect(passwords.count >= 7)
        #expect(passwords.allSatisfy { $0.count >= 16 })
        #expect(Set(passwords).count == passwords.count)
    }

    @Test("With a default password the individual passwords are left to follow it")
    func defaultPassword() {
        let values = deterministicGenerator().initialValues(overrides: ["CONFIG_DEFAULT_PASSWORD": "Test1234!"])
        #expect(values["CONFIG_DEFAULT_PASSWORD"] == "Test1234!")
        #expect(values["CONFIG_KEYSTONE_ADMIN_PW"] == "")
    }

    @Test("Hosts default to this machine's address")
    func localDefaults() {
        let values = deterministicGenerator().initialValues()
        for key in ["CONFIG_CONTROLLER_HOST", "CONFIG_COMPUTE_HOSTS", "CONFIG_NETWORK_HOSTS", "CONFIG_STORAGE_HOST"] {
            #expect(values[key] == "192.168.122.10")
        }
    }

    @Test("Every catalogue key is written with its help as a comment")
    func commentsFromCatalogue() {
        let text = AnswerFileGenerator.render(deterministicGenerator().initialValues())
        for definition in KeyCatalogue.all {
            #expect(text.contains("\n\(definition.name)="))
        }
        #expect(text.contains("# Type") == false)
        #expect(text.contains("# (y or n; default: y)"))
    }

    @Test("docs/answer-file.md is what the catalogue generates (run `make docs` if not)")
    func docsInSync() throws {
        let onDisk = try String(
            contentsOf: repositoryRoot.appendingPathComponent("docs/answer-file.md"), encoding: .utf8)
        #expect(onDisk == AnswerFileDocs.markdown())
    }

    @Test("The default-route address is read from the route table without contacting anyone")
    func defaultRoute() throws {
        let table = """
            Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
            lo\t00000000\t0100007F\t0003\t0\t0\t100\t00000000\t0\t0\t0
            """
        let path = NSTemporaryDirectory() + "/route-\(getpid())"
        try table.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(LocalMachine.defaultRouteAddress(routeTable: path) == "127.0.0.1")
        #expect(LocalMachine.defaultRouteAddress(routeTable: "/nonexistent") == nil)
    }
}
