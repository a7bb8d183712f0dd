import NimbusModel

/// Types every value, applies defaults and checks the keys against each other.
/// It reports every problem at once and returns an `AnswerFile` only when there is no error.
public enum AnswerFileValidator {
    public static func validate(_ raw: RawAnswerFile) -> (AnswerFile?, [Diagnostic]) {
        var context = Context()
        let entries = PackstackCompatibility.applyAliases(raw.entries, notes: &context.diagnostics)

        for entry in entries {
            if let definition = KeyCatalogue.definition(named: entry.key) {
                context.read(entry, as: definition)
            } else if PackstackCompatibility.knownKeys.contains(entry.key) {
                context.ignored.append(entry.key)
                if let (severity, message) = PackstackCompatibility.review(key: entry.key, value: entry.value) {
                    context.diagnostics.append(Diagnostic(severity, line: entry.line, key: entry.key, message))
                }
            } else {
                context.unknown(entry)
            }
        }
        context.applyDefaults()
        CrossChecks.run(&context)

        if !context.ignored.isEmpty {
            let names = context.ignored.sorted()
            context.diagnostics.append(
                Diagnostic(
                    .note, line: nil, key: nil,
                    "\(names.count) Packstack key\(names.count == 1 ? " is" : "s are") not used by Nimbus and ignored: "
                        + names.joined(separator: ", ")))
        }
        let diagnostics = context.diagnostics.sortedForDisplay()
        guard !diagnostics.hasErrors else { return (nil, diagnostics) }
        return (AnswerFile(values: context.values, texts: context.texts, lines: context.lines), diagnostics)
    }

    /// The state of one validation run.
    struct Context {
        var values: [String: ConfigValue] = [:]
        var texts: [String: String] = [:]
        var lines: [String: Int] = [:]
        var diagnostics: [Diagnostic] = []
        var ignored: [String] = []
        /// Keys whose value failed to parse: cross-checks skip them.
        var broken: Set<String> = []
        private var unknownCount = 0

        mutating func read(_ entry: RawEntry, as definition: KeyDefinition) {
            if let line = entry.line { lines[definition.name] = line }
            let (text, note) = PackstackCompatibility.normalize(key: definition.name, value: entry.value)
            if let note { diagnostics.append(Diagnostic(.note, line: entry.line, key: entry.key, note)) }
            do {
                let value = try definition.type.parse(text)
                if value == .empty && definition.required {
                    broken.insert(definition.name)
                    diagnostics.append(
                        Diagnostic(
                            .error, line: entry.line, key: entry.key,
                            "must not be empty; expected \(definition.type.summary)"))
                    return
                }
                values[definition.name] = value
                texts[definition.name] = text
            } catch {
                broken.insert(definition.name)
                var message = error.message + "; expected \(definition.type.summary)"
                if text.contains(" #") || text.contains(" //") || text.contains("\t#") {
                    message += " (comments go on their own line: a # or // after a value is part of the value)"
                } else if text.count >= 2, let first = text.first, first == "\"" || first == "'", text.last == first {
                    message += " (values are written without quotes)"
                }
                diagnostics.append(Diagnostic(.error, line: entry.line, key: entry.key, message))
            }
        }

        mutating func unknown(_ entry: RawEntry) {
            unknownCount += 1
            guard unknownCount <= AnswerFileReader.perKindLimit else {
                if unknownCount == AnswerFileReader.perKindLimit + 1 {
                    diagnostics.append(
                        Diagnostic(
                            .warning, line: nil, key: nil, "more unknown keys follow; only the first 20 are listed"))
                }
                return
            }
            var message = "unknown key, ignored"
            if let suggestion = KeyNames.nearest(to: entry.key) { message += "; did you mean \(suggestion)?" }
            diagnostics.append(Diagnostic(.warning, line: entry.line, key: entry.key, message))
        }

        /// Fills in every key the file left out.
        mutating func applyDefaults() {
            for definition in KeyCatalogue.all where values[definition.name] == nil && !broken.contains(definition.name)
            {
                switch definition.defaultValue {
                case .literal(let text):
                    set(definition, text)
                case .localAddress:
                    broken.insert(definition.name)
                    diagnostics.append(
                        Diagnostic(
                            .error, line: nil, key: definition.name,
                            "missing; set it to the \(definition.type.summary) of the host (nimbus gen-answer-file writes this machine's address)"
                        ))
                case .controllerHost:
                    if let controller = texts[KeyDefinition.controllerHost.name] { set(definition, controller) }
                case .generatedPassword:
                    set(definition, "")
                case .sshPublicKey:
                    set(definition, "~/.ssh/id_rsa.pub")
                }
            }
        }

        private mutating func set(_ definition: KeyDefinition, _ text: String) {
            guard let value = try? definition.type.parse(text) else { return }
            values[definition.name] = value
            texts[definition.name] = text
        }

        mutating func error(_ key: KeyDefinition, _ message: String) {
            diagnostics.append(Diagnostic(.error, line: lines[key.name], key: key.name, message))
        }

        mutating func warn(_ key: KeyDefinition, _ message: String) {
            diagnostics.append(Diagnostic(.warning, line: lines[key.name], key: key.name, message))
        }

        mutating func note(_ key: KeyDefinition, _ message: String) {
            diagnostics.append(Diagnostic(.note, line: lines[key.name], key: key.name, message))
        }

        func isUsable(_ key: KeyDefinition) -> Bool { !broken.contains(key.name) && values[key.name] != nil }
    }
}

/// The nearest known key name, for "did you mean".
enum KeyNames {
    static let all: [String] = KeyCatalogue.all.map(\.name) + PackstackCompatibility.knownKeys.sorted()

    static func nearest(to key: String) -> String? {
        guard key.count <= 64 else { return nil }
        let limit = max(2, key.count / 4)
        var best: (String, Int)?
        for candidate in all where abs(candidate.count - key.count) <= limit {
            let distance = editDistance(Array(key.utf8), Array(candidate.utf8), limit: limit)
            if distance <= limit, distance < best?.1 ?? .max { best = (candidate, distance) }
        }
        return best?.0
    }

    /// Levenshtein distance, giving up (returning `limit + 1`) once it exceeds `limit`.
    static func editDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                rowMinimum = min(rowMinimum, current[j])
            }
            if rowMinimum > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}
