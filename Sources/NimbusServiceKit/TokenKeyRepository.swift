import Crypto
import Foundation

/// Token keys on disk: one file per key, `<id>.key` (32 random bytes, mode 0600) in a
/// directory only root reads. The highest id seals; `rotate` adds a new one and keeps the
/// newest `keep`, so tokens sealed before a rotation stay valid while their key is kept.
public struct TokenKeyRepository: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public enum Failure: Error, CustomStringConvertible {
        case io(String)

        public var description: String {
            switch self {
            case .io(let reason): reason
            }
        }
    }

    /// The key ring, making the first key when there is none.
    public func load() throws(Failure) -> TokenKeyRing {
        let existing = try keys()
        if !existing.isEmpty { return TokenKeyRing(keys: existing) }
        try rotate(keep: 3)
        return TokenKeyRing(keys: try keys())
    }

    public func keys() throws(Failure) -> [TokenKeyRing.Key] {
        let manager = FileManager.default
        guard manager.fileExists(atPath: directory) else { return [] }
        let names: [String]
        do { names = try manager.contentsOfDirectory(atPath: directory) } catch {
            throw .io("cannot list \(directory): \(error.localizedDescription)")
        }
        return names.compactMap { name -> TokenKeyRing.Key? in
            guard name.hasSuffix(".key"), let id = UInt32(name.dropLast(4)),
                let data = manager.contents(atPath: "\(directory)/\(name)"), data.count == 32
            else { return nil }
            return TokenKeyRing.Key(id: id, key: SymmetricKey(data: data))
        }.sorted { $0.id > $1.id }
    }

    /// Adds a new primary key and removes all but the newest `keep`.
    public func rotate(keep: Int = 3) throws(Failure) {
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .io("cannot create \(directory): \(error.localizedDescription)")
        }
        let existing = try keys()
        let id = (existing.first?.id ?? 0) + 1
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        let temporary = "\(directory)/.\(id).key.new"
        guard manager.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]),
            rename(temporary, "\(directory)/\(id).key") == 0
        else { throw .io("cannot write a key in \(directory)") }
        for old in existing.dropFirst(max(keep - 1, 0)) {
            try? manager.removeItem(atPath: "\(directory)/\(old.id).key")
        }
    }
}
