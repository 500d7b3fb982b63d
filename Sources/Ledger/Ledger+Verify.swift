import Crypto
import GRDB

/// What a successful verification found.
public struct VerifyReport: Sendable, Equatable {
    /// Events checked.
    public var count: Int64
    /// The last event's hash.
    public var head: String
    /// `recorded_at` of the first and last event.
    public var firstRecordedAt: String
    public var lastRecordedAt: String
}

/// Recomputes a chain from records streamed in seq order; shared by the ledger and archives.
public struct ChainVerifier {
    private(set) var count: Int64 = 0
    private(set) var previousHash = EventRecord.genesisPrev
    private(set) var firstRecordedAt = ""
    private(set) var lastRecordedAt = ""
    private var scratch: [UInt8] = []

    /// A verifier at the start of a chain.
    public init() {}

    /// Checks the next record: seq continuity, `seq 1` = `ledger-created`, the link to the
    /// previous hash, the hash itself, and that `recorded_at` never decreases.
    /// - Throws: ``LedgerError/Kind/integrity`` naming the seq and what is wrong.
    public mutating func check(_ record: EventRecord) throws {
        let expected = count + 1
        guard record.seq == expected else {
            throw LedgerError(.integrity, "seq gap: expected seq \(expected) but found seq \(record.seq)", seq: expected)
        }
        if record.seq == 1, record.type != "ledger-created" {
            throw LedgerError(.integrity, "the first event is '\(record.type)' but must be 'ledger-created'", seq: 1)
        }
        guard record.prev == previousHash else {
            throw LedgerError(.integrity, "prev \(record.prev) does not match the hash of seq \(record.seq - 1) (\(previousHash)): an event before it was changed, removed or inserted", seq: record.seq)
        }
        let computed = record.computeHash(scratch: &scratch)
        guard computed == record.hash else {
            throw LedgerError(.integrity, "hash mismatch: stored \(record.hash) but the record hashes to \(computed); the event was altered", seq: record.seq)
        }
        if record.recordedAt < lastRecordedAt {
            throw LedgerError(.integrity, "recorded_at \(record.recordedAt) is earlier than the previous event's \(lastRecordedAt)", seq: record.seq)
        }
        if count == 0 { firstRecordedAt = record.recordedAt }
        lastRecordedAt = record.recordedAt
        previousHash = record.hash
        count += 1
    }

    /// The summary once every record has been checked.
    public var report: VerifyReport {
        VerifyReport(count: count, head: previousHash, firstRecordedAt: firstRecordedAt, lastRecordedAt: lastRecordedAt)
    }
}

extension Ledger {
    /// Recomputes every hash and link of the log.
    /// - Parameter progress: called every 100,000 events with the count so far.
    /// - Returns: the count, head hash and time range.
    /// - Throws: ``LedgerError/Kind/integrity`` with the first broken seq and why.
    public func verify(progress: ((Int64) -> Void)? = nil) throws -> VerifyReport {
        var verifier = ChainVerifier()
        try store.scan(EventFilter()) { record in
            try verifier.check(record)
            if verifier.count % 100_000 == 0 { progress?(verifier.count) }
            return true
        }
        guard verifier.count > 0 else {
            throw LedgerError(.integrity, "the ledger '\(path)' holds no events; expected seq 1 'ledger-created'")
        }
        return verifier.report
    }
}
