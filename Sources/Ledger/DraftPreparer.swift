/// A draft checked against everything that does not need the log: its type, meta, schema,
/// valid time and canonical bytes. What remains (idempotency, references, stream versions,
/// corrections) is checked when it is committed.
struct PreparedDraft: Sendable {
    let type: EventType
    /// The payload and meta as parsed: only for a correction (empty otherwise).
    let data: [String: JSONValue]
    let meta: [String: JSONValue]
    let idempotencyKey: String?
    let expectVersion: Int64?
    let references: [StreamReference]
    let occurred: OccurredAt
    /// Whether the draft gave its `occurred_at` (else it is the time of recording).
    let occurredGiven: Bool
    /// The stream from the type's template; nil for corrections, whose stream is their target's.
    let stream: String?
    let dataJSON: String
    let metaJSON: String
    /// A problem found after the idempotency key was known: reported only if the key is new, so
    /// that repeating a submission always answers with the first event.
    let failure: LedgerError?

    /// Whether `record` says what this draft says: a repeat of the submission that appended it,
    /// not another fact under a reused idempotency key. The time of recording is not compared:
    /// a repeat comes later by nature.
    func says(the record: EventRecord) -> Bool {
        failure == nil && record.type == type.name && record.dataJSON == dataJSON
            && record.metaJSON == metaJSON && (!occurredGiven || record.occurredAt == occurred.text)
    }
}

/// The stateless half of an append, safe to run on another thread than the transaction.
struct DraftPreparer: Sendable {
    let catalog: EventCatalog
    let allowSystem: Bool
    /// The transaction's time, the valid time of drafts that give none.
    let recordedAt: String
    /// ``OccurredAt/latestStart(recordedAt:)``, worked out once for every draft.
    private let latestStart: String
    private var lastOccurred: OccurredAt?
    private var canonical: [UInt8] = []

    init(catalog: EventCatalog, allowSystem: Bool, recordedAt: String) {
        self.catalog = catalog
        self.allowSystem = allowSystem
        self.recordedAt = recordedAt
        latestStart = OccurredAt.latestStart(recordedAt: recordedAt)
    }

    mutating func prepare(_ draft: EventDraft) throws -> PreparedDraft {
        let type = try catalog.resolve(draft.type, version: draft.version)
        func invalid(_ message: String, field: String? = nil) -> LedgerError {
            LedgerError(.invalidInput, "'\(type.name)' event rejected: \(message)", eventType: type.name, field: field)
        }
        if !allowSystem, type.name == "ledger-created" || type.name == "schema-registered" {
            throw invalid("this event type is written only by `kopa init`")
        }
        var meta = try AppendContext.checkMeta(draft.meta, type: type.name)
        var idempotencyKey = draft.idempotencyKey
        if let key = idempotencyKey {
            if let given = meta["idempotency_key"]?.stringValue, given != key {
                throw invalid("idempotency key '\(key)' differs from meta.idempotency_key '\(given)'")
            }
            meta["idempotency_key"] = .string(key)
        } else {
            idempotencyKey = meta["idempotency_key"]?.stringValue
        }
        // An empty or blank key (a script's unset variable) would make every later such event a "repeat".
        if let key = idempotencyKey, key.isBlank || key.utf8.count > 200 {
            throw invalid("idempotency key '\(key.prefix(40))\(key.count > 40 ? "…" : "")' is not a string of at most 200 bytes with something other than blanks")
        }
        let metaJSON = CanonicalJSON.string(.object(meta))
        var data: [String: JSONValue] = [:]
        var references: [StreamReference] = []
        var occurred: OccurredAt
        if let lastOccurred { occurred = lastOccurred } else { occurred = try OccurredAt(recordedAt) }
        var stream: String?
        var dataJSON = ""
        var failure: LedgerError?
        do {
            guard case .object(let object) = draft.data else {
                throw invalid("data is \(draft.data.kindDescription) but expected an object")
            }
            data = object
            do { try type.root.validate(draft.data, path: "", references: &references) } catch {
                throw invalid(error.message, field: error.field)
            }
            // Its own valid time is its recording (README): a given one would be stored and shown
            // by `history` as when the fix happened, and a clerk who meant to move the event would
            // see it accepted and nothing moved.
            if draft.occurredAt != nil, type.name == "event-corrected" || type.name == "event-retracted" {
                throw invalid(type.name == "event-corrected"
                    ? "a correction's occurred_at is the time it is recorded and cannot be given; to move the corrected event in time, give data.occurred_at"
                    : "a retraction's occurred_at is the time it is recorded and cannot be given", field: "occurred_at")
            }
            let occurredText = draft.occurredAt ?? recordedAt
            if occurred.text != occurredText {
                occurred = try OccurredAt(occurredText)  // imports come in date order: many events share one
                if occurred.start > latestStart { try occurred.checkHasHappened(by: recordedAt) }
                lastOccurred = occurred
            }
            if type.name != "event-corrected", type.name != "event-retracted" {
                guard let s = type.stream(for: object) else {
                    throw invalid("its stream template '\(type.streamTemplate ?? "")' cannot be filled")
                }
                stream = s
            }
            canonical.removeAll(keepingCapacity: true)
            do { try CanonicalJSON.write(draft.data, into: &canonical) } catch { throw invalid(error.description) }
            dataJSON = String(decoding: canonical, as: UTF8.self)
            if dataJSON.utf8.count + metaJSON.utf8.count > Ledger.maxRecordBytes {
                throw invalid("its data and meta are \(dataJSON.utf8.count + metaJSON.utf8.count) bytes but a record of at most \(Ledger.maxRecordBytes) (1 MiB) is accepted")
            }
        } catch let error as LedgerError {
            guard idempotencyKey != nil else { throw error }
            failure = error
        }
        // Only a correction's payload is read again, in the transaction (`stream` is nil then).
        // Other payloads stay behind, so their trees are freed on this thread, not the writer's
        // (~9 % of an import's writing thread was releasing them).
        let keep = stream == nil
        return PreparedDraft(
            type: type, data: keep ? data : [:], meta: keep ? meta : [:], idempotencyKey: idempotencyKey, expectVersion: draft.expectVersion,
            references: references, occurred: occurred, occurredGiven: draft.occurredAt != nil, stream: stream, dataJSON: dataJSON, metaJSON: metaJSON,
            failure: failure)
    }
}
