import Foundation
import GRDB
import Logging

// Snapshots let a report at a past time, and a catch-up after a back-dated event, replay only a
// tail of the log.
//
// A full replay of a large ledger into the projection database copies each projection's tables,
// at the cuts that divide the events into `snapshotParts` equal parts by valid time, into files in
// `<projection database>.snapshots/`. A snapshot holds the events that start before its cut, as
// corrected when it was taken. For a report at (as-of D, known-at T) it is used when
//  - every event it applied ended by D (its `max_end`), and
//  - the events recorded between its head and T (either way) include none that starts before the
//    cut and that the projection receives, and, for a projection that sees events as corrected,
//    no correction or retraction of an event of a type it receives (`anyEvent`);
// then the report copies the tables and replays the events starting at or after the cut. This
// relies on `recorded_at` never decreasing along `seq` (appends and restore guarantee it).
// Snapshots are as disposable as the projection database: deleted with the projection they belong
// to when it is replayed from the start (kept when it resumes from one), and passed over when
// missing, unreadable or stale.

/// One projection's tables at one cut, as listed in `kopa_snapshots`.
struct SnapshotRecord: Sendable, Equatable {
    var projection: String
    var file: String
    var cutStart: String
    var headSeq: Int64
    var maxEnd: String
}

extension ProjectionEngine {
    /// The folder of snapshot files beside the projection database: `kopa.projections.snapshots`.
    public var snapshotFolder: String {
        (databasePath.hasSuffix(".sqlite") ? String(databasePath.dropLast(7)) : databasePath) + ".snapshots"
    }

    /// The snapshots a replay of `definition` at `filter`'s time may start from, latest cut first.
    /// - Parameter seqBound: the last seq the report sees (the head, or the last recorded by known-at).
    /// A snapshot made from another history (another ledger, or an earlier or restored copy of this
    /// one that went on differently) is passed over: the ledger's hash at its head must be its own.
    func usableSnapshot(for definition: ProjectionDefinition, filter: ReplayFilter, seqBound: Int64) throws -> SnapshotRecord? {
        guard FileManager.default.fileExists(atPath: databasePath) else { return nil }
        return try openDatabase().read { pdb in try usableSnapshot(for: definition, filter: filter, seqBound: seqBound, in: pdb) }
    }

    /// As above, reading the list of snapshots through `pdb`, a connection to the projection database.
    func usableSnapshot(for definition: ProjectionDefinition, filter: ReplayFilter, seqBound: Int64, in pdb: Database) throws -> SnapshotRecord? {
        let rows = try Row.fetchAll(pdb, sql: """
            SELECT file, cut_start, head_seq, max_end, ledger FROM kopa_snapshots
            WHERE projection = ? AND version = ? AND checksum = ? AND boot = ? ORDER BY cut_start DESC
            """, arguments: [definition.name, definition.version, definition.checksum, boot])
        var hashes: [Int64: String] = [:]
        for row in rows {
            let record = SnapshotRecord(projection: definition.name, file: row["file"], cutStart: row["cut_start"], headSeq: row["head_seq"], maxEnd: row["max_end"])
            if let asOf = filter.asOf, record.maxEnd > asOf { continue }
            guard try row["ledger"] == hash(atSeq: record.headSeq, cache: &hashes) else { continue }
            let low = min(record.headSeq, seqBound)
            let high = max(record.headSeq, seqBound)
            if low < high, try anyEvent(after: low, upTo: high, disturbing: definition, before: record.cutStart) { continue }
            guard FileManager.default.fileExists(atPath: snapshotFolder + "/" + record.file) else { continue }
            return record
        }
        return nil
    }

    /// The last seq recorded by `knownAt`, found by bisection (`recorded_at` never decreases along seq).
    func lastSeq(recordedBy knownAt: String) throws -> Int64 {
        let head = try ledger.head().seq
        return try ledger.store.read { ldb in
            let statement = try ldb.makeStatement(sql: "SELECT recorded_at FROM events WHERE seq = ?")
            var low: Int64 = 0
            var high = head
            while low < high {
                let middle = low + (high - low + 1) / 2
                let recorded = try String.fetchOne(statement, arguments: [middle]) ?? ""
                if recorded <= knownAt { low = middle } else { high = middle - 1 }
            }
            return low
        }
    }

    /// Copies a snapshot's tables into a report's temporary database, in place of what they hold
    /// (nothing, or the rows their schema seeds), without firing their triggers.
    /// - Returns: false when the file cannot be read; the tables are then left empty.
    func copySnapshot(_ snapshot: SnapshotRecord, tables: [String], into db: Database) -> Bool {
        do {
            try db.execute(sql: "ATTACH DATABASE ? AS kopa_snapshot", arguments: [SQLiteSetup.readOnlyURI(snapshotFolder + "/" + snapshot.file)])
        } catch {
            return false
        }
        defer { try? db.execute(sql: "DETACH DATABASE kopa_snapshot") }
        do {
            try db.inTransaction {
                try Self.copyTables(tables, from: "kopa_snapshot", in: db)
                return .commit
            }
            return true
        } catch {
            logger.info("snapshot '\(snapshot.file)' of '\(snapshot.projection)' cannot be read (\(error)); replaying from the start")
            return false
        }
    }
}

extension ProjectionEngine {
    /// Puts the rows of `tables` in the attached snapshot `schema` in place of what the main
    /// database's tables hold (nothing, or the rows their schema seeds), without firing their triggers.
    static func copyTables(_ tables: [String], from schema: String, in db: Database) throws {
        // The copy restores rows the triggers already acted on when the snapshot was taken:
        // they must not fire again (a trigger that counts would count twice).
        let marks = tables.map { _ in "?" }.joined(separator: ",")
        let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name IN (\(marks))", arguments: StatementArguments(tables))
        for trigger in triggers { try db.execute(sql: "DROP TRIGGER main.\((trigger["name"] as String).quotedDatabaseIdentifier)") }
        for table in tables {
            // Rows a schema seeds are in the snapshot already, as they stood at its cut.
            try db.execute(sql: "DELETE FROM main.\(table.quotedDatabaseIdentifier)")
            try copyRows(of: table, from: schema, to: "main", in: db)
        }
        for trigger in triggers { try db.execute(sql: trigger["sql"]) }
    }

    /// Copies every row of `table` in schema `source` into the same table in `target`, in rowid
    /// order: generated columns left to SQLite (they take no values), an AUTOINCREMENT table's
    /// counter carried along (it is the largest id ever given, not the largest still there), and
    /// the rowids of a table with neither key nor index kept (a statement that reads `max(rowid)`
    /// there would otherwise see them numbered afresh).
    static func copyRows(of table: String, from source: String, to target: String, in db: Database) throws {
        let name = table.quotedDatabaseIdentifier
        let columns = try Row.fetchAll(db, sql: "SELECT name, hidden FROM pragma_table_xinfo(?, ?) ORDER BY cid", arguments: [table, source])
        let generated = columns.contains { ($0["hidden"] as Int) != 0 }
        // `INSERT … SELECT *` lets SQLite transfer whole records where the tables allow it (a
        // column list turns that off: a rebuild of 1M events took 18 % longer, paired runs). The
        // transfer keeps the rowids when the table has a
        // primary key (an INTEGER PRIMARY KEY is the rowid; any other has an index) or another
        // index, and numbers them afresh otherwise: such a table gets the column list.
        let keyed = try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM pragma_table_info(?, ?) WHERE pk > 0) OR EXISTS (SELECT 1 FROM pragma_index_list(?, ?))
            """, arguments: [table, source, table, target]) ?? false
        if !generated, keyed {
            try db.execute(sql: "INSERT INTO \(target).\(name) SELECT * FROM \(source).\(name)")
        } else {
            let names = columns.filter { ($0["hidden"] as Int) == 0 }.map { $0["name"] as String }
            let withoutRowid = try Bool.fetchOne(db, sql: "SELECT wr FROM pragma_table_list(?) WHERE schema = ?", arguments: [table, source]) ?? false
            // A column may take the rowid's name; the rowid then goes by one of its other names, if any is free.
            let taken = Set(names.map { $0.lowercased() })
            let rowid = withoutRowid ? nil : ["rowid", "_rowid_", "oid"].first { !taken.contains($0) }
            let list = ((rowid.map { [$0] } ?? []) + names.map(\.quotedDatabaseIdentifier)).joined(separator: ", ")
            try db.execute(sql: "INSERT INTO \(target).\(name) (\(list)) SELECT \(list) FROM \(source).\(name)")
        }
        func hasCounters(_ schema: String) throws -> Bool {
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(schema).sqlite_master WHERE name = 'sqlite_sequence')") ?? false
        }
        guard try hasCounters(source), try hasCounters(target) else { return }
        try db.execute(sql: "DELETE FROM \(target).sqlite_sequence WHERE name = ?", arguments: [table])
        try db.execute(sql: "INSERT INTO \(target).sqlite_sequence (name, seq) SELECT name, seq FROM \(source).sqlite_sequence WHERE name = ?", arguments: [table])
    }
}

/// The snapshot files a catch-up may resume back-dated projections from, attached to the
/// projection database before its transaction begins (SQLite attaches no file inside one).
///
/// It lives only inside the projection database's write closure.
struct ResumeFiles {
    /// The schema name each attached file goes by, by file.
    private(set) var aliases: [String: String] = [:]

    /// Attaches each of `files`, up to `room` of them. One left out (no room, or removed meanwhile)
    /// sends its projections to a replay from the start.
    init(_ files: Set<String>, room: Int, engine: ProjectionEngine, pdb: Database) {
        for file in files.sorted() where aliases.count < room {
            let alias = "kopa_resume_\(aliases.count)"
            let path = engine.snapshotFolder + "/" + file
            do {
                try pdb.execute(sql: "ATTACH DATABASE ? AS \(alias)", arguments: [SQLiteSetup.readOnlyURI(path)])
                aliases[file] = alias
            } catch {
                engine.logger.info("snapshot '\(file)' cannot be attached (\(error)); its projections replay from the start")
            }
        }
    }

    /// Detaches the files.
    func detach(_ pdb: Database) {
        for alias in aliases.values { try? pdb.execute(sql: "DETACH DATABASE \(alias)") }
    }
}

/// Takes the snapshots of one full replay in the projection database: creates one file per cut with
/// the projections' tables, attaches them before the transaction, copies the tables at each cut, and
/// afterwards detaches them and removes every file no longer listed.
///
/// It lives only inside the projection database's write closure.
final class SnapshotWriter {
    let engine: ProjectionEngine
    /// Valid-time starts dividing the ledger's events into equal parts, ascending.
    let cuts: [String]
    /// The file of each cut.
    let files: [String]
    /// Projections whose tables the files hold.
    let covered: Set<String>
    /// The hash of the head the replay reads up to: the history the snapshots belong to (set once
    /// the replay's transaction has read the head).
    var headHash = ""
    /// The files `kopa_snapshots` listed when the replay's transaction began: those it no longer
    /// lists afterwards were replaced by this replay, and are removed.
    var listedBefore: Set<String> = []
    private var attached = 0
    /// A `kopa_snapshots` row of a copy taken, listed only once the replay has committed.
    private struct Listing {
        var projection: String
        var headSeq: Int64
        var arguments: StatementArguments
    }
    private var pending: [Listing] = []
    /// Files another replay had listed for the projections this one listed: removed by ``finish(_:)``.
    private var replaced: Set<String> = []

    /// Chooses the cuts, creates the files and attaches them to `pdb`.
    init(engine: ProjectionEngine, definitions: [ProjectionDefinition], pdb: Database) throws {
        self.engine = engine
        covered = Set(definitions.map(\.name))
        let head = try engine.ledger.head().seq
        let parts = Int64(engine.snapshotParts)
        cuts = try engine.ledger.store.read { ldb in
            var cuts: [String] = []
            let first = try String.fetchOne(ldb, sql: "SELECT occurred_start FROM events ORDER BY occurred_start, seq LIMIT 1") ?? ""
            for part in 1..<parts {
                let start = try String.fetchOne(ldb, sql: "SELECT occurred_start FROM events ORDER BY occurred_start, seq LIMIT 1 OFFSET ?", arguments: [head * part / parts])
                // At the first of the month: events dated only by month then end before the cut, so a
                // snapshot serves every --as-of from the cut on (one that straddles it cannot).
                guard let month = start.map({ String($0.prefix(7)) + "-01T00:00:00.000Z" }) else { continue }
                if month > (cuts.last ?? first) { cuts.append(month) }
            }
            return cuts
        }
        try FileManager.default.createDirectory(atPath: engine.snapshotFolder, withIntermediateDirectories: true)
        // A loop, not a closure capturing the generator: ThreadSanitizer's instrumentation crashed
        // on that capture (its inout access from inside `map`), which kept the suite from running under it.
        var system = SystemRandomNumberGenerator()
        var names: [String] = []
        for _ in cuts { names.append("cut-\(UUIDText.random(using: &system)).sqlite") }
        files = names
        do {
            for file in files {
                let path = engine.snapshotFolder + "/" + file
                var configuration = SQLiteSetup.configuration()
                // Large pages: the copy at a cut is written in a tenth of the system calls (~4 % of a rebuild).
                configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=\(ProjectionEngine.synchronous)") }
                let queue = try DatabaseQueue(path: path, configuration: configuration)
                try queue.writeWithoutTransaction { db in
                    for definition in definitions { try ProjectionEngine.executeSchema(definition, in: db) }
                    // A schema may seed rows; the copy at the cut must go into empty tables.
                    for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                        try db.execute(sql: "DELETE FROM \(table.quotedDatabaseIdentifier)")
                    }
                    // Only the tables: a snapshot is read whole into a report's database, which has
                    // the indexes; and a copy must not fire triggers. (Constraints' own indexes stay.)
                    for row in try Row.fetchAll(db, sql: "SELECT type, name FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL") {
                        let type: String = row["type"], name: String = row["name"]
                        try db.execute(sql: "DROP \(type.uppercased()) \(name.quotedDatabaseIdentifier)")
                    }
                }
                try queue.close()
                try pdb.execute(sql: "ATTACH DATABASE ? AS \(alias(attached))", arguments: [path])
                try pdb.execute(sql: "PRAGMA \(alias(attached)).journal_mode=OFF; PRAGMA \(alias(attached)).synchronous=\(ProjectionEngine.synchronous)")
                attached += 1
            }
        } catch {
            finish(pdb)
            throw error
        }
    }

    private func alias(_ index: Int) -> String { "kopa_snapshot_\(index)" }

    /// Copies the tables of `definitions` as they stand now into the file of cut `index`, to be
    /// listed by ``list(_:)``.
    func take(_ index: Int, definitions: [ProjectionDefinition], maxEnds: [String], head: Int64, pdb: Database) throws {
        for (definition, maxEnd) in zip(definitions, maxEnds) where covered.contains(definition.name) {
            for table in try engine.tableNames(of: [definition], in: pdb) {
                try ProjectionEngine.copyRows(of: table, from: "main", to: alias(index), in: pdb)
            }
            pending.append(Listing(projection: definition.name, headSeq: head, arguments: [definition.name, definition.version, definition.checksum, headHash, files[index], cuts[index], head, maxEnd, engine.boot]))
        }
    }

    /// Lists the copies in `kopa_snapshots`, after the replay's transaction has committed.
    ///
    /// Not in that transaction: SQLite commits the projection database first and writes the
    /// snapshot files (no journal) after it, so a process killed in between left listed files
    /// that were torn, and a report at a past time read fewer rows from them without an error.
    /// Listed once the commit has returned, every listed file is whole; a kill before leaves
    /// unlisted files, which are removed.
    ///
    /// A projection keeps one set: another replay that committed meanwhile may have listed its own.
    /// Of the two, the one taken at the later head stays listed (ours when the heads are equal);
    /// the other's files are removed by ``finish(_:)``.
    func list(_ pdb: Database) throws {
        guard !pending.isEmpty else { return }
        try pdb.inTransaction(.immediate) {
            for (projection, listings) in Dictionary(grouping: pending, by: \.projection) {
                let head = listings[0].headSeq
                // A set written in another boot is not trusted (`currentBoot`), whatever its head.
                let newer = try Bool.fetchOne(pdb, sql: "SELECT EXISTS (SELECT 1 FROM kopa_snapshots WHERE projection = ? AND head_seq > ? AND boot = ?)", arguments: [projection, head, engine.boot]) ?? false
                if newer { continue }
                replaced.formUnion(try String.fetchAll(pdb, sql: "SELECT file FROM kopa_snapshots WHERE projection = ?", arguments: [projection]))
                try pdb.execute(sql: "DELETE FROM kopa_snapshots WHERE projection = ?", arguments: [projection])
                for snapshot in listings {
                    try pdb.execute(sql: """
                        INSERT INTO kopa_snapshots (projection, version, checksum, ledger, file, cut_start, head_seq, max_end, boot)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: snapshot.arguments)
                }
            }
            return .commit
        }
        pending = []
    }

    /// Detaches the files and removes the snapshot files that `kopa_snapshots` no longer lists:
    /// older snapshots of rebuilt projections, and this replay's files if it was rolled back.
    func finish(_ pdb: Database) {
        while attached > 0 {
            attached -= 1
            try? pdb.execute(sql: "DETACH DATABASE \(alias(attached))")
        }
        engine.removeUnlistedSnapshots(pdb, ours: listedBefore.union(files).union(replaced))
    }
}

extension ProjectionEngine {
    /// Removes the snapshot files that the projection database does not list, of those that
    /// `ours` names or that nobody has written for an hour (left by a run that was killed).
    /// Another process's rebuild creates its files before it may write to the projection
    /// database and lists them only when it commits: removing every unlisted file removed those,
    /// and two rebuilds at once left every listed snapshot missing.
    func removeUnlistedSnapshots(_ pdb: Database, ours: Set<String>) {
        guard let listed = try? Set(String.fetchAll(pdb, sql: "SELECT DISTINCT file FROM kopa_snapshots")),
            let present = try? FileManager.default.contentsOfDirectory(atPath: snapshotFolder)
        else { return }
        let abandoned = Date().addingTimeInterval(-3600)
        for file in present where file.hasPrefix("cut-") && !listed.contains(file) {
            let path = snapshotFolder + "/" + file
            let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate]) as? Date
            guard ours.contains(file) || (modified.map { $0 < abandoned } ?? false) else { continue }
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}
