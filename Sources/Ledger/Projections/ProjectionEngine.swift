import Foundation
import GRDB
import Logging
import GRDBSQLite

/// Applies projections to a separate SQLite database (a plain file analysts may open), keeps a
/// checkpoint per projection in the same transaction as its rows, and runs reports.
///
/// Replay order is valid time: by the start of `occurred_at`, then by `seq`. Catch-up is
/// incremental while new events occurred no earlier than what a projection has applied; a
/// back-dated event makes the engine replay that projection from its latest snapshot that the
/// events recorded since leave standing (see ``usableSnapshot(for:filter:seqBound:in:)``), or from
/// the start; a correction or a retraction, from the start, the projections it concerns (see
/// ``anyEvent(after:upTo:disturbing:before:)``). A changed version or file rebuilds it.
///
/// ```swift
/// let engine = try ProjectionEngine(ledger: ledger)
/// let result = try engine.report("overview")
/// ```
public struct ProjectionEngine: Sendable {
    /// The ledger read from.
    public let ledger: Ledger
    /// The projections and reports in force.
    public let set: ProjectionSet
    /// The projection database file.
    public let databasePath: String
    /// Where the engine says why it rebuilds a projection.
    public let logger: Logger
    /// A full replay keeps snapshots at the cuts that divide the events into this many parts (by
    /// valid time); 1 keeps none.
    public var snapshotParts = 4
    /// Ledgers smaller than this keep no snapshots: replaying them whole is quick anyway.
    public var snapshotMinimumEvents: Int64 = 50_000
    /// How long a catch-up waits for another process's hold on the projection database.
    public var busyTimeout: TimeInterval = SQLiteEventStore.busyTimeout
    /// The boot of the machine this engine runs in, recorded with every checkpoint and snapshot: a
    /// projection written in another boot is replayed from the start (see ``currentBoot``).
    /// Without a boot id, the files are synced, and "none" still tells an older Kopa's unsynced rows
    /// (the column's default, '') from this one's.
    var boot = Self.currentBoot ?? "none"

    /// Runs between a catch-up's commit and the listing of its snapshots: where a test plays
    /// another process that rebuilds meanwhile.
    var beforeListingSnapshots: (@Sendable () throws -> Void)?

    /// The page size of a new projection database (and of a report's temporary one).
    static let pageSize = 16384

    /// The kernel's id of this boot of the machine, or nil where there is none to read.
    ///
    /// The projection database and its snapshots are written without syncs (a rebuild of 1M events
    /// took 14 % longer with SQLite's `synchronous=NORMAL`, waiting for the disk), so a power cut may
    /// leave them torn: pages of a checkpointed transaction lost after the WAL that held them was
    /// reset, rows that disagree with their checkpoint, with no error from SQLite. What a process
    /// wrote is whole for every later process of the same boot (the kernel's page cache), so a
    /// projection or snapshot written in another boot is not trusted: it is replayed from the log.
    /// Without a boot id, the files are synced instead.
    static let currentBoot: String? = {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else { return nil }
        let id = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return id.isEmpty ? nil : id
    }()

    /// `synchronous` for the projection database and snapshot files: OFF where a boot id guards them.
    static let synchronous = currentBoot == nil ? "NORMAL" : "OFF"

    /// The projection database next to a ledger: `kopa.sqlite` → `kopa.projections.sqlite`.
    public static func defaultDatabasePath(for ledgerPath: String) -> String {
        if ledgerPath.hasSuffix(".sqlite") { return String(ledgerPath.dropLast(7)) + ".projections.sqlite" }
        return ledgerPath + ".projections.sqlite"
    }

    /// Creates an engine for a ledger with the bundled projections and any extra folders.
    /// - Parameter logger: receives, at `info`, which projections are rebuilt and why (silent by default).
    public init(ledger: Ledger, extraFolders: [URL] = [], databasePath: String? = nil, logger: Logger = Logger(label: "kopa.projections", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        self.ledger = ledger
        self.logger = logger
        self.set = try ProjectionSet.load(extra: extraFolders)
        self.databasePath = databasePath ?? Self.defaultDatabasePath(for: ledger.path)
    }

    func openDatabase() throws -> DatabaseQueue {
        var configuration = SQLiteSetup.configuration()
        configuration.busyMode = .timeout(busyTimeout)
        configuration.prepareDatabase { db in
            SQLFunctions.install(db)
            // Disposable: rebuilt by replay whenever lost or written in another boot, so no fsync
            // (`currentBoot`); a larger page cache for rebuilds.
            // No zero-filling of freed pages (Debian builds SQLite with SECURE_DELETE on): a rebuild
            // drops whole tables, and zeroing them wrote every old page once more (~5 % of a rebuild).
            // 16 KiB pages when the file is new (SQLite ignores it afterwards): a rebuild of 1M
            // events took 7.5 s instead of 9.1 s with 4 KiB pages (paired runs), a quarter of the
            // page reads and writes for the same bytes. An older database keeps its pages until
            // it is deleted; it is disposable. Before the cache size, which SQLite turns into a
            // number of pages of the size in force (after it, a new file's cache was 64 MiB).
            try db.execute(sql: "PRAGMA page_size=\(Self.pageSize)")
            try db.execute(sql: "PRAGMA synchronous=\(Self.synchronous); PRAGMA cache_size=-16384; PRAGMA secure_delete=OFF")
        }
        // Processes setting up a new projection database at once: SQLite may answer busy at once,
        // without waiting (a lock it could not wait for without risking a deadlock), so the setup
        // is tried again until the busy timeout has passed.
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                return try Self.setUp(path: databasePath, configuration: configuration)
            } catch let error as DatabaseError where Self.isBusy(error) {
                guard Date() < deadline else { throw busyError() }
                usleep(20_000)
            } catch let error as DatabaseError {
                throw setUpError(error)
            }
        }
    }

    /// Why the projection database cannot be opened, made or written, said so that a clerk knows what to do:
    /// a folder this user cannot write (an auditor's copy of the ledger on read-only media) is
    /// not a damaged file, and there may be nothing to delete.
    private func setUpError(_ error: DatabaseError) -> LedgerError {
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().path
        let reason = error.message ?? "SQLite error \(error.resultCode.rawValue)"
        guard FileManager.default.fileExists(atPath: folder) else {
            return LedgerError(.notFound, "projection database '\(databasePath)' cannot be created: folder '\(folder)' does not exist")
        }
        if access(folder, W_OK) != 0 {
            return LedgerError(.readOnly, "projection database '\(databasePath)' cannot be written: folder '\(folder)' is read-only for this user (\(reason)); reports keep their projections in a file beside the ledger, so copy the ledger to a folder you can write and run the report there")
        }
        guard FileManager.default.fileExists(atPath: databasePath) else {
            return LedgerError(.internalError, "projection database '\(databasePath)' cannot be created: \(reason)")
        }
        let delete = "it holds nothing that is not in the ledger: delete it with its -wal and -shm files, and the next report rebuilds it"
        // SQLite makes the -wal and -shm files with the database's permissions: one left read-only
        // blocks the database as surely as the database itself.
        if let file = ["", "-wal", "-shm"].map({ databasePath + $0 }).first(where: { FileManager.default.fileExists(atPath: $0) && access($0, W_OK) != 0 }) {
            return LedgerError(.readOnly, "projection database '\(databasePath)' cannot be written: '\(file)' is read-only for this user (\(reason)); \(delete)")
        }
        return LedgerError(.internalError, "projection database '\(databasePath)' cannot be used: \(reason); \(delete)")
    }

    /// Opens the projection database in WAL mode with Kopa's own tables.
    private static func setUp(path: String, configuration: Configuration) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS kopa_checkpoints (
                    projection TEXT PRIMARY KEY, version INTEGER NOT NULL, checksum TEXT NOT NULL,
                    last_seq INTEGER NOT NULL, last_start TEXT NOT NULL, ledger TEXT NOT NULL,
                    boot TEXT NOT NULL DEFAULT '');
                -- ledger (in both tables): the hash of the ledger's event at last_seq / head_seq,
                -- which names the history the rows were made from; boot: the machine's boot they
                -- were written in (ProjectionEngine.currentBoot).
                CREATE TABLE IF NOT EXISTS kopa_objects (projection TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS kopa_snapshots (
                    projection TEXT NOT NULL, version INTEGER NOT NULL, checksum TEXT NOT NULL, ledger TEXT NOT NULL,
                    file TEXT NOT NULL, cut_start TEXT NOT NULL, head_seq INTEGER NOT NULL, max_end TEXT NOT NULL,
                    boot TEXT NOT NULL DEFAULT '');
                """)
            // A projection database of an older Kopa: its rows count as written in another boot.
            // Looked at and altered under one lock, or two processes would both add the column.
            for table in ["kopa_checkpoints", "kopa_snapshots"] {
                let has = { try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).contains("boot") }
                guard try !has() else { continue }
                try db.inTransaction(.immediate) {
                    if try !has() { try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN boot TEXT NOT NULL DEFAULT ''") }
                    return .commit
                }
            }
        }
        return queue
    }

    static func isBusy(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }

    /// Another process has held the projection database for longer than the busy timeout: busy
    /// (75), as the ledger is, not an internal error.
    func busyError() -> LedgerError {
        LedgerError(.busy, "projection database '\(databasePath)' is busy: another kopa has been updating it for longer than \(String(format: "%g", busyTimeout)) s; try again")
    }

    /// What a catch-up did per projection.
    public struct CatchUp: Sendable, Equatable {
        /// Projections replayed from the start.
        public var rebuilt: [String] = []
        /// Projections that applied only new events.
        public var incremental: [String] = []
        /// Projections that a back-dated event made replay from their latest usable snapshot: its
        /// tables copied, then the events from its cut on.
        public var resumed: [String] = []
        /// Events delivered, to all of them.
        public var applied: Int = 0
        /// Events delivered to the projections replayed from the start (what `kopa rebuild NAME`
        /// reports: the others' catch-up on the way is not part of it).
        public var appliedFromStart: Int = 0
    }

    /// Brings every projection up to the ledger's head (or rebuilds the named ones, or all).
    /// - Parameter rebuild: names to drop and replay; `[]` for none, `nil` for all.
    /// - Throws: ``LedgerError`` naming the projection file, line, event and SQLite's message; the
    ///   projection database is then left as it was.
    @discardableResult
    public func catchUp(rebuild: [String]? = []) throws -> CatchUp {
        try catchUp(rebuild: rebuild, in: try openDatabase())
    }

    /// Catches up through `queue`: a report reads through the same connection afterwards, so a
    /// projection database deleted meanwhile (it is disposable) is still the one it reads.
    @discardableResult
    func catchUp(rebuild: [String]?, in queue: DatabaseQueue) throws -> CatchUp {
        if let rebuild {
            for name in rebuild where !set.projections.contains(where: { $0.name == name }) {
                let hint = Spelling.nearest(to: name, among: set.projections.map(\.name)).map { " (did you mean '\($0)'?)" } ?? ""
                throw LedgerError(.notFound, "unknown projection '\(name)'\(hint); the projections are \(set.projections.map(\.name).sorted().joined(separator: ", "))")
            }
        }
        do {
            return try catchUp(rebuild: rebuild, in: queue, resuming: true)
        } catch let failure as ResumeFailure {
            // Rolled back, and the snapshot files detached: a damaged one, still attached, failed
            // every later statement that looked up a table (SQLite reads every schema to find one).
            logger.info("\(failure); replaying from the start instead")
            return try catchUp(rebuild: rebuild, in: queue, resuming: false)
        }
    }

    /// A snapshot that a back-dated projection was to resume from could not be copied.
    struct ResumeFailure: Error, CustomStringConvertible {
        var projection: String
        var cut: String
        var error: any Error
        var description: String { "the snapshot of projection '\(projection)' at \(cut) cannot be read (\(error))" }
    }

    /// Catches up as above; `resuming`: whether back-dated projections may resume from snapshots.
    func catchUp(rebuild: [String]?, in queue: DatabaseQueue, resuming: Bool) throws -> CatchUp {
        var summary = CatchUp()
        var snapshots: SnapshotWriter?
        // The transaction waits for another writer up to the busy timeout; past it, busy (75).
        do {
            try queue.writeWithoutTransaction { pdb in
                // Snapshot files must be attached before the transaction begins, so a first plan, read
                // without the lock, says whether a large full replay is coming; the plan made under the
                // lock decides what is replayed, and snapshots are taken of what both plans rebuild.
                let firstHead = try ledger.head()
                let firstPlan = try plan(pdb, head: firstHead.seq, rebuild: rebuild, attached: resuming ? nil : [])
                // Likewise the snapshots that back-dated projections may resume from, as many as
                // leave room for the new snapshots' files; the projections of those left out are
                // replayed from the start, and keep snapshots.
                // SQLite's limit counts attached files only (main and temp are not).
                let attached = try Int.fetchOne(pdb, sql: "SELECT count(*) FROM pragma_database_list WHERE name NOT IN ('main', 'temp')") ?? 0
                let room = Int(sqlite3_limit(pdb.sqliteConnection, SQLITE_LIMIT_ATTACHED, -1)) - attached - max(snapshotParts - 1, 0)
                let resumeFiles = ResumeFiles(Set(firstPlan.resumed.map(\.snapshot.file)), room: room, engine: self, pdb: pdb)
                defer { resumeFiles.detach(pdb) }
                let expected = firstPlan.full + firstPlan.resumed.filter { resumeFiles.aliases[$0.snapshot.file] == nil }.map(\.definition)
                if !expected.isEmpty, snapshotParts > 1, firstHead.seq >= snapshotMinimumEvents {
                    // Snapshots only save replaying (reports at a past time, back-dated events): when their files cannot be made
                    // (disk full, a schema that cannot stand alone), the catch-up goes on without them.
                    do {
                        snapshots = try SnapshotWriter(engine: self, definitions: expected, pdb: pdb)
                    } catch {
                        logger.warning("no projection snapshots this time: \(error)")
                    }
                }
                defer { snapshots?.finish(pdb) }
                var listedBefore: Set<String> = []
                var replayedFromStart = false
                try pdb.inTransaction(.immediate) {
                    try dropStrayObjects(in: pdb)
                    let head = try ledger.head()
                    snapshots?.headHash = head.hash
                    listedBefore = Set(try String.fetchAll(pdb, sql: "SELECT DISTINCT file FROM kopa_snapshots"))
                    snapshots?.listedBefore = listedBefore
                    let plan = try plan(pdb, head: head.seq, rebuild: rebuild, attached: Set(resumeFiles.aliases.keys))
                    // Resumed first: a snapshot that cannot be copied rolls the catch-up back before
                    // any replay, to be done again without resuming.
                    let resumed = try resume(plan.resumed, from: resumeFiles, in: pdb)
                    for (definition, reason) in zip(plan.full, plan.reasons) {
                        logger.info("rebuilding projection '\(definition.name)': \(reason)")
                    }
                    if !plan.full.isEmpty {
                        for definition in plan.full { try createTables(definition, in: pdb) }
                        var filter = ReplayFilter()
                        filter.untilSeq = head.seq
                        var lastStarts: [String: String] = [:]
                        let tables = try tableNames(of: plan.full, in: pdb)
                        summary.appliedFromStart = try replay(plan.full, into: pdb, filter: filter, lastStarts: &lastStarts, snapshots: snapshots, deferringIndexesOf: tables)
                        summary.applied += summary.appliedFromStart
                        summary.rebuilt = plan.full.map(\.name)
                        replayedFromStart = true
                        for definition in plan.full {
                            try saveCheckpoint(definition, head: head, lastStart: lastStarts[definition.name] ?? "", in: pdb)
                        }
                    }
                    // Projections resuming from one cut replay its tail together.
                    for cut in Set(resumed.map(\.cutStart)).sorted() {
                        let group = resumed.filter { $0.cutStart == cut }
                        var filter = ReplayFilter()
                        filter.untilSeq = head.seq
                        filter.fromStart = cut
                        // What a snapshot holds started before its cut: the catch-up after this one
                        // must not take an event that starts before the cut as a new one.
                        var lastStarts = Dictionary(uniqueKeysWithValues: group.map { ($0.definition.name, cut) })
                        summary.applied += try replay(group.map(\.definition), into: pdb, filter: filter, lastStarts: &lastStarts)
                        for projection in group {
                            try Self.buildIndexes(projection.deferredIndexes, in: pdb)
                            try saveCheckpoint(projection.definition, head: head, lastStart: lastStarts[projection.definition.name] ?? cut, in: pdb)
                        }
                    }
                    summary.resumed = resumed.map(\.definition.name)
                    for (definition, lastSeq, lastStart) in plan.incremental {
                        var filter = ReplayFilter()
                        filter.afterSeq = lastSeq
                        filter.untilSeq = head.seq
                        var lastStarts = [definition.name: lastStart]
                        summary.applied += try replay([definition], into: pdb, filter: filter, lastStarts: &lastStarts)
                        summary.incremental.append(definition.name)
                        try saveCheckpoint(definition, head: head, lastStart: lastStarts[definition.name] ?? lastStart, in: pdb)
                    }
                    return .commit
                }
                if snapshots != nil { try beforeListingSnapshots?() }
                // Snapshots only save replaying: unlisted, their files are removed.
                do { try snapshots?.list(pdb) } catch { logger.warning("the projection snapshots could not be listed: \(error)") }
                // A replay from the start that took no snapshots (one the first plan did not see
                // coming) forgot its projection's: their files go now, not an hour later.
                if snapshots == nil, replayedFromStart { removeUnlistedSnapshots(pdb, ours: listedBefore) }
            }
        } catch let error as DatabaseError where Self.isBusy(error) {
            throw busyError()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
            throw damageError(error)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            // A file this user cannot write opens, and fails at its first write.
            throw setUpError(error)
        }
        return summary
    }

    /// A damaged projection database (a power cut: it is written without syncs, being
    /// disposable) said as such, with what to do; SQLite's "database disk image is malformed"
    /// told a clerk nothing. The ledger's own damage is not mistaken for it: the projection
    /// database is checked first, and `error` is returned as it is when that check passes.
    func damageError(_ error: DatabaseError) -> any Error {
        let check = try? openDatabase().read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(1)") }
        guard check != ["ok"] else { return error }
        return LedgerError(.internalError, "projection database '\(databasePath)' is damaged (\(error.message ?? "SQLite error \(error.resultCode.rawValue)")); it holds nothing that is not in the ledger: delete it with its -wal and -shm files and the folder '\(snapshotFolder)', and the next report rebuilds it")
    }

    /// What a catch-up does: projections to replay from the start (with the reason) and projections
    /// to bring forward from their checkpoint.
    struct Plan {
        var full: [ProjectionDefinition] = []
        var reasons: [String] = []
        var incremental: [(ProjectionDefinition, Int64, String)] = []
        /// Back-dated projections that may resume from a snapshot instead of replaying from the
        /// start (``resume(_:from:in:)`` prepares them).
        var resumed: [(definition: ProjectionDefinition, snapshot: SnapshotRecord)] = []
    }

    /// What a catch-up to seq `head` must do.
    /// - Parameter attached: the snapshot files attached for resuming (nil: any listed file will do,
    ///   for the plan made before the lock, which decides what to attach).
    func plan(_ pdb: Database, head: Int64, rebuild: [String]?, attached: Set<String>? = nil) throws -> Plan {
        var hashes: [Int64: String] = [:]
        var checkpoints: [String: Row] = [:]
        for row in try Row.fetchAll(pdb, sql: "SELECT * FROM kopa_checkpoints") { checkpoints[row["projection"]] = row }
        var plan = Plan()
        for definition in set.projections {
            let reason: String
            if rebuild == nil || rebuild!.contains(definition.name) {
                reason = "asked to rebuild"
            } else if let row = checkpoints[definition.name] {
                if row["version"] != definition.version {
                    reason = "its version changed"
                } else if row["checksum"] != definition.checksum {
                    reason = "its file changed"
                } else if try row["ledger"] != hash(atSeq: row["last_seq"], cache: &hashes) {
                    reason = "its checkpoint names an event this ledger does not have at that seq (another ledger, an earlier or restored copy of this one, or an older Kopa's checkpoint)"
                } else if row["boot"] != boot {
                    reason = "it was written before the machine last started, without syncs, so a power cut may have torn it"
                } else {
                    let lastSeq: Int64 = row["last_seq"]
                    if lastSeq >= head { continue }
                    let lastStart: String = row["last_start"]
                    if try canCatchUpIncrementally(definition, after: lastSeq, upTo: head, lastStart: lastStart) {
                        plan.incremental.append((definition, lastSeq, lastStart))
                        continue
                    }
                    // DESIGN.md: from the last snapshot before the event's occurred time, when the
                    // events recorded since it leave it standing (``anyEvent``, from its cut).
                    if let snapshot = try usableSnapshot(for: definition, filter: ReplayFilter(), seqBound: head, in: pdb),
                        attached?.contains(snapshot.file) ?? true
                    {
                        plan.resumed.append((definition, snapshot))
                        continue
                    }
                    reason = "a new event is back-dated before what it applied, or corrects or retracts one of a type it receives, and no snapshot serves"
                }
            } else {
                reason = "it has not been built yet"
            }
            plan.full.append(definition)
            plan.reasons.append(reason)
        }
        return plan
    }

    /// A projection put in the state of a snapshot, whose tail is still to be replayed.
    struct ResumedProjection {
        var definition: ProjectionDefinition
        var cutStart: String
        /// Indexes that no statement searches by, dropped for the tail and built after it.
        var deferredIndexes: [(name: String, sql: String)]
    }

    /// Puts each of `candidates` in the state of its snapshot: its tables made afresh, the
    /// snapshot's rows copied in, and the indexes that no statement searches by dropped.
    /// - Throws: ``ResumeFailure`` when a snapshot cannot be copied (the catch-up is then rolled
    ///   back and done again without resuming).
    func resume(_ candidates: [(definition: ProjectionDefinition, snapshot: SnapshotRecord)], from files: ResumeFiles, in pdb: Database) throws -> [ResumedProjection] {
        var resumed: [ResumedProjection] = []
        for (definition, snapshot) in candidates {
            // The plan made under the lock took only attached files.
            guard let alias = files.aliases[snapshot.file] else { throw LedgerError(.internalError, "the snapshot '\(snapshot.file)' of projection '\(definition.name)' is not attached") }
            try createTables(definition, in: pdb, keepingSnapshots: true)
            let tables = try tableNames(of: [definition], in: pdb)
            let deferred = try dropDeferrableIndexes(of: tables, for: [definition], in: pdb)
            // Only the snapshot's own failure is one: the catch-up is done again without it.
            do {
                try Self.copyTables(tables, from: alias, in: pdb)
            } catch {
                throw ResumeFailure(projection: definition.name, cut: snapshot.cutStart, error: error)
            }
            logger.info("resuming projection '\(definition.name)' from its snapshot at \(snapshot.cutStart): a new event is back-dated before what it applied")
            resumed.append(ResumedProjection(definition: definition, cutStart: snapshot.cutStart, deferredIndexes: deferred))
        }
        return resumed
    }

    /// The tables that `definitions` made, as `kopa_objects` lists them.
    func tableNames(of definitions: [ProjectionDefinition], in pdb: Database) throws -> [String] {
        let marks = definitions.map { _ in "?" }.joined(separator: ",")
        return try String.fetchAll(pdb, sql: "SELECT name FROM kopa_objects WHERE type = 'table' AND projection IN (\(marks))", arguments: StatementArguments(definitions.map(\.name)))
    }

    /// The hash of the event at `seq` ("" when the ledger has none), which ties what a projection
    /// applied to one history: two ledgers (a ledger and its restored earlier copy, or one that
    /// went on differently) have the same event at `seq` exactly when their hashes there agree.
    func hash(atSeq seq: Int64) throws -> String {
        // Seq 0 is the empty log, whose head hash is 64 zeros.
        if seq == 0 { return String(repeating: "0", count: 64) }
        return try ledger.store.read { db in try String.fetchOne(db, sql: "SELECT hash FROM events WHERE seq = ?", arguments: [seq]) } ?? ""
    }

    func hash(atSeq seq: Int64, cache: inout [Int64: String]) throws -> String {
        if let known = cache[seq] { return known }
        let hash = try hash(atSeq: seq)
        cache[seq] = hash
        return hash
    }

    /// Whether the events after `lastSeq` can be applied on top of what the projection holds (see
    /// ``anyEvent(after:upTo:disturbing:before:)``, with the latest start it has applied).
    func canCatchUpIncrementally(_ definition: ProjectionDefinition, after lastSeq: Int64, upTo head: Int64, lastStart: String) throws -> Bool {
        try !anyEvent(after: lastSeq, upTo: head, disturbing: definition, before: lastStart)
    }

    /// Whether an event with a seq in `low + 1 ... high` changes what `definition` made of the events
    /// that start before `start` (the latest start it has applied, or a snapshot's cut), so that
    /// those events must be replayed: it starts before `start` in a type the projection receives;
    /// or, for a projection that sees events as corrected, it corrects or retracts an event of such
    /// a type (a correction of a correction, or its retraction, followed back to the original). A
    /// projection that sees events as recorded takes a correction as just another event; one that
    /// does not receive the corrected event's type is not moved by it (a meeting corrected leaves
    /// the funding as it was).
    func anyEvent(after low: Int64, upTo high: Int64?, disturbing definition: ProjectionDefinition, before start: String) throws -> Bool {
        let everything = definition.handledTypes.contains("*")
        let types = definition.handledTypes.sorted()
        let range = "seq > ?" + (high == nil ? "" : " AND seq <= ?")
        let bounds: [any DatabaseValueConvertible] = [low] + (high.map { [$0] } ?? [])
        return try ledger.store.read { db in
            let typeClause = everything ? "" : " AND type IN (" + types.map { _ in "?" }.joined(separator: ",") + ")"
            let earlier = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE \(range) AND occurred_start < ?\(typeClause))",
                arguments: StatementArguments(bounds + [start] + (everything ? [] : types.map { $0 as any DatabaseValueConvertible }))) ?? true
            if earlier { return true }
            guard !definition.asRecorded else { return false }
            let targets = try String.fetchCursor(db, sql: "SELECT target FROM events WHERE \(range) AND target IS NOT NULL", arguments: StatementArguments(bounds))
            // A projection that receives every type is moved by any correction.
            if everything { return try targets.next() != nil }
            let lookup = try db.cachedStatement(sql: "SELECT type, target FROM events WHERE id = ?")
            while let target = try targets.next() {
                // The original: what a correction or retraction names, followed back through
                // corrections (a correction of a correction names the one it replaces).
                var id = target
                var hops = 0
                while true {
                    guard let row = try Row.fetchOne(lookup, arguments: [id]) else { return true }
                    let type: String = row["type"]
                    guard let next: String = row["target"], type == "event-corrected" || type == "event-retracted" else {
                        if types.contains(type) { return true }
                        break
                    }
                    id = next
                    hops += 1
                    // A chain longer than any append makes is not followed: it counts.
                    if hops > 10_000 { return true }
                }
            }
            return false
        }
    }

    /// Records how far a projection got: the head applied (its seq and hash), and the latest
    /// valid-time start of the events it received.
    func saveCheckpoint(_ definition: ProjectionDefinition, head: ChainHead, lastStart: String, in pdb: Database) throws {
        try pdb.execute(sql: """
            INSERT INTO kopa_checkpoints (projection, version, checksum, last_seq, last_start, ledger, boot) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(projection) DO UPDATE SET version = excluded.version, checksum = excluded.checksum,
                last_seq = excluded.last_seq, last_start = excluded.last_start, ledger = excluded.ledger, boot = excluded.boot
            """, arguments: [definition.name, definition.version, definition.checksum, head.seq, lastStart, head.hash, boot])
    }

    /// Drops what the projection created before and runs its table definitions again.
    ///
    /// The objects of a projection that is not loaded now (its file removed or renamed, or an
    /// analyst's folder not given this time) stay, unless this definition names one of them: then
    /// that projection's objects are dropped, as derived data are, and it is rebuilt if it comes back.
    /// - Parameter keepingSnapshots: keep the projection's snapshots listed (it resumes from one:
    ///   they were taken of the same history); otherwise they go with the tables.
    func createTables(_ definition: ProjectionDefinition, in pdb: Database, keepingSnapshots: Bool = false) throws {
        let words = SQLText.identifiers(definition.schemaSQL)
        let loaded = Set(set.projections.map(\.name))
        var dropping = [definition.name]
        for row in try Row.fetchAll(pdb, sql: "SELECT projection, name FROM kopa_objects ORDER BY rowid") {
            let owner: String = row["projection"], name: String = row["name"]
            if !loaded.contains(owner), !dropping.contains(owner), words.contains(StatementReach.folded(name)) {
                logger.info("dropping the objects of projection '\(owner)', which is not loaded now: '\(definition.name)' names its '\(name)'")
                dropping.append(owner)
            }
        }
        for name in dropping { try dropObjects(of: name, in: pdb, keepingSnapshots: keepingSnapshots && name == definition.name) }
        try Self.defineTables(definition, in: pdb)
    }

    /// Runs `definition`'s table definitions in `db` and lists what they made in `kopa_objects`
    /// (created if missing): its statements may touch only those tables.
    static func defineTables(_ definition: ProjectionDefinition, in db: Database) throws {
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS kopa_objects (projection TEXT NOT NULL, type TEXT NOT NULL, name TEXT NOT NULL)")
        let before = try schemaObjects(in: db)
        try executeSchema(definition, in: db)
        try recordObjects(of: definition, before: before, in: db)
    }

    /// Drops the indexes and triggers that a projection put on another projection's tables, as an
    /// older Kopa allowed: they would make that projection's statements reach past its own tables.
    func dropStrayObjects(in pdb: Database) throws {
        let stray = try Row.fetchAll(pdb, sql: """
            SELECT o.projection, o.type, o.name FROM kopa_objects AS o JOIN sqlite_master AS m ON m.name = o.name AND m.type = o.type
            WHERE o.type IN ('index', 'trigger') AND NOT EXISTS (
                SELECT 1 FROM kopa_objects AS t WHERE t.projection = o.projection AND t.type IN ('table', 'view') AND lower(t.name) = lower(m.tbl_name))
            """)
        for row in stray {
            let type: String = row["type"], name: String = row["name"]
            logger.info("dropping \(type) '\(name)' of projection '\(row["projection"] as String)', which is on another projection's table")
            try pdb.execute(sql: "DROP \(type.uppercased()) IF EXISTS \(name.quotedDatabaseIdentifier)")
            try pdb.execute(sql: "DELETE FROM kopa_objects WHERE type = ? AND name = ?", arguments: [type, name])
        }
    }

    /// Drops a projection's tables and views (their indexes and triggers go with them) and forgets it,
    /// with its snapshots unless `keepingSnapshots`.
    func dropObjects(of projection: String, in pdb: Database, keepingSnapshots: Bool = false) throws {
        for row in try Row.fetchAll(pdb, sql: "SELECT type, name FROM kopa_objects WHERE projection = ?", arguments: [projection]) {
            let type: String = row["type"]
            let name: String = row["name"]
            // An older Kopa listed sqlite_sequence among a projection's objects; it is SQLite's.
            guard ["table", "view"].contains(type), !name.hasPrefix("sqlite_") else { continue }
            try pdb.execute(sql: "DROP \(type.uppercased()) IF EXISTS \(name.quotedDatabaseIdentifier)")
        }
        try pdb.execute(sql: "DELETE FROM kopa_objects WHERE projection = ?", arguments: [projection])
        try pdb.execute(sql: "DELETE FROM kopa_checkpoints WHERE projection = ?", arguments: [projection])
        if !keepingSnapshots { try pdb.execute(sql: "DELETE FROM kopa_snapshots WHERE projection = ?", arguments: [projection]) }
    }

    /// Every object of the main database, as "type name".
    static func schemaObjects(in db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT type || ' ' || name FROM sqlite_master"))
    }

    /// Lists in `kopa_objects` what `definition`'s table definitions created (SQLite's own objects,
    /// such as `sqlite_sequence`, belong to no projection).
    static func recordObjects(of definition: ProjectionDefinition, before: Set<String>, in db: Database) throws {
        for row in try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'") {
            let type: String = row["type"], name: String = row["name"]
            if !before.contains(type + " " + name) {
                try db.execute(sql: "INSERT INTO kopa_objects (projection, type, name) VALUES (?, ?, ?)", arguments: [definition.name, type, name])
            }
        }
    }

    /// The tables and views (lower-cased) a projection created, as `kopa_objects` lists them, and
    /// SQLite's `sqlite_sequence`, which AUTOINCREMENT writes for every table that has it.
    static func ownedTables(of projection: String, in db: Database) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT lower(name) FROM kopa_objects WHERE projection = ? AND type IN ('table', 'view')", arguments: [projection]))
            .union(["sqlite_sequence"])
    }

    /// Runs a projection's table definitions: CREATE statements, and INSERTs of seed rows into the
    /// tables just created. An index or a trigger must be on one of those tables (one on another
    /// projection's table survived that projection's rebuild and then blocked it).
    static func executeSchema(_ definition: ProjectionDefinition, in pdb: Database) throws {
        let before = Set(try String.fetchAll(pdb, sql: "SELECT lower(name) FROM sqlite_master"))
        let temporary = try Int.fetchOne(pdb, sql: "SELECT count(*) FROM sqlite_temp_master") ?? 0
        func created() throws -> Set<String> {
            Set(try String.fetchAll(pdb, sql: "SELECT lower(name) FROM sqlite_master WHERE type IN ('table', 'view')")).subtracting(before).union(["sqlite_sequence"])
        }
        func newTables() throws -> [String] {
            try String.fetchAll(pdb, sql: "SELECT name FROM sqlite_master WHERE type = 'table'").filter { !before.contains(StatementReach.folded($0)) }
        }
        try CompiledProjection.eachSchemaStatement(definition) { text, line in
            let prefix = "\(definition.file):\(line): "
            // Prepared one at a time: an index can only be prepared once its table exists.
            do {
                let statement = try pdb.makeStatement(sql: text)
                try StatementReach.checkKeyword(
                    text, allowed: StatementReach.schemaKeywords, prefix: prefix, what: "a statement of the table definitions",
                    expected: "CREATE TABLE, INDEX, VIEW or TRIGGER, or an INSERT of seed rows into the projection's own tables")
                let creating = SQLText.firstKeyword(text) == "CREATE"
                try StatementReach.check(
                    text, projection: definition.name, owns: try created(), readsOnlyOwn: true, creating: creating, in: pdb, prefix: prefix,
                    what: creating ? "the statement" : "the statement seeding rows")
                try statement.execute()
            } catch let error as DatabaseError {
                throw LedgerError(.invalidInput, "\(prefix)\(error.message ?? "SQLite error \(error.resultCode.rawValue)")")
            }
            let own = try created()
            // A table named like a table-valued function (json_each, dbstat, pragma_…) would hide
            // that function from every projection's statements, the bundled ones' too.
            let modules = Set(try String.fetchAll(pdb, sql: "SELECT name FROM pragma_module_list").map(StatementReach.folded))
            if let hiding = own.sorted().first(where: { modules.contains($0) || $0.hasPrefix("pragma_") }) {
                throw LedgerError(.invalidInput, "\(prefix)'\(hiding)' is the name of SQLite's table-valued function \(hiding)(), which a table of that name would hide from every projection; name it otherwise")
            }
            for row in try Row.fetchAll(pdb, sql: "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('index', 'trigger')") {
                let type: String = row["type"], name: String = row["name"], table: String = row["tbl_name"]
                if !before.contains(StatementReach.folded(name)), !own.contains(StatementReach.folded(table)) {
                    throw LedgerError(.invalidInput, "\(prefix)\(type) '\(name)' is on table '\(table)', which projection '\(definition.name)' does not create; a projection indexes and triggers only its own tables")
                }
            }
            // A foreign key's actions write the table it names when that table's rows change.
            for table in try newTables() {
                for parent in try String.fetchAll(pdb, sql: "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)", arguments: [table])
                where !own.contains(StatementReach.folded(parent)) {
                    throw LedgerError(.invalidInput, "\(prefix)table '\(table)' refers to table '\(parent)', which projection '\(definition.name)' does not create; a projection's foreign keys stay among its own tables")
                }
            }
            if try Int.fetchOne(pdb, sql: "SELECT count(*) FROM sqlite_temp_master") != temporary {
                throw LedgerError(.invalidInput, "\(prefix)the statement creates a temporary object; a projection keeps its tables in the projection database")
            }
        }
    }
}

extension CompiledProjection {
    /// Calls `body` with each statement of the table definitions and its line (they take no parameters).
    static func eachSchemaStatement(_ definition: ProjectionDefinition, _ body: (String, Int) throws -> Void) throws {
        var remaining = Substring(definition.schemaSQL)
        var line = 1  // the schema is the file's first lines
        while !remaining.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            // Split at the end of each complete statement (sqlite3_complete understands strings and comments).
            var end = remaining.startIndex
            var found = false
            while let semicolon = remaining[end...].firstIndex(of: ";") {
                end = remaining.index(after: semicolon)
                if sqlite3_complete(String(remaining[..<end])) != 0 { found = true; break }
            }
            let text = found ? String(remaining[..<end]) : String(remaining)
            let statementLine = line + lineOffset(Array(text.utf8) + [0], from: 0)
            var lexer = SQLText()
            if SQLText.lines(of: text).contains(where: { lexer.consume(line: $0) }) { try body(text, statementLine) }
            line += text.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
            remaining = found ? remaining[end...] : ""
        }
    }
}
