import GRDB

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
    /// With `snapshots`, the projections' tables are copied at each cut the replay passes.
    func replay(_ definitions: [ProjectionDefinition], into pdb: Database, filter: ReplayFilter, lastStarts: inout [String: String], snapshots: SnapshotWriter? = nil) throws -> Int {
        var maxima = definitions.map { lastStarts[$0.name] ?? "" }
        var maxEnds = definitions.map { _ in "" }
        defer { for (definition, start) in zip(definitions, maxima) { lastStarts[definition.name] = start } }
        let compiled = try definitions.map { try CompiledProjection($0, catalog: ledger.catalog, db: pdb) }
        defer { compiled.forEach { $0.finalize() } }
        let handled = Set(compiled.flatMap { $0.statements.keys })
        let everything = compiled.contains { !$0.wildcard.isEmpty }
        var delivered = 0
        func deliver(_ event: inout ReplayEvent) throws {
            for (i, projection) in compiled.enumerated() {
                var received = !projection.wildcard.isEmpty
                if let list = projection.statements[event.record.type] {
                    received = true
                    for statement in list { try statement.run(&event, db: pdb) }
                }
                for statement in projection.wildcard { try statement.run(&event, db: pdb) }
                if received {
                    if event.occurred.start > maxima[i] { maxima[i] = event.occurred.start }
                    if event.occurred.end > maxEnds[i] { maxEnds[i] = event.occurred.end }
                }
            }
            delivered += 1
        }
        // The ledger is read and the payloads decoded on a second thread while this one runs the
        // projections' statements.
        let types = everything ? nil : handled
        let decodeMeta = compiled.contains { $0.bindsMeta }
        let pipeline = BatchPipeline<ReplayEvent> { emit in
            try self.events(filter: filter, types: types, decodeMeta: decodeMeta, emit)
        }
        defer { pipeline.stop() }
        var nextCut = 0
        while var event = try pipeline.next() {
            if let snapshots {
                while nextCut < snapshots.cuts.count, event.occurred.start >= snapshots.cuts[nextCut] {
                    try snapshots.take(nextCut, definitions: definitions, maxEnds: maxEnds, head: filter.untilSeq ?? 0, pdb: pdb)
                    nextCut += 1
                }
            }
            try deliver(&event)
        }
        return delivered
    }

    /// Reads the events a replay sees, in valid-time order, corrections applied, retracted ones left
    /// out, and hands each to `emit`.
    func events(filter: ReplayFilter, types: Set<String>?, decodeMeta: Bool, _ emit: (ReplayEvent) throws -> Void) throws {
        try ledger.store.read { ldb in
            let corrections = try CorrectionIndex.load(ldb, knownAt: filter.knownAt)
            // Events whose corrected valid time differs replay at the corrected time: they are taken
            // out of the ordered scan and merged back in from this (small) sorted list.
            var moved: [String: OccurredAt] = [:]
            var side: [ReplayEvent] = []
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
                side.append(ReplayEvent(record: record, data: effective.data.objectValue ?? [:], occurred: occurred, decodeMeta: decodeMeta))
            }
            side.sort { ($0.occurred.start, $0.record.seq) < ($1.occurred.start, $1.record.seq) }
            var sideIndex = 0

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
            while try raw.step() {
                let record = SQLiteEventStore.record(raw, withChain: false)
                let start = raw.text(13)
                while sideIndex < side.count, (side[sideIndex].occurred.start, side[sideIndex].record.seq) < (start, record.seq) {
                    try emit(side[sideIndex])
                    sideIndex += 1
                }
                if corrections.retracted.contains(record.id) || moved[record.id] != nil { continue }
                var data = record.data.objectValue ?? [:]
                if !corrections.corrections.isEmpty, corrections.corrections[record.id] != nil {
                    data = corrections.effective(record).data.objectValue ?? data
                }
                try emit(ReplayEvent(record: record, data: data, occurred: OccurredAt(trusted: record.occurredAt, start: start, end: raw.text(14)), decodeMeta: decodeMeta))
            }
            while sideIndex < side.count {
                try emit(side[sideIndex])
                sideIndex += 1
            }
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
