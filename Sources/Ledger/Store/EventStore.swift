/// The chain head: the last event's position, hash and transaction time.
public struct ChainHead: Sendable, Equatable {
    /// Seq of the last event (0 for an empty log).
    public var seq: Int64
    /// Hash of the last event (64 zeros for an empty log).
    public var hash: String
    /// `recorded_at` of the last event (empty for an empty log).
    public var recordedAt: String

    /// The head of a log with no events.
    public static let empty = ChainHead(seq: 0, hash: EventRecord.genesisPrev, recordedAt: "")
}

/// What the log is asked for when reading: every filter is optional and they combine with AND.
public struct EventFilter: Sendable, Equatable {
    /// Only this stream.
    public var stream: String?
    /// Only streams starting with this prefix (e.g. `project/`).
    public var streamPrefix: String?
    /// Only these types.
    public var types: [String] = []
    /// Seq range, inclusive.
    public var fromSeq: Int64?
    /// Up to this seq, inclusive.
    public var toSeq: Int64?
    /// `recorded_at` range, inclusive (`YYYY-MM-DDThh:mm:ss.sssZ`).
    public var recordedFrom: String?
    /// Recorded at or before this instant.
    public var recordedUntil: String?
    /// At most this many events.
    public var limit: Int?

    /// A filter that lets every event through.
    public init() {}
}

/// One write transaction on a store: the ledger reads the head and the streams it needs,
/// validates, then inserts; everything commits together or not at all.
///
/// A PostgreSQL store implements the same protocol, serialising appends on the chain head.
public protocol AppendSession: AnyObject {
    /// The head as of the start of this transaction, advanced by each insert.
    var head: ChainHead { get }
    /// The stream's current version (0 when it does not exist).
    func streamVersion(_ stream: String) throws -> Int64
    /// The event a repeated idempotency key first appended.
    func event(idempotencyKey: String) throws -> EventRecord?
    /// The event with this id.
    func event(id: String) throws -> EventRecord?
    /// The corrections and retractions that target `id`, in seq order.
    func events(targeting id: String) throws -> [EventRecord]
    /// Whether the log holds any retraction (most ledgers hold none, and then no stream is withdrawn).
    func hasRetractions() throws -> Bool
    /// Whether the latest event of `stream` whose type is one of `openingTypes` was retracted: the
    /// entity was withdrawn (until an opening event is recorded again).
    func isWithdrawn(_ stream: String, openingTypes: [String]) throws -> Bool
    /// Inserts the next event of the chain.
    func insert(_ record: EventRecord, occurred: OccurredAt, idempotencyKey: String?, target: String?) throws
}

/// The storage behind a ledger: an append-only, hash-chained log.
public protocol EventStore: Sendable {
    /// Runs `body` in one exclusive write transaction (all or nothing).
    func append<T>(_ body: (any AppendSession) throws -> T) throws -> T
    /// The current head.
    func head() throws -> ChainHead
    /// Calls `each` for every event matching `filter`, in seq order, until it returns false.
    func scan(_ filter: EventFilter, _ each: (EventRecord) throws -> Bool) throws
    /// The event with this id, if any.
    func event(id: String) throws -> EventRecord?
    /// The event at this seq, if any.
    func event(seq: Int64) throws -> EventRecord?
    /// The event appended under this idempotency key, if any.
    func event(idempotencyKey: String) throws -> EventRecord?
}
