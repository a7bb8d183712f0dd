import Crypto
import Foundation

/// The `nimbus-server` binary a deploy ships: `--server-binary`, `$NIMBUS_SERVER_BINARY`,
/// or the static release build of this source tree (`.build-server/release/`), which is
/// built first when missing or older than the sources.
enum ServerBinary {
    struct Loaded {
        var path: String
        var data: Data
        var sha256: String
    }

    static func load(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> Loaded
    {
        let path: String
        if let given = explicit ?? environment["NIMBUS_SERVER_BINARY"] {
            path = given
        } else {
            guard let root = packageRoot() else {
                throw CLIError(
                    "no nimbus-server binary: give --server-binary PATH (or NIMBUS_SERVER_BINARY), or run nimbus from its source tree"
                )
            }
            path = root + "/.build-server/release/nimbus-server"
            if needsBuild(binary: path, root: root) { try build(root: root) }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the nimbus-server binary at \(path)")
        }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        return Loaded(path: path, data: data, sha256: digest)
    }

    /// The package root above the running executable (`.build/<config>/nimbus`).
    static func packageRoot() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: directory.path + "/Package.swift"),
                FileManager.default.fileExists(atPath: directory.path + "/Sources/nimbus-server")
            {
                return directory.standardizedFileURL.path
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// Whether any source file is newer than the binary.
    static func needsBuild(binary: String, root: String) -> Bool {
        let manager = FileManager.default
        guard let built = (try? manager.attributesOfItem(atPath: binary))?[.modificationDate] as? Date else {
            return true
        }
        let sources = manager.enumerator(atPath: root + "/Sources")
        while let name = sources?.nextObject() as? String {
            guard name.hasSuffix(".swift") || name.hasSuffix(".h") else { continue }
            if let date = (try? manager.attributesOfItem(atPath: root + "/Sources/" + name))?[.modificationDate]
                as? Date, date > built
            {
                return true
            }
        }
        return false
    }

    /// `swift build -c release --static-swift-stdlib --product nimbus-server`, in a build
    /// folder of its own so the debug build stays as it is.
    static func build(root: String) throws {
        FileHandle.standardError.write(
            Data("nimbus: building nimbus-server (release, static Swift runtime; the first build takes minutes)\n".utf8)
        )
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "swift", "build", "--package-path", root, "--scratch-path", root + "/.build-server", "-c", "release",
            "--static-swift-stdlib", "--product", "nimbus-server", "-Xlinker", "-s",
        ]
        process.standardOutput = FileHandle.standardError
        do { try process.run() } catch { throw CLIError("cannot run swift build: \(error)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CLIError("building nimbus-server failed (swift build exited \(process.terminationStatus))")
        }
    }
}
