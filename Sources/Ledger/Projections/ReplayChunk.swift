import Foundation

/// A run of events on their way from the reading thread to the projections, with every value the
/// projections' statements bind already worked out: no dictionaries, no strings, one buffer.
///
/// Working the values out (finding payload fields, money in cents) on the reading thread leaves the
/// writing thread, the one that bounds a replay, only binding and stepping.
struct ReplayChunk: Sendable {
    /// The text of every value, back to back.
    var bytes: [UInt8] = []
    /// The values of every event, each event's in its type's slot order (``ReplayPlan``).
    var values: [BoundValue] = []
    /// The events, in replay order.
    var events: [PreparedEvent] = []

    /// Events per chunk: small enough to stay in the CPU caches between the two threads.
    static let capacity = 128

    var isFull: Bool { events.count >= Self.capacity || bytes.count >= 1 << 18 }
}

/// A stretch of ``ReplayChunk/bytes``.
struct ByteSpan: Sendable {
    var offset: Int32
    var count: Int32

    /// These bytes of a chunk's buffer.
    func of(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[Int(offset)..<Int(offset + count)])
    }
}

/// One value to bind: NULL, an integer, or text in the chunk's bytes.
struct BoundValue: Sendable {
    enum Kind: UInt8, Sendable { case null, integer, text }
    var kind: Kind
    /// The integer, or the offset of the text.
    var number: Int64
    /// The length of the text.
    var length: Int32

    static let null = BoundValue(kind: .null, number: 0, length: 0)
}

/// An event in a chunk: what the writing thread needs besides its values.
struct PreparedEvent: Sendable {
    var seq: Int64
    /// Index into ``ReplayPlan/types``; `types.count` for a type no typed block handles.
    var type: Int32
    var firstValue: Int32
    var start: ByteSpan
    var end: ByteSpan
    /// For error messages.
    var typeName: ByteSpan
    var stream: ByteSpan
    /// Which projections receive it: every one, or only those that see corrections applied (the
    /// corrected event), or only those that see events as recorded (the original, or a retracted one).
    var audience: Audience = .all

    enum Audience: UInt8, Sendable { case all, corrected, asRecorded }
}

/// Which values each event type needs, in which order: the values bound by `-- on *` blocks first
/// (the same slots for every type), then those of the type's own blocks.
struct ReplayPlan: Sendable {
    /// Types with statements of their own.
    let types: [String]
    /// Slots per type index; the last entry (index `types.count`) is the shared prefix alone.
    let slots: [[Binding]]
    private let typeBytes: [[UInt8]]

    /// Builds the plan and gives every statement its slot numbers.
    init(_ compiled: [CompiledProjection]) {
        var prefix: [Binding] = []
        for projection in compiled {
            for statement in projection.wildcard {
                for (_, binding) in statement.bindings where !prefix.contains(binding) { prefix.append(binding) }
            }
        }
        var byType: [String: [Binding]] = [:]
        for type in Set(compiled.flatMap { $0.statements.keys }) {
            var list = prefix
            for projection in compiled {
                for statement in projection.statements[type] ?? [] {
                    for (_, binding) in statement.bindings where !list.contains(binding) { list.append(binding) }
                }
            }
            byType[type] = list
        }
        self.init(slots: byType, shared: prefix)
        for projection in compiled {
            for statement in projection.wildcard {
                statement.slots = statement.bindings.map { Int32(prefix.firstIndex(of: $0.binding)!) }
            }
            for (type, statements) in projection.statements {
                let list = slots[types.firstIndex(of: type)!]
                for statement in statements {
                    statement.slots = statement.bindings.map { Int32(list.firstIndex(of: $0.binding)!) }
                }
            }
        }
    }

    /// A plan from its slots: per type (each list beginning with `shared`), and for other types.
    init(slots byType: [String: [Binding]], shared: [Binding]) {
        types = byType.keys.sorted()
        slots = types.map { byType[$0]! } + [shared]
        typeBytes = types.map { Array($0.utf8) }
    }

    /// The index of a type given as bytes (`types.count` when no block names it).
    func index(of type: UnsafeBufferPointer<UInt8>) -> Int {
        typeBytes.firstIndex { Bytes.equal(type, $0) } ?? typeBytes.count
    }
}

/// The columns of one event as the replay reads them, borrowed from SQLite or from a string.
struct RawEventRow {
    var seq: Int64
    var version: Int64
    var streamVersion: Int64
    var id: UnsafeBufferPointer<UInt8>
    var type: UnsafeBufferPointer<UInt8>
    var stream: UnsafeBufferPointer<UInt8>
    var occurredAt: UnsafeBufferPointer<UInt8>
    var start: UnsafeBufferPointer<UInt8>
    var end: UnsafeBufferPointer<UInt8>
    var recordedAt: UnsafeBufferPointer<UInt8>
    var recordedBy: UnsafeBufferPointer<UInt8>
    /// Canonical JSON: the stored payload, or the corrected one.
    var data: UnsafeBufferPointer<UInt8>
    /// Canonical JSON.
    var meta: UnsafeBufferPointer<UInt8>

    /// Lends a row made of a record's strings (events whose correction moved them in valid time).
    static func with<T>(_ record: EventRecord, data: String, occurred: OccurredAt, _ body: (RawEventRow) throws -> T) rethrows -> T {
        let fields = [record.id, record.type, record.stream, occurred.text, occurred.start, occurred.end, record.recordedAt, record.recordedBy, data, record.metaJSON]
        var storage: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in fields {
            let from = storage.count
            storage.append(contentsOf: field.utf8)
            ranges.append(from..<storage.count)
        }
        return try storage.withUnsafeBufferPointer { all in
            func part(_ i: Int) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: all[ranges[i]]) }
            return try body(RawEventRow(
                seq: record.seq, version: record.version, streamVersion: record.streamVersion, id: part(0), type: part(1),
                stream: part(2), occurredAt: part(3), start: part(4), end: part(5), recordedAt: part(6), recordedBy: part(7),
                data: part(8), meta: part(9)))
        }
    }
}
