import NimbusServiceKit

/// Places servers on compute hosts, as Nova's filter scheduler does by default: hosts whose
/// agent is up, with the vCPUs and memory left (each shared out by its allocation ratio)
/// and the disk; among those, the one with the most memory free (servers spread out).
public struct Scheduler: Sendable {
    public var cpuAllocationRatio: Double
    public var ramAllocationRatio: Double

    public init(cpuAllocationRatio: Double = 16, ramAllocationRatio: Double = 1.5) {
        self.cpuAllocationRatio = cpuAllocationRatio
        self.ramAllocationRatio = ramAllocationRatio
    }

    /// A compute host as the scheduler sees it.
    public struct Candidate: Sendable, Equatable {
        public var host: String
        public var alive: Bool
        public var vcpus: Int
        public var memoryMiB: Int
        public var diskGiB: Int

        public init(host: String, alive: Bool, vcpus: Int, memoryMiB: Int, diskGiB: Int) {
            self.host = host
            self.alive = alive
            self.vcpus = vcpus
            self.memoryMiB = memoryMiB
            self.diskGiB = diskGiB
        }
    }

    /// The host for `flavor` among `candidates`, given the servers already placed; nil
    /// when none has room ("No valid host was found").
    public func place(_ flavor: Flavor, on candidates: [Candidate], servers: some Sequence<Server>) -> String? {
        var usedCPU: [String: Int] = [:]
        var usedRAM: [String: Int] = [:]
        var usedDisk: [String: Int] = [:]
        for server in servers where !server.host.isEmpty {
            usedCPU[server.host, default: 0] += server.flavor.vcpus
            usedRAM[server.host, default: 0] += server.flavor.memoryMiB
            usedDisk[server.host, default: 0] += server.flavor.diskGiB + server.flavor.ephemeralGiB
        }
        let fitting = candidates.filter { host in
            host.alive
                && Double(usedCPU[host.host, default: 0] + flavor.vcpus) <= Double(host.vcpus) * cpuAllocationRatio
                && Double(usedRAM[host.host, default: 0] + flavor.memoryMiB)
                    <= Double(host.memoryMiB) * ramAllocationRatio
                && usedDisk[host.host, default: 0] + flavor.diskGiB + flavor.ephemeralGiB <= host.diskGiB
        }
        return
            fitting.max { a, b in
                let freeA = Double(a.memoryMiB) * ramAllocationRatio - Double(usedRAM[a.host, default: 0])
                let freeB = Double(b.memoryMiB) * ramAllocationRatio - Double(usedRAM[b.host, default: 0])
                return freeA == freeB ? a.host > b.host : freeA < freeB
            }?.host
    }
}
