/// What an append did.
public struct AppendSummary: Sendable, Equatable {
    /// Events appended.
    public var appended: Int = 0
    /// Drafts whose idempotency key had been used: nothing appended for them.
    public var repeated: Int = 0
    /// Of ``repeated``, the drafts whose key had been used for an event that says something else
    /// (another type, payload, meta or given `occurred_at`): DESIGN.md has them append nothing and
    /// answer with the first event, like any repeat, but the new content is then not in the log,
    /// and the caller must say so. At most ``exampleLimit`` are listed; this counts them all.
    public var reusedKeys: Int = 0
    /// The first of ``reusedKeys``, each with its line (or place among the drafts) and the event its key names.
    public var reusedKeyExamples: [ReusedKey] = []
    /// How many ``reusedKeyExamples`` (and ``notInForceExamples``) are kept: memory stays flat in
    /// an import of any size.
    public static let exampleLimit = 20
    /// Of ``repeated``, the drafts whose key first appended an event retracted since (or a
    /// correction of one): "already recorded" alone would let a clerk believe the fact is in force.
    public var notInForce: Int = 0
    /// The first of ``notInForce`` (at most ``exampleLimit``), each with its line and what to say.
    public var notInForceExamples: [NotInForce] = []
    /// The first event appended.
    public var first: EventRecord?
    /// The event of the last draft: appended, or the one its idempotency key first appended.
    public var last: EventRecord?
    /// The head after the append.
    public var head: ChainHead = .empty

    mutating func record(_ result: Committed, line: Int?) {
        if result.isNew {
            appended += 1
            if first == nil { first = result.record }
        } else {
            repeated += 1
            if let note = result.notInForce {
                notInForce += 1
                if notInForceExamples.count < Self.exampleLimit { notInForceExamples.append(NotInForce(line: line, note: note)) }
            }
            if result.reusedKey {
                reusedKeys += 1
                if reusedKeyExamples.count < Self.exampleLimit {
                    reusedKeyExamples.append(ReusedKey(line: line, key: result.record.meta["idempotency_key"]?.stringValue ?? "", event: result.record))
                }
            }
        }
        last = result.record
    }
}

/// A draft whose idempotency key first appended an event that is not in force.
public struct NotInForce: Sendable, Equatable {
    /// The draft's input line, or its place among the drafts (nil for a single draft).
    public var line: Int?
    /// What is not in force, and since which retraction.
    public var note: String
}

/// A draft that named an idempotency key already used for an event with other content.
public struct ReusedKey: Sendable, Equatable {
    /// The draft's input line, or its place among the drafts (nil for a single draft).
    public var line: Int?
    /// The key.
    public var key: String
    /// The event the key was first used for, which stands.
    public var event: EventRecord
}

extension AppendSummary {
    /// What a caller must tell the user about ``reusedKeys``, or nil when there were none: the
    /// new content is not in the log, though the command succeeded (exit 0, as DESIGN.md has a
    /// repeat end).
    public var reusedKeyNote: String? {
        guard reusedKeys > 0 else { return nil }
        let advice = "nothing was appended for \(reusedKeys == 1 ? "it" : "them") (a repeated key appends nothing); to record a different fact, use a new key"
        if reusedKeys == 1, let only = reusedKeyExamples.first, only.line == nil {
            return "idempotency key '\(only.key)' was first used for seq \(only.event.seq) ('\(only.event.type)' in \(only.event.stream)), which says something else; \(advice)"
        }
        let listed = reusedKeyExamples.map { "line \($0.line.map(String.init) ?? "?") (key '\($0.key)', seq \($0.event.seq))" }
        let more = reusedKeys > listed.count ? " and \(reusedKeys - listed.count) more" : ""
        return "\(reusedKeys) \(reusedKeys == 1 ? "line reuses an idempotency key" : "lines reuse idempotency keys") first used for events that say something else: \(listed.joined(separator: ", "))\(more); \(advice)"
    }
}

extension AppendSummary {
    /// What a caller must tell the user about ``notInForce``, or nil when there were none.
    public var notInForceNote: String? {
        guard notInForce > 0 else { return nil }
        if notInForce == 1, let only = notInForceExamples.first, only.line == nil { return only.note }
        let listed = notInForceExamples.map { "line \($0.line.map(String.init) ?? "?"): \($0.note)" }
        let more = notInForce > listed.count ? "; and \(notInForce - listed.count) more" : ""
        return "\(notInForce) \(notInForce == 1 ? "line repeats an idempotency key" : "lines repeat idempotency keys") whose event is not in force: \(listed.joined(separator: "; "))\(more); to record such a fact again, use a new key"
    }
}
