import ArgumentParser
import NimbusConfig

/// `nimbus docs answer-file`: prints the generated reference (docs/answer-file.md).
struct DocsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Print generated documentation (answer-file: the answer file reference).",
        shouldDisplay: false
    )

    @Argument(help: "Which document: answer-file.")
    var document: String

    func validate() throws {
        guard document == "answer-file" else {
            throw ValidationError("unknown document '\(document)'; known: answer-file")
        }
    }

    func run() {
        print(AnswerFileDocs.markdown(), terminator: "")
    }
}
