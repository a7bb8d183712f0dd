/// Writes answer files: the values a new file starts with, and the text of a file
/// from values. `render` is deterministic, so generate → parse → render is byte-identical.
public struct AnswerFileGenerator: Sendable {
    /// Facts of the deploying machine that defaults come from.
    public var localAddress: String
    public var sshPublicKey: String
    public var makePassword: @Sendable () -> String

    public init(
        localAddress: String, sshPublicKey: String,
        makePassword: @escaping @Sendable () -> String = { Password.random() }
    ) {
        self.localAddress = localAddress
        self.sshPublicKey = sshPublicKey
        self.makePassword = makePassword
    }

    /// The value of every key in a new file; `overrides` (from command-line options) win.
    /// When a default password is given, the individual passwords are left empty so they follow it.
    public func initialValues(overrides: [String: String] = [:]) -> [String: String] {
        let defaultPassword = overrides[KeyDefinition.defaultPassword.name] ?? ""
        var values: [String: String] = [:]
        for definition in KeyCatalogue.all {
            switch definition.defaultValue {
            case .literal(let text): values[definition.name] = text
            case .localAddress, .controllerHost: values[definition.name] = localAddress
            case .generatedPassword: values[definition.name] = defaultPassword.isEmpty ? makePassword() : ""
            case .sshPublicKey: values[definition.name] = sshPublicKey
            }
        }
        values.merge(overrides) { $1 }
        return values
    }

    /// The answer file's text: a header, then every key under its group with its help.
    public static func render(_ values: [String: String]) -> String {
        var out = """
            # Nimbus answer file.
            # Key names are Packstack's wherever the meaning is the same; a Packstack answer
            # file loads too. Edit the hosts and passwords, then:
            #     nimbus validate FILE && nimbus plan FILE && nimbus deploy FILE
            # Every key is described in docs/answer-file.md. Keep this file private (mode 0600):
            # it holds the cloud's passwords.

            [general]

            """
        for group in KeyGroup.allCases {
            out += "\n# ==== \(group.title) ====\n"
            for definition in KeyCatalogue.all where definition.group == group {
                out += "\n"
                for line in wrap(definition.help, width: 78) { out += "# \(line)\n" }
                out += "# (\(definition.type.summary); default: \(definition.defaultValue.summary))\n"
                out += "\(definition.name)=\(values[definition.name] ?? "")\n"
            }
        }
        return out
    }

    /// Greedy word wrap.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " \(word)"
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }
}

/// Passwords from the system CSPRNG (`getrandom(2)` behind `SystemRandomNumberGenerator`).
public enum Password {
    /// Letters and digits only, so a password survives shells, INI files and URLs unquoted.
    static let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")

    /// 24 characters from a 56-letter alphabet: about 139 bits.
    public static func random(length: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
