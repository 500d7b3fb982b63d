import Foundation
import GRDB
import GRDBSQLite

/// Which events a replay sees.
struct ReplayFilter {
    /// Only events after this seq (incremental catch-up).
    var afterSeq: Int64?
    /// Only events up to this seq (the head a catch-up's checkpoint records).
    var untilSeq: Int64?
    /// Valid time: only events that had occurred by this instant (their period ended by then).
    var asOf: String?
    /// Transaction time: only events recorded by this instant; corrections likewise.
    var knownAt: String?
    /// Only events starting at or after this instant: the tail after a snapshot's cut.
    var fromStart: String?
}

extension ProjectionEngine {
    /// Replays the ledger's events, in valid-time order, into the given projections.
    /// - Returns: the number of events delivered.
    func replay(_ definitions: [ProjectionDefinition], into pdb: Database, filter: ReplayFilter) throws -> Int {
        var lastStarts: [String: String] = [:]
        return try replay(definitions, into: pdb, filter: filter, lastStarts: &lastStarts)
    }

    /// Replays as above, and raises `lastStarts[name]` to the latest valid-time start of the events
    /// each projection received (what its incremental catch-up must not go back before).
    /// With `snapshots`, the projections' tables are copied at each cut the replay passes. The
    /// secondary indexes of `tables` that no statement of the projections uses are built after the
    /// replay instead of during it (see ``deferrableIndexes(of:statements:in:)``).
    func replay(_ definitions: [ProjectionDefinition], into pdb: Database, filter: ReplayFilter, lastStarts: inout [String: String], snapshots: SnapshotWriter? = nil, deferringIndexesOf tables: [String] = []) throws -> Int {
        // Valid times are compared as bytes: ISO 8601 in UTC orders as text.
        var maxima = definitions.map { Array((lastStarts[$0.name] ?? "").utf8) }
        var maxEnds = definitions.map { _ in [UInt8]() }
        defer {
            for (definition, start) in zip(definitions, maxima) { lastStarts[definition.name] = String(decoding: start, as: UTF8.self) }
        }
        let compiled = try definitions.map { try CompiledProjection($0, catalog: ledger.catalog, db: pdb) }
        defer { compiled.forEach { $0.finalize() } }
        let deferred = try Self.dropDeferrableIndexes(of: tables, statements: compiled.flatMap(\.allStatements), in: pdb)
        let plan = ReplayPlan(compiled)
        // Per projection and type index: whether it receives the type, and the statements to run.
        let routes: [[(received: Bool, statements: [CompiledStatement])]] = compiled.map { projection in
            (plan.types.map(Optional.some) + [nil]).map { type in (projection.handles(type), projection.statements(for: type)) }
        }
        let everything = compiled.contains { !$0.wildcard.isEmpty }
        let types = everything ? nil : Set(plan.types)
        let audiences: [PreparedEvent.Audience] = definitions.map { $0.asRecorded ? .asRecorded : .corrected }
        let asRecorded = audiences.contains(.asRecorded)
        // The ledger is read and every bound value worked out on a second thread while this one
        // runs the projections' statements.
        let pipeline = BatchPipeline<ReplayChunk>(batchSize: 1) { emit in
            try self.events(filter: filter, types: types, plan: plan, asRecorded: asRecorded, emit)
        }
        defer { pipeline.stop() }
        let cuts = snapshots?.cuts.map { Array($0.utf8) } ?? []
        var nextCut = 0
        var delivered = 0
        while let chunk = try pipeline.next() {
            try chunk.bytes.withUnsafeBufferPointer { bytes in
                try chunk.values.withUnsafeBufferPointer { values in
                    for event in chunk.events {
                        let start = event.start.of(bytes)
                        if let snapshots {
                            while nextCut < cuts.count, Bytes.compare(start, cuts[nextCut]) >= 0 {
                                let ends = maxEnds.map { String(decoding: $0, as: UTF8.self) }
                                try snapshots.take(nextCut, definitions: definitions, maxEnds: ends, head: filter.untilSeq ?? 0, pdb: pdb)
                                nextCut += 1
                            }
                        }
                        let end = event.end.of(bytes)
                        for i in compiled.indices {
                            let route = routes[i][Int(event.type)]
                            guard route.received, event.audience == .all || event.audience == audiences[i] else { continue }
                            for statement in route.statements { try statement.run(event, values: values, bytes: bytes, db: pdb) }
                            // In place: the start grows with nearly every event.
                            if Bytes.compare(start, maxima[i]) > 0 { maxima[i].replaceSubrange(maxima[i].indices, with: start) }
                            if Bytes.compare(end, maxEnds[i]) > 0 { maxEnds[i].replaceSubrange(maxEnds[i].indices, with: end) }
                        }
                        // A corrected event delivered twice counts once.
                        if !(asRecorded && event.audience == .corrected) { delivered += 1 }
                    }
                }
            }
        }
        try Self.buildIndexes(deferred, in: pdb)
        return delivered
    }

    /// Builds indexes dropped for a replay, each by one sort of its finished table.
    static func buildIndexes(_ indexes: [(name: String, sql: String)], in db: Database) throws {
        guard !indexes.isEmpty else { return }
        // SQLite's sorter takes as much memory as the page cache may; a quarter keeps a rebuild
        // under its memory bound (16 MiB more otherwise), at ~0.1 s more merging.
        let cache = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
        try db.execute(sql: "PRAGMA cache_size=\(cache < 0 ? cache / 4 : max(cache / 4, 1))")
        for index in indexes { try db.execute(sql: index.sql) }
        try db.execute(sql: "PRAGMA cache_size=\(cache)")
    }

    /// Drops the indexes of `tables` that no statement of `definitions` uses (see
    /// ``deferrableIndexes(of:statements:in:)``), for ``buildIndexes(_:in:)`` to build afterwards.
    func dropDeferrableIndexes(of tables: [String], for definitions: [ProjectionDefinition], in db: Database) throws -> [(name: String, sql: String)] {
        let compiled = try definitions.map { try CompiledProjection($0, catalog: ledger.catalog, db: db) }
        defer { compiled.forEach { $0.finalize() } }
        return try Self.dropDeferrableIndexes(of: tables, statements: compiled.flatMap(\.allStatements), in: db)
    }

    /// Drops the indexes of `tables` that none of `statements` uses, and returns them.
    static func dropDeferrableIndexes(of tables: [String], statements: [CompiledStatement], in db: Database) throws -> [(name: String, sql: String)] {
        let deferred = try deferrableIndexes(of: tables, statements: statements, in: db)
        for index in deferred { try db.execute(sql: "DROP INDEX \(index.name.quotedDatabaseIdentifier)") }
        return deferred
    }

    /// The indexes of `tables` that a replay may drop and build again afterwards: made by
    /// `CREATE INDEX` (constraints stay), not unique (they check nothing), used by none of
    /// `statements` (their query plans do not name them; a statement that searches by an index
    /// keeps it, or each search would become a scan), on tables without triggers (whose
    /// statements a query plan does not show).
    ///
    /// Inserting every row into such an index in the order of the replay touches pages all over
    /// it; building it once from the finished table sorts instead. For the audit trail's `stream`
    /// index on 1M events: ~1.5 s during the replay, ~0.4 s after it.
    static func deferrableIndexes(of tables: [String], statements: [CompiledStatement], in db: Database) throws -> [(name: String, sql: String)] {
        guard !tables.isEmpty else { return [] }
        let marks = tables.map { _ in "?" }.joined(separator: ",")
        let arguments = StatementArguments(tables)
        let triggered = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (\(marks))", arguments: arguments) ?? 0
        guard triggered == 0 else { return [] }
        var candidates: [(name: String, sql: String)] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT m.name, m.sql FROM sqlite_master m WHERE m.type = 'index' AND m.sql IS NOT NULL AND m.tbl_name IN (\(marks))
                AND NOT (SELECT "unique" FROM pragma_index_list(m.tbl_name) l WHERE l.name = m.name)
            """, arguments: arguments)
        {
            candidates.append((row["name"], row["sql"]))
        }
        guard !candidates.isEmpty else { return [] }
        let plans = try queryPlan(of: statements.compactMap { sqlite3_sql($0.handle).map { String(cString: $0) } }, in: db)
        // A name that merely contains another index's name keeps it too: only ever too careful.
        return candidates.filter { !plans.contains($0.name) }
    }

    /// The details of the query plans of `sqls`, one step a line (parameters unbound), by which one
    /// can tell whether a statement would search by an index: its name is in the text.
    static func queryPlan(of sqls: [String], in db: Database) throws -> String {
        var plans = ""
        for text in sqls {
            // Through the C API: the parameters stay unbound, which GRDB would refuse.
            var explain: OpaquePointer?
            guard sqlite3_prepare_v2(db.sqliteConnection, "EXPLAIN QUERY PLAN " + text, -1, &explain, nil) == SQLITE_OK else {
                sqlite3_finalize(explain)
                throw LedgerError(.internalError, "cannot explain '\(text)': \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
            }
            defer { sqlite3_finalize(explain) }
            var code = sqlite3_step(explain)
            while code == SQLITE_ROW {
                if let detail = sqlite3_column_text(explain, 3) { plans += String(cString: detail) + "\n" }
                code = sqlite3_step(explain)
            }
            guard code == SQLITE_DONE else {
                throw LedgerError(.internalError, "cannot explain '\(text)': \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
            }
        }
        return plans
    }

    /// Reads the events a replay sees, in valid-time order, corrections applied, retracted ones left
    /// out, works out the values `plan` asks for, and hands them to `emit` a chunk at a time.
    /// With `asRecorded`, every event is also delivered as recorded, at its recorded time, for the
    /// projections that take events so (a corrected event then comes twice, once for each audience).
    func events(filter: ReplayFilter, types: Set<String>?, plan: ReplayPlan, asRecorded: Bool = false, _ emit: (ReplayChunk) throws -> Void) throws {
        try ledger.store.read { ldb in
            let corrections = try CorrectionIndex.load(ldb, knownAt: filter.knownAt, untilSeq: filter.untilSeq)
            // Events whose corrected valid time differs replay at the corrected time: they are taken
            // out of the ordered scan and merged back in from this (small) sorted list.
            var moved: [String: OccurredAt] = [:]
            var side: [(record: EventRecord, data: String, occurred: OccurredAt)] = []
            for (id, _) in corrections.corrections {
                guard let record = try Self.fetch(ldb, id: id, knownAt: filter.knownAt) else { continue }
                let effective = corrections.effective(record)
                guard effective.occurredAt != record.occurredAt, !effective.retracted else { continue }
                let occurred = try OccurredAt(effective.occurredAt)
                moved[id] = occurred
                if let afterSeq = filter.afterSeq, record.seq <= afterSeq { continue }
                if let untilSeq = filter.untilSeq, record.seq > untilSeq { continue }
                if let asOf = filter.asOf, occurred.end > asOf { continue }
                if let fromStart = filter.fromStart, occurred.start < fromStart { continue }
                if let types, !types.contains(record.type) { continue }
                side.append((record, CanonicalJSON.string(.object(effective.data.objectValue ?? [:])), occurred))
            }
            side.sort { ($0.occurred.start, $0.record.seq) < ($1.occurred.start, $1.record.seq) }
            let sideStarts = side.map { Array($0.occurred.start.utf8) }
            var sideIndex = 0
            var chunk = ReplayChunk()
            func emitIfFull() throws {
                if chunk.isFull { try emit(chunk); chunk = ReplayChunk() }
            }
            func appendSide() throws {
                let s = side[sideIndex]
                RawEventRow.with(s.record, data: s.data, occurred: s.occurred) { chunk.append($0, plan: plan, audience: .corrected) }
                sideIndex += 1
                try emitIfFull()
            }

            var clauses: [String] = []
            var arguments: [any DatabaseValueConvertible] = []
            if let afterSeq = filter.afterSeq { clauses.append("seq > ?"); arguments.append(afterSeq) }
            if let untilSeq = filter.untilSeq { clauses.append("seq <= ?"); arguments.append(untilSeq) }
            if let asOf = filter.asOf {
                // The start bound is implied by the end bound, but lets SQLite stop the ordered index scan there.
                clauses.append("occurred_start <= ? AND occurred_end <= ?")
                arguments.append(contentsOf: [asOf, asOf])
            }
            if let knownAt = filter.knownAt { clauses.append("recorded_at <= ?"); arguments.append(knownAt) }
            if let fromStart = filter.fromStart { clauses.append("occurred_start >= ?"); arguments.append(fromStart) }
            if let types {
                clauses.append("type IN (" + types.map { _ in "?" }.joined(separator: ",") + ")")
                arguments.append(contentsOf: types.sorted())
            }
            var sql = "SELECT \(SQLiteEventStore.columns), occurred_start, occurred_end FROM events"
            if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
            sql += " ORDER BY occurred_start, seq"
            let statement = try ldb.makeStatement(sql: sql)
            try statement.setArguments(StatementArguments(arguments))
            let raw = RawStatement(statement, in: ldb)
            let anyCorrection = !corrections.corrections.isEmpty || !corrections.retracted.isEmpty
            while try raw.step() {
                let seq = raw.int64(0)
                let start = raw.bytes(13)
                while sideIndex < side.count {
                    let order = Bytes.compare(start, sideStarts[sideIndex])
                    guard order > 0 || (order == 0 && side[sideIndex].record.seq < seq) else { break }
                    try appendSide()
                }
                var row = RawEventRow(
                    seq: seq, version: raw.int64(3), streamVersion: raw.int64(5), id: raw.bytes(1), type: raw.bytes(2),
                    stream: raw.bytes(4), occurredAt: raw.bytes(6), start: start, end: raw.bytes(14), recordedAt: raw.bytes(7),
                    recordedBy: raw.bytes(8), data: raw.bytes(9), meta: raw.bytes(10))
                if anyCorrection {
                    let id = String(decoding: row.id, as: UTF8.self)
                    let retracted = corrections.retracted.contains(id)
                    if retracted || moved[id] != nil || corrections.corrections[id] != nil {
                        // The event as recorded, here; as corrected (when not retracted) here or,
                        // when its time moved, from the side list at its corrected time.
                        if asRecorded {
                            chunk.append(row, plan: plan, audience: .asRecorded)
                            try emitIfFull()
                        }
                        if retracted || moved[id] != nil { continue }
                        let record = SQLiteEventStore.record(raw, withChain: false)
                        var data = CanonicalJSON.string(.object(corrections.effective(record).data.objectValue ?? record.data.objectValue ?? [:]))
                        data.withUTF8 { corrected in
                            row.data = corrected
                            chunk.append(row, plan: plan, audience: .corrected)
                        }
                        try emitIfFull()
                        continue
                    }
                }
                chunk.append(row, plan: plan)
                try emitIfFull()
            }
            while sideIndex < side.count { try appendSide() }
            if !chunk.events.isEmpty { try emit(chunk) }
        }
    }

    static func fetch(_ db: Database, id: String, knownAt: String?) throws -> EventRecord? {
        let statement = try db.cachedStatement(sql: "SELECT \(SQLiteEventStore.columns) FROM events WHERE id = ?" + (knownAt == nil ? "" : " AND recorded_at <= ?"))
        try statement.setArguments(knownAt.map { [id, $0] } ?? [id])
        let raw = RawStatement(statement, in: db)
        return try raw.step() ? SQLiteEventStore.record(raw) : nil
    }
}

extension OccurredAt {
    /// A valid time already checked when it was stored.
    init(trusted text: String, start: String, end: String) {
        self.text = text
        self.start = start
        self.end = end
    }
}
