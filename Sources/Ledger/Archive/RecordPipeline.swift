import Foundation

/// Reads an archive's records and checks their chain on a second thread, handing them over in
/// batches, so decompressing, parsing and hashing overlap with inserting. Records and the first
/// error arrive in file order, exactly as a single-threaded read would give them; memory stays
/// bounded (a few batches).
///
/// A canonical line (what `kopa export` writes) travels as its bytes and is hashed in place; any
/// other line is parsed in full and travels as a record.
///
/// With `checkWhileReading` (restore) the reading thread does everything but `body`: inserting is
/// the slow part. It also works out, through `prepare`, what `body` would otherwise derive from a
/// canonical line (the valid time's bounds), so the inserting thread only inserts. Without it
/// (verify) the calling thread checks the chain, and reading the lines (the canonical-form check,
/// or the full parse) is shared: the reading thread decompresses and splits lines into batches,
/// reads the newest waiting batch itself when the other thread falls behind (or instead of waiting
/// on a full queue), and leaves the rest to the calling thread, which reads any batch it finds
/// unread. So neither thread idles while the other has the larger share.
// @unchecked: the reader is used only by the reading thread until it has finished (`done`); each
// thread keeps its own verifier, stored once it has finished; the queue, the spare batches and
// every batch's `state` only under `condition`; a batch's content only by the thread that filled
// it or claimed it (`state`), or that popped it once it was read; `prepare` only by the reading thread.
final class RecordPipeline: @unchecked Sendable {
    /// One line of a batch: where its bytes are in ``Batch/bytes``, or the record parsed from it.
    enum Item {
        /// `prepared`: the valid time's bounds ``RestorePreparer`` appended after the line, and
        /// where they start in ``Batch/bytes``.
        case canonical(start: Int, count: Int, layout: CanonicalLine.Layout, line: Int, prepared: (bounds: ValidTimeBounds, start: Int)? = nil)
        case parsed(EventRecord, line: Int)
    }

    /// A line not read yet: its bytes in ``Batch/bytes`` and its line number.
    struct Line {
        var start: Int
        var count: Int
        var number: Int
    }

    final class Batch {
        enum State { case unread, reading, read }
        var bytes: [UInt8] = []
        /// The lines to read, when the batch is handed over unread.
        var lines: [Line] = []
        var items: [Item] = []
        /// The seq a line too broken to have one is reported at, for the batch's first line.
        var firstSeq: Int64 = 1
        /// The error of the line that ended ``items`` (a line that is not a record).
        var lineError: (any Error)?
        /// What came after the batch's lines: ``EndOfArchive``, or the error that ended reading.
        var error: (any Error)?
        var state = State.read

        init() {
            bytes.reserveCapacity(RecordPipeline.batchBytes + (64 << 10))
            items.reserveCapacity(RecordPipeline.batchLines)
            lines.reserveCapacity(RecordPipeline.batchLines)
        }
    }

    private struct Cancelled: Error {}
    private struct EndOfArchive: Error {}

    private let reader: ArchiveReader
    private var finalVerifier = ChainVerifier()
    private let condition = NSCondition()
    private var batches: [Batch] = []
    /// Consumed batches, kept for their buffers: no allocation (and no page faults) per batch.
    private var spare: [Batch] = []
    private var cancelled = false
    private let done = DispatchSemaphore(value: 0)
    /// A batch ends after this many lines or bytes: small enough to stay in cache.
    static let batchLines = 1024
    static let batchBytes = 512 << 10
    static let capacity = 8
    /// The reading thread reads lines itself only once this many batches wait: the calling thread
    /// is then well behind. Helping sooner starved it (measured on verify: 4 batches, helping at 2,
    /// 0.85 s; 8 helping at 6, 0.74 s).
    static let helpAt = 6

    /// Whether the reading thread checks the chain (else the consuming one does, before `body`).
    private let checkWhileReading: Bool

    /// Run on each checked canonical line by the reading thread (with `checkWhileReading` only).
    private let prepare: RestorePreparer?

    init(_ reader: ArchiveReader, checkWhileReading: Bool, prepare: RestorePreparer? = nil) {
        self.reader = reader
        self.checkWhileReading = checkWhileReading
        self.prepare = prepare
    }

    private func check(_ record: EventRecord, line: Int, with verifier: inout ChainVerifier) throws {
        do {
            try verifier.check(record)
        } catch let error as LedgerError {
            throw error.at(file: reader.name, line: line)
        }
    }

    /// The fast check, and the full one (which names the error) whenever the fast one does not accept.
    private func check(_ text: UnsafeBufferPointer<UInt8>, _ layout: CanonicalLine.Layout, line: Int, with verifier: inout ChainVerifier) throws {
        if verifier.checkCanonical(text, layout) { return }
        try check(CanonicalLine.record(text, layout), line: line, with: &verifier)
    }

    // MARK: - The queue

    /// Hands a batch over; while the queue is full, reads waiting batches instead of idling.
    private func push(_ batch: Batch) throws {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= Self.capacity, !cancelled {
            if !readNewestUnread() { condition.wait() }
        }
        if cancelled { throw Cancelled() }
        batches.append(batch)
        condition.broadcast()
    }

    /// Reads the newest unread batch while the other thread has ``helpAt`` batches waiting.
    private func help() {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= Self.helpAt, !cancelled, readNewestUnread() {}
    }

    /// Claims the newest unread batch and reads it, unlocking meanwhile (called with the lock held).
    /// - Returns: false when no batch was waiting unread.
    private func readNewestUnread() -> Bool {
        guard let batch = batches.last(where: { $0.state == .unread }) else { return false }
        batch.state = .reading
        condition.unlock()
        readLines(of: batch, file: reader.name)
        condition.lock()
        batch.state = .read
        condition.broadcast()
        return true
    }

    /// The next batch in order, read (by this thread when it was still unread).
    private func pop() -> Batch {
        condition.lock()
        while batches.isEmpty { condition.wait() }
        let batch = batches.removeFirst()
        let unread = batch.state == .unread
        if unread { batch.state = .reading }
        condition.broadcast()
        while !unread, batch.state != .read { condition.wait() }
        condition.unlock()
        if unread { readLines(of: batch, file: reader.name) }
        return batch
    }

    private func emptyBatch(firstSeq: Int64) -> Batch {
        condition.lock()
        let batch = spare.popLast() ?? Batch()
        condition.unlock()
        batch.firstSeq = firstSeq
        batch.state = .read
        return batch
    }

    private func recycle(_ batch: Batch) {
        batch.bytes.removeAll(keepingCapacity: true)
        batch.lines.removeAll(keepingCapacity: true)
        batch.items.removeAll(keepingCapacity: true)
        batch.lineError = nil
        batch.error = nil
        condition.lock()
        defer { condition.unlock() }
        if spare.count < Self.capacity + 2 { spare.append(batch) }
    }

    // MARK: - Reading

    /// Reads the lines of a batch handed over unread: each one checked in canonical form, or
    /// parsed in full; the first line that is not a record ends the items with its error.
    private func readLines(of batch: Batch, file: String) {
        var items: [Item] = []
        swap(&items, &batch.items)
        defer { swap(&items, &batch.items) }
        batch.bytes.withUnsafeBufferPointer { bytes in
            for (i, line) in batch.lines.enumerated() {
                let text = UnsafeBufferPointer(rebasing: bytes[line.start..<(line.start + line.count)])
                if let layout = CanonicalLine.layout(text) {
                    items.append(.canonical(start: line.start, count: line.count, layout: layout, line: line.number))
                    continue
                }
                do {
                    let record = try ArchiveReader.record(text, expectedSeq: batch.firstSeq + Int64(i), line: line.number, file: file)
                    items.append(.parsed(record, line: line.number))
                } catch {
                    batch.lineError = error
                    return
                }
            }
        }
    }

    /// The reading thread with `checkWhileReading`: lines read and checked in order, batches handed over read.
    private func produceChecked() {
        var verifier = ChainVerifier()
        defer { finalVerifier = verifier }
        var batch = emptyBatch(firstSeq: 1)
        var bytes: [UInt8] = []
        var items: [Item] = []
        swap(&bytes, &batch.bytes)
        swap(&items, &batch.items)
        var parsed: Int64 = 0
        do {
            try reader.forEachLine(expectedSeq: { parsed + 1 }) { text, line in
                if let layout = CanonicalLine.layout(text) {
                    try check(text, layout, line: line, with: &verifier)
                    let start = bytes.count
                    bytes.append(contentsOf: text)
                    let extra = bytes.count
                    let bounds = try prepare?.prepare(text, layout, line: line, appendingTo: &bytes)
                    items.append(.canonical(start: start, count: text.count, layout: layout, line: line, prepared: bounds.map { ($0, extra) }))
                } else {
                    let record = try ArchiveReader.record(text, expectedSeq: parsed + 1, line: line, file: reader.name)
                    try check(record, line: line, with: &verifier)
                    items.append(.parsed(record, line: line))
                }
                parsed += 1
                if items.count >= Self.batchLines || bytes.count >= Self.batchBytes {
                    swap(&bytes, &batch.bytes)
                    swap(&items, &batch.items)
                    try push(batch)
                    batch = emptyBatch(firstSeq: parsed + 1)
                    swap(&bytes, &batch.bytes)
                    swap(&items, &batch.items)
                }
            }
        } catch is Cancelled {
            return
        } catch {
            batch.error = error
        }
        swap(&bytes, &batch.bytes)
        swap(&items, &batch.items)
        // The last batch marks the end: it carries the error, or none when the archive was read to its end.
        if batch.error == nil { batch.error = EndOfArchive() }
        try? push(batch)
    }

    /// The reading thread without `checkWhileReading`: lines split into batches handed over
    /// unread, and read by whichever thread gets to them first.
    private func produceLines() {
        var batch = emptyBatch(firstSeq: 1)
        var bytes: [UInt8] = []
        var lines: [Line] = []
        swap(&bytes, &batch.bytes)
        swap(&lines, &batch.lines)
        var count: Int64 = 0
        do {
            try reader.forEachLine(expectedSeq: { count + 1 }) { text, number in
                lines.append(Line(start: bytes.count, count: text.count, number: number))
                bytes.append(contentsOf: text)
                count += 1
                if lines.count >= Self.batchLines || bytes.count >= Self.batchBytes {
                    swap(&bytes, &batch.bytes)
                    swap(&lines, &batch.lines)
                    batch.state = .unread
                    try push(batch)
                    help()
                    batch = emptyBatch(firstSeq: count + 1)
                    swap(&bytes, &batch.bytes)
                    swap(&lines, &batch.lines)
                }
            }
        } catch is Cancelled {
            return
        } catch {
            batch.error = error
        }
        swap(&bytes, &batch.bytes)
        swap(&lines, &batch.lines)
        if batch.error == nil { batch.error = EndOfArchive() }
        batch.state = .unread
        guard (try? push(batch)) != nil else { return }
        help()
    }

    /// What the chain check found, once ``consume(_:)`` has returned.
    var report: VerifyReport { finalVerifier.report }

    /// Calls `body` with every record and its line, in order, on the calling thread, once the
    /// record has passed ``ChainVerifier``.
    /// - Throws: the first error, of the reader or of `body`, in file order.
    func consume(_ body: (ArchiveRecord, Int) throws -> Void) throws {
        let thread = Thread { [self] in
            if checkWhileReading { produceChecked() } else { produceLines() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.name = "kopa-reader"
        thread.start()
        defer {
            condition.lock()
            cancelled = true
            condition.broadcast()
            condition.unlock()
            done.wait()
        }
        var verifier = ChainVerifier()
        let checkHere = !checkWhileReading
        defer { if checkHere { finalVerifier = verifier } }
        while true {
            let batch = pop()
            try batch.bytes.withUnsafeBufferPointer { bytes in
                for item in batch.items {
                    switch item {
                    case .canonical(let start, let count, let layout, let line, let prepared):
                        let text = UnsafeBufferPointer(rebasing: bytes[start..<(start + count)])
                        if checkHere { try check(text, layout, line: line, with: &verifier) }
                        if let (bounds, at) = prepared {
                            let start = UnsafeBufferPointer(rebasing: bytes[at..<(at + bounds.startCount)])
                            let end = UnsafeBufferPointer(rebasing: bytes[(at + bounds.startCount)..<(at + bounds.startCount + bounds.endCount)])
                            try body(.bounded(text, layout, occurredStart: start, occurredEnd: end), line)
                        } else {
                            try body(.canonical(text, layout), line)
                        }
                    case .parsed(let record, let line):
                        if checkHere { try check(record, line: line, with: &verifier) }
                        try body(.parsed(record), line)
                    }
                }
            }
            if let error = batch.lineError { throw error }
            if let error = batch.error {
                if error is EndOfArchive { return }
                throw error
            }
            recycle(batch)
        }
    }
}

/// The lengths of a valid time's two bounds, which ``RestorePreparer`` appends after a line.
struct ValidTimeBounds {
    var startCount: Int
    var endCount: Int
}
