import NimbusServiceKit

/// Places servers on compute hosts, as Nova's filter scheduler does by default: hosts whose
/// agent is up and whose service is enabled, in the zone asked for, that keep the server
/// group's policy, with the vCPUs and memory left (each shared out by its allocation
/// ratio) and the disk; among those, a soft group policy's favourite, then the one with
/// the most memory free (servers spread out).
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
        /// Not disabled by an admin (`os-services`).
        public var enabled: Bool

        public init(host: String, alive: Bool, vcpus: Int, memoryMiB: Int, diskGiB: Int, enabled: Bool = true) {
            self.host = host
            self.alive = alive
            self.vcpus = vcpus
            self.memoryMiB = memoryMiB
            self.diskGiB = diskGiB
            self.enabled = enabled
        }
    }

    /// Where a server may go beyond room: the hosts allowed (a zone's, a forced host, the
    /// `same_host` hint's), the hosts refused (`different_host`), and its group's policy
    /// with the hosts of the group's members, one entry per member.
    public struct Rule: Sendable, Equatable {
        public var hosts: Set<String>?
        public var avoiding: Set<String>
        public var policy: String?
        public var maxPerHost: Int
        public var memberHosts: [String]

        public init(
            hosts: Set<String>? = nil, avoiding: Set<String> = [], policy: String? = nil, maxPerHost: Int = 1,
            memberHosts: [String] = []
        ) {
            self.hosts = hosts
            self.avoiding = avoiding
            self.policy = policy
            self.maxPerHost = maxPerHost
            self.memberHosts = memberHosts
        }
    }

    /// The host for `flavor` among `candidates`, given the servers already placed; nil
    /// when none has room or keeps the rule ("No valid host was found").
    public func place(
        _ flavor: Flavor, on candidates: [Candidate], servers: some Sequence<Server>, rule: Rule = Rule()
    ) -> String? {
        var usedCPU: [String: Int] = [:]
        var usedRAM: [String: Int] = [:]
        var usedDisk: [String: Int] = [:]
        for server in servers where !server.host.isEmpty {
            usedCPU[server.host, default: 0] += server.flavor.vcpus
            usedRAM[server.host, default: 0] += server.flavor.memoryMiB
            usedDisk[server.host, default: 0] += server.flavor.diskGiB + server.flavor.ephemeralGiB
        }
        var members: [String: Int] = [:]
        for host in rule.memberHosts { members[host, default: 0] += 1 }
        let fitting = candidates.filter { host in
            host.alive && host.enabled && rule.hosts.map { $0.contains(host.host) } != false
                && !rule.avoiding.contains(host.host)
                && Double(usedCPU[host.host, default: 0] + flavor.vcpus) <= Double(host.vcpus) * cpuAllocationRatio
                && Double(usedRAM[host.host, default: 0] + flavor.memoryMiB)
                    <= Double(host.memoryMiB) * ramAllocationRatio
                && usedDisk[host.host, default: 0] + flavor.diskGiB + flavor.ephemeralGiB <= host.diskGiB
                && keeps(rule, members[host.host, default: 0], groupPlaced: !members.isEmpty)
        }
        // A soft policy ranks first: the most members for soft-affinity, the fewest for
        // soft-anti-affinity.
        func preference(_ host: Candidate) -> Int {
            switch rule.policy {
            case "soft-affinity": members[host.host, default: 0]
            case "soft-anti-affinity": -members[host.host, default: 0]
            default: 0
            }
        }
        func free(_ host: Candidate) -> Double {
            Double(host.memoryMiB) * ramAllocationRatio - Double(usedRAM[host.host, default: 0])
        }
        return
            fitting.max { a, b in
                if preference(a) != preference(b) { return preference(a) < preference(b) }
                return free(a) == free(b) ? a.host > b.host : free(a) < free(b)
            }?.host
    }

    /// Whether a host with `members` of the group on it keeps a hard policy: affinity
    /// wants the host of the members placed (any host for the first), anti-affinity fewer
    /// than `maxPerHost` there.
    func keeps(_ rule: Rule, _ members: Int, groupPlaced: Bool) -> Bool {
        switch rule.policy {
        case "affinity": !groupPlaced || members > 0
        case "anti-affinity": members < rule.maxPerHost
        default: true
        }
    }
}
