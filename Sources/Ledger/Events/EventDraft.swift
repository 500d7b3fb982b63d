/// An event as a recorder submits it, before the store gives it a seq, a time and a hash.
public struct EventDraft: Sendable, Equatable {
    /// Event type, e.g. `meeting-held`.
    public var type: String
    /// The payload; validated against the type's schema in the ledger.
    public var data: JSONValue
    /// Valid time; `nil` means now.
    public var occurredAt: String?
    /// `source`, `evidence`, `corrects`/`retracts`, `reason`, `correlation_id` … (an object).
    public var meta: [String: JSONValue]
    /// The stream's current version the recorder expects (0: the stream must not exist yet).
    public var expectVersion: Int64?
    /// A key that makes a repeated submission append nothing.
    public var idempotencyKey: String?
    /// Schema version; `nil` means the newest registered.
    public var version: Int64?

    /// Creates a draft.
    public init(
        type: String, data: JSONValue, occurredAt: String? = nil, meta: [String: JSONValue] = [:],
        expectVersion: Int64? = nil, idempotencyKey: String? = nil, version: Int64? = nil
    ) {
        self.type = type
        self.data = data
        self.occurredAt = occurredAt
        self.meta = meta
        self.expectVersion = expectVersion
        self.idempotencyKey = idempotencyKey
        self.version = version
    }
}

extension EventDraft {
    static let importKeys: Set<String> = ["type", "data", "occurred_at", "meta", "expect_version", "idempotency_key", "version"]

    /// Reads an import line: `{"type", "data", "occurred_at"}` plus optional `meta`,
    /// `expect_version`, `idempotency_key`, `version`.
    /// - Throws: ``LedgerError`` naming the key or value that is wrong.
    public init(importLine value: JSONValue) throws(LedgerError) {
        guard case .object(let members) = value else {
            throw LedgerError(.invalidInput, "an import line must be a JSON object, found \(value.kindDescription)")
        }
        for key in members.keys where !Self.importKeys.contains(key) {
            throw LedgerError(.invalidInput, "unknown key '\(key)' in import line; expected type, data, occurred_at, meta, expect_version, idempotency_key or version")
        }
        guard let type = members["type"]?.stringValue else {
            throw LedgerError(.invalidInput, "import line has no string 'type'; expected e.g. \"type\": \"meeting-held\"")
        }
        guard let data = members["data"] else {
            throw LedgerError(.invalidInput, "import line of type '\(type)' has no 'data' object")
        }
        var occurredAt: String?
        if let value = members["occurred_at"] {
            guard let text = value.stringValue else {
                throw LedgerError(.invalidInput, "occurred_at is \(value.shortDescription) but expected a string such as \"2019-12-05\"")
            }
            occurredAt = text
        }
        var meta: [String: JSONValue] = [:]
        if let value = members["meta"] {
            guard let object = value.objectValue else {
                throw LedgerError(.invalidInput, "meta is \(value.shortDescription) but expected an object")
            }
            meta = object
        }
        func integer(_ key: String) throws(LedgerError) -> Int64? {
            guard let value = members[key] else { return nil }
            guard let n = value.integerValue, n >= 0 else {
                throw LedgerError(.invalidInput, "\(key) is \(value.shortDescription) but expected a non-negative integer")
            }
            return n
        }
        var key: String?
        if let value = members["idempotency_key"] {
            guard let text = value.stringValue, !text.isEmpty, text.utf8.count <= 200 else {
                throw LedgerError(.invalidInput, "idempotency_key is \(value.shortDescription) but expected a non-empty string of at most 200 bytes")
            }
            key = text
        }
        self.init(
            type: type, data: data, occurredAt: occurredAt, meta: meta,
            expectVersion: try integer("expect_version"), idempotencyKey: key, version: try integer("version"))
    }
}
