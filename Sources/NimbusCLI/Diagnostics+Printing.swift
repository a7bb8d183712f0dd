import ArgumentParser
import Foundation
import NimbusConfig

/// Writes to standard error, coloured only when it is a terminal.
enum Console {
    static let stderrIsTerminal = isatty(STDERR_FILENO) == 1
    static let stdoutIsTerminal = isatty(STDOUT_FILENO) == 1

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func paint(_ text: String, _ code: String, terminal: Bool) -> String {
        terminal && ProcessInfo.processInfo.environment["NO_COLOR"] == nil ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    static func print(_ diagnostics: [Diagnostic], file: String) {
        for diagnostic in diagnostics {
            let code =
                switch diagnostic.severity {
                case .error: "31"
                case .warning: "33"
                case .note: "36"
                }
            error(paint(diagnostic.rendered(file: file), code, terminal: stderrIsTerminal))
        }
    }

    /// `FILE: 2 errors, 1 warning, 3 notes`.
    static func summary(_ diagnostics: [Diagnostic]) -> String {
        let counts = [Diagnostic.Severity.error, .warning, .note].map { severity in
            (severity, diagnostics.filter { $0.severity == severity }.count)
        }
        let parts = counts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0.rawValue)\($0.1 == 1 ? "" : "s")" }
        return parts.isEmpty ? "no problems" : parts.joined(separator: ", ")
    }
}

/// Loads an answer file (or the in-memory one `--allinone` makes) and reports its diagnostics.
enum AnswerFileInput {
    /// The validated file; throws `ExitCode(1)` after printing every problem.
    static func load(path: String?, overrides: [String: String], quiet: Bool = false) throws -> AnswerFile {
        let result: AnswerFileLoader.Result
        let name: String
        if let path {
            name = path
            do { result = try AnswerFileLoader.load(path: path, overrides: overrides) } catch {
                throw CLIError(error.description)
            }
        } else {
            name = "(answers from the command line)"
            let generator = AnswerFileGenerator(
                localAddress: localAddress(), sshPublicKey: LocalMachine.sshPublicKeyPath())
            let text = AnswerFileGenerator.render(generator.initialValues(overrides: overrides))
            result = AnswerFileLoader.load(bytes: Array(text.utf8))
        }
        // A file made from options has only the notes of defaults: show just what matters.
        let shown = path == nil ? result.diagnostics.filter { $0.severity != .note } : result.diagnostics
        if !quiet || result.diagnostics.hasErrors { Console.print(shown, file: name) }
        guard let file = result.file else {
            Console.error("\(name): \(Console.summary(result.diagnostics)); nothing was changed")
            throw ExitCode(1)
        }
        return file
    }

    static func localAddress() -> String {
        if let address = LocalMachine.defaultRouteAddress() { return address }
        Console.error("nimbus: warning: this machine has no default route; using 127.0.0.1 (all-in-one only)")
        return "127.0.0.1"
    }
}
