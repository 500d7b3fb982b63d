import Foundation
import Testing

@testable import Ledger

/// Reading a projection file: the header only where it opens the file, `-- on` lines only where
/// SQLite reads a comment, near misses of `-- on`, CRLF line ends, and line numbers kept.
@Suite("projection files")
struct ProjectionDefinitionTests {
    /// The blocks of a file as "type@line".
    static func blocks(_ text: String) throws -> [String] {
        try ProjectionDefinition(text: text, file: "p.sql").blocks.map { "\($0.type)@\($0.line)" }
    }

    @Test(arguments: [
        ("-- on inside a block comment", "-- projection: p\nCREATE TABLE p (x TEXT);\n-- on meeting-held\nINSERT INTO p VALUES (1);\n/* not now:\n-- on council-formed\nINSERT INTO p VALUES (2);\n*/\n", ["meeting-held@4"]),
        ("-- on inside a string literal", "-- projection: p\nCREATE TABLE p (x TEXT);\n-- on meeting-held\nINSERT INTO p VALUES ('a\n-- on council-formed\nb');\n", ["meeting-held@4"]),
        ("a tab and upper case", "-- projection: p\nCREATE TABLE p (x TEXT);\n--\ton meeting-held\nINSERT INTO p VALUES (1);\n-- ON council-formed\nINSERT INTO p VALUES (2);\n", ["meeting-held@4", "council-formed@6"]),
        ("a comment that starts with 'on'", "-- projection: p\nCREATE TABLE p (x TEXT);\n-- on meeting-held\n-- On conflict, the newer row wins\n--\ton the other hand\nINSERT INTO p VALUES (1)\n    -- on conflict\n    ON CONFLICT DO NOTHING;\n", ["meeting-held@4"]),
        ("CRLF line ends", "-- projection: p\r\n-- version: 3\r\nCREATE TABLE p (x TEXT);\r\n-- on meeting-held\r\nINSERT INTO p VALUES (1);\r\n-- on *\r\nINSERT INTO p VALUES (2);\r\n", ["meeting-held@5", "*@7"]),
    ])
    func blocksStartOnlyWhereSQLiteReadsAComment(label: String, text: String, expected: [String]) throws {
        #expect(try Self.blocks(text) == expected, "\(label)")
    }

    @Test func aCRLFFileReadsLikeItsLFTwin() throws {
        let lf = "-- projection: p\n-- version: 3\n-- description: Meetings.\nCREATE TABLE p (x TEXT);\n-- on meeting-held\nINSERT INTO p VALUES (:meeting);\n"
        let crlf = try ProjectionDefinition(text: lf.replacingOccurrences(of: "\n", with: "\r\n"), file: "p.sql")
        let plain = try ProjectionDefinition(text: lf, file: "p.sql")
        #expect(crlf.name == "p" && crlf.version == 3 && crlf.description == "Meetings.")
        #expect(crlf.schemaSQL == plain.schemaSQL && crlf.blocks == plain.blocks)
        let analyst = try AnalystFolder()
        try analyst.report("crlf.sql", "-- description: One row.\r\nSELECT 1 AS one\r\n")
        let report = try #require(try ReportDefinition.load(directory: analyst.url.appendingPathComponent("reports")).first)
        #expect(report.description == "One row.")
    }

    /// Header lines count only before the first SQL; further down they are comments, and a string
    /// literal keeps every line.
    @Test func headerLinesCountOnlyWhereTheyOpenTheFile() throws {
        let text = """
            -- Meetings per kind, for the annual report.
            -- projection: p
            -- version: 2
            -- description: Kinds.
            CREATE TABLE p (x TEXT DEFAULT 'a
            -- version: 7
            b');
            -- on meeting-held
            -- description: not this one
            INSERT INTO p VALUES (:kind);
            """
        let definition = try ProjectionDefinition(text: text, file: "p.sql")
        #expect(definition.version == 2)
        #expect(definition.description == "Kinds.")
        #expect(definition.schemaSQL.contains("'a\n-- version: 7\nb'"))
        #expect(definition.blocks.first?.sql.contains("-- description: not this one") == true)
        // Lines keep their numbers: the schema starts at line 1, header lines blank.
        #expect(definition.schemaSQL.hasPrefix("-- Meetings per kind, for the annual report.\n\n\n\nCREATE TABLE"))
        #expect(definition.schemaSQL.split(separator: "\n", omittingEmptySubsequences: false).count == 7)
    }

    @Test(arguments: [
        ("-- projection: p\n-- version: 1\n-- projection: q\n", ":3: a second '-- projection:' line (the first is line 1)"),
        ("CREATE TABLE p (x TEXT);\n-- projection: p\n", "missing header line '-- projection: NAME'"),
        ("-- projection: p\n-- version: +2\n", ":2: version '+2' is not a positive integer"),
    ])
    func aHeaderOutOfPlaceOrTwiceIsRejected(text: String, fragment: String) throws {
        expectLedgerError(.invalidInput, mentioning: ["p.sql", fragment]) { _ = try ProjectionDefinition(text: text, file: "p.sql") }
    }

    /// An error after a leading comment and the header names the line of the file.
    @Test func anErrorNamesTheLineOfTheFile() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        let file = try analyst.projection("late.sql", "-- Kept by the statistics office.\n-- projection: late\n-- version: 1\n\nCREATE TABLE late (a TEXT);\nCREATE TABLE late_b (b TEXT,);\n")
        expectLedgerError(.invalidInput, mentioning: ["\(file):6:", "syntax error"]) { try test.engine(extra: [analyst.url]).catchUp() }
    }

    @Test(arguments: [
        ("SELECT 1", "SELECT"),
        ("  -- a note\n/* more */ with x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("/* unterminated", ""),
        ("(SELECT 1)", ""),
    ])
    func theFirstKeywordSkipsBlanksAndComments(sql: String, keyword: String) {
        #expect(SQLText.firstKeyword(sql) == keyword)
    }

    @Test func parameterNamesAreFoundOutsideLiteralsAndComments() {
        let sql = "SELECT ':not', \":nor\" -- :neither\n/* :nor_this */ FROM t WHERE a = :stream AND b = @b AND c = $Ā AND d = ?1 AND e = ':x'"
        #expect(SQLText.parameterNames(sql) == ["stream", "b", "Ā"])
    }
}
