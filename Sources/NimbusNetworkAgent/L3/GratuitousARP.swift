import Foundation
import Glibc
import Logging

/// Tells a segment's neighbours that addresses moved to an interface (gratuitous ARP): the
/// network seam of the L3 agent, with `GratuitousARP` for real and a recorder in tests.
public protocol AddressAnnouncing: Sendable {
    /// Announces `addresses` from `interface` (whose MAC is `mac`) in `namespace`, in the
    /// background: the call returns at once.
    func announce(_ addresses: [IPv4], interface: String, mac: MACAddress, namespace: String)
}

/// Gratuitous ARP sent by the agent itself (no `arping`, which waits a second per call):
/// on a `NamespaceThread` inside the router's namespace, `count` rounds `interval` apart,
/// each an ARP request and an ARP reply with sender = target = the address, as Neutron's
/// `arping -U` and `-A`. A neighbour ignores an update within `locktime` (1 s) of the last,
/// hence more than one round. The thread ends after the last round.
public struct GratuitousARP: AddressAnnouncing {
    /// How many rounds.
    public var count: Int
    /// Seconds between rounds.
    public var interval: Double
    let logger: Logger

    /// Three rounds a second apart (Neutron's `send_arp_for_ha`).
    public init(count: Int = 3, interval: Double = 1, logger: Logger) {
        self.count = count
        self.interval = interval
        self.logger = logger
    }

    /// Starts the announcing thread and returns.
    public func announce(_ addresses: [IPv4], interface: String, mac: MACAddress, namespace: String) {
        guard !addresses.isEmpty else { return }
        let (count, interval, logger) = (count, interval, logger)
        @Sendable func report(_ error: DataplaneError) {
            logger.warning("gratuitous ARP failed", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
        }
        NamespaceThread.start(in: namespace) {
            do throws(DataplaneError) {
                try Self.send(addresses, interface: interface, mac: mac, rounds: count, interval: interval)
            } catch {
                report(error)
            }
        } failed: {
            report($0)
        }
    }

    /// Runs on the announcing thread, inside the namespace: sends the frames.
    static func send(
        _ addresses: [IPv4], interface: String, mac: MACAddress, rounds: Int, interval: Double
    ) throws(DataplaneError) {
        func failure(_ step: String) -> DataplaneError {
            .hostUnprepared("gratuitous ARP from \(interface): \(step): \(String(cString: strerror(errno)))")
        }
        let index = if_nametoindex(interface)
        guard index > 0 else { throw failure("no such interface") }
        let socket = Glibc.socket(AF_PACKET, Int32(SOCK_RAW.rawValue), 0)
        guard socket >= 0 else { throw failure("socket(AF_PACKET)") }
        defer { close(socket) }
        let link = linkAddress(index: Int32(index))
        for round in 0..<rounds {
            if round > 0 { Thread.sleep(forTimeInterval: interval) }
            for address in addresses {
                for operation: UInt8 in [1, 2] {
                    let frame = Self.frame(operation: operation, mac: mac, address: address)
                    let sent = frame.withUnsafeBytes { bytes in
                        link.withUnsafeBytes { target in
                            sendto(
                                socket, bytes.baseAddress, bytes.count, 0,
                                target.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(target.count))
                        }
                    }
                    guard sent == frame.count else { throw failure("sendto") }
                }
            }
        }
    }

    /// A `struct sockaddr_ll` (linux/if_packet.h) for the broadcast address on `index`,
    /// spelled out: the Glibc module does not import it.
    static func linkAddress(index: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt16(AF_PACKET)) { bytes += $0 }  // sll_family
        bytes += [0x08, 0x06]  // sll_protocol: ETH_P_ARP, network order
        withUnsafeBytes(of: index) { bytes += $0 }  // sll_ifindex
        withUnsafeBytes(of: UInt16(1)) { bytes += $0 }  // sll_hatype: ARPHRD_ETHER
        bytes += [0, 6]  // sll_pkttype, sll_halen
        bytes += MACAddress.broadcast.octets + [0, 0]  // sll_addr[8]
        return bytes
    }

    /// An Ethernet broadcast frame with an ARP request (1) or reply (2) announcing `address`
    /// at `mac`, padded to the 60-byte minimum.
    public static func frame(operation: UInt8, mac: MACAddress, address: IPv4) -> [UInt8] {
        var frame = MACAddress.broadcast.octets + mac.octets + [0x08, 0x06]
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, operation]
        frame += mac.octets + address.octets
        frame += (operation == 1 ? MACAddress.zero : MACAddress.broadcast).octets + address.octets
        return frame + [UInt8](repeating: 0, count: max(0, 60 - frame.count))
    }
}
