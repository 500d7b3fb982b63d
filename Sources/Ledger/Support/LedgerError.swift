/// An error from the ledger, carrying where it happened the way GRDB's `DatabaseError` does:
/// the event's seq, stream, type and field, and the input file and line it came from.
///
/// It prints as one readable sentence naming the offending value and what was expected.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; the command line maps each kind to an exit code.
    public enum Kind: String, Sendable, Equatable {
        /// Input rejected: an invalid event, a bad value, a malformed file. Nothing was written.
        case invalidInput
        /// The input conflicts with the log: a stale expected version, a stream opened twice.
        case conflict
        /// The input repeats something unique (an id).
        case duplicate
        /// A ledger, file, event or stream that does not exist.
        case notFound
        /// A file that must be written cannot be: a read-only ledger, or a projection database in
        /// a folder this user cannot write. Nothing was written.
        case readOnly
        /// The log or an archive does not verify.
        case integrity
        /// The ledger stayed locked by another writer past the busy timeout.
        case busy
        /// A bug or an unexpected failure of the machine.
        case internalError
        /// The command line asks for something the thing it names does not have (a report
        /// parameter that the report does not take).
        case usage
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The sentence that says what is wrong and what was expected.
    public var message: String
    /// The event's position in the log, when known.
    public var seq: Int64?
    /// The input file the problem was found in.
    public var file: String?
    /// The 1-based line of that file.
    public var line: Int?
    /// The event type concerned, e.g. `meeting-held`.
    public var eventType: String?
    /// The stream concerned, e.g. `project/cities4csr`.
    public var stream: String?
    /// The payload field concerned, e.g. `amount.amount` or `organisations[2]`.
    public var field: String?

    /// Creates an error; `message` must name the offending value and what was expected (the
    /// context fields are for programs; the message already says them in words).
    public init(
        _ kind: Kind, _ message: String, seq: Int64? = nil, file: String? = nil, line: Int? = nil,
        eventType: String? = nil, stream: String? = nil, field: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.seq = seq
        self.file = file
        self.line = line
        self.eventType = eventType
        self.stream = stream
        self.field = field
    }

    /// This error located at `line` of `file` (an import, a seed file).
    public func at(file: String?, line: Int?) -> LedgerError {
        var copy = self
        copy.file = copy.file ?? file
        copy.line = copy.line ?? line
        return copy
    }

    /// One sentence: the message, then where (seq, stream, type, field, file:line) as far as known,
    /// on one line (``oneLine(_:)``).
    public var description: String { Self.oneLine(unescapedDescription) }

    /// The sentence ``description`` prints, before ``oneLine(_:)`` escapes it: for a message that
    /// quotes this error and is escaped once, whole (escaped twice, a backslash would show as four).
    public var unescapedDescription: String {
        var location: [String] = []
        if let line {
            location.append(file.map { "\($0):\(line)" } ?? "line \(line)")
        } else if let file {
            location.append(file)
        }
        if let seq { location.append("seq \(seq)") }
        return location.isEmpty ? message : location.joined(separator: ", ") + ": " + message
    }

    /// `text` with its control characters written as escapes (`\n`, `\u001b` …): a rejected value
    /// quoted in a message must not break the line, or send a terminal its escape codes. A
    /// backslash is written `\\`, so that a value holding a backslash and an `n` does not print as
    /// one holding a line break.
    ///
    /// - Important: Apply it once to a message (``description`` does): applied again, the
    ///   backslashes of its escapes would be doubled. Put ``message`` into another message, not
    ///   the description.
    public static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.breaksALine || $0.isBidiControl || $0.isHidden || $0 == "\\" }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.breaksALine || scalar.isBidiControl || scalar.isHidden:
                out += scalar.escaped
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension Unicode.Scalar {
    /// A control character (C0, DEL, C1) or Unicode's line or paragraph separator: what would
    /// break a one-line message or a table's row, or send a terminal an escape code.
    public var breaksALine: Bool {
        value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
    }

    /// A bidirectional formatting character (the embeddings, overrides and isolates, and the
    /// left-to-right, right-to-left and Arabic letter marks): invisible, it reorders what a terminal
    /// shows after it, so "12 \u{202E}05" reads as "12 50". Shown as an escape to a reader.
    public var isBidiControl: Bool {
        (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value) || value == 0x200E || value == 0x200F || value == 0x061C
    }

    /// A character a reader cannot see, or cannot tell from a space: a no-break or other wide
    /// space, a zero-width character, a soft hyphen. In a message, "12.50\u00a0EUR" must not read
    /// as the "12.50 EUR" it is refused for not being.
    public var isHidden: Bool {
        !isASCII && (properties.isWhitespace || properties.isDefaultIgnorableCodePoint)
    }

    /// `\u` and four hex digits (lower case): how a message or a terminal shows a character that
    /// must not act.
    public var escaped: String { "\\u" + hexDigits(uppercase: false) }

    /// `U+` and at least four hex digits (`U+00E9`): how a message names a character.
    public var codePoint: String { "U+" + hexDigits(uppercase: true) }

    private func hexDigits(uppercase: Bool) -> String {
        let hex = String(value, radix: 16, uppercase: uppercase)
        return String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
