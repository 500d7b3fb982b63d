import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// `--evidence-file`: the cited file's name, SHA-256 and path, read in pieces.
@Suite("evidence")
struct EvidenceTests {
    @Test(arguments: [0, 11, (3 << 20) + 17])
    func aFileIsCitedByItsNameHashAndPath(size: Int) throws {
        let folder = try TemporaryDirectory()
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let path = try folder.write("līgums.pdf", Data(bytes))
        let evidence = try Evidence.file(at: path)
        #expect(evidence == .object(["title": "līgums.pdf", "sha256": .string(EventHash.sha256Hex(bytes)), "location": .string(path)]))
    }

    /// Only a regular file has an end: a device (`/dev/zero`) was hashed forever.
    @Test func aDeviceIsRefusedUnread() {
        expectLedgerError(.notFound, mentioning: ["evidence file '/dev/null' is a device, not a file"]) { _ = try Evidence.file(at: "/dev/null") }
    }

    @Test func aMissingFileIsNotFound() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("missing.pdf")
        expectLedgerError(.notFound, mentioning: ["evidence file '\(path)' cannot be read"]) { _ = try Evidence.file(at: path) }
    }

    /// A folder opens for reading, then failed with Foundation's "NSCocoaErrorDomain error 256".
    @Test func aFolderIsNamedAsAFolder() throws {
        let folder = try TemporaryDirectory()
        let error = expectLedgerError(.notFound, mentioning: ["evidence file '\(folder.url.path)' is a folder, not a file"]) {
            _ = try Evidence.file(at: folder.url.path)
        }
        #expect(error.map { !$0.description.contains("NSCocoaErrorDomain") } ?? false)
    }
}
