import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
/// `open(2)`; Swift does not import the variadic C function.
func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Glibc.open(path, flags, mode) }
#elseif canImport(Darwin)
import Darwin
/// `open(2)`; Swift does not import the variadic C function.
func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { Darwin.open(path, flags, mode) }
#endif

/// Numbers the temporary files this process makes (``Ledger/temporaryPath(for:tag:)``).
private let temporaryFileNumber = Atomic<Int>(0)

/// New ledger files (`kopa init`, the seed ledger, `kopa restore`) are built in a private file
/// beside their place and linked there only once complete, so a process stopped halfway (even by
/// SIGKILL or a power cut) never leaves a half-made ledger under the name staff asked for.
extension Ledger {
    /// Builds a new ledger at `path` through `build`, which creates it at the temporary path it is
    /// given; then checks that nothing is left in a write-ahead log, syncs the file, links it into
    /// place and syncs the folder.
    /// - Parameters:
    ///   - tag: names the temporary file, `PATH.TAG-PID-N` (`creating`, `restoring`).
    ///   - refusal: what to say after "'PATH' exists already; " when `path` is taken.
    /// - Throws: ``LedgerError``: `.conflict` when `path` (or its `-wal`, `-shm`) exists or appears
    ///   meanwhile, `.notFound` when its folder does not exist; `build`'s errors. On any error the
    ///   temporary files are gone.
    static func buildNewFile<T>(at path: String, tag: String, refusal: String, _ build: (_ temporary: String) throws -> T) throws -> T {
        guard !path.isEmpty else {
            throw LedgerError(.usage, "the new ledger's path is empty; expected a file name such as 'kopa.sqlite'")
        }
        for suffix in ["", "-wal", "-shm"] {
            let taken = path + suffix
            if FileManager.default.fileExists(atPath: taken) {
                throw LedgerError(.conflict, "'\(taken)' exists already; \(refusal)")
            }
            // A symbolic link to a missing file: the check above follows it and finds nothing, but
            // link(2) below will not replace it. Refused rather than followed: the new ledger
            // would be made where the link points, a place nobody named on the command line.
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: taken) {
                throw LedgerError(.conflict, "'\(taken)' is a symbolic link to '\(target)', which does not exist; a new ledger is not written through a link: give the path of the new file itself, or remove the link")
            }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder) else {
            throw LedgerError(.notFound, "folder '\(folder)' for the new ledger does not exist")
        }
        // Said of the folder: SQLite would name the temporary file, which the user never chose.
        guard access(folder, W_OK) == 0 else {
            throw LedgerError(.readOnly, "folder '\(folder)' is read-only for this user; the new ledger '\(path)' cannot be created there")
        }
        removeAbandonedTemporaries(for: path, tag: tag)
        let temporary = temporaryPath(for: path, tag: tag)
        let suffixes = ["", "-wal", "-shm", "-journal"]
        func removeTemporary() {
            for suffix in suffixes { unlink(temporary + suffix) }
        }
        removeTemporary()
        // Registered before the file exists: a signal in between finds nothing to remove, which is fine.
        let cleanup = TemporaryFiles(suffixes.map { temporary + $0 })
        defer { cleanup.release() }
        do {
            let result = try build(temporary)
            for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: temporary + suffix) {
                var info = stat()
                if suffix == "-wal", stat(temporary + suffix, &info) == 0, info.st_size > 0 {
                    throw LedgerError(.internalError, "the new ledger's write-ahead log '\(temporary)-wal' was not checkpointed")
                }
                unlink(temporary + suffix)
            }
            try syncFile(temporary)
            // link() fails when `path` appeared meanwhile: never replace a file someone created.
            if link(temporary, path) != 0 {
                let linkError = errno
                if linkError == EEXIST {
                    throw LedgerError(.conflict, "'\(path)' was created by someone else meanwhile; \(refusal)")
                }
                guard !FileManager.default.fileExists(atPath: path), rename(temporary, path) == 0 else {
                    throw LedgerError(.internalError, "moving the new ledger '\(temporary)' to '\(path)' failed (\(String(cString: strerror(linkError))))")
                }
            } else {
                unlink(temporary)
            }
            syncDirectory(of: path)
            return result
        } catch {
            removeTemporary()
            throw error
        }
    }

    /// `FILE.TAG-PID-N`: private to this process until it is renamed or linked into place. `N`
    /// counts within the process, so two threads making the same file never share (and remove)
    /// one temporary file; the next run recognises it by `PID` alone.
    static func temporaryPath(for file: String, tag: String) -> String {
        "\(file).\(tag)-\(getpid())-\(temporaryFileNumber.wrappingAdd(1, ordering: .relaxed).newValue)"
    }

    /// Removes what an earlier run killed outright (SIGKILL, a power cut) left beside `file`:
    /// `FILE.TAG-PID-N` and its `-wal`, `-shm`, `-journal`, when no process PID runs any more.
    /// Such a file can be a whole ledger without its indexes, and looked like a real one.
    static func removeAbandonedTemporaries(for file: String, tag: String) {
        let url = URL(fileURLWithPath: file)
        removeAbandonedFiles(in: url.deletingLastPathComponent().path, prefix: url.lastPathComponent + ".\(tag)-")
    }

    /// Removes the files in `folder` named `PREFIX` + a process id + nothing or `-…`, whose process
    /// no longer runs: the temporary files of runs killed outright. Best effort.
    static func removeAbandonedFiles(in folder: String, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            let rest = name.utf8.dropFirst(prefix.utf8.count)
            let digits = rest.prefix { $0 >= 0x30 && $0 <= 0x39 }
            guard digits.count == rest.count || rest.dropFirst(digits.count).first == UInt8(ascii: "-"),
                let pid = pid_t(String(decoding: digits, as: UTF8.self)), pid > 0, pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            unlink(folder + "/" + name)
        }
    }

    /// Flushes a file to disk.
    static func syncFile(_ path: String) throws {
        let fd = openFile(path, O_RDONLY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw LedgerError(.internalError, "cannot open '\(path)' to sync it (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw LedgerError(.internalError, "syncing '\(path)' failed (\(String(cString: strerror(errno))))") }
    }

    /// Flushes a folder's entries (a rename or link into it) to disk; best effort.
    static func syncDirectory(of path: String) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fd = openFile(folder, O_RDONLY | O_CLOEXEC, 0)
        if fd >= 0 {
            _ = fsync(fd)
            close(fd)
        }
    }
}
