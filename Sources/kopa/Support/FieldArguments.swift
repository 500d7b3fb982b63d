import ArgumentParser
import Foundation
import Ledger

/// The `--name value` tokens after an event type, split into Kopa's own options and payload fields.
///
/// Payload options come from the catalog at run time, which argument-parser cannot declare, so
/// `record` and `correct` capture them and read them here.
struct FieldArguments {
    var fields: [(option: String, value: String)] = []
    var occurredAt: String?
    var source: String?
    var evidence: [JSONValue] = []
    var expectVersion: Int64?
    var idempotencyKey: String?
    var correlationID: String?
    var data: String?
    var reason: String?
    var remove: [String] = []
    var ledger: String?
    var actor: String?
    /// `--format` given after the event type, like `--ledger` and `--actor`.
    var format: OutputFormat?
    var help = false

    /// Kopa's own options among the tokens (the switch below reads each); `kopa correct` adds
    /// ``correctingOptions``.
    static let ownOptions: Set<String> = [
        "--help", "-h", "--occurred-at", "--source", "--evidence", "--evidence-file", "--expect-version",
        "--idempotency-key", "--correlation-id", "--data", "--ledger", "--actor", "--format",
    ]
    /// The options only `kopa correct` reads itself (for `kopa record` they may be payload fields).
    static let correctingOptions: Set<String> = ["--reason", "--remove"]

    /// Splits tokens; boolean payload fields may be given without a value.
    /// - Parameter correcting: `kopa correct` keeps `--reason` and `--remove` for itself; for
    ///   `kopa record` they are payload fields (e.g. the reason a council was dissolved).
    init(_ tokens: [String], type: EventType?, correcting: Bool = false) throws {
        // The rule for a value that starts with a dash: the word after an option is its value
        // unless it is the name of an option this command reads here (Kopa's own, or a field of
        // the type), alone or as `--name=…`. Then the value was left out (`--title --participants
        // 25` must not record the title "--participants", nor blame '25'). Anything else is a
        // value: "-5", "--", "-- draft --", "--x" naming no option. A value that is an option's
        // name can still be given inline: `--title=--participants`.
        var options = Self.ownOptions.union(correcting ? Self.correctingOptions : [])
        for field in type.map({ Array($0.root.properties.keys) }) ?? [] { options.insert(EventType.optionName(forField: field)) }
        func isOption(_ word: String) -> Bool {
            options.contains(word.firstIndex(of: "=").map { String(word[..<$0]) } ?? word)
        }
        var i = 0
        func value(for option: String) throws -> String {
            guard i + 1 < tokens.count else { throw ValidationError("\(option) needs a value") }
            let next = tokens[i + 1]
            if isOption(next) {
                throw ValidationError("\(option) needs a value, but the next word is the option \(next); for a value that is an option's name write \(option)=\(next)")
            }
            i += 1
            return next
        }
        // Kopa's own options hold one value: a second would silently replace the first.
        var given = OptionValues()
        func once(_ option: String, _ value: String) throws -> String { try given.note(option, value) }
        while i < tokens.count {
            var token = tokens[i]
            var inline: String?
            if token.hasPrefix("--"), let eq = token.firstIndex(of: "=") {
                inline = String(token[token.index(after: eq)...])
                token = String(token[..<eq])
            }
            func next() throws -> String {
                if let inline { return inline }
                return try value(for: token)
            }
            switch token {
            case "--help", "-h": help = true
            case "--occurred-at": occurredAt = try once(token, next())
            case "--source": source = try once(token, next())
            case "--evidence":
                let text = try next()
                // Said here, of the option: the ledger would say "meta.evidence[0].title is missing".
                guard !text.isEmpty else {
                    throw LedgerError(.invalidInput, "--evidence '\(text)' is empty; expected the title of a piece of evidence (e.g. --evidence \"Minutes of the meeting\") or a JSON object {\"title\": …, \"sha256\": …, \"location\": …}")
                }
                if text.hasPrefix("{") {
                    evidence.append(try Self.json(text, option: "--evidence"))
                } else {
                    evidence.append(.object(["title": .string(text)]))
                }
            case "--evidence-file": evidence.append(try Evidence.file(at: try next()))
            case "--expect-version":
                let text = try once(token, next())
                guard let n = Int64(text), n >= 0 else { throw ValidationError("--expect-version '\(text)' is not a non-negative integer") }
                expectVersion = n
            case "--idempotency-key": idempotencyKey = try once(token, next())
            case "--correlation-id": correlationID = try once(token, next())
            case "--data": data = try once(token, next())
            case "--reason" where correcting: reason = try once(token, next())
            case "--remove" where correcting: remove.append(EventType.fieldName(forOption: try next()))
            case "--ledger": ledger = try once(token, next())
            case "--actor": actor = try once(token, next())
            case "--format":
                let text = try once(token, next())
                guard let chosen = OutputFormat(rawValue: text) else {
                    throw ValidationError("--format '\(text)' is not one of \(OutputFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                format = chosen
            default:
                guard token.hasPrefix("--"), token.count > 2 else {
                    throw ValidationError("unexpected argument '\(token)'; payload fields are given as --field value")
                }
                let field = EventType.fieldName(forOption: token)
                let isBoolean = type?.root.properties[field]?.kind == .boolean
                if inline == nil, isBoolean, i + 1 >= tokens.count || tokens[i + 1].hasPrefix("--") {
                    fields.append((token, "true"))
                } else {
                    fields.append((token, try next()))
                }
            }
            i += 1
        }
    }

    /// JSON given in an option, or the error that names the option, the text and where it breaks
    /// (rejected input, 65, like a line of an import).
    static func json(_ text: String, option: String) throws -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            let shown = text.count > 60 ? text.prefix(60) + "…" : Substring(text)
            throw LedgerError(.invalidInput, "\(option) '\(shown)' is not valid JSON: \(error)")
        }
    }

    /// `--data`'s text as a payload: JSON, and an object.
    static func jsonObject(_ text: String, option: String) throws -> [String: JSONValue] {
        let value = try json(text, option: option)
        guard case .object(let object) = value else {
            throw LedgerError(.invalidInput, "\(option) is \(value.kindDescription) but expected a JSON object, e.g. '{\"project\": \"cities4csr\"}'")
        }
        return object
    }

    /// The `--ledger` given among the tokens, read before the catalog is known.
    static func ledgerOption(in tokens: [String]) -> String? {
        var result: String?
        for (i, token) in tokens.enumerated() {
            if token == "--ledger", i + 1 < tokens.count { result = tokens[i + 1] }
            if token.hasPrefix("--ledger=") { result = String(token.dropFirst("--ledger=".count)) }
        }
        return result
    }

    /// The meta object: source, evidence, correlation id, reason.
    var meta: [String: JSONValue] {
        var meta: [String: JSONValue] = [:]
        if let source { meta["source"] = .string(source) }
        if !evidence.isEmpty { meta["evidence"] = .array(evidence) }
        if let correlationID { meta["correlation_id"] = .string(correlationID) }
        if let reason { meta["reason"] = .string(reason) }
        return meta
    }
}

/// The help text of one event type, built from its schema: for `kopa record TYPE` (and `kopa
/// catalog TYPE`), or for `kopa correct ID` when `correcting` names the event corrected.
func typeHelp(_ type: EventType, correcting: String? = nil) -> String {
    let writer = systemWriter(of: type)
    let usage: String
    if let writer {
        usage = "USAGE: written by \(writer), not by `kopa record`"
    } else if let correcting {
        usage = "USAGE: kopa correct \(correcting) [--FIELD VALUE …] [--data JSON] [--remove FIELD] [--occurred-at WHEN] --reason TEXT [--source TEXT] [--evidence TITLE] [--evidence-file PATH] [--expect-version N] [--idempotency-key K]"
    } else {
        usage = "USAGE: kopa record \(type.name) [--FIELD VALUE …] [--occurred-at WHEN] [--source TEXT] [--evidence TITLE] [--evidence-file PATH] [--expect-version N] [--idempotency-key K] [--data JSON]"
    }
    var lines = [usage, ""]
    lines.append(type.summary)
    let stream = type.streamTemplate ?? (type.name == "event-retracted" ? "the retracted event's stream" : "the corrected event's stream")
    lines.append("Stream: \(stream)\(type.creates ? " (opens the stream)" : "")   Schema: \(type.name).v\(type.version)")
    lines.append("")
    lines.append("FIELDS:")
    for field in type.fields {
        var tags: [String] = [field.required && correcting == nil ? "required" : "optional"]
        if let ref = field.node.reference { tags.append("must name an existing \(ref)") }
        if field.node.personal { tags.append("personal data") }
        // A system type's fields are its payload's, never options.
        let name = writer == nil ? EventType.optionName(forField: field.name) : field.name
        lines.append("  \(name) <\(field.node.kindName)>  (\(tags.joined(separator: ", ")))")
        if let summary = field.node.summary { lines.append("        \(summary)") }
        lines.append("        Expected: \(field.node.expectation)")
    }
    // Folded to 100 columns like every table: an option's description continues under itself,
    // any other line under its own start, indented.
    func folded(_ lines: [String]) -> String {
        lines.flatMap { line in
            let lead = line.prefix { $0 == " " }.count
            var indent = line.hasPrefix("USAGE: ") ? 7 : lead == 0 ? 0 : lead < 8 ? lead + 4 : lead
            if line.hasPrefix("  --"), let gap = line.dropFirst(2).range(of: "  ") {
                indent = line.distance(from: line.startIndex, to: gap.upperBound) + line[gap.upperBound...].prefix { $0 == " " }.count
            }
            return TerminalText.wrapped(line, indent: String(repeating: " ", count: indent))
        }.joined(separator: "\n")
    }
    // A system type's fields are what its events hold; there is nothing to give as options.
    if writer != nil { return folded(lines) }
    lines.append("")
    lines.append("OPTIONS:")
    if correcting != nil {
        lines.append("  --reason TEXT          why the event is corrected (required)")
        lines.append("  --data JSON            the whole new payload (fields given as options override it)")
        lines.append("  --remove FIELD         drop an optional field (repeatable)")
        lines.append("  --occurred-at WHEN     move the event to WHEN: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss]Z")
    } else {
        lines.append("  --occurred-at WHEN     when it happened: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss]Z (default: now)")
    }
    lines.append("  --source TEXT          where the fact comes from")
    lines.append("  --evidence TITLE|JSON  a piece of evidence (repeatable); --evidence-file PATH adds its SHA-256")
    lines.append("  --expect-version N     the stream's current version (0: must not exist yet)")
    lines.append("  --idempotency-key K    a repeated key appends nothing and prints the first event")
    if correcting == nil {
        lines.append("  --data JSON            the whole payload as JSON (fields given as options override it)")
    }
    lines.append("")
    lines.append("A value may start with a dash (-5, -- draft --); one that is an option's name is given as --FIELD=VALUE.")
    return folded(lines)
}

/// The command that writes events of a system type (`kopa record` does not), or nil for a
/// domain type.
func systemWriter(of type: EventType) -> String? {
    switch type.name {
    case "event-corrected":
        "`kopa correct ID [--FIELD VALUE …] [--data JSON] [--remove FIELD] [--occurred-at WHEN] --reason TEXT` (or an import line with meta.corrects)"
    case "event-retracted":
        "`kopa retract ID --reason TEXT` (or an import line with meta.retracts)"
    case _ where type.isSystem:
        "`kopa init` only"
    default:
        nil
    }
}

extension SchemaNode {
    /// A one-word type name for help.
    var kindName: String {
        if isMoney { return "money" }
        if let format, format.contains("date") { return "date" }
        if enumValues != nil { return "choice" }
        if reference != nil { return "slug" }
        return kind?.rawValue ?? "json"
    }
}
