import Logging
import NimbusAgentCLI

/// `nimbus-agent`: logging to standard error (journald keeps it), then the command.
@main
enum Entry {
    static func main() async {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        await AgentCommand.main()
    }
}
