/// Packstack's top-level spellings, mapped onto the subcommands before parsing:
/// `--gen-answer-file=F` → `gen-answer-file F`; `--answer-file=F`, `--allinone` and
/// `--install-hosts=…` → `deploy …`. `--default-password` goes along with either.
enum PackstackSpelling {
    static func rewrite(_ arguments: [String]) -> [String] {
        guard let first = arguments.first, first.hasPrefix("--"), !["--help", "--version"].contains(first) else {
            return arguments
        }
        var command: String?
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let (name, inlineValue) = split(argument)
            func value() -> String? {
                if let inlineValue { return inlineValue }
                index += 1
                return index < arguments.count ? arguments[index] : nil
            }
            switch name {
            case "--gen-answer-file":
                command = "gen-answer-file"
                if let file = value() { rest.insert(file, at: 0) }
            case "--answer-file":
                command = command ?? "deploy"
                if let file = value() { rest.insert(file, at: 0) }
            case "--allinone", "--install-hosts", "--default-password":
                command = command ?? "deploy"
                rest.append(argument)
                if inlineValue == nil && name != "--allinone", index + 1 < arguments.count {
                    index += 1
                    rest.append(arguments[index])
                }
            default:
                rest.append(argument)
            }
            index += 1
        }
        guard let command else { return arguments }
        return [command] + rest
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}
