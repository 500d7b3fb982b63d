import GRDB

/// Every correction and retraction known at a transaction time, so that replay can apply, for
/// each event, the latest correction and skip the retracted ones. Corrections are rare, so the
/// whole index fits in memory.
public struct CorrectionIndex: Sendable {
    /// Non-retracted corrections per original event id, in seq order.
    public private(set) var corrections: [String: [EventRecord]] = [:]
    /// Ids of retracted events.
    public private(set) var retracted: Set<String> = []

    /// Builds the index from correction and retraction records in seq order.
    public init(_ actions: [EventRecord]) {
        for action in actions where action.type == "event-retracted" {
            if let target = action.meta["retracts"]?.stringValue { retracted.insert(target) }
        }
        var byID: [String: EventRecord] = [:]
        for action in actions where action.type == "event-corrected" { byID[action.id] = action }
        for action in actions where action.type == "event-corrected" && !retracted.contains(action.id) {
            // Down the chain of corrections of corrections to the original, however long it is
            // (each correction names an earlier event; the set only guards against a forged loop).
            var root = action.meta["corrects"]?.stringValue ?? ""
            var passed: Set<String> = [action.id]
            while let intermediate = byID[root], passed.insert(root).inserted {
                root = intermediate.meta["corrects"]?.stringValue ?? ""
            }
            corrections[root, default: []].append(action)
        }
    }

    /// Loads the actions recorded up to `knownAt` (all when nil) and up to seq `untilSeq`.
    ///
    /// `untilSeq` is the head a replay reads up to: a retraction appended after it (another
    /// process's import, between the head's reading and this one) must not apply to events
    /// the replay delivers as of that head, or a report shows a state the log never had.
    static func load(_ db: Database, knownAt: String?, untilSeq: Int64? = nil) throws -> CorrectionIndex {
        // INDEXED BY: left to itself SQLite scans the whole table in seq order rather than sort the
        // few rows of the partial index.
        var sql = "SELECT \(SQLiteEventStore.columns) FROM events INDEXED BY events_target WHERE target IS NOT NULL"
        var arguments: [any DatabaseValueConvertible] = []
        if let knownAt {
            sql += " AND recorded_at <= ?"
            arguments.append(knownAt)
        }
        if let untilSeq {
            sql += " AND seq <= ?"
            arguments.append(untilSeq)
        }
        sql += " ORDER BY seq"
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(StatementArguments(arguments))
        let raw = RawStatement(statement, in: db)
        var actions: [EventRecord] = []
        while try raw.step() { actions.append(SQLiteEventStore.record(raw)) }
        return CorrectionIndex(actions)
    }

    /// The event as corrected: its payload, valid time, and whether it is retracted. A retracted
    /// event keeps its corrections here: its history at a valid time goes by its corrected date.
    public func effective(_ record: EventRecord) -> (data: JSONValue, occurredAt: String, retracted: Bool) {
        let isRetracted = retracted.contains(record.id)
        guard let list = corrections[record.id] else { return (record.data, record.occurredAt, isRetracted) }
        var data = record.data
        var occurredAt = record.occurredAt
        for correction in list {
            let payload = correction.data
            if let replacement = payload["data"] { data = replacement }
            if let when = payload["occurred_at"]?.stringValue { occurredAt = when }
        }
        return (data, occurredAt, isRetracted)
    }
}
