import Foundation
import GRDB
import KopaTestSupport
import Testing

@testable import Ledger

/// What an analyst's projection and report SQL may touch: a projection creates, writes and reads
/// only its own tables in the projection database; a report is one statement that only reads.
@Suite("projection and report reach")
struct StatementReachTests {
    /// A projection file that must be refused, and what the refusal names.
    struct Case: Sendable, CustomTestStringConvertible {
        var label: String
        /// The file; `LEDGER` stands for the ledger's path.
        var sql: String
        var line: Int
        var fragment: String
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(
            label: "ATTACH of the ledger in the table definitions",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\nATTACH DATABASE 'LEDGER' AS led;\n-- on meeting-held\nINSERT INTO mine VALUES (:meeting);\n",
            line: 3, fragment: "is 'ATTACH'"),
        Case(
            label: "ATTACH and DELETE in a block",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\n-- on meeting-held\nATTACH DATABASE 'LEDGER' AS led;\nDELETE FROM led.events;\n",
            line: 4, fragment: "is 'ATTACH'"),
        Case(
            label: "COMMIT in a block",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT NOT NULL);\n-- on meeting-held\nINSERT INTO mine VALUES (:meeting);\nCOMMIT;\nBEGIN;\n",
            line: 5, fragment: "is 'COMMIT'"),
        Case(
            label: "DROP of a bundled table",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\nDROP TABLE councils;\n",
            line: 3, fragment: "is 'DROP'"),
        Case(
            label: "a write to Kopa's list of objects (in the projection database and in a past time's)",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\n-- on meeting-held\nDELETE FROM kopa_objects WHERE projection = 'councils';\n",
            line: 4, fragment: "writes table 'kopa_objects'"),
        Case(
            label: "a write to another projection's table",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\n-- on meeting-held\nUPDATE meetings SET title = 'x';\n",
            line: 4, fragment: "writes table 'meetings'"),
        Case(
            label: "a read of another projection's table",
            sql: "-- projection: mine\nCREATE TABLE mine (n INTEGER);\n-- on meeting-held\nINSERT INTO mine SELECT count(*) FROM meetings;\n",
            line: 4, fragment: "reads table 'meetings'"),
        Case(
            label: "a trigger that writes another projection's table",
            sql: """
                -- projection: mine
                CREATE TABLE mine (x TEXT);
                CREATE TRIGGER mine_spill AFTER INSERT ON mine BEGIN DELETE FROM councils; END;
                -- on meeting-held
                INSERT INTO mine VALUES (:meeting);

                """,
            line: 5, fragment: "writes table 'councils'"),
        Case(
            label: "an index on another projection's table",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\nCREATE INDEX mine_meetings_kind ON meetings (kind);\n",
            line: 3, fragment: "reads table 'meetings'"),
        Case(
            label: "seed rows written into Kopa's list of objects",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\nINSERT INTO kopa_objects VALUES ('councils', 'table', 'mine');\n",
            line: 3, fragment: "writes table 'kopa_objects'"),
        Case(
            label: "a temporary table",
            sql: "-- projection: mine\nCREATE TEMP TABLE mine (x TEXT);\n",
            line: 2, fragment: "another database, or a temporary table"),
        Case(
            label: "a virtual table over another projection's rows",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\nCREATE VIRTUAL TABLE mine_fts USING fts5(name, content='organisations');\n",
            line: 3, fragment: "creates a virtual table, which a projection may not"),
        Case(
            label: "SQLite's sequence table named",
            sql: "-- projection: mine\nCREATE TABLE mine (n INTEGER PRIMARY KEY AUTOINCREMENT);\n-- on meeting-held\nUPDATE sqlite_sequence SET seq = seq + 1000;\n",
            line: 4, fragment: "names SQLite's own table 'sqlite_sequence'"),
        Case(
            label: "a table made from another projection's rows",
            sql: "-- projection: mine\nCREATE TABLE mine AS SELECT * FROM organisations;\n",
            line: 2, fragment: "reads table 'organisations'"),
        Case(
            label: "a foreign key into another projection's table",
            sql: "-- projection: mine\nCREATE TABLE mine (meeting TEXT REFERENCES meetings (meeting) ON DELETE CASCADE);\n",
            line: 2, fragment: "refers to table 'meetings'"),
        Case(
            label: "a table differing from another projection's only by a non-ASCII letter's case",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\nCREATE TABLE \"ā_rows\" (x TEXT);\n-- on meeting-held\nINSERT INTO \"Ā_rows\" VALUES (:meeting);\n",
            line: 5, fragment: "no such table: Ā_rows"),
        // An audit's escape: Debian's SQLite lets fts3_tokenizer(name, pointer) install a tokenizer
        // from a pointer given in SQL, and an FTS table made with it calls that address.
        Case(
            label: "fts3_tokenizer with a pointer, then an FTS table using it",
            sql: "-- projection: mine\nCREATE TABLE mine (k TEXT, v TEXT);\nINSERT INTO mine VALUES ('reg', fts3_tokenizer('evil', x'4141414141414141'));\nCREATE VIRTUAL TABLE v USING fts3(x, tokenize=evil);\n",
            line: 3, fragment: "calls fts3_tokenizer(), which Kopa does not run: it reaches native code"),
        Case(
            label: "fts3_tokenizer in a block",
            sql: "-- projection: mine\nCREATE TABLE mine (v TEXT);\n-- on meeting-held\nINSERT INTO mine VALUES (fts3_tokenizer('simple'));\n",
            line: 4, fragment: "calls fts3_tokenizer()"),
        Case(
            label: "load_extension in a block",
            sql: "-- projection: mine\nCREATE TABLE mine (v TEXT);\n-- on meeting-held\nINSERT INTO mine VALUES (load_extension('/tmp/x.so'));\n",
            line: 4, fragment: "calls load_extension()"),
        Case(
            label: "a virtual table, refused before its module runs",
            sql: "-- projection: mine\nCREATE TABLE mine (v TEXT);\nCREATE VIRTUAL TABLE v USING fts5(x);\n",
            line: 3, fragment: "creates a virtual table"),
        Case(
            label: "dbstat counts another projection's rows",
            sql: "-- projection: mine\nCREATE TABLE mine (k TEXT, n INTEGER);\n-- on meeting-held\nINSERT INTO mine SELECT name, sum(ncell) FROM dbstat WHERE name = 'meetings' GROUP BY name;\n",
            line: 4, fragment: "reads a virtual table other than json_each and json_tree"),
        Case(
            label: "a pragma table reads another projection's schema",
            sql: "-- projection: mine\nCREATE TABLE mine (v TEXT);\n-- on meeting-held\nINSERT INTO mine SELECT name FROM pragma_table_info('meetings');\n",
            line: 4, fragment: "reads a virtual table other than json_each and json_tree"),
        Case(
            label: "a SELECT as a block's statement",
            sql: "-- projection: mine\nCREATE TABLE mine (x TEXT);\n-- on meeting-held\nSELECT :meeting;\n",
            line: 4, fragment: "is 'SELECT'"),
    ]

    @Test(arguments: cases)
    func aProjectionThatReachesBeyondItsOwnTablesIsRefusedAndChangesNothing(_ refused: Case) throws {
        let test = try TestLedger().withOneMeeting()
        try test.ledger.engineCatchUp()
        let events = try test.ledger.events().count
        let before = try dumpDatabase(test.projectionDatabasePath)
        let analyst = try AnalystFolder()
        let file = try analyst.projection("mine.sql", refused.sql.replacingOccurrences(of: "LEDGER", with: test.path))
        try analyst.report("mine.sql", "SELECT * FROM mine")
        let engine = try test.engine(extra: [analyst.url])
        expectLedgerError(.invalidInput, mentioning: ["\(file):\(refused.line):", refused.fragment]) { try engine.catchUp() }
        // At a past time, in a temporary database.
        expectLedgerError(.invalidInput, mentioning: ["\(file):\(refused.line):", refused.fragment]) {
            _ = try engine.report("mine", time: ReportTime(asOf: try TimeBound("2030-01-01")))
        }
        #expect(try dumpDatabase(test.projectionDatabasePath) == before, "the projection database is left as it was")
        #expect(try test.ledger.events().count == events)
        #expect(try test.ledger.verify().count == Int64(events))
    }

    /// A connection configured as all of Kopa's are (``SQLiteSetup/configuration()``: the projection
    /// database, a past time's temporary one, the snapshots, the ledger) refuses a pointer written in
    /// SQL to fts3_tokenizer(), the statement checks aside.
    @Test func fts3TokenizerCannotTakeAPointerOnAnyConnection() throws {
        let test = try TestLedger().withOneMeeting()
        try test.ledger.engineCatchUp()
        let queue = try DatabaseQueue(path: test.projectionDatabasePath, configuration: SQLiteSetup.configuration())
        #expect(throws: DatabaseError.self) {
            try queue.read { db in try String.fetchOne(db, sql: "SELECT fts3_tokenizer('evil', x'4141414141414141')") }
        }
    }

    /// JSON's table-valued functions stay allowed in a projection: list fields are read with them.
    @Test func jsonEachAndJsonTreeStayAllowed() throws {
        let test = try TestLedger().withOneMeeting()
        let analyst = try AnalystFolder()
        try analyst.projection("mine.sql", "-- projection: mine\nCREATE TABLE mine (v TEXT);\n-- on meeting-held\nINSERT INTO mine SELECT value FROM json_each('[\"a\",\"b\"]') UNION ALL SELECT key FROM json_tree('{\"k\": 1}') WHERE key IS NOT NULL;\n")
        try analyst.report("mine.sql", "SELECT v FROM mine ORDER BY v")
        #expect(try test.engine(extra: [analyst.url]).report("mine").rows.map { $0[0] } == ["a", "b", "k"])
    }

    /// A table named like a table-valued function would hide it from every projection (the bundled
    /// ones read list fields with json_each): refused, naming it; json_tree is used as before.
    @Test(arguments: ["json_each", "JSON_TREE", "dbstat", "pragma_table_info"])
    func aTableNamedLikeATableValuedFunctionIsRefused(name: String) throws {
        let test = try TestLedger().withOneMeeting()
        let analyst = try AnalystFolder()
        let file = try analyst.projection("a.sql", "-- projection: a\nCREATE TABLE \(name) (v TEXT);\n")
        expectLedgerError(.invalidInput, mentioning: ["\(file):2:", "'\(name.lowercased())' is the name of SQLite's table-valued function", "name it otherwise"]) {
            try test.engine(extra: [analyst.url]).catchUp()
        }
        let other = try AnalystFolder()
        try other.projection("b.sql", "-- projection: b\nCREATE TABLE bt (v TEXT);\n-- on meeting-held\nINSERT INTO bt SELECT key FROM json_tree(:_data) WHERE key = 'title';\n")
        try other.report("b.sql", "SELECT v FROM bt")
        #expect(try test.engine(extra: [other.url]).report("b").rows.map { $0[0] } == ["title"])
    }

    /// A projection may keep rows in an AUTOINCREMENT table and seed rows into its own tables, and
    /// is rebuilt again and again (SQLite's `sqlite_sequence` belongs to no projection).
    @Test func anAutoincrementProjectionRebuildsAgain() throws {
        let test = try TestLedger().withOneMeeting()
        let analyst = try AnalystFolder()
        try analyst.projection("counted.sql", """
            -- projection: counted
            CREATE TABLE counted (n INTEGER PRIMARY KEY AUTOINCREMENT, meeting TEXT);
            CREATE TABLE counted_kinds (kind TEXT PRIMARY KEY);
            INSERT INTO counted_kinds VALUES ('seeded');
            -- on meeting-held
            INSERT INTO counted (meeting) VALUES (:meeting);
            INSERT OR IGNORE INTO counted_kinds VALUES (:kind);
            """)
        let engine = try test.engine(extra: [analyst.url])
        for _ in 1...3 {
            try engine.catchUp(rebuild: ["counted"])
            let rows: [String] = try ProjectionEngineTests.values(test, "SELECT n || ' ' || meeting FROM counted")
            #expect(rows == ["1 m1"])
            let kinds: [String] = try ProjectionEngineTests.values(test, "SELECT kind FROM counted_kinds ORDER BY kind")
            #expect(kinds == ["seeded", "workshop"])
        }
    }

    /// A table named in Latvian is the projection's own, whatever the case of its letters (SQLite
    /// folds only ASCII letters, and so do the checks).
    @Test func aNonASCIITableNameIsTheProjectionsOwn() throws {
        let test = try TestLedger().withOneMeeting()
        let analyst = try AnalystFolder()
        try analyst.projection("lv.sql", "-- projection: lv\nCREATE TABLE \"Ārzemes\" (meeting TEXT);\n-- on meeting-held\nINSERT INTO \"Ārzemes\" VALUES (:meeting);\n")
        try analyst.report("lv.sql", "SELECT meeting FROM \"Ārzemes\"")
        let engine = try test.engine(extra: [analyst.url])
        #expect(try engine.report("lv").rows == [[.text("m1")]])
        #expect(try engine.report("lv", time: ReportTime(asOf: try TimeBound("2030-01-01"))).rows == [[.text("m1")]])
    }

    /// A projection database made by an older Kopa, which listed `sqlite_sequence` as a
    /// projection's and let a projection put a trigger on another's table, is mended.
    @Test func anOlderProjectionDatabaseIsMended() throws {
        let test = try TestLedger().withOneMeeting()
        let analyst = try AnalystFolder()
        try analyst.projection("counted.sql", "-- projection: counted\nCREATE TABLE counted (n INTEGER PRIMARY KEY AUTOINCREMENT, meeting TEXT);\n-- on meeting-held\nINSERT INTO counted (meeting) VALUES (:meeting);\n")
        let engine = try test.engine(extra: [analyst.url])
        try engine.catchUp()
        let queue = try DatabaseQueue(path: test.projectionDatabasePath, configuration: SQLiteSetup.configuration())
        try queue.write { db in
            try db.execute(sql: "INSERT INTO kopa_objects VALUES ('counted', 'table', 'sqlite_sequence')")
            try db.execute(sql: "CREATE TRIGGER counted_spy AFTER INSERT ON meetings BEGIN INSERT INTO counted (meeting) VALUES ('spy'); END")
            try db.execute(sql: "INSERT INTO kopa_objects VALUES ('counted', 'trigger', 'counted_spy')")
        }
        try queue.close()
        try test.record("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Two"], occurredAt: "2019-12-06")
        try engine.catchUp(rebuild: ["counted"])
        #expect(try ProjectionEngineTests.values(test, "SELECT meeting FROM counted ORDER BY n") == ["m1", "m2"])
        let spies: [String] = try ProjectionEngineTests.values(test, "SELECT name FROM sqlite_master WHERE name = 'counted_spy'")
        #expect(spies.isEmpty)
    }

    /// Copying a snapshot does not fire the projection's triggers again: a trigger that counts
    /// counts each event once, from a snapshot as from the start.
    @Test func aSnapshotCopyDoesNotFireTriggers() throws {
        let test = try TestLedger().withFixtures()
        for i in 1...12 {
            try test.record("meeting-held", ["meeting": .string("m\(i)"), "kind": "workshop", "title": "T"], occurredAt: "2020-\(String(format: "%02d", i))-01")
        }
        let analyst = try AnalystFolder()
        try analyst.projection("tally.sql", """
            -- projection: tally
            CREATE TABLE tally (n INTEGER NOT NULL);
            INSERT INTO tally VALUES (0);
            CREATE TABLE tally_rows (meeting TEXT PRIMARY KEY);
            CREATE TRIGGER tally_count AFTER INSERT ON tally_rows BEGIN UPDATE tally SET n = n + 1; END;
            -- on meeting-held
            INSERT INTO tally_rows VALUES (:meeting);
            """)
        try analyst.report("tally.sql", "SELECT n FROM tally")
        var engine = try test.engine(extra: [analyst.url])
        engine.snapshotMinimumEvents = 0
        engine.snapshotParts = 4
        try engine.catchUp(rebuild: nil)
        let snapshots: [Int] = try ProjectionEngineTests.values(test, "SELECT count(*) FROM kopa_snapshots WHERE projection = 'tally'")
        #expect(snapshots.first ?? 0 > 0)
        #expect(try engine.report("tally").rows == [[.integer(12)]])
        #expect(try engine.report("tally", time: ReportTime(asOf: try TimeBound("2030-01-01"))).rows == [[.integer(12)]])
        #expect(try engine.report("tally", time: ReportTime(asOf: try TimeBound("2020-10-15"))).rows == [[.integer(10)]])
    }

    /// Statements run in file order, `-- on *` blocks among the typed ones.
    @Test func blocksRunInFileOrderWildcardsIncluded() throws {
        let test = try TestLedger().withOneMeeting()
        let analyst = try AnalystFolder()
        try analyst.projection("ordered.sql", """
            -- projection: ordered
            CREATE TABLE ordered (seq INTEGER PRIMARY KEY, note TEXT);
            -- on *
            INSERT INTO ordered VALUES (:_seq, 'any');
            -- on meeting-held
            UPDATE ordered SET note = 'meeting ' || :meeting WHERE seq = :_seq;
            """)
        try test.engine(extra: [analyst.url]).catchUp()
        let notes: [String] = try ProjectionEngineTests.values(test, "SELECT note FROM ordered WHERE note <> 'any'")
        #expect(notes == ["meeting m1"])
    }

    /// A report at a past time replays the projection of the view it reads.
    @Test func aReportOnAViewGivesTheSameRowsAtAPastTime() throws {
        let test = try TestLedger().withFixtures()
        for (i, date) in ["2019-12-05", "2020-03-01", "2020-06-01"].enumerated() {
            try test.record("meeting-held", ["meeting": .string("m\(i)"), "kind": "workshop", "title": "T"], occurredAt: date)
        }
        let analyst = try AnalystFolder()
        try analyst.projection("held.sql", """
            -- projection: held
            CREATE TABLE held_rows (meeting TEXT PRIMARY KEY, held TEXT);
            CREATE VIEW held_per_year AS SELECT substr(held, 1, 4) AS year, count(*) AS n FROM held_rows GROUP BY 1;
            -- on meeting-held
            INSERT INTO held_rows VALUES (:meeting, :_occurred_at);
            """)
        try analyst.report("per-year.sql", "SELECT year, n FROM held_per_year ORDER BY year")
        let engine = try test.engine(extra: [analyst.url])
        let now = try engine.report("per-year")
        #expect(now.rows == [[.text("2019"), .integer(1)], [.text("2020"), .integer(2)]])
        #expect(try engine.report("per-year", time: ReportTime(asOf: try TimeBound("2030-01-01"))) == now)
        #expect(try engine.report("per-year", time: ReportTime(asOf: try TimeBound("2020-04-01"))).rows == [[.text("2019"), .integer(1)], [.text("2020"), .integer(1)]])
    }

    /// A projection renamed in its file takes over the tables the old name left behind.
    @Test func aRenamedProjectionTakesOverItsTables() throws {
        let test = try TestLedger().withOneMeeting()
        let analyst = try AnalystFolder()
        let body = "CREATE TABLE kept (meeting TEXT);\n-- on meeting-held\nINSERT INTO kept VALUES (:meeting);\n"
        try analyst.projection("kept.sql", "-- projection: old_name\n" + body)
        try test.engine(extra: [analyst.url]).catchUp()
        try analyst.projection("kept.sql", "-- projection: new_name\n" + body)
        try test.engine(extra: [analyst.url]).catchUp()
        let owners: [String] = try ProjectionEngineTests.values(test, "SELECT DISTINCT projection FROM kopa_objects WHERE name = 'kept'")
        #expect(owners == ["new_name"])
        let gone: [String] = try ProjectionEngineTests.values(test, "SELECT projection FROM kopa_checkpoints WHERE projection = 'old_name'")
        #expect(gone.isEmpty)
        #expect(try ProjectionEngineTests.values(test, "SELECT meeting FROM kept") == ["m1"])
    }

    /// A report that writes, holds two statements or a positional parameter is refused, now and at
    /// a past time (where it runs in a writable temporary database), before anything runs.
    @Test(arguments: [
        ("DELETE FROM councils", "is 'DELETE'"),
        ("SELECT 1 AS one; DELETE FROM councils", "more than one statement"),
        ("ATTACH DATABASE ':memory:' AS other", "is 'ATTACH'"),
        ("SELECT ? AS q", "positional parameter '?'"),
        ("SELECT ?1 AS q", "positional parameter '?1'"),
        ("SELECT fts3_tokenizer('simple') AS pointer", "calls fts3_tokenizer(), which Kopa does not run"),
        ("SELEC 1", "syntax error"),
        ("SELECT 1 AS one,\n2 AS two,\nFROM x", "bad.sql:3: near \"FROM\": syntax error"),
    ])
    func aReportThatIsNotOneReadingStatementIsRefused(sql: String, fragment: String) throws {
        let test = try TestLedger().withFixtures()
        try test.ledger.engineCatchUp()
        let analyst = try AnalystFolder()
        let file = try analyst.report("bad.sql", sql)
        let engine = try test.engine(extra: [analyst.url])
        let before = try dumpDatabase(test.projectionDatabasePath)
        expectLedgerError(.invalidInput, mentioning: [file, fragment]) { _ = try engine.report("bad") }
        expectLedgerError(.invalidInput, mentioning: [file, fragment]) { _ = try engine.report("bad", time: ReportTime(asOf: try TimeBound("2030-01-01"))) }
        #expect(try dumpDatabase(test.projectionDatabasePath) == before)
    }

    /// A parameter the report does not take is a usage error that names it.
    @Test func aParameterTheReportDoesNotTakeIsAUsageError() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.report("plain.sql", "SELECT 1 AS one")
        expectLedgerError(.usage, mentioning: ["'plain'", "':stream'", "--stream", "it takes none"]) {
            _ = try test.engine(extra: [analyst.url]).report("plain", parameters: ["stream": "project/x"])
        }
        expectLedgerError(.usage, mentioning: ["':projct'", "--param projct=", "it takes :stream"]) {
            _ = try test.engine().report("audit-trail", parameters: ["projct": "x"])
        }
        #expect(try test.engine().report("audit-trail", parameters: ["stream": "project/x"]).rows.isEmpty)
        // Refused before any projection is brought up to date: a fresh ledger gets no projection database.
        let fresh = try TestLedger()
        expectLedgerError(.usage, mentioning: ["':projct'"]) { _ = try fresh.engine().report("audit-trail", parameters: ["projct": "x"]) }
        #expect(!FileManager.default.fileExists(atPath: fresh.projectionDatabasePath))
    }
}
