import Foundation

/// One event type at one version, as declared by its JSON Schema.
public struct EventType: Sendable {
    /// The type's name, e.g. `meeting-held`.
    public let name: String
    /// The schema version.
    public let version: Int64
    /// The self-contained schema (shared definitions copied into its `$defs`), as registered in the log.
    public let schema: JSONValue
    /// The compiled schema of `data`.
    public let root: SchemaNode
    /// `x-kopa-stream`, e.g. `project/{project}`; `nil` for corrections, which use the target's stream.
    public let streamTemplate: String?
    /// `x-kopa-creates`: the event must be the first of its stream.
    public let creates: Bool
    /// The stream template cut into literal text and field names, parsed once.
    private let streamParts: [(literal: String, field: String?)]

    /// The types the engine itself writes or interprets.
    public static let systemTypes: Set<String> = ["ledger-created", "schema-registered", "event-corrected", "event-retracted"]

    /// Field names the command line keeps for itself (`--source` is always the evidence source).
    /// `--reason` and `--remove` belong to `kopa correct` only, so a payload field may be called `reason`.
    public static let reservedFields: Set<String> = [
        "occurred_at", "source", "evidence", "evidence_file", "expect_version", "idempotency_key", "correlation_id",
        "data", "ledger", "actor", "format", "help",
    ]

    /// Whether the engine handles this type itself.
    public var isSystem: Bool { Self.systemTypes.contains(name) }

    /// One sentence that says what the event records.
    public var summary: String { root.summary ?? name }

    /// The payload fields: required ones first, then the rest, each alphabetically.
    public var fields: [(name: String, node: SchemaNode, required: Bool)] {
        let required = Set(root.required)
        return root.properties.keys
            .sorted { (required.contains($0) ? 0 : 1, $0) < (required.contains($1) ? 0 : 1, $1) }
            .map { ($0, root.properties[$0]!, required.contains($0)) }
    }

    /// Builds a type from a compiled schema.
    /// - Throws: ``LedgerError`` when the stream template names a field the schema does not require.
    public init(name: String, version: Int64, schema: JSONValue, location: String) throws(LedgerError) {
        self.name = name
        self.version = version
        self.schema = schema
        self.root = try SchemaNode.compile(schema, definitions: [:], location: location)
        self.streamTemplate = schema["x-kopa-stream"]?.stringValue
        if case .bool(true)? = schema["x-kopa-creates"] { creates = true } else { creates = false }
        streamParts = Self.parts(schema["x-kopa-stream"]?.stringValue ?? "")
        if !isSystem {
            for field in root.properties.keys where Self.reservedFields.contains(field) {
                throw LedgerError(.invalidInput, "schema \(location): payload field '\(field)' collides with the command line's own --\(field.replacingOccurrences(of: "_", with: "-")); rename it")
            }
        }
        if let streamTemplate {
            for field in streamParts.compactMap(\.field) where !root.required.contains(field) {
                throw LedgerError(.invalidInput, "schema \(location): x-kopa-stream '\(streamTemplate)' uses '{\(field)}', which is not a required field")
            }
        } else if !isSystem {
            throw LedgerError(.invalidInput, "schema \(location): missing x-kopa-stream, e.g. \"project/{project}\"")
        }
    }

    static func parts(_ template: String) -> [(literal: String, field: String?)] {
        var parts: [(String, String?)] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            parts.append((String(rest[..<open]), String(rest[rest.index(after: open)..<close])))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append((String(rest), nil)) }
        return parts
    }

    /// The stream an event with this payload belongs to.
    public func stream(for data: [String: JSONValue]) -> String? {
        guard streamTemplate != nil else { return nil }
        var result = ""
        for (literal, field) in streamParts {
            result += literal
            if let field {
                guard let value = data[field]?.stringValue else { return nil }
                result += value
            }
        }
        return result
    }
}
