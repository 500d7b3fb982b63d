import Foundation

/// Reads, parses and prepares drafts on a second thread while the transaction's thread commits
/// them, handing them over in batches. Drafts and the first error arrive in input order, exactly
/// as a single-threaded loop would see them; memory stays bounded (a few batches in flight).
// @unchecked: `source` and `preparer` are used only by the reading thread, until it has finished
// (`exited`); `queue`, `finished` and `stopping` only under `condition`.
final class DraftPipeline: @unchecked Sendable {
    typealias Source = () throws -> (EventDraft, line: Int?)?

    private struct Batch {
        var items: [(PreparedDraft, Int?)] = []
        var error: (any Error)?
        /// The line of the draft whose preparation failed (a reading error names its own line).
        var errorLine: Int?
    }

    /// Dropped by the reading thread when it ends: the caller lends it with `withoutActuallyEscaping`,
    /// which traps if anything still holds it afterwards.
    private var source: Source?
    private var preparer: DraftPreparer
    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var finished = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)
    private var current: [(PreparedDraft, Int?)] = []
    private var position = 0
    private static let batchSize = 1024
    private static let depth = 2

    init(preparer: DraftPreparer, next: @escaping Source) {
        self.source = next
        self.preparer = preparer
        let thread = Thread { [self] in
            produce()
            source = nil
            exited.signal()
        }
        thread.stackSize = 4 << 20
        thread.start()
    }

    private func produce() {
        while true {
            var batch = Batch()
            var end = false
            do {
                while batch.items.count < Self.batchSize {
                    guard let (draft, line) = try source?() else {
                        end = true
                        break
                    }
                    do {
                        batch.items.append((try preparer.prepare(draft), line))
                    } catch {
                        batch.errorLine = line
                        throw error
                    }
                }
            } catch {
                batch.error = error
                end = true
            }
            condition.lock()
            while queue.count >= Self.depth, !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            queue.append(batch)
            if end { finished = true }
            condition.broadcast()
            condition.unlock()
            if end { return }
        }
    }

    /// The next prepared draft and its line, nil at the end; rethrows the reading thread's error
    /// (with the line it was on) after the drafts before it.
    func next() throws -> (PreparedDraft, Int?)? {
        if position < current.count {
            defer { position += 1 }
            return current[position]
        }
        condition.lock()
        while queue.isEmpty, !finished { condition.wait() }
        if queue.isEmpty {
            condition.unlock()
            return nil
        }
        let batch = queue.removeFirst()
        condition.broadcast()
        condition.unlock()
        current = batch.items
        position = 0
        if current.isEmpty, let error = batch.error {
            throw Self.located(error, line: batch.errorLine)
        }
        if let error = batch.error {
            // Hand out this batch's drafts first; the error follows them.
            condition.lock()
            queue.insert(Batch(items: [], error: error, errorLine: batch.errorLine), at: 0)
            condition.unlock()
        }
        return try next()
    }

    private static func located(_ error: any Error, line: Int?) -> any Error {
        guard let ledgerError = error as? LedgerError else { return error }
        return ledgerError.at(file: nil, line: ledgerError.line ?? line)
    }

    /// Stops the reading thread and waits until it no longer touches the source.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }
}
