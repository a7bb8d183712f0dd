import Foundation
import Testing

@testable import NimbusServiceKit

@Suite("Data files")
struct DataFileTests {
    /// A new directory for one test, removed after it.
    func withDirectory(_ body: (String) async throws -> Void) async throws {
        let directory = NSTemporaryDirectory() + "nimbus-data-file-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory + "/objects", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(directory)
    }

    func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(
        "A file renamed or linked into place is there whole, its directory fsynced (checked as behaviour: a power loss cannot be simulated)"
    )
    func renameAndLinkSyncTheDirectory() async throws {
        try await withDirectory { directory in
            let temporary = directory + "/upload"
            #expect(FileManager.default.createFile(atPath: temporary, contents: Data("data".utf8)))
            try await DataFile.rename(temporary, to: directory + "/objects/placed")
            #expect(contents(directory + "/objects/placed") == "data")
            #expect(!FileManager.default.fileExists(atPath: temporary))
            try await DataFile.link(directory + "/objects/placed", to: directory + "/objects/linked")
            #expect(contents(directory + "/objects/linked") == "data")
            // What failed leaves nothing new behind.
            await #expect(throws: DataFile.Failure.self) {
                try await DataFile.rename(directory + "/missing", to: directory + "/objects/other")
            }
            await #expect(throws: DataFile.Failure.self) {
                try await DataFile.link(directory + "/missing", to: directory + "/objects/other")
            }
            #expect(
                try FileManager.default.contentsOfDirectory(atPath: directory + "/objects").sorted() == [
                    "linked", "placed",
                ])
        }
    }

    @Test("The directory fsync opens the directory itself: a file or a missing path is refused, naming it")
    func directorySync() async throws {
        try await withDirectory { directory in
            try DataFile.syncDirectory(directory + "/objects")
            try DataFile.syncDirectory(of: directory + "/objects/not-yet-there")
            #expect(FileManager.default.createFile(atPath: directory + "/file", contents: Data()))
            for path in [directory + "/file", directory + "/missing"] {
                #expect {
                    try DataFile.syncDirectory(path)
                } throws: { error in
                    "\(error)".contains(path)
                }
            }
        }
    }
}
