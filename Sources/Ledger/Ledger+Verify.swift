import Foundation
import Crypto
import GRDB
import Dispatch
import Synchronization

/// What a successful verification found.
public struct VerifyReport: Sendable, Equatable {
    /// Events checked.
    public var count: Int64
    /// The last event's hash.
    public var head: String
    /// `recorded_at` of the first and last event.
    public var firstRecordedAt: String
    /// `recorded_at` of the last event.
    public var lastRecordedAt: String

    /// Checks that a verified log ends where an auditor was told it ends: after `expectCount`
    /// events, at `expectHead`. Only this catches a removed tail, which leaves a valid chain.
    /// - Parameter subject: the log in words, "the ledger 'k.sqlite'" or "the archive 'a.kopa'".
    /// - Throws: ``LedgerError/Kind/integrity`` at the last seq, saying what differs.
    func checkEnd(expectHead: String?, expectCount: Int64?, subject: String, file: String? = nil) throws {
        if let expectCount, count != expectCount {
            let why = count < expectCount
                ? "events at the end are missing (a removed tail) or the copy is older than expected"
                : "it holds more events than expected"
            throw LedgerError(.integrity, "\(subject) holds \(count) events but \(expectCount) were expected: \(why); it ends at seq \(count) with head \(head)", seq: count, file: file)
        }
        if let expectHead, head != expectHead {
            throw LedgerError(.integrity, "\(subject) ends at seq \(count) with head \(head), but the expected head is \(expectHead): it is not the log that head was taken from (events at the end are missing or added, or an event differs and the chain was recomputed)", seq: count, file: file)
        }
    }
}

extension Ledger {
    /// Checks the form of an expected end before any work: `expectHead` a hash, `expectCount` 1 or more.
    /// - Throws: ``LedgerError/Kind/invalidInput`` naming the value and what was expected.
    public static func validateExpectedEnd(head expectHead: String?, count expectCount: Int64?) throws(LedgerError) {
        if let expectHead, !EventHash.isHash(expectHead) {
            throw LedgerError(.invalidInput, "--expect-head '\(expectHead)' is not a hash; expected 64 lower-case hex digits")
        }
        if let expectCount, expectCount < 1 {
            throw LedgerError(.invalidInput, "--expect-count \(expectCount) is not a count of events; expected 1 or more")
        }
    }

    /// Verifies the ledger (``verify(progress:parallelFrom:)``) and that it ends where the auditor
    /// was told it ends: at `expectHead`, after `expectCount` events.
    /// - Throws: ``LedgerError/Kind/integrity`` at the first broken seq, or at the last one when
    ///   the end differs.
    public func verify(expectHead: String?, expectCount: Int64?, progress: ((Int64) -> Void)? = nil) throws -> VerifyReport {
        try Self.validateExpectedEnd(head: expectHead, count: expectCount)
        let report = try verify(progress: progress)
        try report.checkEnd(expectHead: expectHead, expectCount: expectCount, subject: "the ledger '\(path)'")
        return report
    }
}

/// Recomputes a chain from records streamed in seq order; shared by the ledger and archives.
public struct ChainVerifier: Sendable {
    private(set) var count: Int64 = 0
    private var previousHash: [UInt8] = Array(EventRecord.genesisPrev.utf8)
    private var firstRecordedAt: [UInt8] = []
    private var lastRecordedAt: [UInt8] = []
    /// The previous record's actor: a run of records by one actor is checked once.
    private var lastRecordedBy: [UInt8] = []
    private var scratch: [UInt8] = []
    /// Room for a ledger row's canonical record; its count is its capacity.
    private var rowBuffer: [UInt8] = []
    private var hexDigest = [UInt8](repeating: 0, count: 64)

    /// A verifier at the start of a chain.
    public init() {}

    /// The error of a missing seq: `found` is the next seq there is (nil at the end of the log).
    static func gap(expected: Int64, found: Int64?) -> LedgerError {
        LedgerError(.integrity, "seq gap: expected seq \(expected) but found " + (found.map { "seq \($0)" } ?? "the end of the log"), seq: expected)
    }

    /// A verifier that goes on after seq `count`, whose stored hash and `recorded_at` are given
    /// (checked by whoever verifies the events up to it); its actor is not, so the next record's
    /// is checked whatever it is.
    init(after count: Int64, hash: [UInt8], recordedAt: [UInt8]) {
        self.count = count
        previousHash = hash
        lastRecordedAt = recordedAt
    }

    /// Checks the next record: seq continuity, `seq 1` = `ledger-created`, the link to the
    /// previous hash, the hash itself, and what appends never write: a record over 1 MiB, a
    /// `recorded_at` that names no instant or goes back in time, an actor that is not a staff
    /// identifier.
    /// - Throws: ``LedgerError/Kind/integrity`` naming the seq and what is wrong.
    public mutating func check(_ record: EventRecord) throws {
        let expected = count + 1
        guard record.seq == expected else {
            throw Self.gap(expected: expected, found: record.seq)
        }
        if record.seq == 1, record.type != "ledger-created" {
            throw LedgerError(.integrity, "the first event is '\(record.type)' but must be 'ledger-created'", seq: 1)
        }
        let previous = String(decoding: previousHash, as: UTF8.self)
        guard record.prev == previous else {
            throw LedgerError(.integrity, "prev \(record.prev) does not match the hash of seq \(record.seq - 1) (\(previous)): an event before it was changed, removed or inserted", seq: record.seq)
        }
        let computed = record.computeHash(scratch: &scratch)
        guard computed == record.hash else {
            throw LedgerError(.integrity, "hash mismatch: stored \(record.hash) but the record hashes to \(computed); the event was altered", seq: record.seq)
        }
        // The exported line: the hashed bytes (after their 0x00 prefix) and `,"hash":"…"`.
        let size = scratch.count - 1 + Self.hashMemberBytes
        if size > Ledger.maxRecordBytes {
            throw LedgerError(.integrity, "the record is \(size) bytes, but Kopa writes records of at most \(Ledger.maxRecordBytes) bytes (1 MiB); it was not written by Kopa", seq: record.seq)
        }
        let recordedAt = Array(record.recordedAt.utf8)
        if recordedAt != lastRecordedAt || lastRecordedAt.isEmpty, UTCTime.millis(recordedAt: recordedAt) == nil {
            throw LedgerError(.integrity, "recorded_at '\(record.recordedAt)' is not a real UTC time (YYYY-MM-DDThh:mm:ss.sssZ, as Kopa writes it); it was not written by Kopa", seq: record.seq)
        }
        if recordedAt.lexicographicallyPrecedes(lastRecordedAt) {
            throw LedgerError(.integrity, "recorded_at \(record.recordedAt) is earlier than the previous event's \(String(decoding: lastRecordedAt, as: UTF8.self))", seq: record.seq)
        }
        // Appends take only staff identifiers: never a name or an e-mail address (personal data).
        guard Ledger.isActor(record.recordedBy.utf8) else {
            throw LedgerError(.integrity, "recorded_by '\(record.recordedBy)' is not a staff identifier (1–64 ASCII letters, digits, '.', '_' or '-'); it was not written by Kopa", seq: record.seq)
        }
        accept(hash: Array(record.hash.utf8), recordedAt: recordedAt)
        lastRecordedBy = Array(record.recordedBy.utf8)
    }

    /// `,"hash":"` and 64 digits and `"`: what a record's export line has beyond its hashed bytes.
    static let hashMemberBytes = 74

    /// Whether `recordedAt` is not before the previous record's (the byte order of two such texts
    /// is their time order) and, when later, names a real instant: a run of equal times is
    /// checked once.
    private func isNextTime(_ recordedAt: UnsafeBufferPointer<UInt8>) -> Bool {
        let order = Bytes.compare(recordedAt, lastRecordedAt)
        return (order == 0 && !lastRecordedAt.isEmpty) || (order > 0 && UTCTime.millis(recordedAt: recordedAt) != nil)
    }

    /// Whether `recordedBy` is not the previous record's actor, or there is none yet (a verifier
    /// that starts mid-log knows the previous record's time and hash, not its actor).
    private func isNewActor(_ recordedBy: UnsafeBufferPointer<UInt8>) -> Bool {
        lastRecordedBy.isEmpty || !Self.equal(recordedBy, lastRecordedBy)
    }

    /// Whether `recordedBy` is the previous record's actor (a run of records by one actor is
    /// checked once), or else a staff identifier.
    private func isActor(_ recordedBy: UnsafeBufferPointer<UInt8>, new: Bool) -> Bool {
        !new || Ledger.isActor(recordedBy)
    }

    /// Remembers the actor of a record accepted.
    private mutating func accept(actor recordedBy: UnsafeBufferPointer<UInt8>, new: Bool) {
        guard new else { return }
        lastRecordedBy.removeAll(keepingCapacity: true)
        lastRecordedBy.append(contentsOf: recordedBy)
    }

    private mutating func accept(hash: [UInt8], recordedAt: [UInt8]) {
        if count == 0 { firstRecordedAt = recordedAt }
        lastRecordedAt = recordedAt
        previousHash = hash
        count += 1
    }

    /// Checks the row a ledger scan is on without making Strings of it: the canonical bytes are
    /// written straight from SQLite's column buffers. Any disagreement is re-checked on the decoded
    /// record, so the error is the same as ``check(_:)``'s.
    mutating func check(row raw: RawStatement) throws {
        let seq = raw.int64(0)
        let prev = raw.bytes(11), hash = raw.bytes(12)
        let columns = EventColumns(raw, seq: seq, prev: prev, hash: hash)
        let recordedAt = columns.recordedAt, recordedBy = columns.recordedBy
        let newActor = isNewActor(recordedBy)
        let fast: Bool = {
            guard seq == count + 1, seq != 1, hash.count == 64, Self.equal(prev, previousHash) else { return false }
            guard isNextTime(recordedAt), isActor(recordedBy, new: newActor) else { return false }
            let needed = columns.maxCanonicalBytes + 1
            if rowBuffer.count < needed { rowBuffer = [UInt8](repeating: 0, count: max(needed, 2 * rowBuffer.count)) }
            // Written through a cursor into room made once: no capacity check per byte.
            let digest = rowBuffer.withUnsafeMutableBufferPointer { buffer in
                let start = buffer.baseAddress!
                start[0] = 0
                var out = ByteCursor(start + 1)
                columns.write(into: &out, includingHash: false)
                let count = start.distance(to: out.position)
                return (SHA256.hash(data: UnsafeRawBufferPointer(start: start, count: count)), count - 1 + Self.hashMemberBytes)
            }
            EventHash.writeHex(digest.0, into: &hexDigest)
            return digest.1 <= Ledger.maxRecordBytes && Self.equal(hash, hexDigest)
        }()
        if fast {
            // Reusing the buffers: no allocation per row.
            if count == 0 { firstRecordedAt = Array(recordedAt) }
            lastRecordedAt.removeAll(keepingCapacity: true)
            lastRecordedAt.append(contentsOf: recordedAt)
            previousHash.removeAll(keepingCapacity: true)
            previousHash.append(contentsOf: hash)
            accept(actor: recordedBy, new: newActor)
            count += 1
        } else {
            try check(SQLiteEventStore.record(raw))
        }
    }

    /// Checks a canonical archive line (see ``CanonicalLine/layout(_:)``) without making a record
    /// of it: the line without its `hash` member is the canonical record, so it is hashed in place.
    /// - Returns: true when the record is accepted; false when it is `seq 1` or anything disagrees.
    ///   Then nothing has changed, and ``check(_:)`` on the record must decide (and name the error).
    mutating func checkCanonical(_ line: UnsafeBufferPointer<UInt8>, _ layout: CanonicalLine.Layout) -> Bool {
        guard layout.seq == count + 1, layout.seq != 1 else { return false }
        let recordedAt = UnsafeBufferPointer(rebasing: line[layout.recordedAt])
        let recordedBy = UnsafeBufferPointer(rebasing: line[layout.recordedBy])
        let newActor = isNewActor(recordedBy)
        guard line.count <= Ledger.maxRecordBytes, Self.equal(UnsafeBufferPointer(rebasing: line[layout.prev]), previousHash),
            isNextTime(recordedAt), isActor(recordedBy, new: newActor)
        else { return false }
        let member = layout.hashMember
        // The hashed bytes gathered in one buffer and hashed in one call: cheaper than three
        // updates of a fresh hasher per line (its context is allocated and copied to finish).
        scratch.removeAll(keepingCapacity: true)
        scratch.append(0)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: line[..<member.lowerBound]))
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: line[member.upperBound...]))
        EventHash.writeHex(scratch.withUnsafeBytes { SHA256.hash(data: $0) }, into: &hexDigest)
        let hash = UnsafeBufferPointer(rebasing: line[layout.hash])
        guard Self.equal(hash, hexDigest) else { return false }
        // Reusing the buffers: no allocation per record.
        lastRecordedAt.removeAll(keepingCapacity: true)
        lastRecordedAt.append(contentsOf: recordedAt)
        previousHash.removeAll(keepingCapacity: true)
        previousHash.append(contentsOf: hash)
        accept(actor: recordedBy, new: newActor)
        count += 1
        return true
    }

    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool { Bytes.equal(a, b) }

    /// The summary once every record has been checked.
    public var report: VerifyReport {
        VerifyReport(
            count: count, head: String(decoding: previousHash, as: UTF8.self),
            firstRecordedAt: String(decoding: firstRecordedAt, as: UTF8.self),
            lastRecordedAt: String(decoding: lastRecordedAt, as: UTF8.self))
    }
}

extension Ledger {
    /// Recomputes every hash and link of the log.
    ///
    /// A large ledger is verified by two threads, each through its own connection: the first
    /// half, and the second half going on from the stored hash of the first half's last event
    /// (which the first thread checks). The first error by seq is thrown, the same as one thread
    /// reading in order would find: rows up to the head never change (the store's triggers), and
    /// appends meanwhile only add later seqs, which are not read.
    /// - Parameters:
    ///   - progress: called with the count so far each time it has passed another 100,000 events
    ///     (in a large ledger the two threads' counts are added up every 10,000 events each).
    ///   - parallelFrom: the smallest ledger verified by two threads (smaller ones in one).
    /// - Returns: the count, head hash and time range.
    /// - Throws: ``LedgerError/Kind/integrity`` with the first broken seq and why.
    public func verify(progress: ((Int64) -> Void)? = nil, parallelFrom: Int64 = 50_000) throws -> VerifyReport {
        let head = try store.head().seq
        guard head > 0 else {
            throw LedgerError(.integrity, "the ledger '\(path)' holds no events; expected seq 1 'ledger-created'")
        }
        // The threads report every 10,000 events; progress hears of every 100,000 passed in all.
        var next = Ledger.progressInterval
        func passed(_ count: Int64) {
            guard count >= next else { return }
            progress?(count)
            next = (count / Ledger.progressInterval + 1) * Ledger.progressInterval
        }
        guard head >= parallelFrom, head >= 2 else {
            var verifier = ChainVerifier()
            try Ledger.verify(through: head, in: store, with: &verifier, progress: passed)
            passed(head)
            return verifier.report
        }
        let middle = head / 2
        let second = try store.readingConnection()
        let shared = SecondHalf()
        let secondDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let result = Result { () throws -> ChainVerifier in
                let (hash, recordedAt) = try second.read { db in
                    let row = try Row.fetchOne(db, sql: "SELECT hash, recorded_at FROM events WHERE seq = ?", arguments: [middle])
                    return ((row?["hash"] as String?).map { Array($0.utf8) } ?? [], (row?["recorded_at"] as String?).map { Array($0.utf8) } ?? [])
                }
                var verifier = ChainVerifier(after: middle, hash: hash, recordedAt: recordedAt)
                try Ledger.verify(through: head, in: second, with: &verifier, stop: shared) { shared.count.store($0 - middle, ordering: .relaxed) }
                return verifier
            }
            shared.result.withLock { $0 = result }
            secondDone.signal()
        }
        var first = ChainVerifier()
        do {
            try Ledger.verify(through: middle, in: store, with: &first) { count in
                passed(count + shared.count.load(ordering: .relaxed))
            }
        } catch {
            // The first half's error came first: the second half need not go on.
            shared.stop.store(true, ordering: .relaxed)
            secondDone.wait()
            throw error
        }
        secondDone.wait()
        var report = try shared.result.withLock { $0! }.get().report
        report.firstRecordedAt = first.report.firstRecordedAt
        // The halves' counts are sampled: the last 100,000 passed may not have been told yet.
        passed(head)
        return report
    }

    /// Checks the events after `verifier`'s count up to `last`, in seq order, and that none is
    /// missing at the end; `progress` gets the verifier's count every 10,000 events.
    static func verify(through last: Int64, in store: SQLiteEventStore, with verifier: inout ChainVerifier, stop: SecondHalf? = nil, progress: ((Int64) -> Void)? = nil) throws {
        try store.read { db in
            let statement = try db.makeStatement(sql: "SELECT \(SQLiteEventStore.columns) FROM events WHERE seq > ? AND seq <= ? ORDER BY seq")
            try statement.setArguments([verifier.count, last])
            let raw = RawStatement(statement, in: db)
            while try raw.step() {
                try verifier.check(row: raw)
                if verifier.count % 10_000 == 0 {
                    progress?(verifier.count)
                    if stop?.stop.load(ordering: .relaxed) == true { throw CancellationError() }
                }
            }
            if verifier.count < last {
                // What reading on would have found: the next seq there is, or none.
                let next = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM events WHERE seq > ?", arguments: [verifier.count])
                throw ChainVerifier.gap(expected: verifier.count + 1, found: next)
            }
        }
    }
}

/// What the thread verifying the second half shares: its progress, whether to stop (the first
/// half failed), and its outcome.
final class SecondHalf: Sendable {
    let count = Atomic<Int64>(0)
    let stop = Atomic<Bool>(false)
    let result = Mutex<Result<ChainVerifier, any Error>?>(nil)
}
