import CLibvirt

extension Libvirt {
    /// The raw `virConnectPtr` of one connection. Owned by exactly one `Connection`, which
    /// keeps it in a `Mutex`; this is the module's one audited unchecked-Sendable box: the
    /// pointer (and every `virDomainPtr` looked up through it) is only touched while that
    /// lock is held, and libvirt's last error is read on the same thread as the failed call.
    final class Handle: @unchecked Sendable {
        var connection: OpaquePointer?

        init(_ connection: OpaquePointer) { self.connection = connection }

        /// `virConnectClose`; idempotent.
        func close() {
            if let connection { virConnectClose(connection) }
            connection = nil
        }

        deinit { close() }

        /// The open connection, or `.closed`.
        func open() throws(Error) -> OpaquePointer {
            guard let connection else { throw .closed }
            return connection
        }

        /// Runs `body` with the domain of this UUID (`virDomainLookupByUUIDString`), freed after.
        func withDomain<T>(_ uuid: String, _ body: (OpaquePointer) throws(Error) -> T) throws(Error) -> T {
            guard let domain = virDomainLookupByUUIDString(try open(), uuid) else {
                let (code, message) = Libvirt.lastError()
                if code == Libvirt.noDomainCode { throw .noDomain(uuid) }
                throw .call("virDomainLookupByUUIDString", code: code, reason: message)
            }
            defer { virDomainFree(domain) }
            return try body(domain)
        }
    }
}
