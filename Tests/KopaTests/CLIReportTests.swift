import Foundation
import Ledger
import KopaTestSupport
import Testing

/// `kopa report`, `reports`, `state`, `history` and `rebuild`, run as a user runs them.
@Suite("kopa reports on the command line")
struct CLIReportTests {
    /// A ledger with a project, two partners, funding by two sources and a corrected meeting.
    static func fundedLedger() throws -> CLILedger {
        let ledger = try CLILedger()
        for (slug, country) in [("milano", "IT"), ("sofia", "BG")] {
            try #require(try ledger.kopa("record", "organisation-registered", "--organisation", slug, "--name", slug.capitalized, "--kind", "municipality", "--country", country, "--occurred-at", "2019-09-02").status == 0)
        }
        for (organisation, role) in [("milano", "lead"), ("kekava", "partner")] {
            try #require(try ledger.kopa("record", "partner-joined", "--project", "cities4csr", "--organisation", organisation, "--role", role, "--occurred-at", "2019-09-02").status == 0)
        }
        try #require(try ledger.kopa("record", "funding-committed", "--project", "cities4csr", "--funding-source", "erdf", "--amount", "48454.95 EUR", "--rate", "85.00", "--occurred-at", "2019-09-02").status == 0)
        try #require(try ledger.kopa("record", "funding-committed", "--project", "cities4csr", "--funding-source", "municipality", "--amount", "8550.87 EUR", "--rate", "15.00", "--occurred-at", "2019-09-02").status == 0)
        try #require(try ledger.kopa("record", "meeting-held", "--meeting", "ulg-1", "--kind", "local-group-meeting", "--title", "ULG", "--project", "cities4csr", "--participants", "25", "--occurred-at", "2019-12-05", "--source", "news 2020-01-07").status == 0)
        return ledger
    }

    @Test func overviewAndFundingAreExactInEveryFormat() throws {
        let ledger = try Self.fundedLedger()
        let json = try ledger.kopa("report", "funding", "--format", "json")
        #expect(json.status == 0, "\(json)")
        guard case .array(let rows) = try parseJSON(json.stdout) else {
            Issue.record("funding --format json is not an array: \(json.stdout)")
            return
        }
        let all = rows.first { $0["project"] == .string("cities4csr") && $0["funding_source"] == .string("all") }
        #expect(all?["committed"] == .string("57005.82"))
        let erdf = rows.first { $0["project"] == .string("cities4csr") && $0["funding_source"] == .string("erdf") }
        #expect(erdf?["share"] == .string("85.00"))

        let csv = try ledger.kopa("report", "overview", "--format", "csv")
        #expect(csv.status == 0)
        #expect(csv.stdout.hasPrefix("project,"))
        #expect(csv.stdout.contains("\r\n"), "CSV lines end with CRLF (RFC 4180)")
        #expect(csv.stdout.contains("57005.82"))

        let table = try ledger.kopa("report", "overview")
        #expect(table.status == 0)
        #expect(table.lines.allSatisfy { $0.count <= 100 }, "a table fits 100 columns:\n\(table.stdout)")
        // Too wide for 100 columns, the overview prints a block per row; its numbers are
        // right-aligned there too, so that their last digits line up.
        let committed = try #require(table.lines.first { $0.hasPrefix("committed ") })
        let erdfShare = try #require(table.lines.first { $0.hasPrefix("erdf_share ") })
        #expect(committed.hasSuffix("57005.82") && erdfShare.hasSuffix("85.00"))
        #expect(committed.count == erdfShare.count, "\n\(committed)\n\(erdfShare)")
        let markdown = try ledger.kopa("report", "partners", "--format", "md")
        #expect(markdown.stdout.contains("| milano"))
    }

    /// CSV, JSON and NDJSON are written row by row as the report runs: the printed rows are the
    /// engine's rows, in order, typed, with RFC 4180 quoting, also when there are none.
    @Test("streamed formats print exactly the report's rows", arguments: ["csv", "json", "ndjson"])
    func streamedFormatsPrintTheRowsExactly(format: String) throws {
        let ledger = try Self.fundedLedger()
        try #require(try ledger.kopa("record", "meeting-held", "--meeting", "q-1", "--kind", "workshop", "--title", "Quotes \"and\", commas\nand a line", "--occurred-at", "2020-01-10").status == 0)
        // Only a CR LF pair: one Character, but two bytes that RFC 4180 quotes for.
        try #require(try ledger.kopa("record", "meeting-held", "--meeting", "q-2", "--kind", "workshop", "--title", "Line one\r\nline two", "--occurred-at", "2020-01-11").status == 0)
        let engine = try ProjectionEngine(ledger: try Ledger.open(at: ledger.path))
        for (report, parameters) in [("funding", [String]()), ("audit-trail", []), ("timeline", []), ("audit-trail", ["--stream", "nobody/none"])] {
            var values: [String: String] = [:]
            if parameters.count == 2 { values["stream"] = parameters[1] }
            let expected = try engine.report(report, parameters: values)
            let printed = try ledger.kopa(["report", report, "--format", format] + parameters)
            #expect(printed.status == 0, "\(printed)")
            func json(_ value: ReportValue) -> JSONValue {
                switch value {
                case .null: .null
                case .integer(let n): .integer(n)
                case .real(let d): .string(String(d))
                case .text(let s): .string(s)
                }
            }
            let rows: [JSONValue] = expected.rows.map { row in .object(Dictionary(uniqueKeysWithValues: zip(expected.columns, row.map(json)))) }
            switch format {
            case "csv":
                func field(_ value: ReportValue) -> String {
                    let text: String
                    switch value {
                    case .null: text = ""
                    case .integer(let n): text = String(n)
                    case .real(let d): text = String(d)
                    case .text(let s): text = s
                    }
                    return text.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
                }
                let lines = [expected.columns.joined(separator: ",")] + expected.rows.map { $0.map(field).joined(separator: ",") }
                #expect(printed.stdout == lines.map { $0 + "\r\n" }.joined(), "\(report)")
            case "json":
                #expect(try parseJSON(printed.stdout) == .array(rows), "\(report)")
                #expect(printed.stdout.hasSuffix(expected.rows.isEmpty ? "[]\n" : "}\n]\n"))
            default:
                // No rows: no bytes at all (an empty line is not JSON), as `kopa log` prints.
                if expected.rows.isEmpty {
                    #expect(printed.stdout.isEmpty, "\(report): \(printed.stdout.debugDescription)")
                } else {
                    let lines = printed.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                    #expect(try lines.map { try parseJSON(String($0)) } == rows, "\(report)")
                }
            }
            if report == "timeline" {
                #expect(printed.stdout.contains("Quotes") && printed.stdout.contains("Line one"), "the titles are among the rows")
                if format == "csv" { #expect(printed.stdout.contains(",\"Line one\r\nline two")) }
            }
        }
    }

    @Test func reportsListsEveryBundledReportWithItsDescription() throws {
        let ledger = try CLILedger(fixtures: false)
        let result = try ledger.kopa("reports")
        #expect(result.status == 0)
        for name in ["overview", "funding", "partners", "timeline", "councils", "audit-trail", "change-log"] {
            let line = result.lines.first { $0.hasPrefix(name + " ") }
            #expect(line != nil && line!.count > name.count + 10, "\(name) listed with a description:\n\(result.stdout)")
        }
    }

    /// A stream in which nothing was recorded gives an empty report or listing, which an auditor
    /// could take for an answer: a note on stderr says so and names the nearest stream; stdout
    /// is the (empty) output as before, and the exit code 0.
    @Test(arguments: [["report", "audit-trail", "--stream"], ["log", "--stream"]])
    func aStreamWithNoEventsGetsANoteNamingTheNearestOne(command: [String]) throws {
        let ledger = try CLILedger()
        let typo = try ledger.kopa(command + ["project/cities4cs", "--format", "ndjson"])
        #expect(typo.status == 0, "\(typo)")
        #expect(typo.stderr == "kopa: note: no event was ever recorded in stream 'project/cities4cs' (did you mean 'project/cities4csr'?), so nothing is shown for it\n", "\(typo)")
        #expect(typo.stdout.isEmpty)
        let right = try ledger.kopa(command + ["project/cities4csr", "--format", "ndjson"])
        #expect(right.status == 0 && right.stderr.isEmpty && right.lines.count == 1, "\(right)")
    }

    @Test func anUnknownReportIsNamedWithTheNearestOne() throws {
        let ledger = try CLILedger(fixtures: false)
        let result = try ledger.kopa("report", "fundng")
        #expect(result.status == 66)
        #expect(result.stderr.contains("'fundng'") && result.stderr.contains("did you mean 'funding'?"), "\(result)")
    }

    @Test func asOfAndKnownAtAnswerForThePast() throws {
        let ledger = try Self.fundedLedger()
        let before = try ledger.kopa("report", "funding", "--as-of", "2019-09-01", "--format", "json")
        #expect(before.status == 0, "\(before)")
        #expect(!before.stdout.contains("48454.95"), "nothing was committed as of 2019-09-01")
        let after = try ledger.kopa("report", "funding", "--as-of", "2019-09-02", "--format", "json")
        #expect(after.stdout.contains("48454.95"), "the end of 2019-09-02 includes that day")
        let known = try ledger.kopa("report", "funding", "--known-at", "2000-01-01T00:00:00Z", "--format", "json")
        #expect(known.status == 0)
        #expect(!known.stdout.contains("48454.95"), "nothing had been recorded in 2000")
        let bad = try ledger.kopa("report", "funding", "--as-of", "2019-02-30")
        #expect(bad.status == 64, "a bad option value is a bad command line")
        #expect(bad.stderr.contains("'2019-02-30'"))
    }

    @Test func stateAndHistoryShowACorrectionBesideTheEvent() throws {
        let ledger = try Self.fundedLedger()
        let meeting = try #require(try ledger.events().last { $0.type == "meeting-held" })
        let corrected = try ledger.kopa("correct", String(meeting.seq), "--participants", "27", "--reason", "attendance sheet recounted")
        #expect(corrected.status == 0, "\(corrected)")

        let state = try ledger.kopa("state", "meeting/ulg-1", "--format", "json")
        #expect(state.status == 0)
        #expect(try parseJSON(state.stdout)["fields"]?["participants"] == .integer(27))
        #expect(try parseJSON(state.stdout)["opened_by"] == "meeting-held")
        let stateTable = try ledger.kopa("state", "project/cities4csr", "--format", "csv")
        #expect(stateTable.stdout.hasPrefix("event,seq,occurred_at,field,value\r\n"))
        #expect(stateTable.stdout.contains("funding-committed,"), "the project's commitments are listed as events of their own")

        let history = try ledger.kopa("history", "meeting/ulg-1")
        #expect(history.status == 0)
        #expect(history.stdout.contains("seq \(meeting.seq)  meeting-held (corrected)"), "\(history.stdout)")
        #expect(history.stdout.contains("corrects seq \(meeting.seq)"))
        #expect(history.stdout.contains("participants: 25 → 27"))
        #expect(history.stdout.contains("reason: attendance sheet recounted"))
        #expect(history.stdout.contains("source: news 2020-01-07"))

        let earlier = try ledger.kopa("state", "meeting/ulg-1", "--known-at", meeting.recordedAt, "--format", "json")
        #expect(try parseJSON(earlier.stdout)["fields"]?["participants"] == .integer(25), "before the correction was recorded")
        // Machine formats keep the exact recorded_at (it can go back to --known-at) and the bare type.
        let machine = try ledger.kopa("history", "meeting/ulg-1", "--format", "csv")
        #expect(machine.stdout.hasPrefix("seq,occurred_at,recorded_at,recorded_by,type,status,target,changes,reason,source,evidence\r\n"))
        #expect(machine.stdout.contains("\(meeting.seq),\(meeting.occurredAt),\(meeting.recordedAt),\(meeting.recordedBy),meeting-held,corrected,,"), "\(machine.stdout)")
        // What each event said, exactly: the payload, and the correction's changes as JSON.
        let json = try parseJSON(try ledger.kopa("history", "meeting/ulg-1", "--format", "json").stdout)
        guard case .array(let entries) = json, entries.count == 2 else {
            Issue.record("history --format json: \(json)")
            return
        }
        #expect(entries[0]["changes"]?["participants"] == .integer(25))
        #expect(entries[1]["target"] == .integer(meeting.seq))
        #expect(entries[1]["reason"] == "attendance sheet recounted")
        #expect(entries[1]["changes"] == .array([.object(["field": "participants", "from": .integer(25), "to": .integer(27)])]))

        let changeLog = try ledger.kopa("report", "change-log", "--format", "json")
        #expect(changeLog.stdout.contains("attendance sheet recounted"))
        let missing = try ledger.kopa("state", "meeting/nowhere")
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("'meeting/nowhere'"))
    }

    @Test func rebuildThenAnAnalystsOwnProjectionFromAnotherFolder() throws {
        let ledger = try Self.fundedLedger()
        let rebuilt = try ledger.kopa("rebuild")
        #expect(rebuilt.status == 0, "\(rebuilt)")
        #expect(rebuilt.stdout.contains("rebuilt 12 projections"))

        let folder = try TemporaryDirectory("kopa-analyst")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try folder.write("meeting_sizes.sql", """
            -- projection: meeting_sizes
            -- version: 1
            CREATE TABLE meeting_sizes (meeting TEXT PRIMARY KEY, participants INTEGER);

            -- on meeting-held
            INSERT INTO meeting_sizes VALUES (:meeting, :participants);
            """)
        try folder.write("reports/big-meetings.sql", """
            -- description: Meetings with more than 20 participants
            SELECT meeting, participants FROM meeting_sizes WHERE participants > 20
            """)
        let listed = try ledger.kopa("reports", "--projections", folder.url.path)
        #expect(listed.stdout.contains("big-meetings") && listed.stdout.contains("more than 20 participants"))
        let result = try ledger.kopa("report", "big-meetings", "--projections", folder.url.path, "--format", "csv")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "meeting,participants\r\nulg-1,25\r\n")
        // A parameter the report does not take is a bad command line (64), not an ignored one.
        let stray = try ledger.kopa("report", "big-meetings", "--projections", folder.url.path, "--stream", "project/cities4csr")
        #expect(stray.status == 64 && stray.stdout.isEmpty)
        #expect(stray.stderr.contains("':stream'") && stray.stderr.contains("--stream"), "\(stray)")

        try folder.write("broken.sql", "-- projection: broken\n-- version: 1\nCREATE TABLE broken (x TEXT);\n\n-- on meeting-held\nINSERT INTO broken VALUES (:nope);\n")
        let failed = try ledger.kopa("report", "big-meetings", "--projections", folder.url.path)
        #expect(failed.status == 65)
        #expect(failed.stderr.contains("broken.sql:6") && failed.stderr.contains(":nope"), "\(failed)")
    }

    /// An analyst's report in every streamed format, and as a Markdown table.
    struct AnalystReport: Sendable, CustomStringConvertible {
        var name: String
        var sql: String
        var expected: [String: String]
        /// What the Markdown table (which goes through cells, not SQLite's buffers) must show.
        var table: [String]
        var description: String { name }
    }

    /// Streamed rows are written from SQLite's buffers, the same values in every format.
    /// `columns`: names need not be unique or sorted: JSON keeps them in column order, NDJSON is
    /// RFC 8785 (keys sorted, each once: the last column of a name, as a JSON object parsed from the
    /// JSON output would hold). `tricky`: quotes, commas and line breaks are quoted or escaped, a
    /// BLOB reads `<blob>`, text that is not UTF-8 reads as repaired (U+FFFD; the bytes themselves
    /// are checked in the library's tests).
    @Test("an analyst's report prints the same values in every format", arguments: [
        AnalystReport(
            name: "columns",
            sql: #"SELECT 1 AS b, 'x,y' AS a, 2 AS b, 2.5 AS r, NULL AS "ä", 'z' AS "Z""#,
            expected: [
                "csv": "b,a,b,r,ä,Z\r\n1,\"x,y\",2,2.5,,z\r\n",
                "json": "[\n  {\"b\": 1, \"a\": \"x,y\", \"b\": 2, \"r\": \"2.5\", \"ä\": null, \"Z\": \"z\"}\n]\n",
                "ndjson": "{\"Z\":\"z\",\"a\":\"x,y\",\"b\":2,\"r\":\"2.5\",\"ä\":null}\n",
            ],
            table: ["x,y", "2.5"]),
        AnalystReport(
            name: "tricky",
            sql: """
                SELECT 'say "hi", twice' AS a, 'two' || char(13, 10) || 'lines' AS b, x'00ff' AS c,
                    CAST(x'41ff42' AS TEXT) AS d, 'Ķekava' || char(9) AS e, -7 AS f, 0.25 AS g
                """,
            expected: [
                "csv": "a,b,c,d,e,f,g\r\n\"say \"\"hi\"\", twice\",\"two\r\nlines\",<blob>,A\u{FFFD}B,Ķekava\t,-7,0.25\r\n",
                "json": "[\n  {\"a\": \"say \\\"hi\\\", twice\", \"b\": \"two\\r\\nlines\", \"c\": \"<blob>\", \"d\": \"A\u{FFFD}B\", \"e\": \"Ķekava\\t\", \"f\": -7, \"g\": \"0.25\"}\n]\n",
                "ndjson": "{\"a\":\"say \\\"hi\\\", twice\",\"b\":\"two\\r\\nlines\",\"c\":\"<blob>\",\"d\":\"A\u{FFFD}B\",\"e\":\"Ķekava\\t\",\"f\":-7,\"g\":\"0.25\"}\n",
            ],
            table: ["<blob>", "A\u{FFFD}B", "0.25"]),
    ])
    func anAnalystsReportPrintsTheSameValuesInEveryFormat(report: AnalystReport) throws {
        let ledger = try CLILedger()
        let folder = try TemporaryDirectory("kopa-analyst")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try folder.write("reports/\(report.name).sql", "-- description: An analyst's report\n" + report.sql)
        for (format, output) in report.expected {
            let result = try ledger.kopa("report", report.name, "--projections", folder.url.path, "--format", format)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout == output, "\(format): \(result.stdout.debugDescription)")
        }
        let table = try ledger.kopa("report", report.name, "--projections", folder.url.path, "--format", "md")
        #expect(table.status == 0, "\(table)")
        for text in report.table { #expect(table.stdout.contains(text), "\(text) in \(table.stdout)") }
    }

    /// Control characters, backslashes and wide characters: a Markdown row keeps its cells (a
    /// backslash before a `|` is escaped too), a table row stays on one line and within 100
    /// terminal columns, counting a CJK character as two.
    @Test func tablesAndMarkdownKeepEachRowOnOneLineWithinItsColumns() throws {
        let ledger = try CLILedger()
        let folder = try TemporaryDirectory("kopa-analyst")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try folder.write("reports/odd.sql", """
            SELECT 'A\\|B' AS a, 'one' || char(13, 10) || 'two' AS b, 'tab' || char(9) || 'here' AS c, 1 AS n
            UNION ALL SELECT 'a|' || char(769) || 'b\\' || char(769), 'x', 'y', 3
            UNION ALL SELECT 'e' || char(769), '漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字', 'x', 22
            """)
        let markdown = try ledger.kopa("report", "odd", "--projections", folder.url.path, "--format", "md")
        #expect(markdown.status == 0, "\(markdown)")
        #expect(markdown.lines.count == 5, "\(markdown.stdout.debugDescription)")
        #expect(markdown.lines[2] == #"| A\\\|B | one two | tab here | 1 |"#)
        // A pipe or backslash that a combining accent joins is escaped all the same.
        #expect(Array(markdown.lines[3].unicodeScalars) == Array("| a\\|\u{301}b\\\\\u{301} | x | y | 3 |".unicodeScalars))
        let table = try ledger.kopa("report", "odd", "--projections", folder.url.path)
        #expect(table.status == 0, "\(table)")
        #expect(table.lines.count == 5, "\(table.stdout.debugDescription)")
        #expect(!table.stdout.utf8.contains(13) && !table.stdout.utf8.contains(9))
        #expect(table.lines[2].hasPrefix("A\\|B  one two ") && table.lines[2].contains("  tab here"), "\(table.lines[2])")
        // A combining accent takes no column, so the next cell starts where it does above; the
        // wide text is cut to fit 100 columns, two per CJK character.
        let wide = table.lines[4]
        #expect(wide.hasPrefix("e\u{301}     漢字"), "\(wide.debugDescription)")
        let columns = wide.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x4E00 && $1.value <= 0x9FFF ? 2 : $1.value == 0x301 ? 0 : 1) }
        #expect(columns <= 100 && columns >= 95, "\(columns): \(wide)")
        #expect(wide.contains("…"), "\(wide)")
    }

    /// Unicode's line separator (U+2028) breaks a line in some terminals and editors: a table and
    /// Markdown show it as a space, as they do a control character.
    @Test func aLineSeparatorInAValueIsASpace() throws {
        let ledger = try CLILedger()
        let folder = try TemporaryDirectory("kopa-analyst")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try folder.write("reports/sep.sql", "SELECT 'one' || char(8232) || 'two' AS a")
        for format in ["table", "md"] {
            let result = try ledger.kopa("report", "sep", "--projections", folder.url.path, "--format", format)
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("one two") && !result.stdout.unicodeScalars.contains("\u{2028}"), "\(format): \(result.stdout.debugDescription)")
        }
    }

    /// `kopa history` as a table puts every recorded text on one line (a source with line breaks
    /// cannot print something that looks like another entry, nor send escape codes), and its
    /// machine formats carry long values whole.
    @Test func historyPrintsRecordedTextOnOneLineAndMachineFormatsWhole() throws {
        let ledger = try CLILedger()
        let forged = "minutes p.3\n\nseq 99  event-retracted  occurred 2020-06-01\n    retracts seq 26 \u{1B}[31mALERT"
        let long = "The project will co-finance the repair of the bridge, total 10000 EUR"
        let recorded = try ledger.kopa(
            "record", "organisation-registered", "--organisation", "o1", "--name", long, "--kind", "ngo", "--country", "LV",
            "--occurred-at", "2020-05", "--source", forged)
        #expect(recorded.status == 0, "\(recorded)")
        let table = try ledger.kopa("history", "organisation/o1")
        #expect(table.status == 0)
        #expect(!table.stdout.contains("\u{1B}"))
        #expect(!table.lines.contains { $0.hasPrefix("seq 99") }, "\(table.stdout)")
        #expect(table.stdout.contains("source: minutes p.3  seq 99"), "\(table.stdout)")
        let csv = try ledger.kopa("history", "organisation/o1", "--format", "csv")
        #expect(csv.stdout.contains(long), "\(csv.stdout)")
        guard case .array(let entries) = try parseJSON(try ledger.kopa("history", "organisation/o1", "--format", "json").stdout), let first = entries.first else {
            Issue.record("history --format json is not a list of entries")
            return
        }
        #expect(first["changes"]?["name"] == .string(long))
        #expect(first["source"] == .string(forged))
    }

    /// `kopa history` and `kopa show` as tables fold long texts to 100 columns (two per CJK
    /// character) under their block, leaving out nothing (README: "never cut"). History's change
    /// lines cut values once, and a correction of a long text's end then showed the same value
    /// before and after the arrow.
    @Test func historyAndShowFoldLongTextsToAHundredColumns() throws {
        let ledger = try CLILedger()
        let title = String(repeating: "会議", count: 60)
        let source = (1...40).map { "minutes-page-\($0)" }.joined(separator: " ")
        // Not `ledger.kopa`, which gives `--actor tester`: a second --actor is refused.
        let recorded = try kopa([
            "record", "--ledger", ledger.path, "meeting-held", "--meeting", "m1", "--kind", "workshop", "--title", title, "--project", "cities4csr",
            "--occurred-at", "2021-03-04T18:30:00Z", "--source", source, "--format", "json", "--actor", "clerk-with-a-long-staff-id-0042"])
        #expect(recorded.status == 0, "\(recorded)")
        func columns(_ line: String) -> Int {
            line.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x4E00 && $1.value <= 0x9FFF ? 2 : 1) }
        }
        for arguments in [["history", "meeting/m1"], ["show", String(try ledger.head().seq)]] {
            let result = try ledger.kopa(arguments)
            #expect(result.status == 0, "\(result)")
            #expect(result.lines.allSatisfy { columns($0) <= 100 }, "\(arguments[0]): \(result.lines.map(columns))\n\(result.stdout)")
            if arguments[0] == "show" {
                // Folded exactly at the width: the pieces put together give the record back.
                let unfolded = result.stdout.replacingOccurrences(of: "\n" + String(repeating: " ", count: 15), with: "")
                #expect(unfolded.contains(source) && unfolded.contains(title), "\(result.stdout)")
            } else {
                // Folded at spaces, the continuation indented: the source's words in order, and
                // the whole title (broken inside, having no spaces).
                let joined = result.lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
                #expect(joined.contains("source: " + source), "\(result.stdout)")
                #expect(joined.filter { !$0.isWhitespace }.contains("title='\(title)'"), "\(result.stdout)")
                // A header too long for one line breaks between its parts: who recorded stays
                // beside when ("by" alone at a line's end read as a cut).
                #expect(result.lines.contains { $0.hasPrefix("        recorded ") && $0.hasSuffix(" by clerk-with-a-long-staff-id-0042") }, "\(result.stdout)")
            }
        }
        // A correction that changes only the end of a long text shows both texts whole.
        let before = "Sanāksmē piedalījās Ķekavas novada pašvaldības pārstāvji, uzņēmēji un iedzīvotāji."
        let after = "Sanāksmē piedalījās Ķekavas novada pašvaldības pārstāvji, uzņēmēji un iedzīvotāji; 40 cilvēki."
        #expect(try ledger.kopa("record", "meeting-held", "--meeting", "m2", "--kind", "workshop", "--title", "Darbnīca", "--description", before).status == 0)
        let meeting = try ledger.head().seq
        #expect(try ledger.kopa("correct", String(meeting), "--description", after, "--reason", "more detail").status == 0)
        let history = try ledger.kopa("history", "meeting/m2")
        #expect(history.lines.allSatisfy { columns($0) <= 100 }, "\(history.stdout)")
        let joined = history.lines.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(joined.contains("description = '\(before)'"), "\(history.stdout)")
        #expect(joined.contains("description: '\(before)' → '\(after)'"), "\(history.stdout)")
    }

    /// Tables and Markdown print as the rows come, laid out by the first 1000: every row is there
    /// in order, a later text too long for its column is cut with '…', a later number wider than
    /// its column is printed whole and widens the column; a result of at most 1000 rows prints
    /// exactly as before (sized by all of its rows).
    @Test func tablesAndMarkdownOfManyRowsPrintEveryRowWithoutCuttingNumbers() throws {
        let ledger = try CLILedger()
        let folder = try TemporaryDirectory("kopa-analyst")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try folder.write("reports/many.sql", """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST(:rows AS INTEGER))
            SELECT i AS n, CASE WHEN i > 1200 THEN 123456789012 ELSE i END AS amount,
                CASE WHEN i = 1300 THEN 'a label far too long for the column it was given by the first thousand rows' ELSE 'row ' || i END AS label
            FROM n
            """)
        let table = try ledger.kopa("report", "many", "--param", "rows=1500", "--projections", folder.url.path)
        #expect(table.status == 0, "\(table)")
        let lines = table.lines
        #expect(lines.count == 2 + 1500)
        #expect(lines[0].hasPrefix("   n  amount  label"), "\(lines[0])")
        for (i, line) in lines.dropFirst(2).enumerated() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            #expect(fields.first == Substring(String(i + 1)), "row \(i + 1) in order: \(line)")
        }
        #expect(lines[2 + 1200].contains("123456789012"), "a wider number is printed whole: \(lines[2 + 1200])")
        #expect(lines[2 + 1299].hasSuffix("…") && !lines[2 + 1299].contains("first thousand rows"), "a long text is cut: \(lines[2 + 1299])")
        #expect(lines[2 + 1201].hasPrefix("1202  123456789012  row 1202"), "the column stays wide for later rows: \(lines[2 + 1201])")

        let markdown = try ledger.kopa("report", "many", "--param", "rows=1500", "--projections", folder.url.path, "--format", "md")
        #expect(markdown.lines.count == 2 + 1500)
        #expect(markdown.lines[1] == "|---:|---:|---|")
        #expect(markdown.lines[2 + 1299].contains("first thousand rows"), "Markdown cuts nothing")

        // Up to 1000 rows: laid out by all of them, as a held table is.
        let small = try ledger.kopa("report", "many", "--param", "rows=12", "--projections", folder.url.path)
        #expect(small.lines.count == 2 + 12)
        #expect(small.lines[0] == " n  amount  label")
        #expect(small.lines.last == "12      12  row 12")
    }
}
