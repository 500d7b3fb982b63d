import Foundation
import Ledger
import KopaTestSupport
import Testing

/// One command line that gives a single-valued option twice: refused (64), naming the option and
/// both values, with nothing written.
struct RepeatedOption: Sendable, CustomTestStringConvertible {
    /// The arguments after `kopa`; `$LEDGER` is the test ledger, `$DIR` its folder, `$OTHER` a
    /// second ledger path that must not be made.
    var arguments: [String]
    var option: String
    var first: String
    var second: String
    var testDescription: String { arguments.prefix(1).joined() + " " + option + " (" + arguments.joined(separator: " ") + ")" }
}

/// Options on the command line: each given once, values that start with a dash, and what
/// `--format` does for `import`.
@Suite("kopa options, end to end")
struct CLIOptionTests {
    static let meeting = ["meeting-held", "--meeting", "m1", "--kind", "workshop", "--title", "T", "--occurred-at", "2020"]

    /// Every subcommand, and each kind of option: the global ones (before and after a `record`
    /// or `correct` type, where Kopa parses them itself), each subcommand's own, `=` spellings.
    static let repeated: [RepeatedOption] = [
        RepeatedOption(arguments: ["init", "--ledger", "$DIR/new.sqlite", "--ledger", "$OTHER"], option: "--ledger", first: "$DIR/new.sqlite", second: "$OTHER"),
        RepeatedOption(arguments: ["init", "--ledger", "$OTHER", "--name", "A", "--name", "B"], option: "--name", first: "A", second: "B"),
        RepeatedOption(arguments: ["init", "--ledger", "$OTHER", "--actor", "a", "--actor=b"], option: "--actor", first: "a", second: "b"),
        RepeatedOption(arguments: ["record", "--ledger", "$LEDGER"] + meeting + ["--ledger", "$OTHER"], option: "--ledger", first: "$LEDGER", second: "$OTHER"),
        RepeatedOption(arguments: ["record", "--ledger", "$LEDGER", "--actor", "a"] + meeting + ["--actor", "b"], option: "--actor", first: "a", second: "b"),
        RepeatedOption(arguments: ["record", "--ledger", "$LEDGER", "--actor", "a", "--actor", "b"] + meeting, option: "--actor", first: "a", second: "b"),
        RepeatedOption(arguments: ["record", "--ledger", "$LEDGER", "--format", "json"] + meeting + ["--format=csv"], option: "--format", first: "json", second: "csv"),
        RepeatedOption(arguments: ["record", "--ledger", "$LEDGER"] + meeting + ["--source", "a", "--source", "b"], option: "--source", first: "a", second: "b"),
        RepeatedOption(arguments: ["import", "--ledger", "$LEDGER", "--ledger", "$OTHER", "$DIR/in.ndjson"], option: "--ledger", first: "$LEDGER", second: "$OTHER"),
        RepeatedOption(arguments: ["import", "--ledger", "$LEDGER", "--format", "json", "--format", "csv", "$DIR/in.ndjson"], option: "--format", first: "json", second: "csv"),
        RepeatedOption(arguments: ["correct", "--ledger", "$LEDGER", "27", "--title", "X", "--reason", "r", "--ledger", "$OTHER"], option: "--ledger", first: "$LEDGER", second: "$OTHER"),
        RepeatedOption(arguments: ["correct", "--ledger", "$LEDGER", "27", "--title", "X", "--reason", "r", "--reason", "s"], option: "--reason", first: "r", second: "s"),
        RepeatedOption(arguments: ["retract", "--ledger", "$LEDGER", "27", "--reason", "first", "--reason", "second"], option: "--reason", first: "first", second: "second"),
        RepeatedOption(arguments: ["retract", "--ledger", "$LEDGER", "27", "--reason", "r", "--source", "s1", "--source", "s2"], option: "--source", first: "s1", second: "s2"),
        RepeatedOption(arguments: ["retract", "--ledger", "$LEDGER", "27", "--reason", "r", "--actor", "a", "--actor", "b"], option: "--actor", first: "a", second: "b"),
        RepeatedOption(arguments: ["log", "--ledger", "$LEDGER", "--limit", "1", "--limit=2"], option: "--limit", first: "1", second: "2"),
        RepeatedOption(arguments: ["log", "--ledger", "$LEDGER", "--stream", "project/cities4csr", "--stream", "organisation/kekava"], option: "--stream", first: "project/cities4csr", second: "organisation/kekava"),
        RepeatedOption(arguments: ["log", "--ledger", "$LEDGER", "--from", "1", "--from", "2"], option: "--from", first: "1", second: "2"),
        RepeatedOption(arguments: ["log", "--ledger", "$LEDGER", "--since", "2020-01-01", "--since", "2021-01-01"], option: "--since", first: "2020-01-01", second: "2021-01-01"),
        RepeatedOption(arguments: ["show", "--ledger", "$LEDGER", "1", "--format", "json", "--format", "ndjson"], option: "--format", first: "json", second: "ndjson"),
        RepeatedOption(arguments: ["verify", "--ledger", "$LEDGER", "--expect-count", "27", "--expect-count", "28"], option: "--expect-count", first: "27", second: "28"),
        RepeatedOption(arguments: ["catalog", "--ledger", "$LEDGER", "--format", "json", "--format", "csv"], option: "--format", first: "json", second: "csv"),
        RepeatedOption(arguments: ["report", "overview", "--ledger", "$LEDGER", "--as-of", "2020-01-01", "--as-of", "2021-01-01"], option: "--as-of", first: "2020-01-01", second: "2021-01-01"),
        RepeatedOption(arguments: ["report", "overview", "--ledger", "$LEDGER", "--known-at", "2020-01-01", "--known-at=2021-01-01"], option: "--known-at", first: "2020-01-01", second: "2021-01-01"),
        RepeatedOption(arguments: ["report", "audit-trail", "--ledger", "$LEDGER", "--stream", "a/b", "--stream", "c/d"], option: "--stream", first: "a/b", second: "c/d"),
        RepeatedOption(arguments: ["reports", "--ledger", "$LEDGER", "--ledger", "$OTHER"], option: "--ledger", first: "$LEDGER", second: "$OTHER"),
        RepeatedOption(arguments: ["state", "project/cities4csr", "--ledger", "$LEDGER", "--as-of", "2020-01-01", "--as-of", "2021-01-01"], option: "--as-of", first: "2020-01-01", second: "2021-01-01"),
        RepeatedOption(arguments: ["history", "project/cities4csr", "--ledger", "$LEDGER", "--known-at", "2020-01-01", "--known-at", "2021-01-01"], option: "--known-at", first: "2020-01-01", second: "2021-01-01"),
        RepeatedOption(arguments: ["rebuild", "--ledger", "$LEDGER", "--ledger", "$OTHER"], option: "--ledger", first: "$LEDGER", second: "$OTHER"),
        RepeatedOption(arguments: ["export", "--ledger", "$LEDGER", "--out", "$DIR/a.kopa", "--out", "$DIR/b.kopa"], option: "--out", first: "$DIR/a.kopa", second: "$DIR/b.kopa"),
        RepeatedOption(arguments: ["export", "--ledger", "$LEDGER", "--out", "$DIR/a.kopa", "--until", "5", "--until", "6"], option: "--until", first: "5", second: "6"),
        RepeatedOption(arguments: ["restore", "$DIR/in.ndjson", "--ledger", "$OTHER", "--expect-head", String(repeating: "a", count: 64), "--expect-head", String(repeating: "b", count: 64)],
                       option: "--expect-head", first: String(repeating: "a", count: 64), second: String(repeating: "b", count: 64)),
        RepeatedOption(arguments: ["demo", "--ledger", "$OTHER", "--format", "json", "--format", "csv"], option: "--format", first: "json", second: "csv"),
    ]

    @Test("a single-valued option given twice is refused", arguments: repeated)
    func refusesAnOptionGivenTwice(_ repeated: RepeatedOption) throws {
        let ledger = try CLILedger()
        try ledger.directory.write("in.ndjson", CLIEndToEndTests.meetingLine(1) + "\n")
        let before = try ledger.head()
        let other = ledger.directory.path("other.sqlite")
        func filled(_ text: String) -> String {
            text.replacingOccurrences(of: "$LEDGER", with: ledger.path).replacingOccurrences(of: "$OTHER", with: other)
                .replacingOccurrences(of: "$DIR", with: ledger.directory.url.path)
        }
        let result = try kopa(repeated.arguments.map(filled), cwd: ledger.directory.url)
        #expect(result.status == 64, "\(result)")
        #expect(result.stderr.contains("\(repeated.option) is given twice, as '\(filled(repeated.first))' and '\(filled(repeated.second))'"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("(see 'kopa \(repeated.arguments[0]) --help')\n"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        #expect(try ledger.head() == before)
        let left = try FileManager.default.contentsOfDirectory(atPath: ledger.directory.url.path)
        #expect(left.allSatisfy { !$0.hasPrefix("other.sqlite") && !$0.hasPrefix("new.sqlite") && !$0.hasSuffix(".kopa") }, "\(left)")
    }

    /// Options meant to repeat collect every value.
    @Test func repeatableOptionsStayRepeatable() throws {
        let ledger = try CLILedger()
        let types = try ledger.kopa("log", "--type", "organisation-registered", "--type", "project-registered", "--format", "ndjson")
        #expect(types.status == 0, "\(types)")
        #expect(types.lines.count == 2, "\(types.stdout)")
        let mine = try TemporaryDirectory()
        let theirs = try TemporaryDirectory()
        let folders = try ledger.kopa("reports", "--projections", mine.url.path, "--projections", theirs.url.path)
        #expect(folders.status == 0, "\(folders)")
        let evidence = try ledger.kopa(["record"] + Self.meeting + ["--evidence", "Minutes", "--evidence", "Photos", "--format", "ndjson"])
        #expect(evidence.status == 0, "\(evidence)")
        #expect(try ledger.events().last?.meta["evidence"] == .array([.object(["title": "Minutes"]), .object(["title": "Photos"])]))
        // The same option of two commands is no repetition: `--` ends the options of `show`.
        #expect(try ledger.kopa("show", "--format", "json", "--", "27").status == 0)
    }

    /// The word after an option is its value unless it is an option's name (Kopa's own or the
    /// type's); a value may start with a dash, and `--title=--x` gives one that is a name.
    @Test(arguments: [
        (["--title", "-5"], "title", JSONValue.string("-5")),
        (["--title", "--"], "title", .string("--")),
        (["--title", "-- draft --"], "title", .string("-- draft --")),
        (["--title", "--participant"], "title", .string("--participant")),
        (["--title=--participants"], "title", .string("--participants")),
        (["--title", "T", "--description", "-h is help"], "description", .string("-h is help")),
        (["--title", "T", "--online", "--participants", "3"], "online", .bool(true)),
    ] as [([String], String, JSONValue)])
    func aValueMayStartWithADash(fields: [String], field: String, value: JSONValue) throws {
        let ledger = try CLILedger()
        let result = try ledger.kopa(["record", "meeting-held", "--meeting", "m1", "--kind", "workshop", "--occurred-at", "2020"] + fields)
        #expect(result.status == 0, "\(result)")
        #expect(try ledger.events().last?.data[field] == value)
    }

    /// "-5" reaches the field as a value and is refused by the schema (65), not as a missing value.
    @Test func aNegativeNumberIsAValueTheSchemaRefuses() throws {
        let ledger = try CLILedger()
        let before = try ledger.head()
        let result = try ledger.kopa(["record"] + Self.meeting + ["--participants", "-5"])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("-5") && !result.stderr.contains("needs a value"), "\(result.stderr)")
        #expect(try ledger.head() == before)
    }

    // MARK: - import --format

    /// `import --format json` printed the human summary; now the summary is a row, as `verify`'s.
    @Test func importPrintsItsSummaryInTheFormatAsked() throws {
        let ledger = try CLILedger()
        try ledger.directory.write("a.ndjson", (1...3).map { CLIEndToEndTests.meetingLine($0) }.joined(separator: "\n") + "\n")
        let json = try ledger.kopa("import", "--format", "json", ledger.directory.path("a.ndjson"))
        #expect(json.status == 0, "\(json)")
        let head = try ledger.head()
        guard case .array(let rows) = try parseJSON(json.stdout), rows.count == 1, let summary = rows.first else {
            Issue.record("not a JSON list of one summary: \(json.stdout)")
            return
        }
        #expect(summary == .object([
            "file": .string(ledger.directory.path("a.ndjson")), "imported": .integer(3), "already_recorded": .integer(0),
            "first_seq": .integer(head.seq - 2), "last_seq": .integer(head.seq), "head": .string(head.hash),
        ]))

        // Again, with keys: nothing new, so no seqs.
        let keyed = #"{"type": "meeting-held", "idempotency_key": "k1", "data": {"meeting": "k1", "kind": "forum", "title": "t"}}"#
        try ledger.directory.write("b.ndjson", keyed + "\n")
        #expect(try ledger.kopa("import", ledger.directory.path("b.ndjson")).status == 0)
        let ndjson = try ledger.kopa(["import", "--format", "ndjson", "-"], stdin: .text(keyed + "\n"))
        #expect(ndjson.status == 0, "\(ndjson)")
        #expect(try parseJSON(ndjson.stdout) == .object([
            "file": "stdin", "imported": .integer(0), "already_recorded": .integer(1), "first_seq": .null, "last_seq": .null, "head": .string(try ledger.head().hash),
        ]))
        let csv = try ledger.kopa(["import", "--format", "csv", "-"], stdin: .text(keyed + "\n"))
        #expect(csv.stdout.hasPrefix("file,imported,already_recorded,first_seq,last_seq,head\r\nstdin,0,1,,,"), "\(csv.stdout)")
        let table = try ledger.kopa(["import", "-"], stdin: .text(keyed + "\n"))
        #expect(table.stdout.hasPrefix("imported 0 events (1 already recorded"), "\(table.stdout)")
    }

    /// `restore` and `rebuild` print their summary as one row in the format asked; `export`, whose
    /// output is an archive, refuses any format but the default, so that `--format ndjson` does not
    /// seem to write NDJSON text.
    @Test func restoreAndRebuildPrintTheirSummaryInTheFormatAskedAndExportRefusesOne() throws {
        let ledger = try CLILedger()
        let archive = ledger.directory.path("l.kopa")
        #expect(try ledger.kopa("export", "--out", archive).status == 0)
        let head = try ledger.head()
        let target = ledger.directory.path("restored.sqlite")
        let restored = try kopa(["restore", archive, "--ledger", target, "--format", "json"])
        #expect(restored.status == 0, "\(restored)")
        #expect(try parseJSON(restored.stdout) == .array([.object([
            "archive": .string(archive), "restored": .integer(head.seq), "ledger": .string(target), "head": .string(head.hash),
        ])]))

        #expect(try ledger.kopa("rebuild").status == 0)
        let rebuilt = try ledger.kopa("rebuild", "meetings", "councils", "--format", "csv")
        #expect(rebuilt.status == 0, "\(rebuilt)")
        #expect(rebuilt.stdout.hasPrefix("projections,events,database\r\n\"councils,meetings\","), "\(rebuilt.stdout)")
        #expect(rebuilt.stdout.hasSuffix(",\(ledger.directory.path("kopa.projections.sqlite"))\r\n"), "\(rebuilt.stdout)")
        // The events counted are those the named projections replayed: the others, behind by one
        // meeting, catch up on the way and are not counted.
        #expect(try ledger.kopa("record", "meeting-held", "--meeting", "late", "--kind", "forum", "--title", "Late").status == 0)
        let alone = try ledger.kopa("rebuild", "councils", "--format", "csv")
        let again = try ledger.kopa("rebuild", "councils", "--format", "csv")
        #expect(alone.status == 0 && again.status == 0, "\(alone)\n\(again)")
        #expect(alone.stdout == again.stdout, "\(alone.stdout)\n\(again.stdout)")

        for format in ["ndjson", "json"] {
            let out = ledger.directory.path("x.\(format)")
            let export = try ledger.kopa("export", "--out", out, "--format", format)
            #expect(export.status == 64, "\(export)")
            #expect(export.stderr.contains("--format \(format) does not apply to export, which writes an LZ4 archive"), "\(export)")
            #expect(export.stderr.contains("kopa log --format ndjson"))
            #expect(!FileManager.default.fileExists(atPath: out))
        }
    }

    // MARK: - init

    /// A symbolic link to a missing file was said to be a ledger "created by someone else
    /// meanwhile"; it is named as a link, and nothing is made where it points.
    @Test func initRefusesASymbolicLinkToAMissingFile() throws {
        let folder = try TemporaryDirectory()
        let link = folder.path("link.sqlite")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "missing.sqlite")
        let result = try kopa(["init", "--ledger", "link.sqlite", "--actor", "clerk-1"], cwd: folder.url)
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("'link.sqlite' is a symbolic link to 'missing.sqlite', which does not exist"), "\(result.stderr)")
        #expect(!result.stderr.contains("meanwhile"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["link.sqlite"])
    }
}
