import Foundation
import NimbusGuestData
import NimbusServiceKit
import NimbusSystem

/// The config drive of an instance, as Nova writes it: an ISO 9660 filesystem labelled
/// `config-2` holding every document of the instance's metadata.
extension InstanceMetadata {
    /// Writes the files under a scratch directory beside `path` and makes the ISO there with
    /// `genisoimage` (as Nova does: Joliet and Rock Ridge, label `config-2`), replacing
    /// `path` only once it is complete.
    public func writeConfigDrive(to path: String, runner: any ProcessRunning = ProcessRunner())
        async throws(ConfigDriveError)
    {
        let scratch = path + ".files"
        let fileManager = FileManager.default
        try? fileManager.removeItem(atPath: scratch)
        defer { try? fileManager.removeItem(atPath: scratch) }
        do {
            for file in files {
                let target = URL(fileURLWithPath: scratch).appendingPathComponent(file.path)
                try fileManager.createDirectory(
                    at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(file.contents).write(to: target)
            }
        } catch {
            throw .files(scratch, "\(error)")
        }
        let partial = path + ".partial"
        let command = Command([
            "genisoimage", "-o", partial, "-ldots", "-allow-lowercase", "-allow-multidot", "-l", "-publisher",
            "Nimbus", "-quiet", "-J", "-r", "-V", "config-2", scratch,
        ])
        do {
            try await runner.check(command)
            guard rename(partial, path) == 0 else {
                throw ConfigDriveError.files(path, String(cString: strerror(errno)))
            }
        } catch let error as ConfigDriveError {
            try? fileManager.removeItem(atPath: partial)
            throw error
        } catch {
            try? fileManager.removeItem(atPath: partial)
            throw .iso("\(error)")
        }
    }
}

/// Why a config drive could not be made.
public enum ConfigDriveError: Error, Equatable, CustomStringConvertible {
    /// Its files could not be written (the path, the reason).
    case files(String, String)
    /// genisoimage failed.
    case iso(String)

    public var description: String {
        switch self {
        case .files(let path, let reason): "cannot write the config drive's files at \(path): \(reason)"
        case .iso(let reason): "cannot make the config drive's ISO: \(reason)"
        }
    }
}
