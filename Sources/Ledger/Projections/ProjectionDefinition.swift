import Foundation

/// One SQL projection file: a header (name, version, description), table definitions, and one
/// block of statements per event type it handles (`-- on <type>`, or `-- on *` for every type).
///
/// ```sql
/// -- projection: councils
/// -- version: 1
/// CREATE TABLE councils (neighbourhood TEXT PRIMARY KEY, formed_on TEXT NOT NULL, dissolved_on TEXT);
///
/// -- on council-formed
/// INSERT INTO councils (neighbourhood, formed_on) VALUES (:neighbourhood, :_occurred_at);
/// ```
public struct ProjectionDefinition: Sendable, Equatable {
    /// One `-- on` block.
    public struct Block: Sendable, Equatable {
        /// The event type, or `*`.
        public var type: String
        /// The block's SQL.
        public var sql: String
        /// The 1-based line of the file where the SQL starts.
        public var line: Int
    }

    /// The projection's name.
    public var name: String
    /// Its version; a change rebuilds it.
    public var version: Int
    /// One line for `kopa reports`.
    public var description: String?
    /// The file it was read from, for errors.
    public var file: String
    /// The table definitions: every line of the file before the first block, header lines blank,
    /// so that a line of it is the same line of the file.
    public var schemaSQL: String
    /// The handlers in file order.
    public var blocks: [Block]
    /// SHA-256 of the file, so that an edited file is rebuilt even without a version change.
    public var checksum: String
    /// Whether it receives the events as recorded (header `-- events: as recorded`): retracted
    /// events too, and corrected ones with their original payload and time, besides the corrections
    /// and retractions themselves. For projections of the log itself (the audit trail, the change
    /// log); every other projection sees the facts, corrections applied and retracted events left out.
    public var asRecorded = false

    /// The event types this projection receives.
    public var handledTypes: Set<String> { Set(blocks.map(\.type)) }

    /// Parses a projection file.
    ///
    /// Header lines (`-- projection:`, `-- version:`, `-- description:`, `-- events:`) count only in
    /// the comments that open the file, each once; further down the same text is an ordinary
    /// comment. A `-- on` line counts only where SQLite would read a comment: not inside a string
    /// literal or a `/* */` comment. Lines keep their numbers (header lines become blank) so that an
    /// error names the line of the file.
    /// - Throws: ``LedgerError`` naming the file and line of a malformed header or block.
    public init(text: String, file: String) throws {
        self.file = file
        checksum = EventHash.sha256Hex(Array(text.utf8))
        var headers: [String: (value: String, line: Int)] = [:]
        var schema: [String] = []
        var blocks: [Block] = []
        var current: (type: String, line: Int, lines: [String])?
        var lexer = SQLText()
        var inHeader = true
        for (index, line) in SQLText.lines(of: text).enumerated() {
            let number = index + 1
            let startsInCode = lexer.startsInCode
            let hasCode = lexer.consume(line: line)
            if startsInCode, let type = try Self.blockType(line, file: file, line: number) {
                if let current { blocks.append(Block(type: current.type, sql: current.lines.joined(separator: "\n"), line: current.line)) }
                current = (type, number + 1, [])
                inHeader = false
                continue
            }
            if hasCode { inHeader = false }
            if inHeader, startsInCode, let (key, value) = Self.header(line) {
                if let earlier = headers[key] {
                    throw LedgerError(.invalidInput, "\(file):\(number): a second '-- \(key):' line (the first is line \(earlier.line)); give each header line once")
                }
                headers[key] = (value, number)
                schema.append("")
                continue
            }
            if current != nil { current!.lines.append(line) } else { schema.append(line) }
        }
        if let current { blocks.append(Block(type: current.type, sql: current.lines.joined(separator: "\n"), line: current.line)) }
        guard let name = headers["projection"]?.value, !name.isEmpty else {
            throw LedgerError(.invalidInput, "\(file): missing header line '-- projection: NAME' (header lines open the file, before any SQL)")
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw LedgerError(.invalidInput, "\(file): projection name '\(name)' may hold only letters, digits, '_' and '-'")
        }
        if let (value, line) = headers["version"] {
            guard value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let v = Int(value), v >= 1 else {
                throw LedgerError(.invalidInput, "\(file):\(line): version '\(value)' is not a positive integer")
            }
            version = v
        } else {
            version = 1
        }
        if let (value, line) = headers["events"] {
            switch value.lowercased() {
            case "as recorded": asRecorded = true
            case "corrected": asRecorded = false
            default: throw LedgerError(.invalidInput, "\(file):\(line): '-- events: \(value)' is neither 'as recorded' nor 'corrected'")
            }
        }
        self.name = name
        self.description = headers["description"]?.value
        self.schemaSQL = schema.joined(separator: "\n")
        self.blocks = blocks
    }

    /// The key and value of a header line (`-- version: 2`), if it is one.
    private static func header(_ line: String) -> (String, String)? {
        for key in ["projection", "version", "description", "events"] {
            let prefix = "-- \(key):"
            if line.lowercased().hasPrefix(prefix) {
                return (key, line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }

    /// The event type of a block line: `-- on TYPE` (or `-- on *`) at the start of a line, also
    /// written with a tab, more blanks or upper case, so that a near miss does not pass silently as
    /// a comment.
    private static func blockType(_ line: String, file: String, line number: Int) throws -> String? {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        // At the start of the line only: an indented "-- on conflict" inside a statement is a comment.
        var rest = Substring(line)
        guard rest.hasPrefix("--") else { return nil }
        let strict = line.hasPrefix("-- on ")
        rest = rest.dropFirst(2).drop(while: blank)
        guard rest.lowercased().hasPrefix("on"), let after = rest.dropFirst(2).first, blank(after) else { return nil }
        let words = rest.dropFirst(2).split(whereSeparator: blank)
        // "-- On conflict, the newer row wins" is a comment; "-- ON TYPE" alone is a block; the
        // documented "-- on " always starts one.
        guard strict || words.count == 1 else { return nil }
        let type = words.map(String.init).joined(separator: " ")
        guard type == "*" || (!type.isEmpty && type.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw LedgerError(.invalidInput, "\(file):\(number): '\(line.trimmingCharacters(in: .whitespaces))' does not name an event type (a block starts with '-- on TYPE' or '-- on *')")
        }
        return type
    }

    /// Loads every `*.sql` file of a folder (not its `reports/` subfolder), sorted by name.
    public static func load(directory: URL) throws -> [ProjectionDefinition] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else {
            throw LedgerError(.notFound, "projection folder '\(directory.path)' cannot be read")
        }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            let url = directory.appendingPathComponent(name)
            guard let data = fm.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                throw LedgerError(.invalidInput, "projection file '\(url.path)' cannot be read as UTF-8 text")
            }
            return try ProjectionDefinition(text: text, file: url.path)
        }
    }
}

/// A named SELECT over projection tables (`projections/reports/<name>.sql`).
public struct ReportDefinition: Sendable, Equatable {
    /// The name: the file name without `.sql`.
    public var name: String
    /// The optional first line `-- description: …`.
    public var description: String?
    /// The SQL.
    public var sql: String
    /// The file, for errors.
    public var file: String

    /// Loads the reports of a folder.
    public static func load(directory: URL) throws -> [ReportDefinition] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return [] }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            let url = directory.appendingPathComponent(name)
            guard let data = fm.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
                throw LedgerError(.invalidInput, "report file '\(url.path)' cannot be read as UTF-8 text")
            }
            var description: String?
            if let first = SQLText.lines(of: text).first, first.lowercased().hasPrefix("-- description:") {
                description = first.dropFirst("-- description:".count).trimmingCharacters(in: .whitespaces)
            }
            return ReportDefinition(name: String(name.dropLast(4)), description: description, sql: text, file: url.path)
        }
    }
}
