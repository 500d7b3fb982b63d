import Crypto
import Foundation

/// What a clerk cites for an event, as an entry of `meta.evidence`.
public enum Evidence {
    /// Evidence that names a file: its name as the title, its SHA-256 and the path given, so an
    /// auditor can check later that a file is the one cited. The file is read in 1 MiB pieces
    /// (a scanned agreement may be large), never whole.
    /// - Throws: ``LedgerError/Kind/notFound`` naming the path when it cannot be read.
    public static func file(at path: String) throws -> JSONValue {
        // Only a regular file has an end: a device (/dev/zero) or a FIFO would be hashed, or
        // waited for, forever, and a folder fails on the first read with an error naming nothing.
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            let kind =
                switch info.st_mode & S_IFMT {
                case S_IFDIR: "a folder"
                case S_IFIFO: "a FIFO"
                case S_IFCHR, S_IFBLK: "a device"
                default: "a special file"
                }
            throw LedgerError(.notFound, "evidence file '\(path)' is \(kind), not a file; expected a readable regular file whose SHA-256 is recorded")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LedgerError(.notFound, "evidence file '\(path)' cannot be read; expected a readable file whose SHA-256 is recorded")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        do {
            while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty { hasher.update(data: piece) }
        } catch {
            throw LedgerError(.notFound, "evidence file '\(path)' cannot be read (\(error.localizedDescription)); expected a readable file whose SHA-256 is recorded")
        }
        return .object([
            "title": .string(URL(fileURLWithPath: path).lastPathComponent),
            "sha256": .string(EventHash.hex(hasher.finalize())),
            "location": .string(path),
        ])
    }
}
