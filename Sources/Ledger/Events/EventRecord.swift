/// One stored event: the record whose canonical form (RFC 8785) is hashed into the chain.
///
/// `data` and `meta` are held as their canonical JSON text, exactly the bytes that were hashed,
/// so verifying and exporting never re-encode a payload.
///
/// - Important: Events are never updated or deleted; a mistake is fixed by a new event.
public struct EventRecord: Sendable, Equatable {
    /// Position in the whole log, 1, 2, 3 … with no gaps.
    public var seq: Int64
    /// Lower-case UUID.
    public var id: String
    /// Event type, kebab-case.
    public var type: String
    /// Version of the type's schema.
    public var version: Int64
    /// The entity the event belongs to, `<kind>/<slug>`.
    public var stream: String
    /// 1, 2, 3 … within the stream.
    public var streamVersion: Int64
    /// Valid time, as precise as the source.
    public var occurredAt: String
    /// Transaction time, set by the store.
    public var recordedAt: String
    /// The actor who appended it.
    public var recordedBy: String
    /// The payload, canonical JSON text.
    public var dataJSON: String
    /// The metadata, canonical JSON text (`{}` when empty).
    public var metaJSON: String
    /// Hash of the previous event; 64 zeros for seq 1.
    public var prev: String
    /// Lower-case hex SHA-256 of 0x00 ‖ JCS(record).
    public var hash: String

    /// The `prev` of the first event.
    public static let genesisPrev = String(repeating: "0", count: 64)

    /// Creates a record from its fields.
    public init(
        seq: Int64, id: String, type: String, version: Int64, stream: String, streamVersion: Int64,
        occurredAt: String, recordedAt: String, recordedBy: String, dataJSON: String, metaJSON: String,
        prev: String, hash: String
    ) {
        self.seq = seq
        self.id = id
        self.type = type
        self.version = version
        self.stream = stream
        self.streamVersion = streamVersion
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.recordedBy = recordedBy
        self.dataJSON = dataJSON
        self.metaJSON = metaJSON
        self.prev = prev
        self.hash = hash
    }

    /// The payload, parsed. The stored text was parsed and checked when it was appended (or
    /// restored) and is covered by the hash: text that does not parse was changed behind Kopa's
    /// back, reads as an empty object here, and fails `kopa verify` at this seq.
    public var data: JSONValue { (try? JSONParser.parse(dataJSON)) ?? .object([:]) }

    /// The metadata, parsed (text that does not parse reads as an empty object, as for ``data``).
    public var meta: JSONValue { (try? JSONParser.parse(metaJSON)) ?? .object([:]) }
}
