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
    /// The table definitions.
    public var schemaSQL: String
    /// The line where the table definitions start.
    public var schemaLine: Int
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
    /// - Throws: ``LedgerError`` naming the file and line of a malformed header or block.
    public init(text: String, file: String) throws {
        self.file = file
        checksum = EventHash.sha256Hex(Array(text.utf8))
        var name: String?
        var version: Int?
        var description: String?
        var schema: [String] = []
        var schemaLine = 1
        var blocks: [Block] = []
        var current: (type: String, line: Int, lines: [String])?
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func header(_ line: String, _ key: String) -> String? {
            let prefix = "-- \(key):"
            guard line.lowercased().hasPrefix(prefix) else { return nil }
            return line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        }
        for (index, line) in lines.enumerated() {
            let number = index + 1
            if let value = header(line, "projection") { name = value; continue }
            if let value = header(line, "version") {
                guard let v = Int(value), v >= 1 else {
                    throw LedgerError(.invalidInput, "\(file):\(number): version '\(value)' is not a positive integer")
                }
                version = v
                continue
            }
            if let value = header(line, "description") { description = value; continue }
            if let value = header(line, "events") {
                switch value.lowercased() {
                case "as recorded": asRecorded = true
                case "corrected": asRecorded = false
                default: throw LedgerError(.invalidInput, "\(file):\(number): '-- events: \(value)' is neither 'as recorded' nor 'corrected'")
                }
                continue
            }
            if line.hasPrefix("-- on ") {
                if let current { blocks.append(Block(type: current.type, sql: current.lines.joined(separator: "\n"), line: current.line)) }
                let type = line.dropFirst("-- on ".count).trimmingCharacters(in: .whitespaces)
                guard type == "*" || (!type.isEmpty && type.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }) else {
                    throw LedgerError(.invalidInput, "\(file):\(number): '-- on \(type)' does not name an event type")
                }
                current = (type, number + 1, [])
                continue
            }
            if current != nil {
                current!.lines.append(line)
            } else {
                if schema.isEmpty { schemaLine = number }
                schema.append(line)
            }
        }
        if let current { blocks.append(Block(type: current.type, sql: current.lines.joined(separator: "\n"), line: current.line)) }
        guard let name, !name.isEmpty else {
            throw LedgerError(.invalidInput, "\(file): missing header line '-- projection: NAME'")
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw LedgerError(.invalidInput, "\(file): projection name '\(name)' may hold only letters, digits, '_' and '-'")
        }
        self.name = name
        self.version = version ?? 1
        self.description = description
        self.schemaSQL = schema.joined(separator: "\n")
        self.schemaLine = schemaLine
        self.blocks = blocks
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
            if let first = text.split(separator: "\n", maxSplits: 1).first, first.lowercased().hasPrefix("-- description:") {
                description = first.dropFirst("-- description:".count).trimmingCharacters(in: .whitespaces)
            }
            return ReportDefinition(name: String(name.dropLast(4)), description: description, sql: text, file: url.path)
        }
    }
}
