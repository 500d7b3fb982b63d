import Foundation
import GRDB
import GRDBSQLite
import Logging

/// A value in a report: typed, so JSON keeps numbers as numbers and tables right-align them.
public enum ReportValue: Sendable, Equatable {
    /// SQL NULL.
    case null
    /// An integer (cents, counts).
    case integer(Int64)
    /// A floating-point number (a share computed in SQL).
    case real(Double)
    /// Text (a BLOB reads as the text `<blob>`).
    case text(String)
}

/// The rows of a report, with its column names in SELECT order.
public struct ReportResult: Sendable, Equatable {
    /// Column names.
    public var columns: [String]
    /// Rows, one value per column.
    public var rows: [[ReportValue]]

    /// The values of one column.
    public func column(_ name: String) -> [ReportValue] {
        guard let index = columns.firstIndex(of: name) else { return [] }
        return rows.map { $0[index] }
    }
}

/// The time a report is asked about: valid time (`asOf`) and transaction time (`knownAt`).
public struct ReportTime: Sendable, Equatable {
    /// Only what had happened by then.
    public var asOf: TimeBound?
    /// Only what had been recorded by then.
    public var knownAt: TimeBound?

    /// Now, as known now.
    public init(asOf: TimeBound? = nil, knownAt: TimeBound? = nil) {
        self.asOf = asOf
        self.knownAt = knownAt
    }

    /// Whether this is the present, as known now.
    public var isNow: Bool { asOf == nil && knownAt == nil }
}

extension ProjectionEngine {
    /// Runs a report. Now: on the projection database after catch-up. As of a valid time or as known
    /// at a transaction time: on projections replayed for that time in a temporary database.
    /// - Parameters:
    ///   - name: the report (file name without `.sql`).
    ///   - time: `--as-of` / `--known-at`.
    ///   - parameters: values for the report's named parameters (e.g. `stream`); others bind NULL.
    /// - Throws: ``LedgerError`` for an unknown report or a failing SQL statement (naming the file).
    public func report(_ name: String, time: ReportTime = ReportTime(), parameters: [String: String] = [:]) throws -> ReportResult {
        var result = ReportResult(columns: [], rows: [])
        try report(name, time: time, parameters: parameters, columns: { result.columns = $0 }, row: { result.rows.append($0.values) })
        return result
    }

    /// Runs a report and hands over its rows one at a time, as SQLite produces them: memory stays
    /// flat however many rows there are (the audit trail of 1M events held ~1 GB as one result).
    /// - Parameters:
    ///   - columns: called once, with the column names, before any row.
    ///   - row: called with each row, read in place (valid only during the call).
    public func report(
        _ name: String, time: ReportTime = ReportTime(), parameters: [String: String] = [:],
        columns: ([String]) throws -> Void, row: (ReportRow) throws -> Void
    ) throws {
        let definition = try set.report(name)
        // Before any projection is brought up to date: a bad command line changes nothing.
        try Self.checkParameters(parameters, takes: SQLText.parameterNames(definition.sql), report: definition)
        var time = time
        if let knownAt = time.knownAt, knownAt.end >= (try ledger.head().recordedAt) {
            time.knownAt = nil  // everything recorded so far: the same as now, so the kept projections serve
        }
        if time.isNow {
            let queue = try openDatabase()
            try catchUp(rebuild: [], in: queue)
            do {
                return try queue.read { db in try Self.run(definition, db: db, parameters: parameters, sorterHelper: true, columns: columns, row: row) }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT {
                throw damageError(error)
            }
        }
        try withProjections(at: time, reading: definition.sql) { db in
            try Self.run(definition, db: db, parameters: parameters, columns: columns, row: row)
        }
    }

    /// The name of a past time's temporary database starts with this, then the process id.
    static let pastTimeFilePrefix = "kopa-past-"

    /// Builds the projections for a past time in a temporary database and reads it.
    ///
    /// Only the projections whose tables `sql` names are replayed (all when `sql` is nil): a report
    /// on funding need not replay every meeting.
    public func withProjections<T>(at time: ReportTime, reading sql: String? = nil, _ body: (Database) throws -> T) throws -> T {
        try withProjections(at: time, reading: sql, head: nil, body)
    }

    /// As above, reading the ledger up to seq `head` (nil: its head when the replay starts), as if
    /// what was appended after it were appended by another process while the report ran.
    func withProjections<T>(at time: ReportTime, reading sql: String?, head: Int64?, _ body: (Database) throws -> T) throws -> T {
        var configuration = SQLiteSetup.configuration()
        configuration.prepareDatabase { db in
            SQLFunctions.install(db)
            try db.execute(sql: "PRAGMA page_size=\(Self.pageSize); PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-16384")
        }
        // A temporary file rather than memory: on a large ledger the replayed tables outgrow the
        // memory budget, while SQLite's page cache stays bounded. Removed afterwards, on SIGINT,
        // SIGTERM or SIGHUP too; one a run killed outright left (its process gone), by the next.
        let folder = FileManager.default.temporaryDirectory.path
        Ledger.removeAbandonedFiles(in: folder, prefix: Self.pastTimeFilePrefix)
        var system = SystemRandomNumberGenerator()
        let path = folder + "/\(Self.pastTimeFilePrefix)\(getpid())-\(UUIDText.random(using: &system)).sqlite"
        let cleanup = TemporaryFiles([path])
        defer {
            unlink(path)
            cleanup.release()
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        var filter = ReplayFilter()
        filter.asOf = time.asOf?.end
        filter.knownAt = time.knownAt?.end
        return try queue.writeWithoutTransaction { db in
            var needed: [(definition: ProjectionDefinition, tables: [String])] = []
            try db.inTransaction {
                for definition in set.projections { try Self.defineTables(definition, in: db) }
                needed = try Self.projections(read: sql, among: set.projections, in: db)
                return .commit
            }
            // Each projection starts from its latest usable snapshot, if any, and replays the tail;
            // projections sharing a cut replay together.
            var groups: [(cut: String?, definitions: [ProjectionDefinition])] = []
            // Indexes no projection statement searches by are built once, after the copies and the
            // replays (copying a snapshot of 750k audit-trail rows into an indexed table took 0.9 s,
            // without 0.25 s), and only if the report's query would search by them: the database is
            // thrown away after it. The plan is read while the indexes still exist; with no
            // statistics, SQLite plans the same for empty tables as for full ones.
            var deferred: [(name: String, sql: String)] = []
            if !needed.isEmpty {
                // An SQL text that cannot be explained fails in `body`, with the report's name.
                let plan = sql.flatMap { try? Self.queryPlan(of: [$0], in: db) }
                deferred = try dropDeferrableIndexes(of: needed.flatMap(\.tables), for: needed.map(\.definition), in: db)
                if let plan { deferred = deferred.filter { plan.contains($0.name) } }
                let headSeq = try head ?? ledger.head().seq
                let seqBound = try filter.knownAt.map { min(try lastSeq(recordedBy: $0), headSeq) } ?? headSeq
                // Every replay below reads up to this seq, the one the snapshots were chosen for:
                // an import committed meanwhile must be in all of the report or in none of it.
                filter.untilSeq = seqBound
                for (definition, tables) in needed {
                    var cut: String?
                    if let snapshot = try usableSnapshot(for: definition, filter: filter, seqBound: seqBound),
                        copySnapshot(snapshot, tables: tables, into: db)
                    {
                        cut = snapshot.cutStart
                        logger.info("'\(definition.name)' starts from its snapshot at \(snapshot.cutStart)")
                    } else {
                        logger.info("'\(definition.name)' replays from the start: no usable snapshot")
                    }
                    if let index = groups.firstIndex(where: { $0.cut == cut }) {
                        groups[index].definitions.append(definition)
                    } else {
                        groups.append((cut, [definition]))
                    }
                }
            }
            var result: T?
            try db.inTransaction {
                for group in groups {
                    var tail = filter
                    tail.fromStart = group.cut
                    _ = try replay(group.definitions, into: db, filter: tail)
                }
                try Self.buildIndexes(deferred, in: db)
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// The projections a report's `sql` reads (all when nil), with their tables: those whose tables
    /// or views it names, and those whose tables or views the named views name, and so on.
    static func projections(read sql: String?, among definitions: [ProjectionDefinition], in db: Database) throws -> [(definition: ProjectionDefinition, tables: [String])] {
        var objects: [String: [(type: String, name: String)]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT projection, type, name FROM kopa_objects WHERE type IN ('table', 'view') ORDER BY rowid") {
            objects[row["projection"], default: []].append((row["type"], row["name"]))
        }
        var words = sql.map(SQLText.identifiers)
        var needed: Set<String> = []
        var grew = true
        while grew {
            grew = false
            for definition in definitions where !needed.contains(definition.name) {
                let own = objects[definition.name] ?? []
                guard words == nil || own.contains(where: { words!.contains(StatementReach.folded($0.name)) }) else { continue }
                needed.insert(definition.name)
                grew = true
                for view in own where view.type == "view" {
                    let text = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", arguments: [view.name]) ?? ""
                    words?.formUnion(SQLText.identifiers(text))
                }
            }
        }
        return definitions.filter { needed.contains($0.name) }.map { definition in
            (definition, (objects[definition.name] ?? []).filter { $0.type == "table" }.map(\.name))
        }
    }

    /// Runs a report's query in `db` and holds its rows.
    static func run(_ report: ReportDefinition, db: Database, parameters: [String: String]) throws -> ReportResult {
        var result = ReportResult(columns: [], rows: [])
        try run(report, db: db, parameters: parameters, columns: { result.columns = $0 }, row: { result.rows.append($0.values) })
        return result
    }

    /// Runs a report's query in `db`, handing over the column names, then each row.
    /// - Parameter sorterHelper: whether SQLite's sorters may use a second thread.
    static func run(_ report: ReportDefinition, db: Database, parameters: [String: String], sorterHelper: Bool = false, columns: ([String]) throws -> Void, row: (ReportRow) throws -> Void) throws {
        // A smaller page cache for the query: SQLite sizes its sorters by it and spills them to
        // temporary files beyond it, so a report on a large ledger stays within bounded memory.
        // One helper thread for the sorters of a report now: the timeline of 1M events sorts
        // 970k rows (2.07 -> 1.69 s, paired runs) for 5-13 MiB more. Not at a past time: after the
        // replay the helper's own heap came on top (the funding report as of 2025: 90 -> 102 MiB,
        // no faster), and a second helper gained nothing more on two cores.
        try db.execute(sql: "PRAGMA cache_size=-4096; PRAGMA threads=\(sorterHelper ? 1 : 0)")
        let statement = try prepare(report, in: db)
        let names = try Self.parameterNames(statement, report: report)
        try checkParameters(parameters, takes: Set(names), report: report)
        var values: [String: (any DatabaseValueConvertible)?] = [:]
        for name in names {
            values[name] = parameters[name].map { $0 as any DatabaseValueConvertible } ?? DatabaseValue.null
        }
        try statement.setArguments(StatementArguments(values))
        let columnNames = statement.columnNames
        try columns(columnNames)
        // Stepped through the C API: GRDB's rows decode each value through generic conversions,
        // which were most of the time of printing a large report.
        let raw = RawStatement(statement, in: db)
        let current = ReportRow(raw, count: columnNames.count)
        do {
            while try raw.step() {
                try row(current)
            }
        } catch let error as DatabaseError {
            // The query compiled and was checked; what fails now fails on the data (70), not on
            // anything the user gave. SQLite's sum() of integers stops at 2^63 cents.
            let message = error.message ?? "SQLite error \(error.resultCode.rawValue)"
            let why = message == "integer overflow" ? " (a sum beyond SQLite's 64-bit integers, 92,233,720,368,547,758.07 in cents)" : ""
            throw LedgerError(.internalError, "report \(report.file) failed on the data: \(message)\(why)")
        }
    }

    /// Prepares a report's query: one statement that only reads (SELECT, WITH or VALUES). Anything
    /// else is refused before it runs: under `--as-of` the report runs in a writable temporary
    /// database, where a DELETE or an ATTACH would otherwise have run.
    static func prepare(_ report: ReportDefinition, in db: Database) throws -> Statement {
        let prefix = "report \(report.file): "
        // Prepared once here for what GRDB does not say: the line of a syntax error, and what
        // follows the first statement (GRDB refuses it in words about its own API).
        let (code, rest, message, offset) = report.sql.withCString { text in
            var handle: OpaquePointer?
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v2(db.sqliteConnection, text, -1, &handle, &tail)
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            let offset = Int(sqlite3_error_offset(db.sqliteConnection))
            sqlite3_finalize(handle)
            return (code, tail.map { String(cString: $0) } ?? "", message, offset)
        }
        if code != SQLITE_OK {
            let line = offset >= 0 ? 1 + report.sql.utf8.prefix(offset).filter { $0 == UInt8(ascii: "\n") }.count : nil
            throw LedgerError(.invalidInput, "report \(report.file)\(line.map { ":\($0)" } ?? ""): \(message)")
        }
        do {
            var lexer = SQLText()
            if SQLText.lines(of: rest).contains(where: { lexer.consume(line: $0) }) {
                throw LedgerError(.invalidInput, "\(prefix)it holds more than one statement; a report is one SELECT (a WITH clause can hold the steps before it)")
            }
        }
        let statement: Statement
        do { statement = try db.makeStatement(sql: report.sql) } catch let error as DatabaseError {
            throw LedgerError(.invalidInput, "\(prefix)\(error.message ?? "SQLite cannot prepare it")")
        }
        try StatementReach.checkKeyword(report.sql, allowed: StatementReach.reportKeywords, prefix: prefix, what: "its statement", expected: "one SELECT (WITH … SELECT, or VALUES)")
        guard sqlite3_stmt_readonly(statement.sqliteStatement) != 0 else {
            throw LedgerError(.invalidInput, "\(prefix)its statement changes the database; a report only reads")
        }
        try StatementReach.checkReachesNoCode(try StatementReach.tables(of: report.sql, in: db), prefix: prefix, what: "its statement")
        return statement
    }

    /// Refuses a parameter the report does not take (a typo in `--param`, or `--stream` for a report
    /// that does not filter by stream): silently ignored, it would print an unfiltered report.
    static func checkParameters(_ parameters: [String: String], takes names: Set<String>, report: ReportDefinition) throws {
        guard let unknown = parameters.keys.filter({ !names.contains($0) }).sorted().first else { return }
        let known = names.isEmpty ? "it takes none" : "it takes " + names.sorted().map { ":" + $0 }.joined(separator: ", ")
        let option = unknown == "stream" ? "--stream" : "--param \(unknown)=…"
        throw LedgerError(.usage, "report '\(report.name)' has no parameter ':\(unknown)' (given as \(option)); \(known)")
    }

    /// The names of a report's parameters (`:stream` → `stream`).
    /// - Throws: ``LedgerError`` for a positional parameter (`?`, `?1`), which nothing could bind.
    static func parameterNames(_ statement: Statement, report: ReportDefinition) throws -> [String] {
        let handle = statement.sqliteStatement
        let count = sqlite3_bind_parameter_count(handle)
        guard count > 0 else { return [] }
        return try (1...count).map { index in
            try CompiledProjection.namedParameter(handle, index, prefix: "report \(report.file): ", example: ":stream (bound by --stream) or :name (bound by --param name=VALUE)")
        }
    }
}
