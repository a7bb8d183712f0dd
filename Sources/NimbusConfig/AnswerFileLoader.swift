import Foundation

/// Reads and validates an answer file from disk.
public enum AnswerFileLoader {
    /// The outcome of loading: the file when it has no errors, and every diagnostic.
    public struct Result: Sendable {
        public var file: AnswerFile?
        public var diagnostics: [Diagnostic]
    }

    /// Why a file could not be read at all.
    public enum LoadError: Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, reason: String)
        case tooLarge(path: String, bytes: Int)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "\(path): cannot read the answer file: \(reason)"
            case .tooLarge(let path, let bytes):
                "\(path): the file is \(bytes) bytes; an answer file is at most \(AnswerFileReader.maximumSize >> 20) MiB — is this the right file?"
            }
        }
    }

    /// Reads `path` (refusing very large files before reading them), applies `overrides`
    /// as command-line values, and validates.
    public static func load(path: String, overrides: [String: String] = [:]) throws(LoadError) -> Result {
        let bytes = try readBytes(path: path)
        return load(bytes: bytes, overrides: overrides)
    }

    public static func load(bytes: [UInt8], overrides: [String: String] = [:]) -> Result {
        var (raw, diagnostics) = AnswerFileReader.read(bytes)
        if raw.unreadable { return Result(file: nil, diagnostics: diagnostics) }
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) { raw.override(key, with: value) }
        let (file, more) = AnswerFileValidator.validate(raw)
        let all = (diagnostics + more).sortedForDisplay()
        return Result(file: all.hasErrors ? nil : file, diagnostics: all)
    }

    static func readBytes(path: String) throws(LoadError) -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(path: path, reason: "not a regular file")
        }
        guard info.st_size <= AnswerFileReader.maximumSize else {
            throw .tooLarge(path: path, bytes: Int(info.st_size))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadable(path: path, reason: "permission denied or unreadable")
        }
        return [UInt8](data)
    }
}
