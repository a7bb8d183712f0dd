import ArgumentParser
import NimbusConfig

/// `nimbus validate FILE`: every problem at once, `FILE:LINE: KEY: message`; exit 1 on errors.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an answer file and list every problem as FILE:LINE: KEY: message; exit 1 if any is an error."
    )

    @Argument(help: "The answer file.")
    var file: String

    mutating func run() throws {
        let result: AnswerFileLoader.Result
        do { result = try AnswerFileLoader.load(path: file) } catch { throw CLIError(error.description) }
        Console.print(result.diagnostics, file: file)
        guard result.file != nil else {
            Console.error("\(file): \(Console.summary(result.diagnostics))")
            throw ExitCode(1)
        }
        print("\(file): valid (\(Console.summary(result.diagnostics)))")
    }
}
