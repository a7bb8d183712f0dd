import ArgumentParser
import Foundation
import NimbusConfig

/// `nimbus gen-answer-file FILE`: a full commented answer file with this machine's defaults.
struct GenAnswerFileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-answer-file",
        abstract: "Write a full commented answer file: defaults from this machine, random passwords, mode 0600."
    )

    @Argument(help: "The file to write.")
    var file: String

    @Flag(help: "Overwrite the file if it exists.")
    var force = false

    @OptionGroup var hosts: HostOptions

    mutating func run() throws {
        let overrides = try hosts.overrides(localAddress: AnswerFileInput.localAddress)
        let generator = AnswerFileGenerator(
            localAddress: AnswerFileInput.localAddress(), sshPublicKey: LocalMachine.sshPublicKeyPath())
        let text = AnswerFileGenerator.render(generator.initialValues(overrides: overrides))
        // A bad --install-hosts value is refused before anything is written.
        let check = AnswerFileLoader.load(bytes: Array(text.utf8))
        guard !check.diagnostics.hasErrors else {
            Console.print(check.diagnostics.filter { $0.severity == .error }, file: file)
            throw CLIError("\(file): not written: the options above give an invalid answer file")
        }
        do { try SecretFile.write(text, to: file, overwrite: force) } catch { throw CLIError(error.description) }
        print("Wrote \(file) (mode 0600). Edit the hosts and passwords, then: nimbus validate \(file)")
    }
}

/// Writes a file only its owner can read, atomically.
enum SecretFile {
    enum WriteError: Error, CustomStringConvertible {
        case exists(String)
        case failed(String, String)

        var description: String {
            switch self {
            case .exists(let path): "\(path) exists; not overwritten (use --force to replace it)"
            case .failed(let path, let reason): "\(path): cannot write: \(reason)"
            }
        }
    }

    /// Writes `text` to a temporary file of mode 0600 beside `path`, fsyncs it and renames
    /// it into place. Without `overwrite`, an existing `path` is refused and left alone.
    static func write(_ text: String, to path: String, overwrite: Bool) throws(WriteError) {
        if !overwrite && FileManager.default.fileExists(atPath: path) { throw .exists(path) }
        let temporary = "\(path).tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .failed(path, String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                unlink(temporary)
                throw .failed(path, reason)
            }
            written += count
        }
        fsync(descriptor)
        close(descriptor)
        if !overwrite && FileManager.default.fileExists(atPath: path) {
            unlink(temporary)
            throw .exists(path)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .failed(path, reason)
        }
    }
}
