/// The current fields of one entity, folded from its events.
///
/// Only the events of the type that opened the stream (`project-registered` for `project/…`,
/// `plan-drafted` for `plan/…`) describe the entity itself, so only they are folded into `fields`.
/// Every other event in the stream is a fact of its own in the entity's life (a phase, a partner, a
/// commitment, a verification, a council formed, an approval): the same field name means something
/// else there (a phase's `title` is not the project's), so those are listed in `facts` instead.
public struct EntityState: Sendable, Equatable {
    /// One event of another type than the opening one, with its payload (corrections applied).
    public struct Fact: Sendable, Equatable {
        /// The event's seq.
        public var seq: Int64
        /// The event type.
        public var type: String
        /// When it happened (as corrected).
        public var occurredAt: String
        /// Its payload fields.
        public var data: [String: JSONValue]
    }

    /// The stream, e.g. `project/cities4csr`.
    public var stream: String
    /// The type of the event that opened the stream, whose events make up `fields`.
    public var openedBy: String
    /// The payload fields of the opening type's events, the latest value winning (valid-time order).
    public var fields: [String: JSONValue]
    /// For each of `fields`, the seq of the event its value comes from.
    public var fieldSeqs: [String: Int64]
    /// The stream's events of other types, in valid-time order.
    public var facts: [Fact]
    /// The events folded, in valid-time order: seq, type, occurred_at.
    public var events: [(seq: Int64, type: String, occurredAt: String)]
    /// Whether every event of the opening type was retracted: the entity was withdrawn, and
    /// `fields` is empty for that reason (not because nothing had happened yet).
    public var withdrawn = false

    /// Equal in what the state says: its stream, opening events, fields and facts.
    public static func == (a: EntityState, b: EntityState) -> Bool {
        a.stream == b.stream && a.openedBy == b.openedBy && a.fields == b.fields && a.facts == b.facts
            && a.events.map(\.seq) == b.events.map(\.seq) && a.withdrawn == b.withdrawn
    }
}

/// One line of an entity's audit trail.
public struct HistoryEntry: Sendable, Equatable {
    /// The event.
    public var record: EventRecord
    /// What it says (`field = value`), or for a correction its changes (`field: old → new`), for
    /// reading: values whole (a long one is for the reader to fold, not to cut: a correction that
    /// changes a text's end would otherwise show the same value twice).
    public var changes: [String]
    /// The same, exact: an event's payload; a correction's list of changes (`field`, `from`, `to`);
    /// nothing (an empty list) for a retraction.
    public var said: JSONValue
    /// The seq of the event a correction or retraction concerns directly.
    public var target: Int64?
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
            // Of a stream that exists, its first event was recorded after --known-at (--as-of does
            // not filter here); of one that does not, the nearest name is the likelier answer.
            let exists = try hasStream(stream)
            let when = time.knownAt.map { " known at \($0.end)" + (exists ? " (its first event was recorded later)" : "") } ?? ""
            throw LedgerError(.notFound, "stream '\(stream)' has no events\(when)\(exists ? "" : try streamHint(stream)); expected e.g. project/cities4csr (`kopa log` lists streams)")
        }
        // A stream's corrections and retractions are in the stream: one recorded after `all` was
        // read is left out, as it is from `all`.
        let index = try store.read { db in try CorrectionIndex.load(db, knownAt: time.knownAt?.end, untilSeq: all.last?.seq) }
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
        let (events, all, index) = try streamEvents(stream, time: time)
        // The stream's first event opened it (`x-kopa-creates`), even when it was later retracted.
        let openedBy = all.first { $0.type != "event-corrected" && $0.type != "event-retracted" }?.type ?? ""
        var fields: [String: JSONValue] = [:]
        var fieldSeqs: [String: Int64] = [:]
        var facts: [EntityState.Fact] = []
        for (record, data, occurred) in events {
            if record.type == openedBy {
                for (key, value) in data.objectValue ?? [:] {
                    fields[key] = value
                    fieldSeqs[key] = record.seq
                }
            } else {
                facts.append(EntityState.Fact(seq: record.seq, type: record.type, occurredAt: occurred.text, data: data.objectValue ?? [:]))
            }
        }
        var state = EntityState(stream: stream, openedBy: openedBy, fields: fields, fieldSeqs: fieldSeqs, facts: facts, events: events.map { ($0.0.seq, $0.0.type, $0.2.text) })
        state.withdrawn = all.filter { $0.type == openedBy }.allSatisfy { index.retracted.contains($0.id) }
        return state
    }

    /// The audit trail of an entity: every event in the order it was recorded, with what it changed.
    public func history(of stream: String, time: ReportTime = ReportTime()) throws -> [HistoryEntry] {
        let (_, all, index) = try streamEvents(stream, time: time)
        var entries: [HistoryEntry] = []
        let seqOf = Dictionary(all.map { ($0.id, $0.seq) }, uniquingKeysWith: { first, _ in first })
        func name(_ id: String?) -> String { id.map { seqOf[$0].map { "seq \($0)" } ?? $0 } ?? "?" }
        func seq(_ id: String?) -> Int64? { id.flatMap { seqOf[$0] } }
        // At a valid time, an event counts by its corrected occurred_at, and a correction or
        // retraction is shown with its target (its own occurred_at is only when it was recorded).
        var hidden: Set<String> = []
        if let asOf = time.asOf {
            for record in all where record.type != "event-corrected" && record.type != "event-retracted" {
                if let occurred = try? OccurredAt(index.effective(record).occurredAt), occurred.end > asOf.end { hidden.insert(record.id) }
            }
        }
        var correctionTargets: [String: String] = [:]
        for record in all where record.type == "event-corrected" { correctionTargets[record.id] = record.meta["corrects"]?.stringValue }
        for record in all {
            // The event a line is about: itself, or the original a correction or retraction concerns.
            var subject = record.meta["corrects"]?.stringValue ?? record.meta["retracts"]?.stringValue ?? record.id
            var passed: Set<String> = []
            while let original = correctionTargets[subject], passed.insert(subject).inserted { subject = original }  // a correction of a correction …
            if hidden.contains(subject) { continue }
            var changes: [String] = []
            var said = record.data
            if record.type == "event-corrected" {
                var list: [JSONValue] = []
                if case .array(let items)? = record.data["changes"] { list = items }
                said = .array(list)
                for change in list {
                    let field = change["field"]?.stringValue ?? "?"
                    changes.append("\(field): \(change["from"].map(\.quotedDescription) ?? "—") → \(change["to"].map(\.quotedDescription) ?? "—")")
                }
                changes.insert("corrects \(name(record.meta["corrects"]?.stringValue))", at: 0)
            } else if record.type == "event-retracted" {
                changes.append("retracts \(name(record.meta["retracts"]?.stringValue))")
                said = .array([])
            } else {
                // What the event says. Two events of a stream are separate facts (two commitments
                // are not one changed commitment), so only corrections show old → new.
                for (key, value) in (record.data.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    changes.append("\(key) = \(value.quotedDescription)")
                }
            }
            if let reason = record.meta["reason"]?.stringValue { changes.append("reason: \(reason)") }
            entries.append(HistoryEntry(
                record: record, changes: changes, said: said,
                target: seq(record.meta["corrects"]?.stringValue ?? record.meta["retracts"]?.stringValue),
                retracted: index.retracted.contains(record.id),
                corrected: index.corrections[record.id] != nil))
        }
        return entries
    }
}
