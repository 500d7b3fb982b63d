import GRDB

/// What restore checks beyond the chain and the store's unique keys: the few records whose
/// meaning other records depend on (corrections and retractions, the head's time) are held to
/// the rules an append holds them to, so a restored ledger is one Kopa could have written there.
/// Payloads of other events are not validated (see ``Ledger/restore(from:to:expectHead:expectCount:progress:)``).
extension Ledger {
    /// How far the last `recorded_at` of a restored archive may be ahead of this machine's clock:
    /// two machines' clocks differ a little, and an archive is restored after it was made.
    static let restoreClockSkewMillis: Int64 = 86_400_000

    /// Refuses an archive whose last event was recorded more than a day after now: every event
    /// recorded into the restored ledger would take that time (`recorded_at` never decreases).
    /// - Throws: ``LedgerError/Kind/invalidInput`` at the last seq.
    static func checkRecordedBeforeNow(_ chain: VerifyReport, archive: String, nowMillis: Int64 = UTCTime.nowMillis()) throws {
        guard let last = UTCTime.millis(recordedAt: chain.lastRecordedAt.utf8), last > nowMillis + restoreClockSkewMillis else { return }
        throw LedgerError(
            .invalidInput,
            "the record cannot be restored: it was recorded at \(chain.lastRecordedAt), more than a day after this machine's clock (\(UTCTime.format(millis: nowMillis))); every event recorded into the ledger would take that time",
            seq: chain.count, file: archive, line: Int(chain.count))
    }

    /// Checks every correction and retraction of the restored ledger, in seq order, as an append
    /// would have checked it then, against the log before it: its meta, its payload against its
    /// own schema, its target (an earlier event in the same stream that may be changed and is not
    /// withdrawn), `target_type`, a correction's new payload and its list of `changes`, and the
    /// streams that payload refers to (existing, not withdrawn). Its own `occurred_at` is its `recorded_at`.
    /// - Throws: the append's error (65) as a restore error naming the seq and line.
    func checkCorrections(archive: String) throws {
        try store.read { db in
            // Their seqs through the partial index, then sorted: ordered by seq, SQLite would
            // rather scan the whole table (0.13 s of a 1M-event restore with no correction).
            let seqs = try Int64.fetchAll(db, sql: "SELECT seq FROM events INDEXED BY events_target WHERE target IS NOT NULL").sorted()
            let rows = try db.makeStatement(sql: "SELECT \(SQLiteEventStore.columns) FROM events WHERE seq = ?")
            let raw = RawStatement(rows, in: db)
            for seq in seqs {
                raw.reset()
                try raw.bind(1, seq)
                guard try raw.step() else { continue }
                let record = SQLiteEventStore.record(raw)
                do {
                    try checkCorrection(record, in: db)
                } catch let error as LedgerError {
                    throw LedgerError(
                        error.kind == .integrity ? .invalidInput : error.kind, "the record cannot be restored: \(error.message)",
                        seq: record.seq, file: archive, line: Int(record.seq), eventType: record.type, stream: error.stream ?? record.stream, field: error.field)
                }
            }
        }
    }

    private func checkCorrection(_ record: EventRecord, in db: Database) throws {
        let type = try catalog.resolve(record.type, version: record.version)
        func invalid(_ message: String, field: String? = nil) -> LedgerError {
            LedgerError(.invalidInput, "'\(type.name)' event rejected: \(message)", field: field)
        }
        guard case .object(let given) = record.meta, case .object(let data) = record.data else {
            throw invalid("its data and meta are \(record.data.kindDescription) and \(record.meta.kindDescription) but expected objects")
        }
        let meta = try AppendContext.checkMeta(given, type: type.name)
        var references: [StreamReference] = []
        do { try type.root.validate(record.data, path: "", references: &references) } catch {
            throw invalid(error.message, field: error.field)
        }
        guard record.occurredAt == record.recordedAt else {
            throw invalid("its occurred_at \(record.occurredAt) is not its recorded_at \(record.recordedAt): a correction or retraction happens when it is recorded", field: "occurred_at")
        }
        let before = LogPrefix(db: db, before: record.seq)
        var context = AppendContext(session: before, catalog: catalog, actor: record.recordedBy, allowSystem: false, recordedAt: record.recordedAt)
        context.restoring = true
        let resolved = try context.checkCorrection(type: type, data: data, meta: meta, references: &references)
        guard resolved.stream == record.stream else {
            throw invalid("it is in stream '\(record.stream)', but the event it concerns is in stream '\(resolved.stream)'")
        }
        // As the log stood before it, through the view: an append's own check.
        try context.checkReferences(references) { invalid($0, field: $1) }
    }
}

/// The log as it stood before one seq, read-only: what an append of that seq could see.
private final class LogPrefix: AppendSession {
    let db: Database
    let limit: Int64

    init(db: Database, before seq: Int64) {
        self.db = db
        limit = seq
    }

    var head: ChainHead { ChainHead(seq: limit - 1, hash: "", recordedAt: "") }

    func streamVersion(_ stream: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT max(stream_version) FROM events WHERE stream = ? AND seq < ?", arguments: [stream, limit]) ?? 0
    }

    func event(idempotencyKey: String) throws -> EventRecord? {
        try records("WHERE idempotency_key = ? AND seq < ?", idempotencyKey).first
    }

    func event(id: String) throws -> EventRecord? {
        try records("WHERE id = ? AND seq < ?", id).first
    }

    func events(targeting id: String) throws -> [EventRecord] {
        try records("WHERE target = ? AND seq < ? ORDER BY seq", id)
    }

    func hasRetractions() throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE target IS NOT NULL AND type = 'event-retracted' AND seq < ?)", arguments: [limit]) ?? false
    }

    func isWithdrawn(_ stream: String, openingTypes: [String]) throws -> Bool {
        try SQLiteEventStore.isWithdrawn(stream, openingTypes: openingTypes, before: limit, in: db)
    }

    func insert(_ record: EventRecord, occurred: OccurredAt, idempotencyKey: String?, target: String?) throws {
        throw LedgerError(.internalError, "a view of the log before seq \(limit) is read-only")
    }

    private func records(_ condition: String, _ argument: String) throws -> [EventRecord] {
        let statement = try db.cachedStatement(sql: "SELECT \(SQLiteEventStore.columns) FROM events \(condition)")
        try statement.setArguments([argument, limit])
        let raw = RawStatement(statement, in: db)
        var result: [EventRecord] = []
        while try raw.step() { result.append(SQLiteEventStore.record(raw)) }
        return result
    }
}
