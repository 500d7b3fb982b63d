import GRDB
import GRDBSQLite

/// What a statement parameter is bound to.
enum Binding: Hashable, Sendable {
    case seq, id, type, version, stream, streamVersion, occurredAt, occurredStart, occurredEnd
    case recordedAt, recordedBy, data, meta, source, evidence, corrects, retracts, reason
    case field(String)
    case cents(String)
    case currency(String)

    static let envelope: [String: Binding] = [
        "_seq": .seq, "_id": .id, "_type": .type, "_version": .version, "_stream": .stream,
        "_stream_version": .streamVersion, "_occurred_at": .occurredAt, "_occurred_start": .occurredStart,
        "_occurred_end": .occurredEnd, "_recorded_at": .recordedAt, "_recorded_by": .recordedBy, "_data": .data,
        "_meta": .meta, "_source": .source, "_evidence": .evidence, "_corrects": .corrects, "_retracts": .retracts,
        "_reason": .reason,
    ]
}

/// One prepared statement of a projection block, with its parameter plan.
/// It lives only inside the projection database's write closure, and is finalized there.
final class CompiledStatement {
    let handle: OpaquePointer
    let line: Int
    let file: String
    let bindings: [(index: Int32, binding: Binding)]
    /// Where each binding's value is among an event's prepared values (set by ``ReplayPlan``).
    var slots: [Int32] = []

    init(handle: OpaquePointer, line: Int, file: String, bindings: [(Int32, Binding)]) {
        self.handle = handle
        self.line = line
        self.file = file
        self.bindings = bindings.map { (index: $0.0, binding: $0.1) }
    }

    func finalize() { sqlite3_finalize(handle) }

    /// SQLite reads the text from the chunk without copying it; the chunk outlives the step.
    private static let staticText = unsafeBitCast(0, to: sqlite3_destructor_type.self)

    /// Binds the event's prepared values and runs the statement to completion.
    func run(_ event: PreparedEvent, values: UnsafeBufferPointer<BoundValue>, bytes: UnsafeBufferPointer<UInt8>, db: Database) throws {
        sqlite3_reset(handle)  // every parameter is bound below, so no clear_bindings
        let first = Int(event.firstValue)
        for (position, slot) in slots.enumerated() {
            let index = bindings[position].index
            let value = values[first + Int(slot)]
            let bound: Int32
            switch value.kind {
            case .null: bound = sqlite3_bind_null(handle, index)
            case .integer: bound = sqlite3_bind_int64(handle, index, value.number)
            case .text:
                // A non-null pointer even for "": SQLite binds NULL for a null pointer.
                let pointer = value.length == 0 ? UnsafeRawPointer(bitPattern: 1)! : UnsafeRawPointer(bytes.baseAddress! + Int(value.number))
                bound = sqlite3_bind_text(handle, index, pointer.assumingMemoryBound(to: CChar.self), value.length, Self.staticText)
            }
            guard bound == SQLITE_OK else {
                let name = sqlite3_bind_parameter_name(handle, index).map { String(cString: $0) } ?? "\(index)"
                throw LedgerError(.invalidInput, "\(file):\(line): applying \(Self.describe(event, bytes)) failed: binding \(name): \(String(cString: sqlite3_errstr(bound)))")
            }
        }
        var code = sqlite3_step(handle)
        while code == SQLITE_ROW { code = sqlite3_step(handle) }
        if code != SQLITE_DONE {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            sqlite3_reset(handle)
            // A file that cannot be written, a full disk, damage or a lock is not the projection
            // file's fault: the engine says what it is (a read-only file blamed audit_trail.sql).
            if Self.notTheStatementsFault.contains(code & 0xFF) {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
            }
            throw LedgerError(.invalidInput, "\(file):\(line): applying \(Self.describe(event, bytes)) failed: \(message)")
        }
    }

    /// Primary result codes that come from the database file or the machine, not from the SQL.
    static let notTheStatementsFault: Set<Int32> = [SQLITE_READONLY, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, SQLITE_CANTOPEN]

    /// "seq 12 'meeting-held' (stream 'meeting/x')".
    static func describe(_ event: PreparedEvent, _ bytes: UnsafeBufferPointer<UInt8>) -> String {
        func text(_ span: ByteSpan) -> String { String(decoding: span.of(bytes), as: UTF8.self) }
        return "seq \(event.seq) '\(text(event.typeName))' (stream '\(text(event.stream))')"
    }
}

/// A projection prepared against one database: its statements by event type.
final class CompiledProjection {
    let definition: ProjectionDefinition
    var statements: [String: [CompiledStatement]] = [:]
    var wildcard: [CompiledStatement] = []
    /// Every block's statements in file order, with its type (nil for `-- on *`).
    private var ordered: [(type: String?, statements: [CompiledStatement])] = []

    /// Prepares `definition`'s blocks in `db`, where its tables exist and `kopa_objects` lists them.
    init(_ definition: ProjectionDefinition, catalog: EventCatalog, db: Database) throws {
        self.definition = definition
        let owns = try ProjectionEngine.ownedTables(of: definition.name, in: db)
        do {
            for block in definition.blocks {
                let type = block.type == "*" ? nil : block.type
                var fields: [String: SchemaNode] = [:]
                if let type {
                    guard let eventType = catalog.latest(type) else {
                        let hint = Spelling.nearest(to: type, among: catalog.types.keys).map { " (did you mean '\($0)'?)" } ?? ""
                        throw LedgerError(.invalidInput, "\(definition.file):\(block.line - 1): '-- on \(type)' names no event type in the catalog\(hint)")
                    }
                    for version in catalog.types[type]!.values {
                        fields.merge(version.root.properties) { old, _ in old }
                    }
                    _ = eventType
                }
                let compiled = try Self.prepare(block.sql, firstLine: block.line, file: definition.file, eventType: block.type, projection: definition.name, owns: owns, db: db) { name, line in
                    if let envelope = Binding.envelope[name] { return envelope }
                    guard let type else {
                        throw LedgerError(.invalidInput, "\(definition.file):\(line): parameter ':\(name)' is not an envelope field; a '-- on *' block may use only :_seq, :_id, :_type, :_stream, :_occurred_at, :_recorded_at, :_recorded_by, :_data, :_meta, :_source, :_evidence …")
                    }
                    if fields[name] != nil { return .field(name) }
                    if name.hasSuffix("_cents"), let node = fields[String(name.dropLast(6))], node.isMoney { return .cents(String(name.dropLast(6))) }
                    if name.hasSuffix("_currency"), let node = fields[String(name.dropLast(9))], node.isMoney { return .currency(String(name.dropLast(9))) }
                    let hint = Spelling.nearest(to: name, among: fields.keys).map { " (did you mean ':\($0)'?)" } ?? ""
                    throw LedgerError(.invalidInput, "\(definition.file):\(line): parameter ':\(name)' is not a field of '\(type)'\(hint); its fields are \(fields.keys.sorted().joined(separator: ", "))")
                }
                if let type { statements[type, default: []].append(contentsOf: compiled) } else { wildcard.append(contentsOf: compiled) }
                ordered.append((type, compiled))
            }
        } catch {
            finalize()
            throw error
        }
    }

    /// The statements an event of `type` runs, in file order: its own blocks' and the `-- on *`
    /// blocks', as they come in the file (nil: a type with no block of its own).
    func statements(for type: String?) -> [CompiledStatement] {
        ordered.filter { $0.type == nil || $0.type == type }.flatMap(\.statements)
    }

    /// Whether an event of `type` reaches this projection (nil: a type with no block of its own).
    func handles(_ type: String?) -> Bool {
        ordered.contains { $0.type == nil || $0.type == type }
    }

    /// Every statement, typed blocks' and `-- on *` blocks'.
    var allStatements: [CompiledStatement] { Array(statements.values.joined()) + wildcard }

    func finalize() {
        for list in statements.values { list.forEach { $0.finalize() } }
        wildcard.forEach { $0.finalize() }
        statements = [:]
        wildcard = []
        ordered = []
    }

    /// Prepares every statement of `sql`, naming the file and line of the one that fails.
    /// Each must change only the tables projection `projection` `owns`, and read only those (see
    /// ``StatementReach``).
    static func prepare(_ sql: String, firstLine: Int, file: String, eventType: String, projection: String, owns: Set<String>, db: Database, resolve: (String, Int) throws -> Binding) throws -> [CompiledStatement] {
        var result: [CompiledStatement] = []
        let bytes = Array(sql.utf8) + [0]
        try bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var cursor = base
            while cursor.pointee != 0 {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let offset = base.distance(to: cursor)
                let line = firstLine + Self.lineOffset(bytes, from: offset)
                let code = sqlite3_prepare_v2(db.sqliteConnection, cursor, -1, &statement, &tail)
                let block = eventType == "*" ? "the statement of the '-- on *' block" : "the statement for '\(eventType)' events"
                guard code == SQLITE_OK else {
                    let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
                    result.forEach { $0.finalize() }
                    throw LedgerError(.invalidInput, "\(file):\(line): SQLite cannot prepare \(block): \(message)")
                }
                guard let tail else { break }
                cursor = tail
                guard let statement else { continue }
                var bindings: [(Int32, Binding)] = []
                do {
                    let text = String(cString: sqlite3_sql(statement))
                    try StatementReach.checkKeyword(text, allowed: StatementReach.handlerKeywords, prefix: "\(file):\(line): ", what: block, expected: "INSERT, UPDATE or DELETE on the projection's own tables")
                    if sqlite3_stmt_readonly(statement) != 0 {
                        throw LedgerError(.invalidInput, "\(file):\(line): \(block) changes nothing; expected INSERT, UPDATE or DELETE on the projection's own tables")
                    }
                    try StatementReach.check(text, projection: projection, owns: owns, readsOnlyOwn: true, in: db, prefix: "\(file):\(line): ", what: block)
                    for index in 1...max(sqlite3_bind_parameter_count(statement), 1) where sqlite3_bind_parameter_count(statement) > 0 {
                        let name = try Self.namedParameter(statement, index, prefix: "\(file):\(line): ", example: ":project")
                        bindings.append((index, try resolve(name, line)))
                    }
                } catch {
                    sqlite3_finalize(statement)
                    result.forEach { $0.finalize() }
                    throw error
                }
                result.append(CompiledStatement(handle: statement, line: line, file: file, bindings: bindings))
            }
        }
        return result
    }

    /// Parameter `index` of a prepared statement, without its sigil (`:stream` → `stream`).
    /// - Throws: ``LedgerError`` after `prefix`, naming a positional parameter (`?`, `?1`) as
    ///   written: nothing could bind it.
    static func namedParameter(_ handle: OpaquePointer, _ index: Int32, prefix: String, example: String) throws -> String {
        guard let raw = sqlite3_bind_parameter_name(handle, index), raw.pointee != CChar(UInt8(ascii: "?")) else {
            let written = sqlite3_bind_parameter_name(handle, index).map { String(cString: $0) } ?? "?"
            throw LedgerError(.invalidInput, "\(prefix)positional parameter '\(written)' is not supported; use a named one such as \(example)")
        }
        return String(String(cString: raw).dropFirst())
    }

    /// The number of lines before the first SQL token at or after `offset` (skipping blanks, `--`
    /// comments and `/* … */` comments).
    static func lineOffset(_ bytes: [UInt8], from offset: Int) -> Int {
        var i = offset
        var inLineComment = false
        var inBlockComment = false
        while i < bytes.count - 1 {
            let b = bytes[i]
            if inLineComment {
                if b == 0x0A { inLineComment = false }
            } else if inBlockComment {
                if b == 0x2A, bytes[i + 1] == 0x2F {
                    inBlockComment = false
                    i += 1
                }
            } else if b == 0x2D, bytes[i + 1] == 0x2D {
                inLineComment = true
            } else if b == 0x2F, bytes[i + 1] == 0x2A {
                inBlockComment = true
                i += 1
            } else if !(b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D) {
                break
            }
            i += 1
        }
        return bytes[0..<i].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }
}
