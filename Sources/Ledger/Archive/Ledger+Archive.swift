import Foundation
import GRDB
import Synchronization


/// What an export, an archive verification or a restore found.
public struct ArchiveSummary: Sendable, Equatable {
    /// Count, head hash and `recorded_at` range of the records.
    public var chain: VerifyReport
    /// Size of the NDJSON content.
    public var uncompressedBytes: Int64
    /// Size of the LZ4 frame.
    public var compressedBytes: Int64

    /// Uncompressed size over compressed size.
    public var ratio: Double { compressedBytes > 0 ? Double(uncompressedBytes) / Double(compressedBytes) : 0 }
}

/// Archives: the ledger as one LZ4 frame of its NDJSON export lines (records with their hashes,
/// the schemas included since they are events). `lz4 -dc ledger.kopa | python3 scripts/verify_chain.py`
/// checks one with stock tools; ``Ledger/verifyArchive(path:expectHead:expectCount:progress:)`` checks
/// it without a ledger; ``Ledger/restore(from:to:expectHead:expectCount:progress:)`` rebuilds a
/// ledger with identical records and hashes.
extension Ledger {
    /// How often progress callbacks fire, in events.
    static let progressInterval: Int64 = 100_000

    /// Streams the log (seq 1 … `until`, or all) as an LZ4 frame to `fd`, which stays open.
    ///
    /// Memory stays flat: records are read in one snapshot and compressed block by block. The seq
    /// continuity and `prev` links are checked on the way, so a broken log is never archived.
    /// - Parameters:
    ///   - name: the destination named in error messages.
    ///   - startsWriteBack: `fd` is a file the caller syncs afterwards (see ``LZ4FrameWriter/startsWriteBack``).
    ///   - progress: called every 100,000 events with the count so far.
    /// - Throws: ``LedgerError`` (`.invalidInput` when `until` is beyond the head).
    public func export(to fd: Int32, name: String, until: Int64? = nil, startsWriteBack: Bool = false, progress: ((Int64) -> Void)? = nil) throws -> ArchiveSummary {
        let head = try store.head()
        if let until {
            guard until >= 1 else { throw LedgerError(.invalidInput, "--until \(until) is not a seq; expected 1 … \(head.seq)") }
            guard until <= head.seq else {
                throw LedgerError(.invalidInput, "--until \(until) is beyond the end of the log: the ledger '\(path)' ends at seq \(head.seq)")
            }
        }
        let writer = try LZ4FrameWriter(fd: fd, name: name)
        writer.startsWriteBack = startsWriteBack
        let chain: VerifyReport
        do {
            chain = try store.writeExportLines(until: until, into: writer, progress: progress)
        } catch {
            writer.abandon()
            throw error
        }
        let (raw, compressed) = try writer.finish()
        return ArchiveSummary(chain: chain, uncompressedBytes: raw, compressedBytes: compressed)
    }

    /// Exports to a file, atomically: the archive is written to a temporary file beside `path`,
    /// synced and renamed over it, so a failed export leaves nothing behind. An existing file is
    /// replaced only when it is an archive itself (an LZ4 frame) or empty.
    ///
    /// A link is followed: the archive replaces the file it points to, never the link itself. A
    /// pipe or a character device (a FIFO, `/dev/null`, `/dev/stdout`) is written into, as a
    /// stream; renaming a file over it would put a plain file in its place. A terminal is refused.
    /// - Throws: ``LedgerError`` (`.conflict` when `path` exists and is not an archive, or is a
    ///   dangling link or another kind of special file; `.invalidInput` for a terminal).
    public func export(toFile path: String, until: Int64? = nil, progress: ((Int64) -> Void)? = nil) throws -> ArchiveSummary {
        var file = path
        var info = stat()
        var link = stat()
        let isLink = lstat(path, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFIFO, S_IFCHR:
                // Opened through the name as given: `/dev/stdout` is a link to a pipe or a terminal
                // that no real path names.
                let fd = openFile(path, O_WRONLY | O_CLOEXEC, 0)
                guard fd >= 0 else { throw LedgerError(.notFound, "cannot open '\(path)' for writing (\(String(cString: strerror(errno))))") }
                defer { close(fd) }
                if isatty(fd) == 1 {
                    throw LedgerError(.invalidInput, "'\(path)' is a terminal; refusing to write a binary archive to it (give --out FILE)")
                }
                return try export(to: fd, name: path, until: until, progress: progress)
            case S_IFREG, S_IFDIR:
                if isLink, let resolved = realpath(path, nil) {
                    file = String(cString: resolved)
                    free(resolved)
                }
            default:
                throw LedgerError(.conflict, "'\(path)' is not a regular file, a pipe or a character device; refusing to write an archive there")
            }
        } else if isLink {
            throw LedgerError(.conflict, "'\(path)' is a link to a file that does not exist; give the archive's own file name with --out")
        }
        try Self.checkReplaceable(file)
        Self.removeAbandonedTemporaries(for: file, tag: "exporting")
        let temporary = Self.temporaryPath(for: file, tag: "exporting")
        let fd = openFile(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LedgerError(.notFound, "cannot create '\(temporary)' for the archive (\(String(cString: strerror(errno))))")
        }
        // Registered once it is ours: a signal must never remove a file this export did not create.
        let cleanup = TemporaryFiles([temporary])
        defer { cleanup.release() }
        // Closed once: after a close the number may belong to a file another thread opened.
        var open = true
        do {
            let summary = try export(to: fd, name: file, until: until, startsWriteBack: true, progress: progress)
            guard fsync(fd) == 0 else {
                throw LedgerError(.internalError, "syncing '\(temporary)' failed (\(String(cString: strerror(errno))))")
            }
            open = false
            guard close(fd) == 0 else {
                throw LedgerError(.internalError, "closing '\(temporary)' failed (\(String(cString: strerror(errno))))")
            }
            guard rename(temporary, file) == 0 else {
                throw LedgerError(.internalError, "renaming '\(temporary)' to '\(file)' failed (\(String(cString: strerror(errno))))")
            }
            Self.syncDirectory(of: file)
            return summary
        } catch {
            if open { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// An export must never overwrite a ledger or another file by mistake.
    static func checkReplaceable(_ file: String) throws {
        var info = stat()
        guard stat(file, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw LedgerError(.conflict, "'\(file)' is a folder; give the archive's file name with --out")
        }
        guard info.st_size > 0 else { return }
        let fd = openFile(file, O_RDONLY | O_CLOEXEC, 0)
        var head = [UInt8](repeating: 0, count: 4)
        let n = fd >= 0 ? read(fd, &head, 4) : -1
        if fd >= 0 { close(fd) }
        if n != 4 || head != LZ4Frame.magic {
            throw LedgerError(.conflict, "'\(file)' exists and is not a Kopa archive (no LZ4 frame); refusing to overwrite it, choose another --out FILE")
        }
    }

    /// Checks an archive without a ledger: the LZ4 frame and its checksums, every line's shape
    /// (its id a lower-case UUID), every hash and link, seq continuity from 1, that seq 1 is
    /// `ledger-created`, what appends never write (see ``ChainVerifier/check(_:)``), and — when given — that it ends at
    /// `expectHead` after `expectCount` events (which is how a removed tail is caught).
    /// - Parameter progress: called every 100,000 events with the count so far.
    /// - Throws: ``LedgerError``: `.integrity` naming the first broken seq and line, or the byte
    ///   offset where the frame is damaged; `.invalidInput` when the file is empty or not an LZ4 frame;
    ///   `.notFound` when it cannot be opened.
    public static func verifyArchive(path: String, expectHead: String? = nil, expectCount: Int64? = nil, progress: ((Int64) -> Void)? = nil) throws -> ArchiveSummary {
        let reader = try ArchiveReader(path: path)
        return try readArchive(reader, expectHead: expectHead, expectCount: expectCount, progress: progress, verifyOnly: true) { _, _ in }
    }

    /// Reads and verifies every record of `reader`, handing each to `body` once it has checked.
    static func readArchive(
        _ reader: ArchiveReader, expectHead: String?, expectCount: Int64?, progress: ((Int64) -> Void)?,
        verifyOnly: Bool = false, prepare: RestorePreparer? = nil, _ body: (ArchiveRecord, _ line: Int) throws -> Void
    ) throws -> ArchiveSummary {
        try validateExpectedEnd(head: expectHead, count: expectCount)
        var seen: Int64 = 0
        // Decompressing, parsing and checking the chain run on a second thread; `body` (the
        // inserts of a restore) on this one.
        // With nothing to do per record here (verify), the chain is checked on this thread instead.
        let pipeline = RecordPipeline(reader, checkWhileReading: !verifyOnly, prepare: prepare)
        try pipeline.consume { record, line in
            seen += 1
            try body(record, line)
            if seen % progressInterval == 0 { progress?(seen) }
        }
        let report = pipeline.report
        guard report.count > 0 else {
            throw LedgerError(.integrity, "the archive '\(reader.name)' is a valid LZ4 frame but holds no records; expected seq 1 'ledger-created'", file: reader.name)
        }
        try report.checkEnd(expectHead: expectHead, expectCount: expectCount, subject: "the archive '\(reader.name)'", file: reader.name)
        return ArchiveSummary(chain: report, uncompressedBytes: reader.frame.decompressedBytes, compressedBytes: reader.frame.compressedOffset)
    }

    /// Rebuilds a ledger from an archive: verifies while reading and inserts every record unchanged
    /// (same ids, hashes and times) into a new ledger at `path`, in one transaction.
    ///
    /// It makes only ledgers Kopa could have written, as far as the store's invariants go: beyond
    /// what ``verifyArchive(path:expectHead:expectCount:progress:)`` checks, every id, idempotency
    /// key and stream version is unique, each stream's versions are 1, 2, 3 … in seq order, every
    /// `occurred_at` is a valid time, each schema is registered once, the last event was not
    /// recorded more than a day ahead of the clock, and every correction and retraction keeps the
    /// rules of an append (``checkCorrections(archive:)``). Other events' payloads are not
    /// validated against their schemas.
    ///
    /// The ledger is built in a temporary file beside `path` and moved there only once it is
    /// complete and opens, so a damaged archive leaves nothing behind, and an existing file is never
    /// written to.
    /// - Throws: ``LedgerError``: `.conflict` when `path` exists; the errors of
    ///   ``verifyArchive(path:expectHead:expectCount:progress:)`` for a bad archive; `.duplicate`
    ///   or `.conflict` at the first seq that repeats a key; failing that, at the first seq whose
    ///   stream version is out of place; `.integrity` for a schema registered twice;
    ///   `.invalidInput` for a head recorded in the future, or a correction or retraction an
    ///   append would have refused.
    @discardableResult
    public static func restore(
        from archive: String, to path: String, expectHead: String? = nil, expectCount: Int64? = nil,
        progress: ((Int64) -> Void)? = nil
    ) throws -> ArchiveSummary {
        try buildNewFile(at: path, tag: "restoring", refusal: "restore creates a new ledger and never writes into an existing one (choose another --ledger PATH)") { temporary in
            let reader = try ArchiveReader(path: archive)
            let summary: ArchiveSummary
            do {
                // 16 KiB pages, as every new ledger: a bulk load of the five indexes writes and
                // rereads fewer, larger pages (1M events: half the system time, ~10 % less wall time).
                let store = try SQLiteEventStore.create(path: temporary)
                defer { try? store.queue.close() }
                // The file is private until it is complete and renamed into place (a failure
                // deletes it), so the bulk load needs neither the write-ahead log nor syncs;
                // the finished file is switched back to WAL and synced below.
                try SQLiteEventStore.wrap(path: temporary) {
                    try store.queue.writeWithoutTransaction { db in
                        try db.execute(sql: "PRAGMA journal_mode=MEMORY")
                        try db.execute(sql: "PRAGMA synchronous=OFF")
                    }
                }
                let indexes = try dropIndexes(of: store, path: temporary)
                summary = try store.append { session in
                    var occurredCache: [String: RestoredTime] = [:]
                    let preparer = session is SQLiteAppendSession ? RestorePreparer(archive: archive) : nil
                    do {
                        return try readArchive(reader, expectHead: expectHead, expectCount: expectCount, progress: progress, prepare: preparer) { record, line in
                            try insert(record, into: session, archive: archive, line: line, occurredCache: &occurredCache)
                        }
                    } catch let error as LedgerError where error.kind == .duplicate || error.kind == .conflict {
                        // A kept index refused this row; an earlier one may repeat a key of an index
                        // not built yet, which row-by-row inserts would have named first.
                        guard let db = (session as? SQLiteAppendSession)?.db else { throw error }
                        throw try firstDuplicate(among: indexes, in: db, archive: archive).flatMap { $0.seq < error.seq ?? .max ? $0.error : nil } ?? error
                    }
                }
                // The rows are written: their ~700 MB (1M events) go to disk while the indexes are
                // built, so the final sync waits for the indexes only (~0.2 s less).
                let earlySync = EarlySync(temporary)
                try buildIndexes(indexes, of: store, path: temporary, archive: archive)
                try checkStreamVersions(of: store, path: temporary, archive: archive)
                try checkRecordedBeforeNow(summary.chain, archive: archive)
                try earlySync.wait()
                try SQLiteEventStore.wrap(path: temporary) {
                    try store.queue.writeWithoutTransaction { db in
                        try db.execute(sql: "PRAGMA synchronous=FULL")
                        try db.execute(sql: "PRAGMA journal_mode=WAL")
                    }
                }
            }
            // The restored ledger must open: it loads the schemas registered in the log, which
            // its corrections are checked against.
            let restored: Ledger
            do { restored = try open(at: temporary) } catch let error as LedgerError {
                throw LedgerError(error.kind, "the archive cannot be restored: \(error.message)", seq: error.seq, file: archive, line: error.seq.map { Int($0) })
            }
            defer { try? restored.store.queue.close() }
            try restored.checkCorrections(archive: archive)
            return summary
        }
    }

    /// An index restore drops before loading the rows and builds after.
    struct DroppedIndex {
        var name: String
        /// Its `CREATE` statement, run again as it is.
        var sql: String
        var unique: Bool
        var columns: [String]
    }

    /// Drops the events table's full indexes from a new, empty ledger before a bulk load.
    /// - Returns: the indexes, in the order they were made.
    ///
    /// Restore builds them once the rows are in: a sort per index instead of an insert at a random
    /// place per row and index (1M events: 5.1–6.3 s → 3.8–4.3 s). Partial indexes stay: they hold
    /// the few corrections and idempotency keys, and building one scans the whole table.
    static func dropIndexes(of store: SQLiteEventStore, path: String) throws -> [DroppedIndex] {
        try SQLiteEventStore.wrap(path: path) {
            try store.queue.write { db in
                let indexes = try Row.fetchAll(db, sql: """
                    SELECT name, sql, "unique" FROM pragma_index_list('events') JOIN sqlite_master USING (name)
                    WHERE origin = 'c' AND NOT partial ORDER BY sqlite_master.rowid
                    """).map { row in
                    let name: String = row["name"]
                    let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [name])
                    return DroppedIndex(name: name, sql: row["sql"], unique: row["unique"], columns: columns)
                }
                for index in indexes { try db.execute(sql: "DROP INDEX \(index.name.quotedDatabaseIdentifier)") }
                return indexes
            }
        }
    }

    /// Builds the indexes ``dropIndexes(of:path:)`` dropped, with the same statements, so the
    /// ledger's schema is the one `kopa init` makes. When a unique index finds two rows alike, the
    /// error is the one inserting row by row would have given: the first seq whose id or stream
    /// version an earlier event has, and what SQLite says of it.
    static func buildIndexes(_ indexes: [DroppedIndex], of store: SQLiteEventStore, path: String, archive: String) throws {
        guard !indexes.isEmpty else { return }
        try SQLiteEventStore.wrap(path: path) {
            try store.queue.write { db in
                // The sorter takes as much memory as the page cache may: a quarter keeps restore's
                // peak where the load left it (65 MiB with the whole cache). Reading the archive is
                // over, so the sorter may use the second core (~15 % of a restore, paired runs).
                try db.execute(sql: "PRAGMA cache_size=-4096; PRAGMA threads=2")
                defer { try? db.execute(sql: SQLiteEventStore.cacheSize + "; PRAGMA threads=0") }
                do {
                    for index in indexes { try db.execute(sql: index.sql) }
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    throw try firstDuplicate(among: indexes, in: db, archive: archive)?.error ?? error
                }
            }
        }
    }

    /// Checks that every stream counts its versions 1, 2, 3 … in seq order, as appends make them:
    /// the chain verifies whatever the versions are, and a restored stream read 5, 2, 3 would take
    /// a next event at 6. One scan of the unique `(stream, stream_version)` index, which holds the
    /// seq too (the rowid): each stream starts at 1 and goes up by one, its seqs going up with it.
    /// Repeated versions were refused already, by building the index.
    /// - Throws: ``LedgerError/Kind/conflict``, as a repeated stream version is, at the first seq
    ///   (and line) whose version is not the one an append would have given it.
    static func checkStreamVersions(of store: SQLiteEventStore, path: String, archive: String) throws {
        try SQLiteEventStore.wrap(path: path) {
            try store.queue.read { db in
                let statement = try db.makeStatement(sql: "SELECT stream, stream_version, seq FROM events INDEXED BY events_stream_version ORDER BY stream, stream_version")
                let s = RawStatement(statement, in: db)
                var stream: [UInt8] = []
                var version: Int64 = 0, seq: Int64 = 0
                var broken: Set<[UInt8]> = []
                while try s.step() {
                    let name = s.bytes(0), next = s.int64(1), at = s.int64(2)
                    if !Bytes.equal(name, stream) {
                        stream.removeAll(keepingCapacity: true)
                        stream.append(contentsOf: name)
                        version = 0
                        seq = 0
                    }
                    // A stream found broken is passed over to its end (version stays -1).
                    if version >= 0, next != version + 1 || at <= seq {
                        broken.insert(Array(name))
                        version = -1
                    } else if version >= 0 {
                        version = next
                        seq = at
                    }
                }
                if !broken.isEmpty { throw try firstMisnumbered(among: broken, in: db, archive: archive) }
            }
        }
    }

    /// The error of the first event, in seq order, of the `broken` streams whose version is not
    /// its stream's count of events so far plus one (what an append checks). The streams are
    /// compared as bytes: two texts Swift holds equal may be two streams.
    static func firstMisnumbered(among broken: Set<[UInt8]>, in db: Database, archive: String) throws -> LedgerError {
        var last: [[UInt8]: (version: Int64, seq: Int64)] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, stream, stream_version FROM events ORDER BY seq")
        while let row = try rows.next() {
            let stream = Array((row[1] as String).utf8)
            guard broken.contains(stream) else { continue }
            let seq: Int64 = row[0], version: Int64 = row[2]
            let before = last[stream]
            let expected = (before?.version ?? 0) + 1
            guard version == expected else {
                let name = String(decoding: stream, as: UTF8.self)
                let why = before.map { "the stream's version \($0.version) is at seq \($0.seq)" } ?? "it is the stream's first event"
                return LedgerError(
                    .conflict,
                    "the record cannot be restored: it is version \(version) of stream '\(name)', but \(why), so it must be version \(expected); a stream's versions are 1, 2, 3 … in seq order",
                    seq: seq, file: archive, line: Int(seq), stream: name)
            }
            last[stream] = (version, seq)
        }
        let names = broken.map { String(decoding: $0, as: UTF8.self) }.sorted().joined(separator: ", ")
        return LedgerError(.internalError, "the versions of stream(s) \(names) are out of order, but no event was found out of place")
    }

    /// The first event that repeats an earlier one's key in one of the unique `indexes`, and the
    /// error its insert would have given.
    static func firstDuplicate(among indexes: [DroppedIndex], in db: Database, archive: String) throws -> (seq: Int64, error: any Error)? {
        var first: (seq: Int64, columns: [String])?
        for index in indexes where index.unique {
            let key = index.columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
            let seq = try Int64.fetchOne(db, sql: """
                SELECT min(seq) FROM (SELECT seq, row_number() OVER (PARTITION BY \(key) ORDER BY seq) AS n FROM events) WHERE n > 1
                """)
            if let seq, seq < first?.seq ?? .max { first = (seq, index.columns) }
        }
        guard let first else { return nil }
        let message = "UNIQUE constraint failed: " + first.columns.map { "events.\($0)" }.joined(separator: ", ")
        // Archive lines are records from line 1 (blank lines only at the end): seq k is line k.
        let error = restoreError(DatabaseError(resultCode: .SQLITE_CONSTRAINT, message: message), seq: first.seq, archive: archive, line: Int(first.seq))
        return (first.seq, error)
    }

    /// Whether canonical meta text holds the key `idempotency_key` (a byte search, no parsing).
    static func mentionsIdempotencyKey(_ meta: String) -> Bool {
        var copy = meta
        return copy.withUTF8 { mentionsIdempotencyKey($0) }
    }

    /// Whether canonical meta bytes hold the key `idempotency_key`.
    static func mentionsIdempotencyKey(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let needle: StaticString = #""idempotency_key""#
        let count = needle.utf8CodeUnitCount
        guard let base = bytes.baseAddress, bytes.count >= count else { return false }
        // Each quote found by memchr, the rest compared by memcmp: most metas have few quotes.
        var start = 0
        while start <= bytes.count - count, let hit = memchr(base + start, 0x22, bytes.count - count + 1 - start) {
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, needle.utf8Start, count) == 0 { return true }
            start = at + 1
        }
        return false
    }

    /// An fsync of a file on another thread, started now and waited for later. (The thread holds
    /// it until the sync is done, so it never goes away under the thread.)
    final class EarlySync: Sendable {
        private let done = DispatchSemaphore(value: 0)
        private let failure = Mutex<LedgerError?>(nil)

        init(_ path: String) {
            Thread.detachNewThread { [self] in
                do { try Ledger.syncFile(path) } catch let error as LedgerError { failure.withLock { $0 = error } } catch {}
                done.signal()
            }
        }

        /// Waits for the sync; throws its failure (a later fsync may not report it again).
        func wait() throws {
            done.wait()
            if let error = failure.withLock({ $0 }) { throw error }
        }
    }

    /// Inserts a verified record as it is, deriving the query columns the append path derives.
    ///
    /// A canonical line is bound straight from its bytes unless its meta must be parsed (a
    /// correction, a retraction, an idempotency key): then, like any other line, as a record. The
    /// reading thread has decided which, and found the valid time's bounds (``RestorePreparer``).
    static func insert(_ item: ArchiveRecord, into session: any AppendSession, archive: String, line: Int, occurredCache: inout [String: RestoredTime]) throws {
        guard case .bounded(let text, let layout, let start, let end) = item, let sqlite = session as? SQLiteAppendSession else {
            try insert(item.record, into: session, archive: archive, line: line, occurredCache: &occurredCache)
            return
        }
        do {
            try sqlite.insertCanonical(text, layout, occurredStart: start, occurredEnd: end)
        } catch {
            throw restoreError(error, seq: layout.seq, archive: archive, line: line)
        }
    }

    /// Whether the derived columns of a canonical line need its meta parsed: a correction or
    /// retraction (`target`), or a meta that mentions `idempotency_key`. A type with non-ASCII
    /// bytes is left to the record path, which compares Strings.
    static func needsMeta(_ text: UnsafeBufferPointer<UInt8>, _ layout: CanonicalLine.Layout) -> Bool {
        let type = UnsafeBufferPointer(rebasing: text[layout.type])
        var bits: UInt8 = 0
        for byte in type { bits |= byte }
        if bits >= 0x80 { return true }
        let corrected: StaticString = "event-corrected", retracted: StaticString = "event-retracted"
        if type.count == corrected.utf8CodeUnitCount, let base = type.baseAddress,
            memcmp(base, corrected.utf8Start, type.count) == 0 || memcmp(base, retracted.utf8Start, type.count) == 0
        {
            return true
        }
        return mentionsIdempotencyKey(UnsafeBufferPointer(rebasing: text[layout.meta]))
    }

    /// The valid time of a record, parsed once per distinct text.
    static func occurredAt(_ text: String, seq: Int64, archive: String, line: Int, cache: inout [String: RestoredTime]) throws -> RestoredTime {
        if let cached = cache[text] { return cached }
        let occurred: OccurredAt
        do {
            occurred = try OccurredAt(text)
        } catch {
            throw LedgerError(.integrity, "the record cannot be restored: \(error.message)", seq: seq, file: archive, line: line)
        }
        if cache.count >= 50_000 { cache.removeAll(keepingCapacity: true) }
        let time = RestoredTime(occurred: occurred, start: Array(occurred.start.utf8), end: Array(occurred.end.utf8))
        cache[text] = time
        return time
    }

    /// An insert's error as restore reports it: naming the record's seq and line.
    static func restoreError(_ error: any Error, seq: Int64, archive: String, line: Int) -> any Error {
        // The store's words for a unique index are a writer's ("another writer appended to the
        // stream first"); here the other row is an earlier record of the same archive.
        if let db = error as? DatabaseError, db.resultCode == .SQLITE_CONSTRAINT, let message = db.message,
            let (kind, key) = SQLiteEventStore.repeatedKey(inConstraintMessage: message)
        {
            return LedgerError(kind, "the record cannot be restored: an earlier record of the archive has the same \(key.rawValue) (\(message))", seq: seq, file: archive, line: line)
        }
        let mapped = SQLiteEventStore.map(error, path: archive)
        if let ledgerError = mapped as? LedgerError {
            return LedgerError(ledgerError.kind, "the record cannot be restored: \(ledgerError.message)", seq: seq, file: archive, line: line)
        }
        return mapped
    }

    /// Inserts a verified record as it is, deriving the query columns the append path derives.
    static func insert(_ record: EventRecord, into session: any AppendSession, archive: String, line: Int, occurredCache: inout [String: RestoredTime]) throws {
        let occurred = try occurredAt(record.occurredAt, seq: record.seq, archive: archive, line: line, cache: &occurredCache).occurred
        // The columns derived from meta: parsed only when meta can hold them.
        var idempotencyKey: String?
        var target: String?
        let isCorrection = record.type == "event-corrected" || record.type == "event-retracted"
        if isCorrection || mentionsIdempotencyKey(record.metaJSON) {
            let meta = record.meta
            idempotencyKey = meta["idempotency_key"]?.stringValue
            if record.type == "event-corrected" { target = meta["corrects"]?.stringValue }
            if record.type == "event-retracted" { target = meta["retracts"]?.stringValue }
            // Only rows with a target are checked once the log is in (``checkCorrections``).
            if isCorrection, target == nil {
                let (key, verb) = record.type == "event-corrected" ? ("corrects", "correct") : ("retracts", "retract")
                throw LedgerError(.invalidInput, "the record cannot be restored: '\(record.type)' event rejected: meta.\(key) must name the id of the event to \(verb)", seq: record.seq, file: archive, line: line, eventType: record.type)
            }
        }
        do {
            try session.insert(record, occurred: occurred, idempotencyKey: idempotencyKey, target: target)
        } catch {
            throw restoreError(error, seq: record.seq, archive: archive, line: line)
        }
    }
}

extension SQLiteEventStore {
    /// Events per part of an export: about 650 KB of lines, one block of the frame.
    static let exportPartSize: Int64 = 1024

    /// Writes the export line of every event (seq 1 … `until`, or the head) into `writer`, straight
    /// from the stored columns: the same bytes as ``EventRecord/exportLine``, without building a
    /// record per row. Seq continuity and `prev` links are checked on the way, so a broken log is
    /// never archived.
    ///
    /// Two threads read and compress at once, each through its own connection, 1024 events at a
    /// time (each takes the next part not yet taken); the parts are checked against each other and written in
    /// order. Separate read transactions see the same events: events up to the head never change
    /// (the store's triggers forbid it) and later appends only add higher seqs.
    func writeExportLines(until: Int64?, into writer: LZ4FrameWriter, partSize: Int64 = exportPartSize, progress: ((Int64) -> Void)?) throws -> VerifyReport {
        let last = try until ?? head().seq
        guard last > 0 else {
            throw LedgerError(.integrity, "the ledger '\(path)' holds no events; expected seq 1 'ledger-created'")
        }
        let stores = [self, try readingConnection()]
        let parts = Int((last + partSize - 1) / partSize)
        var previous = Array(EventRecord.genesisPrev.utf8)
        var first: [UInt8] = []
        var lastRecorded: [UInt8] = []
        var count: Int64 = 0
        try writer.writeParts(parts) { thread, part, content in
            let start = Int64(part) * partSize + 1
            return try stores[thread].exportPart(seq: start...min(last, start + partSize - 1), into: &content)
        } inOrder: { (part: ExportPart) in
            guard part.firstPrev == previous else {
                throw LedgerError(.integrity, "the log is broken at seq \(part.firstSeq) (found seq \(part.firstSeq) with prev \(String(decoding: part.firstPrev, as: UTF8.self))); run `kopa verify`: a broken log is not archived", seq: part.firstSeq)
            }
            if count == 0 { first = part.firstRecorded }
            for crossed in stride(from: (count / Ledger.progressInterval + 1) * Ledger.progressInterval, through: count + part.count, by: Int(Ledger.progressInterval)) {
                progress?(crossed)
            }
            count += part.count
            previous = part.lastHash
            lastRecorded = part.lastRecorded
        }
        return VerifyReport(
            count: count, head: String(decoding: previous, as: UTF8.self),
            firstRecordedAt: String(decoding: first, as: UTF8.self), lastRecordedAt: String(decoding: lastRecorded, as: UTF8.self))
    }

    /// What the parts of an export must agree on: a part's first `prev` is the hash its predecessor ends with.
    struct ExportPart: Sendable {
        var firstSeq: Int64
        var count: Int64
        var firstPrev: [UInt8]
        var lastHash: [UInt8]
        var firstRecorded: [UInt8]
        var lastRecorded: [UInt8]
    }

    /// Writes the export lines of the events in `range` into `content`, checking that every seq is
    /// there and each `prev` is the hash before it.
    func exportPart(seq range: ClosedRange<Int64>, into content: inout LZ4FrameWriter.Part) throws -> ExportPart {
        try read { db in
            let statement = try db.cachedStatement(sql: "SELECT \(Self.columns) FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq")
            try statement.setArguments([range.lowerBound, range.upperBound])
            let s = RawStatement(statement, in: db)
            var part = ExportPart(firstSeq: range.lowerBound, count: 0, firstPrev: [], lastHash: [], firstRecorded: [], lastRecorded: [])
            while try s.step() {
                let seq = s.int64(0)
                let prev = s.bytes(11)
                let expected = range.lowerBound + part.count
                guard seq == expected, part.count == 0 || Bytes.equal(prev, part.lastHash) else {
                    throw LedgerError(.integrity, "the log is broken at seq \(expected) (found seq \(seq) with prev \(s.text(11))); run `kopa verify`: a broken log is not archived", seq: expected)
                }
                let hash = s.bytes(12)
                s.writeExportLine(into: &content, seq: seq, prev: prev, hash: hash)
                if part.count == 0 {
                    part.firstPrev = Array(prev)
                    part.firstRecorded = Array(s.bytes(7))
                }
                part.count += 1
                // The next row's prev is checked against this hash, so it is kept for every row;
                // the recorded time only from the part's last row.
                part.lastHash.replaceSubrange(part.lastHash.indices, with: hash)
                if seq == range.upperBound { part.lastRecorded = Array(s.bytes(7)) }
            }
            let expected = range.lowerBound + part.count
            guard expected > range.upperBound else {
                throw LedgerError(.integrity, "the log is broken at seq \(expected) (no such event); run `kopa verify`: a broken log is not archived", seq: expected)
            }
            return part
        }
    }
}

/// A valid time as restore binds it: parsed once per distinct text, with its bounds as bytes that
/// SQLite reads in place (bound as text, they were copied by SQLite for every row).
struct RestoredTime {
    var occurred: OccurredAt
    var start: [UInt8]
    var end: [UInt8]
}

/// Restore's work on a checked canonical line, done on the reading thread: whether its meta must be
/// parsed (then it goes the record path), and its valid time's bounds, parsed once per distinct text.
// @unchecked: used only by the pipeline's reading thread (see RecordPipeline).
final class RestorePreparer: @unchecked Sendable {
    private let archive: String
    private var cache: [String: RestoredTime] = [:]

    init(archive: String) { self.archive = archive }

    /// Appends the valid time's bounds (start, then end) to `bytes`, or returns nil (appending
    /// nothing) when the line must be inserted as a record.
    /// - Throws: ``LedgerError/Kind/integrity`` when `occurred_at` is not a valid time.
    func prepare(_ text: UnsafeBufferPointer<UInt8>, _ layout: CanonicalLine.Layout, line: Int, appendingTo bytes: inout [UInt8]) throws -> ValidTimeBounds? {
        guard !Ledger.needsMeta(text, layout) else { return nil }
        // Most valid times are short enough for a String without allocation.
        let occurredText = String(decoding: UnsafeBufferPointer(rebasing: text[layout.occurredAt]), as: UTF8.self)
        let occurred = try Ledger.occurredAt(occurredText, seq: layout.seq, archive: archive, line: line, cache: &cache)
        bytes.append(contentsOf: occurred.start)
        bytes.append(contentsOf: occurred.end)
        return ValidTimeBounds(startCount: occurred.start.count, endCount: occurred.end.count)
    }
}

/// A record as ``RecordPipeline`` hands it over: a line in canonical form (its bytes, valid only
/// during the call, and where its fields are), or a record the full parser read.
enum ArchiveRecord {
    case canonical(UnsafeBufferPointer<UInt8>, CanonicalLine.Layout)
    /// A canonical line that restore inserts as it is, with its valid time's bounds.
    case bounded(UnsafeBufferPointer<UInt8>, CanonicalLine.Layout, occurredStart: UnsafeBufferPointer<UInt8>, occurredEnd: UnsafeBufferPointer<UInt8>)
    case parsed(EventRecord)

    /// The record (made from the line's bytes when it is canonical).
    var record: EventRecord {
        switch self {
        case .canonical(let line, let layout), .bounded(let line, let layout, _, _): CanonicalLine.record(line, layout)
        case .parsed(let record): record
        }
    }
}
