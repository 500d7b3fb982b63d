/// The current fields of one entity, folded from its events.
public struct EntityState: Sendable, Equatable {
    /// The stream, e.g. `project/cities4csr`.
    public var stream: String
    /// Every payload field, the latest value winning (in valid-time order).
    public var fields: [String: JSONValue]
    /// The events folded, in valid-time order: seq, type, occurred_at.
    public var events: [(seq: Int64, type: String, occurredAt: String)]

    public static func == (a: EntityState, b: EntityState) -> Bool {
        a.stream == b.stream && a.fields == b.fields && a.events.map(\.seq) == b.events.map(\.seq)
    }
}

/// One line of an entity's audit trail.
public struct HistoryEntry: Sendable, Equatable {
    /// The event.
    public var record: EventRecord
    /// What it says (`field = value`), or for a correction its changes (`field: old → new`).
    public var changes: [String]
    /// Whether it was retracted (by the asked-for transaction time).
    public var retracted: Bool
    /// Whether a later correction replaced its data.
    public var corrected: Bool
}

extension Ledger {
    /// The events of one stream visible at `time`, corrections applied, in valid-time order.
    func streamEvents(_ stream: String, time: ReportTime) throws -> (events: [(EventRecord, JSONValue, OccurredAt)], all: [EventRecord], index: CorrectionIndex) {
        var filter = EventFilter()
        filter.stream = stream
        if let knownAt = time.knownAt { filter.recordedUntil = knownAt.end }
        let all = try events(filter)
        guard !all.isEmpty else {
            throw LedgerError(.notFound, "stream '\(stream)' has no events\(time.isNow ? "" : " at that time"); expected e.g. project/cities4csr (`kopa log` lists streams)")
        }
        let index = try store.read { db in try CorrectionIndex.load(db, knownAt: time.knownAt?.end) }
        var visible: [(EventRecord, JSONValue, OccurredAt)] = []
        for record in all where record.type != "event-corrected" && record.type != "event-retracted" {
            let effective = index.effective(record)
            if effective.retracted { continue }
            let occurred = try OccurredAt(effective.occurredAt)
            if let asOf = time.asOf, occurred.end > asOf.end { continue }
            visible.append((record, effective.data, occurred))
        }
        visible.sort { ($0.2.start, $0.0.seq) < ($1.2.start, $1.0.seq) }
        return (visible, all, index)
    }

    /// The current state of an entity: its fields folded from its events.
    /// - Throws: ``LedgerError/Kind/notFound`` for a stream without events.
    public func state(of stream: String, time: ReportTime = ReportTime()) throws -> EntityState {
        let (events, _, _) = try streamEvents(stream, time: time)
        var fields: [String: JSONValue] = [:]
        for (_, data, _) in events {
            for (key, value) in data.objectValue ?? [:] { fields[key] = value }
        }
        return EntityState(stream: stream, fields: fields, events: events.map { ($0.0.seq, $0.0.type, $0.2.text) })
    }

    /// The audit trail of an entity: every event in the order it was recorded, with what it changed.
    public func history(of stream: String, time: ReportTime = ReportTime()) throws -> [HistoryEntry] {
        let (_, all, index) = try streamEvents(stream, time: time)
        var entries: [HistoryEntry] = []
        let seqOf = Dictionary(all.map { ($0.id, $0.seq) }, uniquingKeysWith: { first, _ in first })
        func name(_ id: String?) -> String { id.map { seqOf[$0].map { "seq \($0)" } ?? $0 } ?? "?" }
        for record in all {
            if let asOf = time.asOf, let occurred = try? OccurredAt(record.occurredAt), occurred.end > asOf.end { continue }
            var changes: [String] = []
            if record.type == "event-corrected" {
                var list: [JSONValue] = []
                if case .array(let items)? = record.data["changes"] { list = items }
                for change in list {
                    let field = change["field"]?.stringValue ?? "?"
                    changes.append("\(field): \(change["from"].map(\.shortDescription) ?? "—") → \(change["to"].map(\.shortDescription) ?? "—")")
                }
                changes.insert("corrects \(name(record.meta["corrects"]?.stringValue))", at: 0)
            } else if record.type == "event-retracted" {
                changes.append("retracts \(name(record.meta["retracts"]?.stringValue))")
            } else {
                // What the event says. Two events of a stream are separate facts (two commitments
                // are not one changed commitment), so only corrections show old → new.
                for (key, value) in (record.data.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    changes.append("\(key) = \(value.shortDescription)")
                }
            }
            if let reason = record.meta["reason"]?.stringValue { changes.append("reason: \(reason)") }
            entries.append(HistoryEntry(
                record: record, changes: changes, retracted: index.retracted.contains(record.id),
                corrected: index.corrections[record.id] != nil))
        }
        return entries
    }
}
