import Foundation
import NimbusConfig
import NimbusModel
import NimbusSandbox
import Testing

@Suite("Sandbox spec and node files")
struct SandboxSpecTests {
    @Test("Nodes get addresses, names and interface names from their index")
    func nodeNaming() throws {
        let spec = SandboxSpec(nodeCount: 12)
        let node = try #require(spec.nodes.last)
        #expect(node.name == "node12")
        #expect(node.managementAddress.description == "10.251.0.22")
        #expect(node.providerAddress.description == "10.252.0.22")
        #expect(node.namespace == "nimbus-node12")
        #expect(node.managementVeth == "nimbus-12m" && node.providerVeth == "nimbus-12p")
        #expect(spec.nodes.allSatisfy { $0.managementVeth.utf8.count <= 15 })
        #expect(spec.hostManagementAddress.description == "10.251.0.1")
    }

    @Test("MACs are stable, locally administered and distinct per node and network")
    func macs() {
        let nodes = SandboxSpec(nodeCount: 8).nodes
        let macs = nodes.flatMap { [$0.managementMAC, $0.providerMAC] }
        #expect(Set(macs).count == 16)
        #expect(macs.allSatisfy { $0.hasPrefix("02:") && $0.count == 17 })
        #expect(SandboxSpec(nodeCount: 8).nodes[3].managementMAC == nodes[3].managementMAC)
        #expect(SandboxSpec(name: "other", nodeCount: 8).nodes[3].managementMAC != nodes[3].managementMAC)
    }

    @Test(
        "Bad specs list every problem",
        arguments: [
            (SandboxSpec(name: "Bad_Name", nodeCount: 1), "sandbox name 'Bad_Name'"),
            (SandboxSpec(nodeCount: 0), "--nodes 0: a sandbox has 1 to 32 nodes"),
            (SandboxSpec(nodeCount: 2, layout: .four), "the four layout needs at least 4 nodes; --nodes is 2"),
            (
                SandboxSpec(
                    nodeCount: 1, managementNetwork: CIDR("10.0.0.0/16")!, providerNetwork: CIDR("10.0.5.0/24")!),
                "overlap"
            ),
        ])
    func problems(spec: SandboxSpec, phrase: String) {
        #expect(spec.problems().contains { $0.contains(phrase) }, "\(spec.problems())")
    }

    @Test(
        "The natural layout follows the node count",
        arguments: [(1, SandboxLayout.allinone), (2, .two), (3, .three), (4, .four), (9, .four)])
    func naturalLayout(nodes: Int, layout: SandboxLayout) {
        #expect(SandboxSpec(nodeCount: nodes).layout == layout)
    }

    @Test("A node's identity files configure its two interfaces and root's key")
    func identityFiles() throws {
        let spec = SandboxSpec(nodeCount: 2)
        let files = Dictionary(
            uniqueKeysWithValues: NodeFiles.identity(of: spec.nodes[1], spec: spec, authorizedKey: "ssh-ed25519 AAAA k")
        )
        #expect(files["/etc/hostname"] == "node2\n")
        #expect(files["/etc/systemd/network/10-eth0.network"]?.contains("Address=10.251.0.12/24") == true)
        #expect(files["/etc/systemd/network/20-eth1.network"]?.contains("Address=10.252.0.12/24") == true)
        #expect(files["/root/.ssh/authorized_keys"] == "ssh-ed25519 AAAA k\n")
        #expect(files.values.allSatisfy { !$0.contains("Gateway") })
    }

    @Test("known_hosts names a node's key under both its addresses")
    func knownHosts() {
        let node = SandboxSpec(nodeCount: 1).nodes[0]
        #expect(
            NodeFiles.knownHosts(of: node, hostKey: "ssh-ed25519 AAAAC3 root@node1\n")
                == "10.251.0.11 ssh-ed25519 AAAAC3\n10.252.0.11 ssh-ed25519 AAAAC3\n")
    }

    @Test(
        "The answer file of each layout places the roles on the nodes and validates",
        arguments: [
            (SandboxLayout.allinone, 1, "10.251.0.11", "10.251.0.11", "10.251.0.11"),
            (.two, 3, "10.251.0.11", "10.251.0.12,10.251.0.13", "10.251.0.11"),
            (.three, 3, "10.251.0.12", "10.251.0.13", "10.251.0.11"),
            (.four, 5, "10.251.0.12", "10.251.0.13,10.251.0.14", "10.251.0.15"),
        ])
    func answerFiles(layout: SandboxLayout, nodes: Int, network: String, compute: String, storage: String) throws {
        let spec = SandboxSpec(nodeCount: nodes, layout: layout)
        let values = NodeFiles.answerOverrides(spec: spec, publicKeyPath: "/k.pub", knownHostsPath: "/known_hosts")
        #expect(values["CONFIG_CONTROLLER_HOST"] == "10.251.0.11")
        #expect(values["CONFIG_NETWORK_HOSTS"] == network)
        #expect(values["CONFIG_COMPUTE_HOSTS"] == compute)
        #expect(values["CONFIG_STORAGE_HOST"] == storage)
        let generator = AnswerFileGenerator(localAddress: "10.251.0.1", sshPublicKey: "")
        let text = AnswerFileGenerator.render(generator.initialValues(overrides: values))
        let result = AnswerFileLoader.load(bytes: Array(text.utf8))
        #expect(result.file != nil, "\(result.diagnostics)")
    }

    @Test("The base recipe's hash changes with what goes into the base")
    func recipeHash() {
        let base = BaseRecipe(repositoryPackages: ["qemu-utils"], setupScript: "echo a")
        #expect(base.hash == BaseRecipe(repositoryPackages: ["qemu-utils"], setupScript: "echo a").hash)
        #expect(base.hash != BaseRecipe(repositoryPackages: ["qemu-utils", "x"], setupScript: "echo a").hash)
        #expect(base.hash != BaseRecipe(repositoryPackages: ["qemu-utils"], setupScript: "echo b").hash)
    }

    @Test("The host's Debian mirror is read from deb822 and one-line sources")
    func mirror() throws {
        let directory = NSTemporaryDirectory() + "mirror-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n".write(
            toFile: "\(directory)/a.sources", atomically: true, encoding: .utf8)
        try "deb http://old.example/debian bookworm main\n".write(
            toFile: "\(directory)/b.list", atomically: true, encoding: .utf8)
        #expect(BaseImageBuilder.hostMirror(files: ["\(directory)/a.sources"]) == "http://mirror.example/debian")
        #expect(BaseImageBuilder.hostMirror(files: ["\(directory)/b.list"]) == "http://old.example/debian")
        #expect(BaseImageBuilder.hostMirror(files: ["/nonexistent"]) == "http://deb.debian.org/debian")
    }
}
