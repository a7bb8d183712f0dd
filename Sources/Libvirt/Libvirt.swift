import CLibvirt
import Glibc

/// A small owner of libvirt's C API: a connection to a hypervisor, and its domains defined,
/// started, stopped, paused and undefined by UUID. Knows nothing of clouds.
public enum Libvirt {}

extension Libvirt {
    /// What went wrong, with libvirt's own message.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        /// `virConnectOpen` failed.
        case connect(uri: String, reason: String)
        /// No domain with this UUID or name (`VIR_ERR_NO_DOMAIN`).
        case noDomain(String)
        /// A call failed: which one, libvirt's error code and message.
        case call(String, code: Int32, reason: String)
        /// The connection was closed.
        case closed

        public var description: String {
            switch self {
            case .connect(let uri, let reason): "cannot connect to \(uri): \(reason)"
            case .noDomain(let which): "no domain \(which)"
            case .call(let call, let code, let reason): "\(call) failed (libvirt error \(code)): \(reason)"
            case .closed: "the libvirt connection is closed"
            }
        }
    }

    /// libvirt's `VIR_ERR_NO_DOMAIN`.
    static let noDomainCode = Int32(VIR_ERR_NO_DOMAIN.rawValue)

    /// Set once per process: libvirt's errors are read with `virGetLastError` (and thrown),
    /// not printed on standard error by its default handler.
    static let quiet: Bool = {
        virInitialize()
        virSetErrorFunc(nil) { _, _ in }
        return true
    }()

    /// The calling thread's last libvirt error: its code and message (`virGetLastError`).
    static func lastError() -> (code: Int32, message: String) {
        guard let error = virGetLastError() else { return (0, "unknown error") }
        let message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        return (error.pointee.code, message)
    }

    /// Throws the last error when `result` is negative (the convention of libvirt's `int`
    /// calls); returns it otherwise.
    @discardableResult
    static func check(_ result: Int32, _ call: String) throws(Error) -> Int32 {
        guard result < 0 else { return result }
        let (code, message) = lastError()
        if code == noDomainCode { throw .noDomain(message) }
        throw .call(call, code: code, reason: message)
    }

    /// A string libvirt allocated (freed here), or the last error.
    static func owned(_ pointer: UnsafeMutablePointer<CChar>?, _ call: String) throws(Error) -> String {
        guard let pointer else {
            let (code, message) = lastError()
            throw .call(call, code: code, reason: message)
        }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
