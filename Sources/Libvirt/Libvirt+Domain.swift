import CLibvirt
import Glibc

extension Libvirt {
    /// A domain as listed: its UUID, name and state.
    public struct Domain: Sendable, Equatable {
        public var uuid: String
        public var name: String
        public var state: State

        public init(uuid: String, name: String, state: State) {
            self.uuid = uuid
            self.name = name
            self.state = state
        }
    }

    /// A domain's state (`virDomainState`).
    public enum State: String, Sendable, Equatable {
        case noState = "nostate"
        case running, blocked, paused, shutdown, shutoff, crashed, suspended

        init(_ raw: Int32) {
            switch UInt32(bitPattern: raw) {
            case VIR_DOMAIN_RUNNING.rawValue: self = .running
            case VIR_DOMAIN_BLOCKED.rawValue: self = .blocked
            case VIR_DOMAIN_PAUSED.rawValue: self = .paused
            case VIR_DOMAIN_SHUTDOWN.rawValue: self = .shutdown
            case VIR_DOMAIN_SHUTOFF.rawValue: self = .shutoff
            case VIR_DOMAIN_CRASHED.rawValue: self = .crashed
            case VIR_DOMAIN_PMSUSPENDED.rawValue: self = .suspended
            default: self = .noState
            }
        }
    }

    /// The UUID, name and state of a domain pointer; called under the connection's lock.
    static func describe(_ domain: OpaquePointer) throws(Error) -> Domain {
        var uuid = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        try check(virDomainGetUUIDString(domain, &uuid), "virDomainGetUUIDString")
        let name = virDomainGetName(domain).map { String(cString: $0) } ?? ""
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(domain, &state, &reason, 0), "virDomainGetState")
        let text = String(decoding: uuid.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Domain(uuid: text, name: name, state: State(state))
    }
}

extension Libvirt.Connection {
    /// Defines (or redefines, same UUID) a persistent domain from its XML (`virDomainDefineXML`).
    @discardableResult
    public func define(xml: String) throws(Libvirt.Error) -> Libvirt.Domain {
        try with { handle throws(Libvirt.Error) in
            guard let domain = virDomainDefineXML(try handle.open(), xml) else {
                let (code, message) = Libvirt.lastError()
                throw .call("virDomainDefineXML", code: code, reason: message)
            }
            defer { virDomainFree(domain) }
            return try Libvirt.describe(domain)
        }
    }

    /// Every domain, defined or running (`virConnectListAllDomains`).
    public func domains() throws(Libvirt.Error) -> [Libvirt.Domain] {
        try with { handle throws(Libvirt.Error) in
            var list: UnsafeMutablePointer<OpaquePointer?>?
            let count = try Libvirt.check(
                virConnectListAllDomains(try handle.open(), &list, 0), "virConnectListAllDomains")
            defer {
                for index in 0..<Int(count) { if let domain = list?[index] { virDomainFree(domain) } }
                free(list)
            }
            var domains: [Libvirt.Domain] = []
            for index in 0..<Int(count) {
                guard let domain = list?[index] else { continue }
                // A domain undefined between the list and this look is simply gone.
                do throws(Libvirt.Error) { domains.append(try Libvirt.describe(domain)) } catch .noDomain { continue }
            }
            return domains
        }
    }

    /// The domain with this UUID, nil when there is none (`virDomainLookupByUUIDString`).
    public func domain(uuid: String) throws(Libvirt.Error) -> Libvirt.Domain? {
        do throws(Libvirt.Error) {
            return try with { handle throws(Libvirt.Error) in
                try handle.withDomain(uuid) { domain throws(Libvirt.Error) in try Libvirt.describe(domain) }
            }
        } catch .noDomain {
            return nil
        }
    }

    /// The domain's XML as libvirt holds it (`virDomainGetXMLDesc`).
    public func xml(uuid: String) throws(Libvirt.Error) -> String {
        try with { handle throws(Libvirt.Error) in
            try handle.withDomain(uuid) { domain throws(Libvirt.Error) in
                try Libvirt.owned(virDomainGetXMLDesc(domain, 0), "virDomainGetXMLDesc")
            }
        }
    }

    /// The domain's state (`virDomainGetState`).
    public func state(uuid: String) throws(Libvirt.Error) -> Libvirt.State {
        try with { handle throws(Libvirt.Error) in
            try handle.withDomain(uuid) { domain throws(Libvirt.Error) in try Libvirt.describe(domain).state }
        }
    }

    /// One of the domain's lifecycle calls.
    public enum Action: Sendable {
        /// Boots a defined domain (`virDomainCreate`).
        case start
        /// Asks the guest to shut down (`virDomainShutdown`, ACPI).
        case shutdown
        /// Pulls the plug (`virDomainDestroy`).
        case destroy
        /// Asks the guest to reboot (`virDomainReboot`).
        case reboot
        /// Resets the machine, as a reset button (`virDomainReset`).
        case reset
        /// Pauses its vCPUs (`virDomainSuspend`).
        case suspend
        /// Resumes them (`virDomainResume`).
        case resume
        /// Saves the running guest's memory to libvirt's managed save image and stops it
        /// (`virDomainManagedSave`); the next start restores it.
        case managedSave
        /// Removes the definition with its managed save and snapshot metadata
        /// (`virDomainUndefineFlags`); a running domain becomes transient. (Domains here boot
        /// from BIOS and keep no checkpoints: no NVRAM or checkpoint flags, which libvirt's
        /// test driver refuses.)
        case undefine
    }

    /// Runs a lifecycle call on the domain with this UUID.
    public func perform(_ action: Action, uuid: String) throws(Libvirt.Error) {
        try with { handle throws(Libvirt.Error) in
            try handle.withDomain(uuid) { domain throws(Libvirt.Error) in
                switch action {
                case .start: try Libvirt.check(virDomainCreate(domain), "virDomainCreate")
                case .shutdown: try Libvirt.check(virDomainShutdown(domain), "virDomainShutdown")
                case .destroy: try Libvirt.check(virDomainDestroy(domain), "virDomainDestroy")
                case .reboot: try Libvirt.check(virDomainReboot(domain, 0), "virDomainReboot")
                case .reset: try Libvirt.check(virDomainReset(domain, 0), "virDomainReset")
                case .suspend: try Libvirt.check(virDomainSuspend(domain), "virDomainSuspend")
                case .resume: try Libvirt.check(virDomainResume(domain), "virDomainResume")
                case .managedSave: try Libvirt.check(virDomainManagedSave(domain, 0), "virDomainManagedSave")
                case .undefine:
                    let flags =
                        VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
                    try Libvirt.check(virDomainUndefineFlags(domain, flags), "virDomainUndefineFlags")
                }
            }
        }
    }

    /// Whether the domain starts with the host's libvirtd (`virDomainSetAutostart`).
    public func setAutostart(_ enabled: Bool, uuid: String) throws(Libvirt.Error) {
        try with { handle throws(Libvirt.Error) in
            try handle.withDomain(uuid) { domain throws(Libvirt.Error) in
                try Libvirt.check(virDomainSetAutostart(domain, enabled ? 1 : 0), "virDomainSetAutostart")
            }
        }
    }
}

extension Libvirt.Connection {
    /// Plugs a device (`<disk>` XML) into the domain: into the running guest when it runs,
    /// and into its persistent definition either way (`virDomainAttachDeviceFlags`).
    public func attachDevice(xml: String, uuid: String) throws(Libvirt.Error) {
        try with { handle throws(Libvirt.Error) in
            try handle.withDomain(uuid) { domain throws(Libvirt.Error) in
                try Libvirt.check(
                    virDomainAttachDeviceFlags(domain, xml, Self.deviceFlags(domain)), "virDomainAttachDeviceFlags")
            }
        }
    }

    /// Unplugs a device from the running guest (libvirt waits a few seconds for the guest
    /// to let go) and from the definition (`virDomainDetachDeviceFlags`).
    public func detachDevice(xml: String, uuid: String) throws(Libvirt.Error) {
        try with { handle throws(Libvirt.Error) in
            try handle.withDomain(uuid) { domain throws(Libvirt.Error) in
                try Libvirt.check(
                    virDomainDetachDeviceFlags(domain, xml, Self.deviceFlags(domain)), "virDomainDetachDeviceFlags")
            }
        }
    }

    /// The live and the persistent config for a running domain, the persistent one only
    /// for a stopped one.
    static func deviceFlags(_ domain: OpaquePointer) -> UInt32 {
        let active = virDomainIsActive(domain) == 1
        return VIR_DOMAIN_AFFECT_CONFIG.rawValue | (active ? VIR_DOMAIN_AFFECT_LIVE.rawValue : 0)
    }
}
