import ArgumentParser
import Foundation
import NimbusModel
import NimbusSystem

/// `nimbus-server probe`: the deploy's health check on a host, with no curl needed there.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Wait until a URL answers 200 (the deploy's health check).")

    @Option(name: .long, help: "The URL to GET.")
    var url: String

    @Option(name: .long, help: "Seconds to keep trying (0: once).")
    var wait: Double = 0

    func run() throws {
        let deadline = Date().addingTimeInterval(wait)
        var last = ""
        repeat {
            do {
                let reply = try HTTPProbe.send("GET", url, timeout: 2)
                if reply.status == 200 { return }
                last = "\(url) answered \(reply.status)"
            } catch {
                last = error.description
            }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        throw ValidationError("\(last) (after \(Int(wait)) s)")
    }
}
