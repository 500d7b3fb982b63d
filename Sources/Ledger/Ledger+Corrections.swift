/// Corrections and retractions: new events that point at the event they fix, never edits.
///
/// Rules (the engine applies them at replay):
/// - `event-corrected` carries the complete new payload (and optionally a new `occurred_at`) of
///   its target; correcting a correction corrects the same original event again.
/// - `event-retracted` withdraws its target; retracting a correction brings back what the
///   original (or an earlier correction) said. Only the latest correction in force can be
///   retracted: a later one repeats its changes (see ``checkCorrection``).
/// - The latest correction known at the asked-for time wins; a retracted event is skipped.
/// - `ledger-created`, `schema-registered` and retractions cannot be corrected or retracted, a
///   retracted event cannot be corrected, and every correction or retraction needs a reason.
extension AppendContext {
    mutating func checkCorrection(type: EventType, data: [String: JSONValue], meta: [String: JSONValue], references: inout [StreamReference]) throws -> (stream: String, target: String) {
        let correcting = type.name == "event-corrected"
        let key = correcting ? "corrects" : "retracts"
        let verb = correcting ? "correct" : "retract"
        func invalid(_ message: String) -> LedgerError { LedgerError(.invalidInput, "'\(type.name)' event rejected: \(message)") }
        guard let targetID = meta[key]?.stringValue else {
            throw invalid("meta.\(key) must name the id of the event to \(verb)")
        }
        // A reason of blanks says nothing: an auditor must be able to read why.
        guard let reason = meta["reason"]?.stringValue, !reason.isBlank else {
            throw invalid("a reason is required (--reason TEXT): say why the event is \(correcting ? "corrected" : "retracted")")
        }
        guard let target = try session.event(id: targetID) else {
            throw invalid("there is no event with id '\(targetID)' to \(verb)")
        }
        if let refusal = Ledger.refusal(toChange: target, action: correcting ? "corrected" : "retracted") { throw invalid(refusal) }
        if let retraction = try session.events(targeting: targetID).first(where: { $0.type == "event-retracted" }) {
            throw invalid("the event at seq \(target.seq) was retracted at seq \(retraction.seq) and cannot be \(correcting ? "corrected" : "retracted again")")
        }
        var root = target
        while root.type == "event-corrected" {
            // An earlier event, always: two corrections naming each other (a forged archive,
            // restored) would otherwise be walked forever.
            guard let next = root.meta["corrects"]?.stringValue, let original = try session.event(id: next), original.seq < root.seq else {
                throw invalid("the correction at seq \(root.seq) names no earlier event it corrects")
            }
            root = original
        }
        guard correcting else {
            guard data["target_type"]?.stringValue == target.type else {
                throw invalid("target_type is \(data["target_type"]?.shortDescription ?? "missing") but the event at seq \(target.seq) is a '\(target.type)'")
            }
            // Every correction carries the whole payload as corrected so far, so a later one
            // repeats this one's changes: withdrawing this one alone would leave its payload
            // changes in force and undo only its change of date.
            if root.seq != target.seq,
                let later = try chainActions(of: root).effective.last(where: { $0.type == "event-corrected" && $0.seq > target.seq })
            {
                throw invalid("the correction at seq \(target.seq) is not the latest of seq \(root.seq): the correction at seq \(later.seq) came after it and repeats its changes; retract seq \(later.seq) first, or correct seq \(root.seq) again")
            }
            return (target.stream, targetID)
        }
        if root.seq != target.seq, let retraction = try session.events(targeting: root.id).first(where: { $0.type == "event-retracted" }) {
            throw invalid("the corrected event at seq \(root.seq) was retracted at seq \(retraction.seq) and cannot be corrected")
        }
        guard data["target_type"]?.stringValue == root.type else {
            throw invalid("target_type is \(data["target_type"]?.shortDescription ?? "missing") but the event at seq \(root.seq) is a '\(root.type)'")
        }
        let rootType = try catalog.resolve(root.type, version: root.version)
        guard let newData = data["data"], case .object(let newFields) = newData else {
            throw invalid("data.data must be the complete new payload of the '\(root.type)' event")
        }
        do { try rootType.root.validate(newData, path: "", references: &references) } catch {
            throw invalid("the new data is not a valid '\(root.type)': \(error.message)")
        }
        if let moved = rootType.stream(for: newFields), moved != root.stream {
            throw invalid("the new data would move the event from stream '\(root.stream)' to '\(moved)'; retract it and record it anew instead")
        }
        if let when = data["occurred_at"]?.stringValue { try OccurredAt(when, field: "data.occurred_at").checkHasHappened(by: recordedAt, field: "data.occurred_at") }
        try checkChanges(data["changes"], of: root, newFields: newFields, newOccurredAt: data["occurred_at"]?.stringValue)
        return (root.stream, targetID)
    }

    /// Checks that a correction's `changes` are exactly what `correctionDraft` would write now:
    /// `kopa history` shows this list as the correction, so a list that names another field, or
    /// none, would tell the reader something the log does not say.
    ///
    /// Decision: the order counts. `correctionDraft`'s order is canonical (payload fields in
    /// canonical key order, then `occurred_at`), the list is hashed with the record, and one
    /// correction has one right list, so the list must equal it element by element.
    private func checkChanges(_ given: JSONValue?, of root: EventRecord, newFields: [String: JSONValue], newOccurredAt: String?) throws {
        // The payload and valid time as corrected so far, read inside this transaction (so
        // corrections earlier in the same import count): the rules of ``Ledger/effectiveEvent(_:)``.
        let chain = try chainActions(of: root)
        let current = chain.index.effective(root)
        let before = current.data.objectValue ?? [:]
        let expected = Ledger.correctionChanges(from: before, occurredAt: current.occurredAt, to: newFields, newOccurredAt: newOccurredAt)
        // Two clerks correcting one event at once: the second's changes were worked out before the
        // first's correction, so the error says which correction the event stands on now.
        let latest = chain.effective.last { $0.type == "event-corrected" }
        func invalid(_ message: String) -> LedgerError {
            var expectedText = CanonicalJSON.string(.array(expected))
            if expectedText.count > 500 { expectedText = String(expectedText.prefix(497)) + "…" }
            let since = restoring ? nil : latest.map {
                "; seq \(root.seq) stands as corrected at seq \($0.seq) (recorded \($0.recordedAt) by \($0.recordedBy)): if that came meanwhile, make the correction again from what the event says now"
            }
            return LedgerError(
                .invalidInput, "'event-corrected' event rejected: data.changes does not match the correction of seq \(root.seq): \(message)"
                    + (expected.isEmpty ? "" : "; expected \"changes\": \(expectedText)") + (since ?? ""),
                eventType: "event-corrected", stream: root.stream, field: "changes")
        }
        guard !expected.isEmpty else {
            throw invalid("the correction changes nothing (its data\(newOccurredAt == nil ? "" : " and occurred_at") are what the event says now); give the fields that change")
        }
        guard case .array(let list)? = given else {
            throw invalid("it is \(given?.shortDescription ?? "missing") but expected the list of changed fields")
        }
        if list == expected { return }
        func field(_ change: JSONValue) -> String { change["field"]?.stringValue ?? "" }
        func fromTo(_ change: JSONValue) -> String {
            "from \(change["from"]?.shortDescription ?? "(not set)") to \(change["to"]?.shortDescription ?? "(not set)")"
        }
        let listed = list.map(field)
        if let repeated = listed.enumerated().first(where: { listed[..<$0.offset].contains($0.element) })?.element {
            throw invalid("field '\(repeated)' is listed twice")
        }
        for change in list where !expected.contains(where: { field($0) == field(change) }) {
            let name = field(change)
            let now = name == "occurred_at" && before[name] == nil ? JSONValue.string(current.occurredAt) : before[name]
            throw invalid("it lists field '\(name)' (\(fromTo(change))), but '\(name)' does not change (it is \(now?.shortDescription ?? "not set") before and after)")
        }
        for change in expected {
            let name = field(change)
            guard let claimed = list.first(where: { field($0) == name }) else {
                throw invalid("field '\(name)' changes \(fromTo(change)) but is not listed")
            }
            if claimed != change {
                throw invalid("it says field '\(name)' changes \(fromTo(claimed)), but it changes \(fromTo(change))")
            }
        }
        throw invalid("it lists the right fields in another order, \(listed.joined(separator: ", ")); expected \(expected.map(field).joined(separator: ", ")) (payload fields in key order, then occurred_at)")
    }

    /// The corrections and retractions of `root`'s chain (corrections of corrections included),
    /// in seq order, and those of them that are in force (not retracted).
    private func chainActions(of root: EventRecord) throws -> (index: CorrectionIndex, effective: [EventRecord]) {
        var actions: [EventRecord] = []
        var pending = [root.id]
        while let id = pending.popLast() {
            for action in try session.events(targeting: id) {
                actions.append(action)
                if action.type == "event-corrected" { pending.append(action.id) }
            }
        }
        actions.sort { $0.seq < $1.seq }
        let index = CorrectionIndex(actions)
        return (index, actions.filter { !index.retracted.contains($0.id) })
    }
}

extension Ledger {
    /// The event a correction chain ends at, and its payload and valid time as corrected now.
    public func effectiveEvent(_ record: EventRecord) throws -> (original: EventRecord, data: JSONValue, occurredAt: String, retracted: Bool) {
        var root = record
        // Always to an earlier event (see checkCorrection): a forged loop ends.
        while root.type == "event-corrected", let next = root.meta["corrects"]?.stringValue, let original = try store.event(id: next), original.seq < root.seq {
            root = original
        }
        let actions = try store.read { db in try CorrectionIndex.load(db, knownAt: nil) }
        let effective = actions.effective(root)
        return (root, effective.data, effective.occurredAt, effective.retracted)
    }

    /// Builds the correction of an event: `set` changes fields (keeping the rest), `remove` drops
    /// optional fields, `replaceData` replaces the payload whole; `occurredAt` moves it in time.
    /// - Throws: ``LedgerError`` when the event does not exist, nothing would change, or no reason is given.
    public func correctionDraft(
        of reference: String, set: [String: JSONValue] = [:], remove: [String] = [], replaceData: JSONValue? = nil,
        occurredAt: String? = nil, reason: String?, source: String? = nil
    ) throws -> EventDraft {
        guard let reason, !reason.isBlank else {
            throw LedgerError(.invalidInput, "a correction needs --reason TEXT saying why the event is corrected")
        }
        let target = try event(referredToBy: reference, toBe: "corrected")
        let current = try effectiveEvent(target)
        guard case .object(var fields) = current.data else {
            throw LedgerError(.internalError, "the payload of seq \(target.seq) is not an object")
        }
        if let replaceData {
            guard case .object(let replacement) = replaceData else {
                throw LedgerError(.invalidInput, "--data is \(replaceData.kindDescription) but expected a JSON object")
            }
            fields = replacement
        }
        if let both = CanonicalJSON.sortedKeys(Set(set.keys).intersection(remove)).first {
            throw LedgerError(.invalidInput, "field '\(both)' is both given a value and removed (--remove \(both)); give one of the two")
        }
        for (key, value) in set { fields[key] = value }
        let had = current.data.objectValue ?? [:]
        for key in remove where fields.removeValue(forKey: key) == nil {
            // --data replaces the payload whole: a field it leaves out is removed already.
            if replaceData != nil, had[key] != nil {
                throw LedgerError(.invalidInput, "--remove \(key) with --data: the payload given with --data already leaves out '\(key)' (seq \(target.seq) has it); --data replaces the whole payload, so give --data alone")
            }
            let known = CanonicalJSON.sortedKeys(Set(had.keys)).joined(separator: ", ")
            throw LedgerError(.invalidInput, "--remove \(key): seq \(target.seq) has no field '\(key)' to remove; its fields are \(known)")
        }
        let changes = Ledger.correctionChanges(
            from: current.data.objectValue ?? [:], occurredAt: current.occurredAt, to: fields, newOccurredAt: occurredAt)
        var data: [String: JSONValue] = ["target_type": .string(current.original.type), "data": .object(fields)]
        if let occurredAt, occurredAt != current.occurredAt {
            data["occurred_at"] = .string(occurredAt)
        }
        data["changes"] = .array(changes)
        guard !changes.isEmpty else {
            let options = CanonicalJSON.sortedKeys(Set(fields.keys)).map(EventType.optionName(forField:))
            throw LedgerError(.invalidInput, "the correction of seq \(target.seq) changes nothing; give the fields that change, with new values (its fields: \(options.joined(separator: ", ")))")
        }
        var meta: [String: JSONValue] = ["corrects": .string(target.id), "reason": .string(reason)]
        if let source { meta["source"] = .string(source) }
        return EventDraft(type: "event-corrected", data: .object(data), meta: meta)
    }

    /// The `changes` list of a correction: every payload field whose value differs between
    /// `before` and `after`, in canonical key order, each as `{field, from?, to?}` (`from` absent
    /// for a new field, `to` for a removed one), then `occurred_at` when `newOccurredAt` moves the
    /// event. `correctionDraft` writes this list and every append of a correction checks it, so
    /// both use this one diff.
    static func correctionChanges(
        from before: [String: JSONValue], occurredAt: String, to after: [String: JSONValue], newOccurredAt: String?
    ) -> [JSONValue] {
        var changes: [JSONValue] = []
        for key in CanonicalJSON.sortedKeys(Set(before.keys).union(after.keys)) where before[key] != after[key] {
            var change: [String: JSONValue] = ["field": .string(key)]
            if let old = before[key] { change["from"] = old }
            if let new = after[key] { change["to"] = new }
            changes.append(.object(change))
        }
        if let newOccurredAt, newOccurredAt != occurredAt {
            changes.append(.object(["field": "occurred_at", "from": .string(occurredAt), "to": .string(newOccurredAt)]))
        }
        return changes
    }

    /// The event a correction or retraction names (`action`: "corrected", "retracted"). One that
    /// does not exist is rejected input (65), as it is in an import line, not a missing file (66).
    /// One that can never be corrected or retracted is refused here, before its fields are read:
    /// `kopa correct 5 --title x` on a system event said "unknown field 'title'".
    public func event(referredToBy reference: String, toBe action: String) throws -> EventRecord {
        let target: EventRecord
        do {
            target = try event(reference)
        } catch let error as LedgerError where error.kind == .notFound {
            throw LedgerError(.invalidInput, "the event to be \(action) does not exist: \(error.message)")
        }
        if let refusal = Self.refusal(toChange: target, action: action) { throw LedgerError(.invalidInput, refusal, seq: target.seq) }
        return target
    }

    /// Why `target` can never be corrected or retracted (`action`), or nil: one sentence for the
    /// command line's drafts and for an import line's correction alike.
    static func refusal(toChange target: EventRecord, action: String) -> String? {
        switch target.type {
        case "ledger-created", "schema-registered": "the '\(target.type)' event at seq \(target.seq) cannot be \(action): system events are fixed"
        case "event-retracted": "the retraction at seq \(target.seq) cannot be \(action); record the withdrawn event again instead"
        default: nil
        }
    }

    /// Builds the retraction of an event.
    /// - Throws: ``LedgerError`` when the event does not exist or no reason is given.
    public func retractionDraft(of reference: String, reason: String?, source: String? = nil) throws -> EventDraft {
        guard let reason, !reason.isBlank else {
            throw LedgerError(.invalidInput, "a retraction needs --reason TEXT saying why the event is withdrawn")
        }
        let target = try event(referredToBy: reference, toBe: "retracted")
        var meta: [String: JSONValue] = ["retracts": .string(target.id), "reason": .string(reason)]
        if let source { meta["source"] = .string(source) }
        return EventDraft(type: "event-retracted", data: .object(["target_type": .string(target.type)]), meta: meta)
    }
}

extension JSONValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension Ledger {
    /// What to tell a clerk whose correction of `target` named idempotency key `key`, first used
    /// for `existing`: nil when that is a correction of the same event that leaves it as this one
    /// would (`set`, `remove`, `replaceData`, `occurredAt` as for ``correctionDraft(of:set:remove:replaceData:occurredAt:reason:source:)``),
    /// else that nothing was corrected, naming what differs, or quoting `unreadable`: why this
    /// command's values could not be read (they are then not compared). Exit 0 all the same, as
    /// DESIGN.md has a repeated key end (a repeat answers before its values are checked, as `record`'s does).
    public func reusedKeyNote(
        _ key: String, existing: EventRecord, correcting target: EventRecord,
        set: [String: JSONValue] = [:], remove: [String] = [], replaceData: [String: JSONValue]? = nil, occurredAt: String? = nil,
        unreadable: String? = nil
    ) throws -> String? {
        let nothing = "nothing was corrected (a repeated key appends nothing)"
        let first = "idempotency key '\(key)' was first used for seq \(existing.seq)"
        guard existing.type == "event-corrected", try effectiveEvent(existing).original.id == target.id else {
            return "\(first) ('\(existing.type)' in \(existing.stream)), not for a correction of seq \(target.seq); \(nothing); to correct it, use a new key"
        }
        if let unreadable {
            return "\(first), a correction of seq \(target.seq); this command's values were not compared with it: \(unreadable); \(nothing)"
        }
        // What the first correction left, and what this one would leave on top of it.
        let made = existing.data["data"]?.objectValue ?? [:]
        var asked = replaceData ?? made
        for (field, value) in set { asked[field] = value }
        for field in remove { asked[field] = nil }
        var differing = CanonicalJSON.sortedKeys(Set(made.keys).union(asked.keys)).filter { made[$0] != asked[$0] }
        if let occurredAt {
            // The date it left: its own, or the one in force just before it (not today's, which a
            // later correction may have moved).
            var madeOccurredAt = existing.data["occurred_at"]?.stringValue
            if madeOccurredAt == nil {
                let original = try effectiveEvent(existing).original
                let before = try store.read { db in try CorrectionIndex.load(db, knownAt: nil, untilSeq: existing.seq - 1) }
                madeOccurredAt = before.effective(original).occurredAt
            }
            if occurredAt != madeOccurredAt { differing.append("occurred_at") }
        }
        guard !differing.isEmpty else { return nil }
        return "\(first), a correction of seq \(target.seq) that says something else (\(differing.joined(separator: ", "))); \(nothing); to correct it again, use a new key"
    }
}
