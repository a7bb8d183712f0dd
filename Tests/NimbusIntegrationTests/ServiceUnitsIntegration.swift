import Foundation
import Testing

/// How the services run on the node: each API on the management address only, as its own
/// unprivileged user, with its state directory owned by that user.
extension IntegrationTests.IdentityIntegrationTests {
    func servicesRunConfined() throws {
        let listening = try ssh("ss -Hltnp")
        for (service, port) in [("identity", 5000), ("image", 9292), ("object", 8080)] {
            let lines = listening.stdout.split(separator: "\n").filter { $0.contains(":\(port) ") }
            #expect(lines.count == 1, "port \(port): \(listening.stdout)")
            #expect(lines.first?.contains("10.242.0.11:\(port) ") == true, "\(service) listens on \(lines)")
            let owner = try ssh(
                "ps -o user= -p $(systemctl show -p MainPID --value nimbus-\(service)); stat -c %U /var/lib/nimbus/\(service)"
            )
            #expect(owner.stdout == "nimbus-\(service)\nnimbus-\(service)\n", "\(service): \(owner.text)")
        }
        let keys = try ssh("stat -c '%U %a' /etc/nimbus/token-keys /etc/nimbus/identity.conf")
        #expect(keys.stdout == "nimbus-identity 700\nroot 640\n", "\(keys.text)")
    }
}
