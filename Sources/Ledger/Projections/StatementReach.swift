import GRDB
import GRDBSQLite

/// What a projection's SQL may touch, checked when it is prepared.
///
/// A projection is a function of the events alone, and the ledger is never written by any code
/// path. So a projection file's statements may create, write and read only the projection's own
/// tables in the projection database: no ATTACH (which reached the ledger itself), no transaction
/// control (which broke "nothing changes on an error"), no writes to Kopa's bookkeeping or to
/// another projection's tables, and no reads of another projection's tables (whose contents
/// depend on the order projections are applied in). A report reads anything, and only reads.
enum StatementReach {
    /// The first keywords a statement under `-- on TYPE` may start with.
    static let handlerKeywords: Set<String> = ["INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"]
    /// The first keywords of a projection's table definitions (and rows it seeds).
    static let schemaKeywords: Set<String> = ["CREATE", "INSERT", "REPLACE", "WITH"]
    /// The first keywords of a report.
    static let reportKeywords: Set<String> = ["SELECT", "WITH", "VALUES"]

    /// The tables a statement opens, by the names of the tables themselves (an index counts as its
    /// table), lower-cased; and whether it opens anything outside the main database.
    struct Tables {
        var reads: Set<String> = []
        var writes: Set<String> = []
        var elsewhere = false
        /// Whether it creates a virtual table (whose module runs when the statement does).
        var createsVirtualTable = false
        /// The virtual tables it reads (`json_each`, `dbstat`, `pragma_table_info` …), by SQLite's
        /// address of each: EXPLAIN names them no other way.
        var virtualTables: Set<String> = []
        /// The SQL functions it calls, lower-cased.
        var functions: Set<String> = []
    }

    /// Functions no projection or report may call: `fts3_tokenizer` hands SQLite a pointer to
    /// native code (turned off on every connection too, `kopa_sqlite_harden`), `load_extension`
    /// loads it.
    static let refusedFunctions: Set<String> = ["fts3_tokenizer", "load_extension"]

    /// The virtual tables a projection may read: JSON's table-valued functions, for list fields.
    /// Others read past the checks: `dbstat` counts another projection's rows, `pragma_…` tables
    /// read its schema or the database's path.
    static let allowedVirtualTables = ["json_each", "json_tree"]

    /// The tables `sql` (one statement) opens, read from its program: `EXPLAIN` lists the
    /// programs of the triggers it fires too, so a trigger cannot write where its statement may not.
    /// - Parameter creating: for a CREATE statement: the object it makes (opened by a computed root
    ///   page) and the schema table it writes are its own business; what it reads is not.
    /// - Parameter allowing: whether to leave out of ``Tables/virtualTables`` those a projection may
    ///   read (``allowedVirtualTables``).
    static func tables(of sql: String, in db: Database, creating: Bool = false, allowing: Bool = true) throws -> Tables {
        var explain: OpaquePointer?
        guard sqlite3_prepare_v2(db.sqliteConnection, "EXPLAIN " + sql, -1, &explain, nil) == SQLITE_OK, let explain else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            throw LedgerError(.invalidInput, message)
        }
        defer { sqlite3_finalize(explain) }
        var reads: Set<Int64> = []
        var writes: Set<Int64> = []
        var result = Tables()
        var code = sqlite3_step(explain)
        while code == SQLITE_ROW {
            let opcode = sqlite3_column_text(explain, 1).map { String(cString: $0) } ?? ""
            if opcode == "VCreate" {
                result.createsVirtualTable = true
            } else if opcode == "VOpen" {
                result.virtualTables.insert(sqlite3_column_text(explain, 5).map { String(cString: $0) } ?? "")
            } else if opcode == "Function" || opcode == "PureFunc" || opcode == "AggStep" || opcode == "AggStep1" || opcode == "AggInverse" {
                // P4 is "name(arguments)".
                if let p4 = sqlite3_column_text(explain, 5).map({ String(cString: $0) }), let name = p4.split(separator: "(").first {
                    result.functions.insert(folded(String(name)))
                }
            } else if opcode == "Clear" {
                // DELETE without WHERE empties the table in one step (the truncate optimization).
                if sqlite3_column_int64(explain, 3) != 0 { result.elsewhere = true } else { writes.insert(sqlite3_column_int64(explain, 2)) }
            } else if opcode == "OpenRead" || opcode == "OpenWrite" || opcode == "ReopenIdx" {
                let page = sqlite3_column_int64(explain, 3)
                let database = sqlite3_column_int64(explain, 4)
                let flags = sqlite3_column_int64(explain, 6)
                // OPFLAG_P2ISREG: the root page is computed (a table being created), or another database.
                if creating, database == 0, flags & 0x10 != 0 || page == 1 {
                    // The new table or index, or sqlite_master, of the projection database only
                    // (an attached snapshot file is another database).
                } else if database != 0 || flags & 0x10 != 0 {
                    result.elsewhere = true
                } else if opcode == "OpenWrite" {
                    writes.insert(page)
                } else {
                    reads.insert(page)
                }
            }
            code = sqlite3_step(explain)
        }
        guard code == SQLITE_DONE else { throw LedgerError(.internalError, String(cString: sqlite3_errmsg(db.sqliteConnection))) }
        if allowing, !result.virtualTables.isEmpty {
            // An eponymous virtual table is one object per connection: its address in a statement
            // that names it tells it apart in any other. A name another projection gave its own
            // table resolves to that table: then nothing is allowed by it.
            for name in allowedVirtualTables {
                let allowed = (try? Self.tables(of: "SELECT * FROM \(name)('[]')", in: db, allowing: false))?.virtualTables ?? []
                result.virtualTables.subtract(allowed)
            }
        }
        guard !(reads.isEmpty && writes.isEmpty) else { return result }
        var names: [Int64: String] = [1: "sqlite_master"]
        for row in try Row.fetchAll(db, sql: "SELECT rootpage, tbl_name FROM main.sqlite_master WHERE rootpage > 0") {
            names[row[0]] = folded(row[1])
        }
        result.reads = Set(reads.map { names[$0] ?? "page \($0)" })
        result.writes = Set(writes.map { names[$0] ?? "page \($0)" })
        return result
    }

    /// A name as SQLite compares names: ASCII letters folded to lower case, others as they are
    /// (SQL's `lower()` folds the same way; `Ā_rows` and `ā_rows` are two tables).
    static func folded(_ name: String) -> String {
        String(decoding: name.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Checks one statement of a projection against the tables it `owns` (folded, see ``folded(_:)``).
    /// SQLite's own tables (`sqlite_sequence`, `sqlite_master` …) may not be named: AUTOINCREMENT
    /// reads and writes `sqlite_sequence` by itself, and only that is allowed.
    /// - Parameters:
    ///   - prefix: "file:line: ", for the message.
    ///   - what: "the statement for 'meeting-held' events", for the message.
    static func check(_ sql: String, projection: String, owns: Set<String>, readsOnlyOwn: Bool, creating: Bool = false, in db: Database, prefix: String, what: String) throws {
        if let named = SQLText.identifiers(sql).sorted().first(where: { $0.hasPrefix("sqlite_") }) {
            throw LedgerError(.invalidInput, "\(prefix)\(what) names SQLite's own table '\(named)'; a projection touches only the tables it creates")
        }
        let tables = try tables(of: sql, in: db, creating: creating)
        try checkReachesNoCode(tables, prefix: prefix, what: what)
        if tables.createsVirtualTable {
            throw LedgerError(.invalidInput, "\(prefix)\(what) creates a virtual table, which a projection may not (its module reads and writes past the checks that keep a projection to its own tables)")
        }
        if !tables.virtualTables.isEmpty {
            throw LedgerError(.invalidInput, "\(prefix)\(what) reads a virtual table other than \(allowedVirtualTables.joined(separator: " and ")) (such as dbstat or a pragma_… table), which a projection may not: it reads past the checks that keep a projection to its own tables")
        }
        if tables.elsewhere {
            throw LedgerError(.invalidInput, "\(prefix)\(what) reaches outside the projection database's own tables (another database, or a temporary table); a projection keeps its tables in the projection database")
        }
        if let other = tables.writes.subtracting(owns).sorted().first {
            throw LedgerError(.invalidInput, "\(prefix)\(what) writes table '\(other)', which projection '\(projection)' does not create; a projection writes only its own tables")
        }
        if readsOnlyOwn, let other = tables.reads.subtracting(owns).sorted().first {
            throw LedgerError(.invalidInput, "\(prefix)\(what) reads table '\(other)', which projection '\(projection)' does not create; a projection reads only its own tables and the event (another projection's rows depend on the order projections are applied in)")
        }
    }

    /// Refuses a statement, of a projection or a report, that calls a function in ``refusedFunctions``.
    static func checkReachesNoCode(_ tables: Tables, prefix: String, what: String) throws {
        if let function = tables.functions.intersection(refusedFunctions).sorted().first {
            throw LedgerError(.invalidInput, "\(prefix)\(what) calls \(function)(), which Kopa does not run: it reaches native code")
        }
    }

    /// Refuses a statement whose first keyword is not among `allowed`.
    static func checkKeyword(_ sql: String, allowed: Set<String>, prefix: String, what: String, expected: String) throws {
        let keyword = SQLText.firstKeyword(sql)
        guard allowed.contains(keyword) else {
            throw LedgerError(.invalidInput, "\(prefix)\(what) is \(keyword.isEmpty ? "not a statement Kopa runs" : "'\(keyword)'"); expected \(expected)")
        }
    }
}
