import Foundation

/// Runs a producer on a second thread and hands its items to the calling thread in batches, so
/// reading and decoding overlap with writing. Items and the producer's error arrive in order,
/// exactly as a single-threaded loop would see them; memory stays bounded (`depth` batches).
///
/// The caller must call ``stop()`` (in a `defer`) before anything the producer uses goes away.
// @unchecked: `produce` is touched only by the producer thread until it has exited (`exited`);
// `queue`, `finished` and `stopping` only under `condition`; `current`/`position` only by the consumer.
final class BatchPipeline<Item: Sendable>: @unchecked Sendable {
    /// The producer: calls `emit` for every item in order, and returns at the end.
    typealias Producer = (_ emit: (Item) throws -> Void) throws -> Void

    private struct Batch {
        var items: [Item] = []
        var error: (any Error)?
    }

    /// Thrown into the producer when the consumer stops early.
    private struct Stopped: Error {}

    /// Dropped by the producer thread when it ends: callers may lend a closure with
    /// `withoutActuallyEscaping`, which traps if anything still holds it afterwards.
    private var produce: Producer?
    private let batchSize: Int
    private let depth: Int
    private let condition = NSCondition()
    private var queue: [Batch] = []
    private var finished = false
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)
    private var current: [Item] = []
    private var position = 0
    private var pendingError: (any Error)?

    /// Small batches, several in flight: they stay in the CPU caches between the two threads
    /// (measured: 128 × 8 imports ~5 % faster than 1024 × 2, 8192 × 2 ~15 % slower).
    init(batchSize: Int = 128, depth: Int = 8, produce: @escaping Producer) {
        self.produce = produce
        self.batchSize = batchSize
        self.depth = depth
        let thread = Thread { [self] in
            run()
            self.produce = nil
            exited.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func run() {
        var batch = Batch()
        batch.items.reserveCapacity(batchSize)
        do {
            try produce?({ item in
                batch.items.append(item)
                if batch.items.count >= batchSize {
                    try push(batch, last: false)
                    batch = Batch()
                    batch.items.reserveCapacity(batchSize)
                }
            })
        } catch is Stopped {
            return
        } catch {
            batch.error = error
        }
        try? push(batch, last: true)
    }

    private func push(_ batch: Batch, last: Bool) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= depth, !stopping { condition.wait() }
        if stopping { throw Stopped() }
        queue.append(batch)
        if last { finished = true }
        condition.broadcast()
    }

    /// The next item, nil at the end; throws the producer's error after the items before it.
    func next() throws -> Item? {
        while true {
            if position < current.count {
                defer { position += 1 }
                return current[position]
            }
            if let error = pendingError {
                pendingError = nil
                throw error
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
            pendingError = batch.error
        }
    }

    /// Stops the producer and waits until it has exited.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
        exited.wait()
    }
}
