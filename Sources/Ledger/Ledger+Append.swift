import Foundation
import GRDB

/// What appending one draft came to.
struct Committed {
    /// The event appended, or the one the draft's idempotency key first appended.
    var record: EventRecord
    var isNew: Bool
    /// The key had been used for an event with other content (see ``AppendSummary/reusedKeys``).
    var reusedKey = false
    /// Why the event the key first appended is not in force (retracted since), if it is not.
    var notInForce: String?
}

extension Ledger {
    /// The largest record accepted: its canonical bytes with `hash`, its line in an export.
    public static let maxRecordBytes = 1 << 20

    /// Appends events in one transaction: all are validated, hashed and inserted, or none is.
    /// - Parameters:
    ///   - drafts: the events to append, in order.
    ///   - actor: the staff identifier recorded as `recorded_by`.
    /// - Returns: what was appended.
    /// - Throws: ``LedgerError`` for the first invalid draft; nothing is written then.
    public func append(_ drafts: [EventDraft], actor: String) throws -> AppendSummary {
        try append(drafts, actor: actor, allowSystem: false)
    }

    /// - Parameter numbered: whether an error names the draft's place among `drafts` ("line 3"),
    ///   which means something to the caller only when it gave the drafts as lines.
    func append(_ drafts: [EventDraft], actor: String, allowSystem: Bool, numbered: Bool = true) throws -> AppendSummary {
        var iterator = drafts.makeIterator()
        var index = 0
        return try append(actor: actor, allowSystem: allowSystem) {
            guard let draft = iterator.next() else { return nil }
            index += 1
            return (draft, numbered && drafts.count > 1 ? index : nil)
        }
    }

    /// Appends the drafts `next` yields, streaming, in one transaction (all or nothing).
    ///
    /// `next` returns each draft with the input line it came from (named in errors), or nil at the end.
    public func append(actor: String, next: () throws -> (EventDraft, line: Int?)?) throws -> AppendSummary {
        try append(actor: actor, allowSystem: false, next: next)
    }

    func append(actor: String, allowSystem: Bool, pipelined: Bool = false, next: () throws -> (EventDraft, line: Int?)?) throws -> AppendSummary {
        try Ledger.validateActor(actor)
        return try store.append { session in
            var context = AppendContext(session: session, catalog: catalog, actor: actor, allowSystem: allowSystem)
            var summary = AppendSummary()
            if pipelined {
                // Parsing and validating on a second thread while this one inserts (imports).
                try withoutActuallyEscaping(next) { next in
                    let pipeline = BatchPipeline.drafts(preparer: context.preparer, source: next)
                    defer { pipeline.stop() }
                    while let (prepared, line) = try pipeline.next() {
                        do {
                            summary.record(try context.commit(prepared), line: line)
                        } catch let error as LedgerError {
                            throw error.at(file: nil, line: line)
                        }
                    }
                }
                summary.head = session.head
                return summary
            }
            while let (draft, line) = try next() {
                do {
                    summary.record(try context.append(draft), line: line)
                } catch let error as LedgerError {
                    throw error.at(file: nil, line: line)
                }
            }
            summary.head = session.head
            return summary
        }
    }
}

/// The state of one append transaction: caches of stream versions, the clock, scratch buffers.
struct AppendContext {
    let session: any AppendSession
    let catalog: EventCatalog
    let actor: String
    let allowSystem: Bool
    /// Transaction time: now, but never before the head's (`recorded_at` never decreases).
    let recordedAt: String
    var streamVersions: [String: Int64] = [:]
    /// Whether the log holds a retraction (nil until asked); without one no stream is withdrawn.
    var anyRetraction: Bool?
    /// Streams known to be withdrawn or not (bounded like `streamVersions`).
    var withdrawn: [String: Bool] = [:]
    /// The types that open a stream (`x-kopa-creates`).
    lazy var openingTypes: [String] = Set(catalog.latestTypes.filter(\.creates).map(\.name)).sorted()
    /// Seeded once from the system's generator: ids must be unique, not secret, and a system call
    /// per event showed up in profiles.
    var random: SplitMix64 = {
        var system = SystemRandomNumberGenerator()
        return SplitMix64(seed: system.next())
    }()
    var scratch: [UInt8] = []
    /// The checks that need no log, done here or on the import's reading thread.
    var preparer: DraftPreparer
    /// Whether a restore is checking a record its archive holds: advice to the clerk making the
    /// record ("make the correction again") means nothing there.
    var restoring = false

    /// - Parameter recordedAt: the transaction's time; by default now, but never before the head's.
    init(session: any AppendSession, catalog: EventCatalog, actor: String, allowSystem: Bool, recordedAt: String? = nil) {
        self.session = session
        self.catalog = catalog
        self.actor = actor
        self.allowSystem = allowSystem
        self.recordedAt = recordedAt ?? max(UTCTime.format(millis: UTCTime.nowMillis()), session.head.recordedAt)
        preparer = DraftPreparer(catalog: catalog, allowSystem: allowSystem, recordedAt: self.recordedAt)
    }

    mutating func version(of stream: String) throws -> Int64 {
        if let cached = streamVersions[stream] { return cached }
        let version = try session.streamVersion(stream)
        if streamVersions.count > 50_000 { streamVersions.removeAll(keepingCapacity: true) }  // bounded: memory stays flat
        streamVersions[stream] = version
        return version
    }

    /// Whether `stream` exists but its opening event was retracted: the entity was withdrawn, so
    /// nothing may refer to it or be recorded in it until it is opened again.
    mutating func isWithdrawn(_ stream: String) throws -> Bool {
        if anyRetraction == nil { anyRetraction = try session.hasRetractions() }
        guard anyRetraction == true else { return false }
        if let known = withdrawn[stream] { return known }
        let answer = try session.isWithdrawn(stream, openingTypes: openingTypes)
        if withdrawn.count > 50_000 { withdrawn.removeAll(keepingCapacity: true) }
        withdrawn[stream] = answer
        return answer
    }

    /// Why `existing`, answered for a repeated idempotency key, is not in force, or nil; read in
    /// this transaction, and only when the log holds a retraction at all.
    mutating func notInForce(_ existing: EventRecord) throws -> String? {
        if anyRetraction == nil { anyRetraction = try session.hasRetractions() }
        guard anyRetraction == true else { return nil }
        return try Ledger.notInForce(
            existing, subject: Ledger.repeatSubject(existing),
            retraction: { id in try session.events(targeting: id).first { $0.type == "event-retracted" }?.seq },
            event: { id in try session.event(id: id) })
    }

    /// Checks that every stream a payload refers to exists and was not withdrawn; `invalid` makes
    /// the error from a message and the field.
    mutating func checkReferences(_ references: [StreamReference], _ invalid: (_ message: String, _ field: String) -> LedgerError) throws {
        for reference in references {
            if try version(of: reference.stream) == 0 {
                throw invalid("field '\(reference.path)' refers to '\(reference.slug)', but there is no \(reference.kind) '\(reference.slug)' (stream '\(reference.stream)' does not exist)", reference.path)
            }
            if try isWithdrawn(reference.stream) {
                throw invalid("field '\(reference.path)' refers to '\(reference.slug)', but the \(reference.kind) was withdrawn (the event that opened stream '\(reference.stream)' was retracted)", reference.path)
            }
        }
    }

    /// Validates, hashes and inserts one draft; returns the stored record and whether it is new.
    mutating func append(_ draft: EventDraft) throws -> Committed {
        try commit(try preparer.prepare(draft))
    }

    /// The checks that need the log (idempotency, references, stream versions, corrections), then
    /// the seq, id, hash and insert.
    mutating func commit(_ prepared: PreparedDraft) throws -> Committed {
        let type = prepared.type
        var stream: String? = prepared.stream
        func invalid(_ message: String, _ kind: LedgerError.Kind = .invalidInput, field: String? = nil) -> LedgerError {
            LedgerError(kind, "'\(type.name)' event rejected: \(message)", eventType: type.name, stream: stream, field: field)
        }
        if let key = prepared.idempotencyKey, let existing = try session.event(idempotencyKey: key) {
            return Committed(record: existing, isNew: false, reusedKey: !prepared.says(the: existing), notInForce: try notInForce(existing))
        }
        if let failure = prepared.failure { throw failure }
        var references = prepared.references
        var target: String?
        if stream == nil {
            let resolved = try checkCorrection(type: type, data: prepared.data, meta: prepared.meta, references: &references)
            stream = resolved.stream
            target = resolved.target
        }
        guard let streamName = stream else { throw LedgerError(.internalError, "no stream for a '\(type.name)' event") }
        try checkReferences(references) { invalid($0, field: $1) }
        let current = try version(of: streamName)
        if let expected = prepared.expectVersion, expected != current {
            throw invalid("stale --expect-version \(expected): stream '\(streamName)' is at version \(current)", .conflict)
        }
        // A withdrawn stream (its opening event retracted) takes only a new opening event; the
        // events recorded in it meanwhile would belong to an entity that does not exist.
        let streamWithdrawn = current > 0 && !type.isSystem ? try isWithdrawn(streamName) : false
        if type.creates, current > 0, !streamWithdrawn {
            throw invalid("stream '\(streamName)' exists already (version \(current)); '\(type.name)' opens a stream and must be its first event", .conflict)
        }
        if !type.creates, current == 0 || streamWithdrawn, !type.isSystem {
            let opener = catalog.latestTypes.first { $0.creates && $0.streamTemplate?.split(separator: "/").first == streamName.split(separator: "/").first }
            throw invalid("stream '\(streamName)' \(streamWithdrawn ? "was withdrawn (the event that opened it was retracted)" : "does not exist")" + (opener.map { "; record '\($0.name)' first" } ?? ""))
        }
        let head = session.head
        var record = EventRecord(
            seq: head.seq + 1, id: UUIDText.random(using: &random), type: type.name, version: type.version,
            stream: streamName, streamVersion: current + 1, occurredAt: prepared.occurred.text, recordedAt: recordedAt,
            recordedBy: actor, dataJSON: prepared.dataJSON, metaJSON: prepared.metaJSON, prev: head.hash, hash: "")
        if record.seq == 1, record.type != "ledger-created" {
            throw invalid("the first event of a ledger must be 'ledger-created'")
        }
        record.hash = record.computeHash(scratch: &scratch)
        // The record as exported: the hashed bytes (after their 0x00 prefix) and `,"hash":"…"`.
        let size = scratch.count - 1 + ChainVerifier.hashMemberBytes
        if size > Ledger.maxRecordBytes {
            throw invalid("the record is \(size) bytes (data \(prepared.dataJSON.utf8.count), meta \(prepared.metaJSON.utf8.count), the rest its envelope) but at most \(Ledger.maxRecordBytes) (1 MiB) are accepted")
        }
        try session.insert(record, occurred: prepared.occurred, idempotencyKey: prepared.idempotencyKey, target: target)
        streamVersions[streamName] = current + 1
        if type.name == "event-retracted" {
            anyRetraction = true
            withdrawn.removeAll(keepingCapacity: true)
        } else if type.creates, streamWithdrawn {
            withdrawn[streamName] = false  // opened again
        }
        return Committed(record: record, isNew: true)
    }

    static let metaKeys = ["source", "evidence", "corrects", "retracts", "reason", "idempotency_key", "correlation_id"]

    /// Checks `meta` and returns it: known keys only, each of the right shape.
    static func checkMeta(_ meta: [String: JSONValue], type: String) throws -> [String: JSONValue] {
        func fail(_ message: String) -> LedgerError { LedgerError(.invalidInput, "'\(type)' event rejected: \(message)") }
        func text(_ key: String, max: Int, bytes: Bool = false) throws {
            guard let value = meta[key] else { return }
            guard let s = value.stringValue, !s.isEmpty, (bytes ? s.utf8.count : s.unicodeScalars.count) <= max else {
                throw fail("meta.\(key) is \(value.shortDescription) but expected a non-empty string of at most \(max) \(bytes ? "bytes" : "characters")")
            }
        }
        for key in meta.keys where !metaKeys.contains(key) {
            throw fail("unknown meta key '\(key)'; expected one of: \(metaKeys.joined(separator: ", "))")
        }
        try text("source", max: 2000)
        try text("reason", max: 2000)
        // In bytes, as the import line's key and --idempotency-key are counted: it is a unique index's key.
        try text("idempotency_key", max: 200, bytes: true)
        try text("correlation_id", max: 200)
        for (key, owner) in [("corrects", "event-corrected"), ("retracts", "event-retracted")] {
            guard let value = meta[key] else { continue }
            // Only its own type is read as a correction or retraction: on any other event the
            // pointer would be hashed into the record as if it fixed something, yet change nothing.
            guard type == owner else {
                throw fail("meta.\(key) belongs only on '\(owner)' events, not on a '\(type)'; use `kopa \(owner == "event-corrected" ? "correct" : "retract") ID` to \(key == "corrects" ? "correct" : "retract") an event")
            }
            guard let s = value.stringValue, UUIDText.isValid(s) else {
                throw fail("meta.\(key) is \(value.shortDescription) but expected an event id (lower-case UUID)")
            }
        }
        if let evidence = meta["evidence"] {
            guard case .array(let items) = evidence, items.count <= 100 else {
                throw fail("meta.evidence is \(evidence.shortDescription) but expected a list of at most 100 {title, sha256?, location?}")
            }
            for (i, item) in items.enumerated() {
                guard case .object(let fields) = item else { throw fail("meta.evidence[\(i)] is \(item.shortDescription) but expected an object {title, sha256?, location?}") }
                for key in fields.keys where !["title", "sha256", "location"].contains(key) {
                    throw fail("meta.evidence[\(i)] has unknown key '\(key)'; expected title, sha256, location")
                }
                guard let title = fields["title"]?.stringValue else {
                    throw fail("meta.evidence[\(i)].title is \(fields["title"]?.shortDescription ?? "missing") but expected the evidence's title, a string")
                }
                guard !title.isBlank else {
                    throw fail("meta.evidence[\(i)].title is \(title.isEmpty ? "empty" : "only blanks") but expected the evidence's title")
                }
                guard title.unicodeScalars.count <= 300 else {
                    throw fail("meta.evidence[\(i)].title is \(title.unicodeScalars.count) characters long but expected at most 300")
                }
                if let sha = fields["sha256"], !(sha.stringValue.map(EventHash.isHash) ?? false) {
                    throw fail("meta.evidence[\(i)].sha256 is \(sha.shortDescription) but expected 64 lower-case hex digits")
                }
                if let location = fields["location"], !(location.stringValue.map { !$0.isEmpty && $0.unicodeScalars.count <= 2000 } ?? false) {
                    throw fail("meta.evidence[\(i)].location is \(location.shortDescription) but expected a string of at most 2000 characters")
                }
            }
        }
        return meta
    }
}

/// A small, fast pseudo-random generator (SplitMix64) for the random bits of event ids.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Lower-case UUID text, 8-4-4-4-12.
enum UUIDText {
    /// A time-ordered (version 7, RFC 9562) UUID, formatted without Foundation: one is made for
    /// every event, and ids that grow with time keep the unique-id index appending at its end
    /// instead of touching random pages.
    static func random(using generator: inout some RandomNumberGenerator) -> String {
        let millis = UInt64(UTCTime.nowMillis())
        var high = (millis << 16) | ((generator.next() as UInt64) & 0x0FFF)
        var low = generator.next() as UInt64
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_7000  // version 7
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 9562 variant
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            var out = 0
            func put(_ word: UInt64, nibbles: Int, from shift: Int) {
                for i in 0..<nibbles {
                    buffer[out] = digits.utf8Start[Int((word >> UInt64(shift - 4 * i)) & 0xF)]
                    out += 1
                }
            }
            put(high, nibbles: 8, from: 60)
            buffer[out] = UInt8(ascii: "-"); out += 1
            put(high, nibbles: 4, from: 28)
            buffer[out] = UInt8(ascii: "-"); out += 1
            put(high, nibbles: 4, from: 12)
            buffer[out] = UInt8(ascii: "-"); out += 1
            put(low, nibbles: 4, from: 60)
            buffer[out] = UInt8(ascii: "-"); out += 1
            put(low, nibbles: 12, from: 44)
            return out
        }
    }

    static func isValid(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                if b != UInt8(ascii: "-") { return false }
            } else if !((b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)) {
                return false
            }
        }
        return true
    }
}

extension Ledger {
    /// What to add when a repeated idempotency key answers with an event that was retracted since:
    /// "already recorded" alone would let a clerk believe the fact is in force, which reports leave out.
    /// For a correction, the event it corrects counts too: withdrawn, the correction is moot.
    public func retractionNote(forRepeatOf record: EventRecord) throws -> String? {
        try Self.notInForce(record, subject: Self.repeatSubject(record), retraction: retractionSeq(of:), event: { id in try store.event(id: id) })
    }

    /// How a repeat's note names the event its idempotency key first appended.
    static func repeatSubject(_ record: EventRecord) -> String { "seq \(record.seq), which this idempotency key first appended," }

    /// The seq of the retraction of the event with this id, if it was retracted.
    func retractionSeq(of id: String) throws -> Int64? {
        try store.read { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM events WHERE target = ? AND type = 'event-retracted' LIMIT 1", arguments: [id])
        }
    }

    /// What a reader of one event must know besides its record: that it was retracted since, or
    /// that corrections since changed what is in force; nil when it stands as recorded. A record
    /// shown alone (`kopa show`) otherwise looks in force, a withdrawn payment included.
    /// A repeated idempotency key's note says only the first (what reports leave out whole).
    public func standing(of record: EventRecord) throws -> String? {
        let history = "`kopa history \(record.stream)` shows why"
        if let note = try Self.notInForce(record, subject: "seq \(record.seq)", retraction: retractionSeq(of:), event: { id in try store.event(id: id) }) {
            return "\(note) (\(history))"
        }
        if record.type == "event-corrected" {
            // A later correction of the same event replaced what this one says (it may name the
            // original, not this one, so nothing need target it).
            let effective = try effectiveEvent(record)
            let moved = record.data["occurred_at"]?.stringValue
            guard record.data["data"] != effective.data || (moved != nil && moved != effective.occurredAt) else { return nil }
            return "seq \(record.seq) was replaced by a later correction of seq \(effective.original.seq): what is in force differs from it (\(history))"
        }
        // Only an event something targets can have been corrected: most are read no further.
        guard !EventType.systemTypes.contains(record.type),
            try store.read({ db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE target = ?)", arguments: [record.id]) }) == true
        else { return nil }
        let effective = try effectiveEvent(record)
        guard effective.data != record.data || effective.occurredAt != record.occurredAt else { return nil }
        return "seq \(record.seq) was corrected since: what is in force differs from this record (`kopa history \(record.stream)` shows the corrections, `kopa state \(record.stream)` the fields now)"
    }

    /// Why `record` is not in force, naming it as `subject`: it was retracted, or it corrects an
    /// event that was; nil otherwise. From two lookups, the seq of the retraction of an event id
    /// and an event by id (an append reads both inside its transaction, a command after it).
    static func notInForce(
        _ record: EventRecord, subject: String, retraction: (String) throws -> Int64?, event: (String) throws -> EventRecord?
    ) throws -> String? {
        if let seq = try retraction(record.id) {
            return "\(subject) was retracted at seq \(seq): it is not in force"
        }
        var original = record
        // Always to an earlier event (see checkCorrection): a forged loop ends.
        while original.type == "event-corrected", let next = original.meta["corrects"]?.stringValue, let corrected = try event(next), corrected.seq < original.seq {
            original = corrected
        }
        guard original.seq != record.seq else { return nil }
        return try retraction(original.id).map {
            "\(subject) corrects seq \(original.seq), which was retracted at seq \($0): neither is in force"
        }
    }
}
