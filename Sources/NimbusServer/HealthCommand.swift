import ArgumentParser
import Foundation
import NimbusManifest
import NimbusServiceKit
import NimbusSystem

/// `nimbus-server health NAME`: the deploy's health check on a host, the way the manifest
/// (`/etc/nimbus/services.yaml`) says the service is healthy — `/healthz` at the address
/// its config binds, or its unit active — with no curl needed there.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Wait until a service on this host is healthy (the deploy's health check).")

    @Argument(help: "The service, as the manifest names it.")
    var service: String

    @Option(name: .long, help: "The service manifest.")
    var manifest = ServiceManifest.hostPath

    @Option(name: .long, help: "Seconds to keep trying (0: once).")
    var wait: Double = 0

    func run() async throws {
        let loaded = try ServiceManifest.load(path: manifest)
        guard let entry = loaded[service] else {
            throw ValidationError("\(manifest) has no service \(service)")
        }
        let deadline = Date().addingTimeInterval(wait)
        var last = ""
        repeat {
            do {
                try await check(entry)
                return
            } catch {
                last = "\(error)"
            }
            try await Task.sleep(for: .milliseconds(100))
        } while Date() < deadline
        throw ValidationError("\(entry.name): \(last) (after \(Int(wait)) s)")
    }

    struct Unhealthy: Error, CustomStringConvertible {
        var description: String
    }

    func check(_ entry: ServiceEntry) async throws {
        switch entry.health {
        case .http:
            let config = try ServiceConfig.load(path: entry.configPath)
            let bind = try config.endpoint("DEFAULT", "bind", default: "0.0.0.0:\(entry.port ?? 0)")
            let host = bind.host == "0.0.0.0" ? "127.0.0.1" : bind.host
            let url = "http://\(host):\(bind.port)/healthz"
            let reply = try HTTPProbe.send("GET", url, timeout: 2)
            guard reply.status == 200 else { throw Unhealthy(description: "\(url) answered \(reply.status)") }
        case .unit, .heartbeat:
            // A heartbeat is told by the agent's API (`nimbus status` asks it); here, on the
            // agent's host, its unit must be running.
            let output = try await ProcessRunner().run(
                Command(["systemctl", "is-active", entry.unitName], timeout: 10))
            guard output.succeeded else {
                throw Unhealthy(
                    description: "\(entry.unitName) is \(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines))"
                )
            }
        }
    }
}
