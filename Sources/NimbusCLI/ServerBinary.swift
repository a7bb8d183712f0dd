import Crypto
import Foundation
import NimbusManifest
import NimbusSystem

/// The binaries a deploy ships (`nimbus-server`, `nimbus-agent`): `--server-binary` for
/// the server, `$NIMBUS_SERVER_BINARY` / `$NIMBUS_AGENT_BINARY`, or the static release
/// build of this source tree (`.build-server/release/`), built first when missing or
/// older than the sources.
enum ServerBinary {
    struct Loaded {
        var path: String
        var data: Data
        var sha256: String
    }

    static func load(
        _ binary: ServiceEntry.Binary, explicit: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Loaded {
        let variable = binary == .server ? "NIMBUS_SERVER_BINARY" : "NIMBUS_AGENT_BINARY"
        let path: String
        if let given = explicit ?? environment[variable] {
            path = given
        } else {
            guard let root = packageRoot() else {
                throw CLIError(
                    "no \(binary.rawValue) binary: give \(binary == .server ? "--server-binary PATH (or " : "(")\(variable)), or run nimbus from its source tree"
                )
            }
            path = root + "/.build-server/release/\(binary.rawValue)"
            if needsBuild(binary: path, root: root) { try build(binary, root: root) }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the \(binary.rawValue) binary at \(path)")
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

    /// `swift build -c release --static-swift-stdlib --product <binary>`, in a build
    /// folder of its own so the debug build stays as it is.
    static func build(_ binary: ServiceEntry.Binary, root: String) throws {
        FileHandle.standardError.write(
            Data(
                "nimbus: building \(binary.rawValue) (release, static Swift runtime; the first build takes minutes)\n"
                    .utf8))
        let command = Command(
            [
                "swift", "build", "--package-path", root, "--scratch-path", root + "/.build-server", "-c", "release",
                "--static-swift-stdlib", "--product", binary.rawValue, "-Xlinker", "-s",
            ], timeout: 3600)
        let output: ProcessOutput
        do { output = try ProcessRunner().runBlocking(command) } catch { throw CLIError(error.description) }
        guard output.succeeded else {
            throw CLIError(
                "building \(binary.rawValue) failed (swift build exited \(output.status)):\n\(output.stdout.suffix(2000))\(output.stderr.suffix(2000))"
            )
        }
    }
}
