import Foundation
import GRDB

/// The embedded store: one SQLite file through GRDB, in WAL mode with `synchronous=FULL`
/// (a success message means the event survives power loss), a busy timeout, and triggers that
/// abort any UPDATE or DELETE of an event.
public struct SQLiteEventStore: EventStore {
    /// The ledger file.
    public let path: String
    let queue: DatabaseQueue
    /// Opened without locks, the ledger being on read-only media (see ``isOnReadOnlyMedia(_:)``);
    /// a second connection to it (verify's and export's second thread) must be opened so too.
    let immutable: Bool

    /// How long a writer waits for another process's write lock before giving up.
    public static let busyTimeout: TimeInterval = 10

    /// `PRAGMA application_id` of a Kopa ledger ('KOPA').
    static let applicationID: Int32 = 0x4B4F_5041

    /// A second, read-only connection to the same ledger, for a second thread.
    func readingConnection() throws -> SQLiteEventStore {
        try SQLiteEventStore(path: path, readonly: true, immutable: immutable)
    }

    /// Opens an existing ledger.
    /// - Throws: ``LedgerError/Kind/notFound`` when there is no ledger at `path` or the file is not one.
    public static func open(path: String) throws -> SQLiteEventStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LedgerError(.notFound, "no ledger at '\(path)'; create one with `kopa init --ledger \(path)` or give --ledger PATH")
        }
        let store = try SQLiteEventStore(path: path, readonly: false, immutable: isOnReadOnlyMedia(path))
        try store.checkIsLedger()
        return store
    }

    /// Whether nobody can write the ledger here, so that it may be opened as immutable (without
    /// locks): it lies on a file system mounted read-only, or neither the file nor its folder has a
    /// write permission bit for anyone; this process cannot write it either; and it has no
    /// write-ahead log. SQLite could not create the shared-memory file a WAL reader needs there
    /// (an auditor's copy on read-only media). Merely being unable to write it is not enough: its
    /// owner could be writing it meanwhile, and an immutable reader would then read a torn file.
    static func isOnReadOnlyMedia(_ path: String) -> Bool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard access(path, W_OK) != 0, !FileManager.default.fileExists(atPath: path + "-wal"),
            !FileManager.default.fileExists(atPath: path + "-shm")
        else { return false }
        var volume = statvfs()
        var file = stat()
        var directory = stat()
        guard statvfs(folder, &volume) == 0, stat(path, &file) == 0, stat(folder, &directory) == 0 else { return false }
        return nobodyCanWrite(readOnlyVolume: volume.f_flag & UInt(ST_RDONLY) != 0, fileMode: file.st_mode, folderMode: directory.st_mode)
    }

    /// The rule of ``isOnReadOnlyMedia(_:)`` once the file system has been asked.
    static func nobodyCanWrite(readOnlyVolume: Bool, fileMode: mode_t, folderMode: mode_t) -> Bool {
        let writable = mode_t(S_IWUSR | S_IWGRP | S_IWOTH)
        return readOnlyVolume || (fileMode & writable == 0 && folderMode & writable == 0)
    }

    /// A ledger connection's page cache: 16 MiB.
    static let cacheSize = "PRAGMA cache_size=-16384"

    /// SQLite's page size for a new ledger: 16 KiB rather than SQLite's 4 KiB. Measured on the same
    /// events: importing 300k events ~12 % faster, export and verify of 1M ~6 % faster, a whole
    /// `kopa record` the same (19–20 ms), rebuild the same; fewer, larger pages for the bulk work.
    public static let pageSize = 16384

    /// Creates a new, empty ledger file with the events table, its indexes and triggers.
    /// - Parameter pageSize: SQLite's page size for the file; fixed once the file exists.
    /// - Throws: ``LedgerError/Kind/conflict`` when the file exists already (Kopa never overwrites).
    public static func create(path: String, pageSize: Int = SQLiteEventStore.pageSize) throws -> SQLiteEventStore {
        if FileManager.default.fileExists(atPath: path) {
            throw LedgerError(.conflict, "'\(path)' exists already; Kopa never overwrites a ledger (choose another --ledger PATH)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: directory) else {
            throw LedgerError(.notFound, "folder '\(directory)' for the new ledger does not exist")
        }
        let store = try SQLiteEventStore(path: path, readonly: false)
        try wrap(path: path) {
            try store.queue.writeWithoutTransaction { db in
                // Before anything is written: WAL mode fixes the page size of the file it starts.
                try db.execute(sql: "PRAGMA page_size=\(pageSize)")
                try db.execute(sql: "PRAGMA journal_mode=WAL")
                // Again: SQLite turned the cache size into a number of pages of the size then in
                // force (4 KiB), so it would be four times as large now.
                try db.execute(sql: Self.cacheSize)
                try db.execute(sql: "PRAGMA application_id=\(applicationID)")
            }
            try migrator.migrate(store.queue)
        }
        return store
    }

    init(path: String, readonly: Bool, immutable: Bool = false) throws {
        self.path = path
        self.immutable = immutable
        var configuration = SQLiteSetup.configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.readonly = readonly || immutable
        configuration.label = "kopa-ledger"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous=FULL")
            // A large import touches the id, stream and valid-time indexes all over; 2 MB (the default)
            // would send most of those page reads to the OS.
            try db.execute(sql: Self.cacheSize)
        }
        do {
            // A `file:` URI (SQLiteSetup enables them); the path's own '?', '#' and '%' are escaped.
            let name = immutable ? SQLiteSetup.fileURI(path, query: "immutable=1") : path
            queue = try DatabaseQueue(path: name, configuration: configuration)
        } catch {
            throw Self.map(error, path: path)
        }
    }

    func checkIsLedger() throws {
        let id: Int32 = try Self.wrap(path: path) {
            try queue.read { db in try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0 }
        }
        guard id == Self.applicationID else {
            throw LedgerError(.notFound, "'\(path)' is an SQLite database but not a Kopa ledger (application_id \(id))")
        }
        let migrated = try Self.wrap(path: path) { try queue.read { db in try Self.migrator.hasCompletedMigrations(db) } }
        guard migrated else {
            throw LedgerError(.internalError, "ledger '\(path)' was written by a newer or older Kopa whose schema this one does not know")
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    stream TEXT NOT NULL,
                    stream_version INTEGER NOT NULL,
                    occurred_at TEXT NOT NULL,
                    recorded_at TEXT NOT NULL,
                    recorded_by TEXT NOT NULL,
                    data TEXT NOT NULL,
                    meta TEXT NOT NULL,
                    prev TEXT NOT NULL,
                    hash TEXT NOT NULL,
                    -- derived from the hashed fields, for queries; not part of the record
                    occurred_start TEXT NOT NULL,
                    occurred_end TEXT NOT NULL,
                    idempotency_key TEXT,
                    target TEXT
                );
                CREATE UNIQUE INDEX events_id ON events(id);
                CREATE UNIQUE INDEX events_stream_version ON events(stream, stream_version);
                CREATE UNIQUE INDEX events_idempotency_key ON events(idempotency_key) WHERE idempotency_key IS NOT NULL;
                CREATE INDEX events_target ON events(target) WHERE target IS NOT NULL;
                CREATE INDEX events_valid_time ON events(occurred_start, seq);
                CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                    BEGIN SELECT RAISE(ABORT, 'events are immutable: fix a mistake with a correction event'); END;
                CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                    BEGIN SELECT RAISE(ABORT, 'events are immutable: retract an event instead of deleting it'); END;
                """)
        }
        return migrator
    }

    // MARK: - Errors

    static func wrap<T>(path: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw map(error, path: path) }
    }

    /// A unique key of the events table.
    enum UniqueKey: String {
        case id = "id"
        case idempotencyKey = "idempotency key"
        case streamVersion = "stream and stream_version"
    }

    /// Which unique key of the events table SQLite's constraint message names, and the kind of
    /// error a repeat of it is.
    static func repeatedKey(inConstraintMessage message: String) -> (kind: LedgerError.Kind, key: UniqueKey)? {
        // The key first: "events.idempotency_key" begins with "events.id".
        if message.contains("idempotency_key") { return (.duplicate, .idempotencyKey) }
        if message.contains("stream_version") { return (.conflict, .streamVersion) }
        if message.contains("events.id") { return (.duplicate, .id) }
        return nil
    }

    static func map(_ error: any Error, path: String) -> any Error {
        guard let db = error as? DatabaseError else { return error }
        switch db.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return LedgerError(.busy, "ledger '\(path)' is busy: another process held it for longer than the \(Int(busyTimeout)) s timeout; try again")
        case .SQLITE_NOTADB:
            return LedgerError(.notFound, "'\(path)' is not a Kopa ledger (the file is not an SQLite database)")
        case .SQLITE_CANTOPEN:
            return LedgerError(.notFound, "ledger '\(path)' cannot be opened (\(db.message ?? "unknown reason"))")
        case .SQLITE_READONLY:
            return LedgerError(.readOnly, "ledger '\(path)' is read-only (\(db.message ?? "")); nothing was written")
        case .SQLITE_CONSTRAINT:
            let message = db.message ?? ""
            switch repeatedKey(inConstraintMessage: message)?.key {
            case .idempotencyKey: return LedgerError(.duplicate, "this idempotency key was used already (\(message))")
            case .id: return LedgerError(.duplicate, "an event with this id exists already (\(message))")
            case .streamVersion: return LedgerError(.conflict, "another writer appended to the stream first (\(message))")
            case nil: return LedgerError(.internalError, "SQLite refused the write: \(message)")
            }
        default:
            return LedgerError(.internalError, "SQLite error \(db.resultCode.rawValue) on ledger '\(path)': \(db.message ?? "")" + (db.sql.map { " while executing `\($0)`" } ?? ""))
        }
    }

    // MARK: - EventStore

    /// Runs `body` in one immediate transaction: its appends commit together or not at all.
    public func append<T>(_ body: (any AppendSession) throws -> T) throws -> T {
        try Self.wrap(path: path) {
            try queue.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    let session = try SQLiteAppendSession(db: db)
                    result = try body(session)
                    return .commit
                }
                return result!
            }
        }
    }

    /// The last event's seq and hash (seq 0 and no hash for an empty ledger).
    public func head() throws -> ChainHead {
        try Self.wrap(path: path) { try queue.read { db in try Self.head(db) } }
    }

    static func head(_ db: Database) throws -> ChainHead {
        guard let row = try Row.fetchOne(db, sql: "SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1") else {
            return .empty
        }
        return ChainHead(seq: row[0], hash: row[1], recordedAt: row[2])
    }

    static let columns = "seq, id, type, version, stream, stream_version, occurred_at, recorded_at, recorded_by, data, meta, prev, hash"

    /// The event on the statement's current row; `withChain: false` leaves `prev` and `hash` empty
    /// (replay binds neither, and skipping them saves two allocations per event).
    static func record(_ s: RawStatement, withChain: Bool = true) -> EventRecord {
        EventRecord(
            seq: s.int64(0), id: s.text(1), type: s.text(2), version: s.int64(3), stream: s.text(4),
            streamVersion: s.int64(5), occurredAt: s.text(6), recordedAt: s.text(7), recordedBy: s.text(8),
            dataJSON: s.text(9), metaJSON: s.text(10), prev: withChain ? s.text(11) : "", hash: withChain ? s.text(12) : "")
    }

    /// Calls `each` with the events `filter` selects, in seq order, until it returns false.
    public func scan(_ filter: EventFilter, _ each: (EventRecord) throws -> Bool) throws {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let stream = filter.stream { clauses.append("stream = ?"); arguments.append(stream) }
        if let prefix = filter.streamPrefix, let last = prefix.unicodeScalars.last, let next = Unicode.Scalar(last.value + 1) {
            // A range on the (stream, stream_version) index instead of a scan.
            clauses.append("stream >= ? AND stream < ?")
            arguments.append(prefix)
            arguments.append(String(prefix.unicodeScalars.dropLast()) + String(next))
        }
        if !filter.types.isEmpty {
            clauses.append("type IN (" + Array(repeating: "?", count: filter.types.count).joined(separator: ",") + ")")
            arguments.append(contentsOf: filter.types)
        }
        if let from = filter.fromSeq { clauses.append("seq >= ?"); arguments.append(from) }
        if let to = filter.toSeq { clauses.append("seq <= ?"); arguments.append(to) }
        if let from = filter.recordedFrom { clauses.append("recorded_at >= ?"); arguments.append(from) }
        if let until = filter.recordedUntil { clauses.append("recorded_at <= ?"); arguments.append(until) }
        var sql = "SELECT \(Self.columns) FROM events"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY seq"
        if let limit = filter.limit { sql += " LIMIT \(limit)" }
        try Self.wrap(path: path) {
            try queue.read { db in
                let statement = try db.makeStatement(sql: sql)
                try statement.setArguments(StatementArguments(arguments))
                let raw = RawStatement(statement, in: db)
                while try raw.step() {
                    if try !each(Self.record(raw)) { break }
                }
            }
        }
    }

    /// The event with this id, if any.
    public func event(id: String) throws -> EventRecord? {
        try one("SELECT \(Self.columns) FROM events WHERE id = ?", id)
    }

    /// The event at this seq, if any.
    public func event(seq: Int64) throws -> EventRecord? {
        try one("SELECT \(Self.columns) FROM events WHERE seq = ?", seq)
    }

    /// The event appended under this idempotency key, if any.
    public func event(idempotencyKey: String) throws -> EventRecord? {
        try one("SELECT \(Self.columns) FROM events WHERE idempotency_key = ?", idempotencyKey)
    }

    func one(_ sql: String, _ argument: some DatabaseValueConvertible) throws -> EventRecord? {
        try Self.wrap(path: path) {
            try queue.read { db in
                let statement = try db.makeStatement(sql: sql)
                try statement.setArguments([argument])
                let raw = RawStatement(statement, in: db)
                return try raw.step() ? Self.record(raw) : nil
            }
        }
    }

    /// Reads inside one consistent snapshot; the handle never leaves the closure.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try Self.wrap(path: path) { try queue.read(body) }
    }
}

/// The append transaction of the SQLite store, with prepared statements reused for every event.
extension SQLiteEventStore {
    /// Whether the latest event of `stream` whose type is one of `openingTypes` was retracted, in
    /// the whole log or (`limit`) in the log before that seq, as restore's checks see it.
    static func isWithdrawn(_ stream: String, openingTypes: [String], before limit: Int64? = nil, in db: Database) throws -> Bool {
        guard !openingTypes.isEmpty else { return false }
        let types = openingTypes.map { _ in "?" }.joined(separator: ",")
        let bound = limit == nil ? "" : " AND seq < ?"
        let sql = """
            SELECT EXISTS (SELECT 1 FROM events WHERE type = 'event-retracted'\(bound) AND target = (
                SELECT id FROM events WHERE stream = ? AND type IN (\(types))\(bound) ORDER BY stream_version DESC LIMIT 1))
            """
        let bounds: [any DatabaseValueConvertible] = limit.map { [$0] } ?? []
        let arguments: [any DatabaseValueConvertible] = bounds + [stream] + openingTypes + bounds
        return try Bool.fetchOne(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments)) ?? false
    }
}

final class SQLiteAppendSession: AppendSession {
    let db: Database
    private var storedHead: ChainHead
    /// The head after ``insertCanonical(_:_:occurredStart:occurredEnd:)``, as bytes: made a ChainHead only when asked.
    private var canonicalHead: (seq: Int64, hash: [UInt8], recordedAt: [UInt8])?

    var head: ChainHead {
        guard let canonicalHead else { return storedHead }
        return ChainHead(
            seq: canonicalHead.seq, hash: String(decoding: canonicalHead.hash, as: UTF8.self),
            recordedAt: String(decoding: canonicalHead.recordedAt, as: UTF8.self))
    }
    private let insertStatement: RawStatement
    private let versionStatement: RawStatement

    init(db: Database) throws {
        self.db = db
        storedHead = try SQLiteEventStore.head(db)
        insertStatement = RawStatement(try db.makeStatement(sql: """
            INSERT INTO events (seq, id, type, version, stream, stream_version, occurred_at, recorded_at, recorded_by,
                data, meta, prev, hash, occurred_start, occurred_end, idempotency_key, target)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """), in: db)
        versionStatement = RawStatement(try db.makeStatement(sql: "SELECT max(stream_version) FROM events WHERE stream = ?"), in: db)
    }

    func streamVersion(_ stream: String) throws -> Int64 {
        versionStatement.reset()
        try versionStatement.bind(1, stream)
        guard try versionStatement.step() else { return 0 }
        return versionStatement.int64(0)
    }

    func event(idempotencyKey: String) throws -> EventRecord? {
        try one("SELECT \(SQLiteEventStore.columns) FROM events WHERE idempotency_key = ?", idempotencyKey)
    }

    func event(id: String) throws -> EventRecord? {
        try one("SELECT \(SQLiteEventStore.columns) FROM events WHERE id = ?", id)
    }

    func hasRetractions() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE target IS NOT NULL AND type = 'event-retracted')") ?? false
    }

    func isWithdrawn(_ stream: String, openingTypes: [String]) throws -> Bool {
        try SQLiteEventStore.isWithdrawn(stream, openingTypes: openingTypes, in: db)
    }

    func events(targeting id: String) throws -> [EventRecord] {
        let statement = try db.cachedStatement(sql: "SELECT \(SQLiteEventStore.columns) FROM events WHERE target = ? ORDER BY seq")
        try statement.setArguments([id])
        let raw = RawStatement(statement, in: db)
        var result: [EventRecord] = []
        while try raw.step() { result.append(SQLiteEventStore.record(raw)) }
        return result
    }

    private func one(_ sql: String, _ argument: String) throws -> EventRecord? {
        let statement = try db.cachedStatement(sql: sql)
        try statement.setArguments([argument])
        let raw = RawStatement(statement, in: db)
        return try raw.step() ? SQLiteEventStore.record(raw) : nil
    }

    func insert(_ record: EventRecord, occurred: OccurredAt, idempotencyKey: String?, target: String?) throws {
        let s = insertStatement
        s.reset()
        try s.bind(1, record.seq)
        try s.bind(2, record.id)
        try s.bind(3, record.type)
        try s.bind(4, record.version)
        try s.bind(5, record.stream)
        try s.bind(6, record.streamVersion)
        try s.bind(7, record.occurredAt)
        try s.bind(8, record.recordedAt)
        try s.bind(9, record.recordedBy)
        try s.bind(10, record.dataJSON)
        try s.bind(11, record.metaJSON)
        try s.bind(12, record.prev)
        try s.bind(13, record.hash)
        try s.bind(14, occurred.start)
        try s.bind(15, occurred.end)
        try s.bind(16, idempotencyKey)
        try s.bind(17, target)
        _ = try s.step()
        storedHead = ChainHead(seq: record.seq, hash: record.hash, recordedAt: record.recordedAt)
        canonicalHead = nil
    }

    /// Inserts the next event of the chain straight from a canonical archive line's bytes (see
    /// ``CanonicalLine/layout(_:)``), without making Strings of it: the same row as
    /// ``insert(_:occurred:idempotencyKey:target:)`` with neither an idempotency key nor a target.
    /// The bounds of the valid time are bytes too; all of them must stay valid until it has stepped.
    func insertCanonical(
        _ line: UnsafeBufferPointer<UInt8>, _ l: CanonicalLine.Layout,
        occurredStart: UnsafeBufferPointer<UInt8>, occurredEnd: UnsafeBufferPointer<UInt8>
    ) throws {
        let s = insertStatement
        s.reset()
        // The bytes outlive the step; the next reset clears the bindings before they go.
        func bind(_ index: Int32, _ range: Range<Int>) throws { try s.bindStatic(index, UnsafeBufferPointer(rebasing: line[range])) }
        try s.bind(1, l.seq)
        try bind(2, l.id)
        try bind(3, l.type)
        try s.bind(4, l.version)
        try bind(5, l.stream)
        try s.bind(6, l.streamVersion)
        try bind(7, l.occurredAt)
        try bind(8, l.recordedAt)
        try bind(9, l.recordedBy)
        try bind(10, l.data)
        try bind(11, l.meta)
        try bind(12, l.prev)
        try bind(13, l.hash)
        try s.bindStatic(14, occurredStart)
        try s.bindStatic(15, occurredEnd)
        try s.bind(16, nil as String?)
        try s.bind(17, nil as String?)
        _ = try s.step()
        if canonicalHead == nil { canonicalHead = (0, [], []) }
        canonicalHead!.seq = l.seq
        canonicalHead!.hash.removeAll(keepingCapacity: true)
        canonicalHead!.hash.append(contentsOf: UnsafeBufferPointer(rebasing: line[l.hash]))
        canonicalHead!.recordedAt.removeAll(keepingCapacity: true)
        canonicalHead!.recordedAt.append(contentsOf: UnsafeBufferPointer(rebasing: line[l.recordedAt]))
    }
}
