import Foundation
import Ledger
import KopaTestSupport
import Testing

/// One rejected command line: the exit code DESIGN.md assigns, what stderr must name, and that the
/// ledger is unchanged afterwards.
struct CLIBadInput: Sendable, CustomTestStringConvertible {
    enum ImportFile: Sendable {
        case text(String)
        case badLineAmongFiveThousand
        case invalidUTF8
        case tenMegabyteString
    }

    var name: String
    /// The arguments after `kopa`; `$LEDGER` and `$DIR` are replaced, and `--ledger`/`--actor`
    /// are added after the subcommand unless `$LEDGER` appears.
    var arguments: [String]
    var importFile: ImportFile? = nil
    var exit: Int32
    var mentions: [String]
    /// What stderr must not say (a wrong suggestion, the wrong value blamed).
    var absent: [String] = []
    var testDescription: String { name }
}

@Suite("kopa command line, end to end")
struct CLIEndToEndTests {
    static func meetingLine(_ i: Int, kind: String = "forum", title: String? = nil) -> String {
        #"{"type": "meeting-held", "occurred_at": "2020-01-01", "data": {"meeting": "m\#(i)", "kind": "\#(kind)", "title": "\#(title ?? "Meeting \(i)")", "project": "cities4csr"}}"#
    }

    static let meeting = ["meeting-held", "--meeting", "ulg-1", "--kind", "local-group-meeting", "--title", "ULG"]
    static let funding = ["funding-committed", "--project", "cities4csr", "--funding-source", "erdf"]

    static let badInputs: [CLIBadInput] = [
        CLIBadInput(name: "unknown type", arguments: ["record", "meting-held", "--meeting", "m"], exit: 65,
                    mentions: ["'meting-held'", "did you mean 'meeting-held'?"]),
        CLIBadInput(name: "a list with an empty item", arguments: ["record"] + meeting + ["--organisations", "kekava,"], exit: 65,
                    mentions: ["field 'organisations' has an empty item in 'kekava,'", "separated by single commas"]),
        CLIBadInput(name: "a list with two commas in a row", arguments: ["record"] + meeting + ["--organisations", "kekava,,kekava"], exit: 65,
                    mentions: ["has an empty item in 'kekava,,kekava'"]),
        CLIBadInput(name: "unknown field", arguments: ["record"] + meeting + ["--titel", "x"], exit: 65,
                    mentions: ["'--titel'", "did you mean '--title'?"]),
        CLIBadInput(name: "--data that is not an object", arguments: ["record", "meeting-held", "--data", "[1]"], exit: 65,
                    mentions: ["--data is an array but expected a JSON object"]),
        CLIBadInput(name: "--data of a correction that is not an object", arguments: ["correct", "27", "--data", "\"x\"", "--reason", "r"], exit: 65,
                    mentions: ["--data is a string but expected a JSON object"]),
        CLIBadInput(name: "missing field", arguments: ["record", "meeting-held", "--meeting", "m", "--kind", "forum"], exit: 65,
                    mentions: ["missing required field 'title'"]),
        CLIBadInput(name: "wrong type", arguments: ["record"] + meeting + ["--participants", "many"], exit: 65,
                    mentions: ["participants", "'many'", "integer"]),
        CLIBadInput(name: "wrong enum value", arguments: ["record", "meeting-held", "--meeting", "m", "--kind", "picnic", "--title", "T"], exit: 65,
                    mentions: ["'picnic'", "local-group-meeting"]),
        CLIBadInput(name: "impossible date", arguments: ["record"] + meeting + ["--occurred-at", "2019-02-30"], exit: 65,
                    mentions: ["'2019-02-30'", "impossible date"]),
        CLIBadInput(name: "time without zone", arguments: ["record"] + meeting + ["--occurred-at", "2019-12-05T18:00:00"], exit: 65,
                    mentions: ["'2019-12-05T18:00:00'", "time zone"]),
        CLIBadInput(name: "negative amount", arguments: ["record"] + funding + ["--amount", "-5 EUR"], exit: 65,
                    mentions: ["'-5'", "non-negative decimal"]),
        CLIBadInput(name: "fractional cent", arguments: ["record"] + funding + ["--amount", "1.005 EUR"], exit: 65,
                    mentions: ["'1.005'", "at most two decimals"]),
        CLIBadInput(name: "fourteen digits before the point", arguments: ["record"] + funding + ["--amount", "12345678901234 EUR"], exit: 65,
                    mentions: ["'12345678901234'", "13 digits before the point"]),
        CLIBadInput(name: "an amount without its currency", arguments: ["record"] + funding + ["--amount", "100"], exit: 65,
                    mentions: ["'100'", "without its currency", "\"100 EUR\""]),
        CLIBadInput(name: "a currency that is not ISO 4217", arguments: ["record"] + funding + ["--amount", "5.00 EUE"], exit: 65,
                    mentions: ["'EUE'", "not an ISO 4217 currency code"]),
        CLIBadInput(name: "float where a decimal string is expected",
                    arguments: ["record", "funding-committed", "--data", #"{"project": "cities4csr", "funding_source": "erdf", "amount": {"amount": 12.5, "currency": "EUR"}}"#],
                    exit: 65, mentions: ["12.5", "strings"]),
        CLIBadInput(name: "float in an import line",
                    arguments: ["import", "$DIR/in.ndjson"],
                    importFile: .text(#"{"type": "funding-committed", "data": {"project": "cities4csr", "funding_source": "erdf", "amount": {"amount": 12.5, "currency": "EUR"}}}"#),
                    exit: 65, mentions: ["in.ndjson:1", "12.5"]),
        CLIBadInput(name: "reference to a stream that does not exist", arguments: ["record"] + meeting + ["--project", "ghost"], exit: 65,
                    mentions: ["'ghost'", "project/ghost"]),
        CLIBadInput(name: "opening a stream twice",
                    arguments: ["record", "organisation-registered", "--organisation", "kekava", "--name", "Again", "--kind", "ngo", "--country", "LV"],
                    exit: 65, mentions: ["organisation/kekava", "exists already"]),
        CLIBadInput(name: "stale expect-version", arguments: ["record"] + funding + ["--amount", "5 EUR", "--expect-version", "0"], exit: 65,
                    mentions: ["stale", "--expect-version 0", "project/cities4csr"]),
        CLIBadInput(name: "one bad line among 5,000", arguments: ["import", "$DIR/in.ndjson"], importFile: .badLineAmongFiveThousand, exit: 65,
                    mentions: ["in.ndjson:2500", "'picnic'"]),
        CLIBadInput(name: "invalid UTF-8", arguments: ["import", "$DIR/in.ndjson"], importFile: .invalidUTF8, exit: 65,
                    mentions: ["in.ndjson:2", "UTF-8"]),
        CLIBadInput(name: "empty import file", arguments: ["import", "$DIR/in.ndjson"], importFile: .text(""), exit: 65,
                    mentions: ["nothing to import"]),
        CLIBadInput(name: "empty stdin", arguments: ["import", "-"], exit: 65, mentions: ["nothing to import", "stdin"]),
        CLIBadInput(name: "a 10 MB string", arguments: ["import", "$DIR/in.ndjson"], importFile: .tenMegabyteString, exit: 65,
                    mentions: ["in.ndjson:1", "10485760 characters", "at most"]),
        CLIBadInput(name: "a missing import file", arguments: ["import", "$DIR/nowhere.ndjson"], exit: 66, mentions: ["nowhere.ndjson"]),
        CLIBadInput(name: "a missing ledger (log)", arguments: ["log", "--ledger", "$DIR/missing.sqlite"], exit: 66, mentions: ["missing.sqlite"]),
        CLIBadInput(name: "a missing ledger (record)", arguments: ["record", "--ledger", "$DIR/missing.sqlite"] + meeting, exit: 66, mentions: ["missing.sqlite"]),
        CLIBadInput(name: "a missing ledger (verify)", arguments: ["verify", "--ledger", "$DIR/missing.sqlite"], exit: 66, mentions: ["missing.sqlite"]),
        CLIBadInput(name: "a ledger that is not SQLite", arguments: ["log", "--ledger", "$DIR/in.ndjson"], importFile: .text("just text, no database here\n"), exit: 66,
                    mentions: ["in.ndjson", "not"]),
        CLIBadInput(name: "an event that does not exist", arguments: ["show", "999"], exit: 66, mentions: ["999"]),
        CLIBadInput(name: "a bad --format", arguments: ["log", "--format", "xml"], exit: 64, mentions: ["xml", "kopa log --help"]),
        CLIBadInput(name: "an escape code as a number", arguments: ["log", "--limit", "\u{1B}[2J"], exit: 64, mentions: ["'\\u001b[2J'", "--limit"]),
        CLIBadInput(name: "a negative limit", arguments: ["log", "--limit", "-1"], exit: 64, mentions: ["--limit '-1'", "positive"]),
        CLIBadInput(name: "a negative --from", arguments: ["log", "--from", "-5"], exit: 64, mentions: ["--from '-5' is not a seq", "1 or more"]),
        CLIBadInput(name: "a --to of zero", arguments: ["log", "--to", "0"], exit: 64, mentions: ["--to '0' is not a seq"]),
        CLIBadInput(name: "a negative expected count", arguments: ["verify", "--expect-count", "-1"], exit: 64, mentions: ["--expect-count -1", "1 or more"]),
        CLIBadInput(name: "an unknown option", arguments: ["log", "--colour"], exit: 64, mentions: ["'--colour'", "kopa log --help"]),
        CLIBadInput(name: "a mistyped type to list", arguments: ["log", "--type", "meting-held"], exit: 64, mentions: ["'meting-held'", "did you mean 'meeting-held'", "(see 'kopa log --help')"]),
        CLIBadInput(name: "a parameter the report does not take", arguments: ["report", "overview", "--param", "x=1"], exit: 64, mentions: ["':x'", "(see 'kopa report --help')"]),
        CLIBadInput(name: "an unknown projection to rebuild", arguments: ["rebuild", "nope"], exit: 66, mentions: ["'nope'", "the projections are audit_trail, change_log"]),
        CLIBadInput(name: "an option without its value", arguments: ["record"] + meeting + ["--participants"], exit: 64, mentions: ["--participants"]),
        CLIBadInput(name: "a type to describe that does not exist", arguments: ["catalog", "meting-held"], exit: 66,
                    mentions: ["unknown event type 'meting-held' (did you mean 'meeting-held'?)"]),
        CLIBadInput(name: "the catalog of a file that is not a ledger", arguments: ["catalog", "--ledger", "$DIR/in.ndjson"], importFile: .text("not a ledger\n"), exit: 66,
                    mentions: ["in.ndjson", "not a Kopa ledger"]),
        CLIBadInput(name: "a restore expecting a head that is no hash", arguments: ["restore", "$DIR/in.ndjson", "--ledger", "$DIR/new.sqlite", "--expect-head", "abc"],
                    importFile: .text("x\n"), exit: 64, mentions: ["--expect-head 'abc' is not a hash", "(see 'kopa restore --help')"]),
        CLIBadInput(name: "a field of a system event to correct", arguments: ["correct", "2", "--title", "x", "--reason", "r"], exit: 65,
                    mentions: ["'schema-registered' event at seq 2 cannot be corrected", "system events are fixed"]),
        CLIBadInput(name: "a mistyped command", arguments: ["verfy", "--ledger", "$DIR/none.sqlite"], exit: 64,
                    mentions: ["unknown command 'verfy' (did you mean 'verify'?)", "the commands are init, record", "(see 'kopa --help')"]),
        CLIBadInput(name: "an own option given twice", arguments: ["record"] + meeting + ["--occurred-at", "2021-01-01", "--occurred-at", "2021-01-02"], exit: 64,
                    mentions: ["--occurred-at is given twice, as '2021-01-01' and '2021-01-02'"]),
        CLIBadInput(name: "a field both set and removed", arguments: ["correct", "27", "--title", "x", "--remove", "title", "--reason", "r"], exit: 65,
                    mentions: ["field 'title' is both given a value and removed"]),
        CLIBadInput(name: "a meeting held in the future", arguments: ["record"] + meeting + ["--occurred-at", "2052-05-01"], exit: 65,
                    mentions: ["occurred_at '2052-05-01' is in the future", "check the date"]),
        CLIBadInput(name: "a field given twice", arguments: ["record"] + meeting + ["--participants", "12", "--participants", "21"], exit: 65,
                    mentions: ["field 'participants' is given twice", "'12' and '21'"]),
        CLIBadInput(name: "a yes for a boolean", arguments: ["record"] + meeting + ["--online", "yes"], exit: 65, mentions: ["'yes'", "true or false"]),
        CLIBadInput(name: "a bad actor", arguments: ["record", "--actor", "Jānis Bērziņš"] + meeting, exit: 65, mentions: ["'Jānis Bērziņš'", "staff identifier"]),
        CLIBadInput(name: "--data that is not JSON", arguments: ["record", "meeting-held", "--data", "not json"], exit: 65,
                    mentions: ["--data 'not json'", "not valid JSON"]),
        CLIBadInput(name: "--evidence JSON cut short", arguments: ["record"] + meeting + ["--evidence", #"{"title": "x""#], exit: 65,
                    mentions: ["--evidence", "not valid JSON"]),
        CLIBadInput(name: "a bad --since", arguments: ["log", "--since", "2020-13-01"], exit: 64, mentions: ["--since", "'2020-13-01'"]),
        CLIBadInput(name: "a bad --known-at", arguments: ["state", "project/cities4csr", "--known-at", "yesterday"], exit: 64,
                    mentions: ["--known-at", "'yesterday'"]),
        CLIBadInput(name: "an empty idempotency key", arguments: ["record"] + meeting + ["--idempotency-key", ""], exit: 65,
                    mentions: ["idempotency key ''", "something other than blanks"]),
        CLIBadInput(name: "an idempotency key of blanks", arguments: ["record"] + meeting + ["--idempotency-key", "  "], exit: 65,
                    mentions: ["idempotency key '  '", "something other than blanks"]),
        CLIBadInput(name: "a device as --evidence-file", arguments: ["record"] + meeting + ["--evidence-file", "/dev/null"], exit: 66,
                    mentions: ["evidence file '/dev/null' is a device, not a file"]),
        CLIBadInput(name: "an amount with a no-break space", arguments: ["record"] + funding + ["--amount", "12.50\u{00A0}EUR"], exit: 65,
                    mentions: [#"'12.50\u00a0EUR'"#, "such as \"12.50 EUR\""]),
        CLIBadInput(name: "correcting an event that does not exist", arguments: ["correct", "999", "--title", "x", "--reason", "gone"], exit: 65,
                    mentions: ["corrected does not exist", "999"]),
        CLIBadInput(name: "a time option with a line break", arguments: ["report", "overview", "--as-of", "2021\nX"], exit: 64,
                    mentions: [#"'2021\nX'"#]),
        CLIBadInput(name: "retracting an event that does not exist", arguments: ["retract", "999", "--reason", "gone"], exit: 65,
                    mentions: ["retracted does not exist", "999"]),
        CLIBadInput(name: "a currency without its amount", arguments: ["record"] + funding + ["--amount", "EUR"], exit: 65,
                    mentions: ["'EUR', a currency without its amount", "such as \"12.50 EUR\""], absent: ["EUR EUR", "without its currency"]),
        CLIBadInput(name: "an amount and code without a space", arguments: ["record"] + funding + ["--amount", "12.50EUR"], exit: 65,
                    mentions: ["'12.50EUR'", "without a space between them", "such as \"12.50 EUR\""], absent: ["12.50EUR EUR"]),
        CLIBadInput(name: "a currency sign", arguments: ["record"] + funding + ["--amount", "€12.50"], exit: 65,
                    mentions: ["'€12.50'", "currency sign", "such as \"12.50 EUR\""], absent: ["€12.50 EUR"]),
        CLIBadInput(name: "an empty --evidence", arguments: ["record"] + meeting + ["--evidence", ""], exit: 65,
                    mentions: ["--evidence '' is empty"], absent: ["meta.evidence", "missing or longer"]),
        CLIBadInput(name: "a folder as --evidence-file", arguments: ["record"] + meeting + ["--evidence-file", "$DIR"], exit: 66,
                    mentions: ["is a folder, not a file", "evidence file '"], absent: ["NSCocoaErrorDomain"]),
        CLIBadInput(name: "a value with a backslash", arguments: ["record", "meeting-held", "--meeting", "m", "--kind", #"kekava\n"#, "--title", "T"],
                    exit: 65, mentions: [#"'kekava\\n'"#]),
        CLIBadInput(name: "a letter where JSON expects a value", arguments: ["import", "$DIR/in.ndjson"], importFile: .text(#"{"type": ā}"# + "\n"), exit: 65,
                    mentions: ["in.ndjson:1", "unexpected character 'ā' (U+0101)"], absent: ["'Ä'"]),
        CLIBadInput(name: "a field option without its value before another option", arguments: ["record"] + meeting.dropLast(2) + ["--title", "--participants"], exit: 64,
                    mentions: ["--title needs a value", "the next word is the option --participants"]),
        CLIBadInput(name: "a field option without its value before an option and its value",
                    arguments: ["record"] + meeting.dropLast(2) + ["--title", "--participants", "25"], exit: 64,
                    mentions: ["--title needs a value"], absent: ["'25'"]),
        CLIBadInput(name: "an own option without its value before a field", arguments: ["record"] + meeting + ["--source", "--participants", "25"], exit: 64,
                    mentions: ["--source needs a value"]),
        CLIBadInput(name: "a field option without its value before an own option", arguments: ["record"] + meeting.dropLast(2) + ["--title", "--occurred-at", "2020"], exit: 64,
                    mentions: ["--title needs a value", "--occurred-at"]),
        CLIBadInput(name: "retract's options given twice", arguments: ["retract", "27", "--reason", "first", "--reason", "second", "--source", "s1", "--source", "s2"], exit: 64,
                    mentions: ["--reason is given twice, as 'first' and 'second'"]),
        CLIBadInput(name: "a value with a line break and an escape code", arguments: ["record", "meeting-held", "--meeting", "m", "--kind", "pic\nnic\u{1B}[31m", "--title", "T"],
                    exit: 65, mentions: [#"'pic\nnic\u001b[31m'"#]),
    ]

    /// Swift reads the command line with bad bytes replaced; Kopa refuses them, as it does in an
    /// import line, rather than store a value that is not what was typed.
    @Test func anArgumentThatIsNotUTF8IsRejected() throws {
        let ledger = try CLILedger()
        let before = try ledger.head()
        let script = #""$0" record meeting-held --ledger "$1" --meeting m --kind workshop --title "$(printf 'bad\377byte')""#
        let result = try run("/bin/sh", ["-c", script, try kopaPath(), ledger.path])
        #expect(result.status == 65, "\(result)")
        #expect(result.stderr.contains("after '--title'") && result.stderr.contains("not valid UTF-8"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(try ledger.head() == before)
    }

    @Test("bad input: exit code, message, nothing written", arguments: badInputs)
    func rejects(_ bad: CLIBadInput) throws {
        let ledger = try CLILedger()
        let before = try ledger.head()
        let dir = ledger.directory.url.path
        switch bad.importFile {
        case nil: break
        case .text(let text): try ledger.directory.write("in.ndjson", text)
        case .badLineAmongFiveThousand:
            var lines = (1...5000).map { Self.meetingLine($0) }
            lines[2499] = Self.meetingLine(2500, kind: "picnic")
            try ledger.directory.write("in.ndjson", lines.joined(separator: "\n") + "\n")
        case .invalidUTF8:
            var bytes = Data((Self.meetingLine(1) + "\n" + Self.meetingLine(2, title: "Ķekava") + "\n").utf8)
            let k = try #require(bytes.firstRange(of: Data("Ķ".utf8)))
            bytes[k.upperBound - 1] = 0xFF
            try ledger.directory.write("in.ndjson", bytes)
        case .tenMegabyteString:
            try ledger.directory.write("in.ndjson", Self.meetingLine(1, title: String(repeating: "x", count: 10 << 20)) + "\n")
        }
        let arguments = bad.arguments.map { $0.replacingOccurrences(of: "$DIR", with: dir) }
        let result: ProcessResult
        if bad.arguments.contains(where: { $0.contains("$DIR/missing") || $0 == "--ledger" }) {
            result = try kopa(arguments, cwd: ledger.directory.url)
        } else if bad.arguments.contains("--actor") {
            result = try kopa([arguments[0], "--ledger", ledger.path] + arguments.dropFirst(), cwd: ledger.directory.url)
        } else {
            result = try ledger.kopa(arguments, stdin: arguments.contains("-") ? .text("") : .none)
        }
        #expect(result.status == bad.exit, "\(result)")
        #expect(!result.signalled)
        for fragment in bad.mentions {
            #expect(result.stderr.contains(fragment), "stderr does not name '\(fragment)': \(result.stderr.prefix(1000))")
        }
        for fragment in bad.absent {
            #expect(!result.stderr.contains(fragment), "stderr says '\(fragment)': \(result.stderr.prefix(1000))")
        }
        if bad.exit == 64 {
            #expect(result.stderr.hasSuffix(" --help')\n"), "a bad command line ends with where the help is: \(result.stderr)")
        }
        #expect(result.stdout.isEmpty, "\(result.stdout.prefix(500))")
        #expect(!result.stderr.contains("internal error"))
        // One readable line, with no raw control character (a terminal would obey it).
        #expect(result.stderr.hasPrefix("kopa: ") && result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr.debugDescription)")
        #expect(!result.stderr.dropLast().unicodeScalars.contains { $0.value < 0x20 }, "\(result.stderr.debugDescription)")
        #expect(try ledger.head() == before, "the ledger changed")
        #expect(try ledger.open().verify().count == before.seq)
    }

    // MARK: - init

    @Test func initCreatesALedgerAndRefusesToOverwrite() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("kekava.sqlite")
        let created = try kopa(["init", "--ledger", path, "--name", "Ķekava", "--actor", "clerk-1"])
        #expect(created.status == 0, "\(created)")
        #expect(created.stdout.contains("created ledger"))
        let ledger = try Ledger.open(at: path)
        let first = try ledger.event("1")
        #expect(first.type == "ledger-created")
        #expect(first.data["name"] == .string("Ķekava"))
        #expect(first.recordedBy == "clerk-1")
        let head = try ledger.head()
        #expect(head.seq == 1 + Int64(ledger.catalog.types.values.map(\.count).reduce(0, +)))
        #expect(created.stdout.contains(head.hash))

        let again = try kopa(["init", "--ledger", path, "--name", "Other"])
        #expect(again.status == 65, "\(again)")
        #expect(again.stderr.contains(path) && again.stderr.contains("exists already"))
        #expect(try Ledger.open(at: path).head() == head)
        #expect(try Ledger.open(at: path).event("1").data["name"] == .string("Ķekava"))

        // A bad name names the field, not a "line" the clerk never gave; nothing is left behind.
        let unnamed = folder.path("unnamed.sqlite")
        let empty = try kopa(["init", "--ledger", unnamed, "--name", "", "--actor", "clerk-1"])
        #expect(empty.status == 65, "\(empty)")
        #expect(empty.stderr.contains("field 'name' is empty") && !empty.stderr.contains("line 1"), "\(empty.stderr)")
        #expect(!FileManager.default.fileExists(atPath: unnamed))

        // An empty --ledger is a bad command line (it was an internal error), for every command
        // that creates a ledger too; nothing is left in the working folder.
        let archive = folder.path("a.kopa")
        #expect(try kopa(["export", "--ledger", path, "--out", archive]).status == 0)
        for arguments in [["init", "--ledger", "", "--actor", "clerk-1"], ["restore", archive, "--ledger", ""], ["demo", "--ledger", ""], ["log", "--ledger", ""]] {
            let result = try kopa(arguments, cwd: folder.url)
            #expect(result.status == 64, "\(arguments): \(result)")
            #expect(result.stderr.contains("empty"), "\(arguments): \(result.stderr)")
        }
        // (This test holds the ledger open, hence its -wal and -shm.)
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { !$0.hasPrefix("kekava.sqlite-") }
        #expect(Set(left) == ["kekava.sqlite", "a.kopa"], "\(left)")

        // A folder given to import is not found (66), by name or on standard input.
        let batch = folder.path("batch")
        try FileManager.default.createDirectory(atPath: batch, withIntermediateDirectories: false)
        let byName = try kopa(["import", "--ledger", path, "--actor", "clerk-1", batch])
        #expect(byName.status == 66 && byName.stderr.contains("is a folder"), "\(byName)")
        #expect(try Ledger.open(at: path).head() == head)
    }

    @Test func initUsesKopaLedgerOrTheWorkingDirectory() throws {
        let folder = try TemporaryDirectory()
        let result = try kopa(["init", "--actor", "tester"], cwd: folder.url)
        #expect(result.status == 0, "\(result)")
        #expect(FileManager.default.fileExists(atPath: folder.path("kopa.sqlite")))
        let fromEnv = try kopa(["init"], cwd: folder.url, environment: ["KOPA_LEDGER": folder.path("env.sqlite"), "KOPA_ACTOR": "env-actor"])
        #expect(fromEnv.status == 0, "\(fromEnv)")
        #expect(try Ledger.open(at: folder.path("env.sqlite")).event("1").recordedBy == "env-actor")
    }

    /// kopa sets SQLite up before its first connection (multi-thread mode, no memory statistics)
    /// and says so at KOPA_LOG=debug.
    @Test func sqliteIsSetUpBeforeTheFirstConnection() throws {
        let folder = try TemporaryDirectory()
        let result = try kopa(["init", "--actor", "tester"], cwd: folder.url, environment: ["KOPA_LOG": "debug"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("SQLite set up: multi-thread mode, no memory statistics"), "\(result.stderr)")
    }

    // MARK: - record

    @Test func recordsAnEventFromFields() throws {
        let ledger = try CLILedger()
        try ledger.directory.write("minutes.txt", "Minutes of the meeting")
        let result = try ledger.kopa(
            "record", "meeting-held", "--meeting", "ulg-2019-12", "--kind", "local-group-meeting", "--title", "Vietējās grupas tikšanās",
            "--project", "cities4csr", "--participants", "25", "--online", "--organisations", "kekava", "--host=kekava",
            "--occurred-at", "2019-12-05", "--source", "000_b7bde4ec5b0e9583.txt", "--evidence", "Minutes",
            "--evidence-file", ledger.directory.path("minutes.txt"))
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("recorded: seq"))
        #expect(result.stdout.contains("meeting-held meeting/ulg-2019-12"))
        let record = try #require(try ledger.events().last)
        #expect(record.type == "meeting-held")
        #expect(record.recordedBy == "tester")
        #expect(record.occurredAt == "2019-12-05")
        #expect(record.data["participants"] == .integer(25))
        #expect(record.data["online"] == .bool(true))
        #expect(record.data["organisations"] == .array([.string("kekava")]))
        #expect(record.data["host"] == .string("kekava"))
        #expect(record.data["title"] == .string("Vietējās grupas tikšanās"))
        #expect(record.meta["source"] == .string("000_b7bde4ec5b0e9583.txt"))
        let evidence = try #require(record.meta["evidence"])
        guard case .array(let items) = evidence else { Issue.record("evidence is not a list"); return }
        #expect(items.count == 2)
        #expect(items[0]["title"] == .string("Minutes"))
        #expect(items[1]["sha256"] == .string(EventHash.sha256Hex(Array("Minutes of the meeting".utf8))))
        #expect(result.stdout.contains(record.hash))
    }

    @Test func recordsMoneyAndDataJSONAndPrintsJSON() throws {
        let ledger = try CLILedger()
        let result = try ledger.kopa("record", "funding-committed", "--format", "json", "--data", #"{"project": "cities4csr", "funding_source": "state", "amount": {"amount": "1.00", "currency": "EUR"}}"#,
                                     "--funding-source", "erdf", "--amount", "48454.95 EUR", "--rate", "85")
        #expect(result.status == 0, "\(result)")
        let printed = try parseJSON(result.stdout)
        guard case .array(let records) = printed, let record = records.first else { Issue.record("not a JSON list: \(result.stdout)"); return }
        #expect(records.count == 1)
        #expect(record["type"] == .string("funding-committed"))
        #expect(record["data"]?["funding_source"] == .string("erdf"), "fields override --data")
        #expect(record["data"]?["amount"] == .object(["amount": .string("48454.95"), "currency": .string("EUR")]))
        #expect(record["data"]?["rate"] == .string("85"))
        #expect(record["hash"] == .string(try ledger.head().hash))
        // The lats, replaced by the euro in 2014, are still a currency for older projects.
        #expect(try ledger.kopa(["record", "funding-committed", "--project", "cities4csr", "--funding-source", "state", "--amount", "700.00 LVL"]).status == 0)
    }

    @Test func recordHelpListsTheFieldsWithTypesAndWhetherRequired() throws {
        let ledger = try CLILedger()
        let help = try ledger.kopa("record", "meeting-held", "--help")
        #expect(help.status == 0, "\(help)")
        let lines = help.lines
        func line(_ option: String) -> String? { lines.first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(option + " ") } }
        for (option, kind, required) in [
            ("--meeting", "<string>", true), ("--kind", "<choice>", true), ("--title", "<string>", true),
            ("--participants", "<integer>", false), ("--online", "<boolean>", false), ("--project", "<slug>", false),
            ("--organisations", "<array>", false), ("--description", "<string>", false),
        ] {
            let text = try #require(line(option), "help does not list \(option):\n\(help.stdout)")
            #expect(text.contains(kind), "\(text)")
            #expect(text.contains(required ? "required" : "optional"), "\(text)")
        }
        #expect(try #require(line("--project")).contains("must name an existing project"))
        #expect(help.stdout.contains("workshop"), "the choices are listed")
        #expect(help.stdout.contains("--occurred-at"))
        // Money is shown as money; the help works without a ledger too.
        let folder = try TemporaryDirectory()
        let money = try kopa(["record", "funding-committed", "--help"], cwd: folder.url)
        #expect(money.status == 0, "\(money)")
        #expect(money.lines.contains { $0.contains("--amount <money>") && $0.contains("required") })
        #expect(money.lines.contains { $0.contains("--funding-source <choice>") })
        #expect(!FileManager.default.fileExists(atPath: folder.path("kopa.sqlite")))
    }

    @Test func aPayloadFieldNamedReasonIsSetByRecord() throws {
        // `--reason` is the correction's reason for `kopa correct`, but a payload field for `kopa record`.
        let ledger = try CLILedger()
        let result = try ledger.kopa("record", "partner-left", "--project", "cities4csr", "--organisation", "kekava", "--reason", "the network ended")
        #expect(result.status == 0, "\(result)")
        let record = try #require(try ledger.events().last)
        #expect(record.type == "partner-left")
        #expect(record.data["reason"] == .string("the network ended"))
        #expect(record.meta["reason"] == nil)
    }

    @Test func aRepeatedIdempotencyKeyAppendsNothingAndPrintsTheFirstEvent() throws {
        let ledger = try CLILedger()
        let arguments = ["record"] + Self.funding + ["--amount", "100 EUR", "--idempotency-key", "invoice-42", "--format", "json"]
        let first = try ledger.kopa(arguments)
        #expect(first.status == 0, "\(first)")
        let head = try ledger.head()
        let second = try ledger.kopa(arguments.map { $0 == "100 EUR" ? "200 EUR" : $0 })
        #expect(second.status == 0, "\(second)")
        #expect(try ledger.head() == head)
        #expect(try parseJSON(first.stdout) == parseJSON(second.stdout))
        let table = try ledger.kopa(["record"] + Self.funding + ["--amount", "100 EUR", "--idempotency-key", "invoice-42"])
        #expect(table.stdout.contains("already recorded"))
        #expect(table.stdout.contains("seq \(head.seq)"))
        // The same command again says nothing more; the one with 200 EUR said that its amount is
        // not in the log, though it ends with 0 as DESIGN.md has a repeat end.
        #expect(table.stderr.isEmpty, "\(table)")
        #expect(first.stderr.isEmpty)
        #expect(second.stderr.contains("warning: idempotency key 'invoice-42' was first used for seq \(head.seq) ('funding-committed' in project/cities4csr), which says something else; nothing was appended"), "\(second)")
    }

    /// A key reused in an import, in `correct`, or for an event retracted since: the command
    /// succeeds (DESIGN.md) and says what was not appended, or that the event is not in force.
    @Test func aReusedOrRetractedIdempotencyKeyIsSaidSo() throws {
        let ledger = try CLILedger()
        let lines = [
            #"{"type": "meeting-held", "occurred_at": "2020-01-01", "idempotency_key": "k1", "data": {"meeting": "m1", "kind": "forum", "title": "One", "project": "cities4csr"}}"#,
            #"{"type": "meeting-held", "occurred_at": "2020-01-01", "idempotency_key": "k1", "data": {"meeting": "m1", "kind": "forum", "title": "One", "project": "cities4csr"}}"#,
            #"{"type": "meeting-held", "occurred_at": "2020-01-02", "idempotency_key": "k1", "data": {"meeting": "m2", "kind": "forum", "title": "Two", "project": "cities4csr"}}"#,
        ]
        let imported = try ledger.kopa("import", try ledger.directory.write("keys.ndjson", lines.joined(separator: "\n") + "\n"))
        #expect(imported.status == 0, "\(imported)")
        #expect(imported.stdout.contains("imported 1 event (2 already recorded under their idempotency keys)"))
        let meeting = try #require(try ledger.events().last)
        #expect(imported.stderr.contains("warning: 1 line reuses an idempotency key first used for events that say something else: line 3 (key 'k1', seq \(meeting.seq))"), "\(imported)")
        // A key is user text: the warning escapes it as an error would (no terminal codes, no
        // reordering of what follows).
        let odd = [#"{"type": "meeting-held", "idempotency_key": "k\u001b[31m\u202e", "data": {"meeting": "m5", "kind": "forum", "title": "Five"}}"#,
                   #"{"type": "meeting-held", "idempotency_key": "k\u001b[31m\u202e", "data": {"meeting": "m6", "kind": "forum", "title": "Six"}}"#]
        let escaped = try ledger.kopa("import", try ledger.directory.write("odd.ndjson", odd.joined(separator: "\n") + "\n"))
        #expect(escaped.status == 0, "\(escaped)")
        #expect(escaped.stderr.contains(#"(key 'k\u001b[31m\u202e', seq"#), "\(escaped)")
        #expect(!escaped.stderr.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E })
        // The warning is for the person who runs it, whatever the format of the summary.
        let asJSON = try ledger.kopa("import", "--format", "json", ledger.directory.path("keys.ndjson"))
        #expect(asJSON.status == 0 && asJSON.stderr.contains("line 3 (key 'k1', seq \(meeting.seq))"), "\(asJSON)")

        let funding = try ledger.kopa(["record"] + Self.funding + ["--amount", "100 EUR", "--idempotency-key", "inv-1", "--format", "json"])
        #expect(funding.status == 0, "\(funding)")
        let fundingSeq = try #require(try ledger.events().last).seq
        let correct = try ledger.kopa("correct", "\(meeting.seq)", "--title", "Uno", "--reason", "minutes", "--idempotency-key", "inv-1")
        #expect(correct.status == 0, "\(correct)")
        #expect(correct.stderr.contains("idempotency key 'inv-1' was first used for seq \(fundingSeq) ('funding-committed' in project/cities4csr), not for a correction of seq \(meeting.seq); nothing was corrected"), "\(correct)")
        #expect(try ledger.events().last?.seq == fundingSeq)
        let corrected = try ledger.kopa("correct", "\(meeting.seq)", "--title", "Uno", "--reason", "minutes", "--idempotency-key", "fix-1")
        #expect(corrected.status == 0 && corrected.stderr.isEmpty, "\(corrected)")
        let again = try ledger.kopa("correct", "\(meeting.seq)", "--title", "Uno", "--reason", "minutes", "--idempotency-key", "fix-1")
        #expect(again.status == 0 && again.stdout.contains("already recorded") && again.stderr.isEmpty, "\(again)")
        // The same key asking for something else (a clerk's retry with a fixed value): nothing
        // is corrected, and the warning names what differs, as `record`'s does.
        let correctionSeq = try #require(try ledger.events().last { $0.type == "event-corrected" }).seq
        for (arguments, differing) in [(["--title", "Una"], "title"), (["--title", "Uno", "--occurred-at", "2020-01-05"], "occurred_at"), (["--title", "Uno", "--participants", "9"], "participants")] {
            let different = try ledger.kopa(["correct", "\(meeting.seq)", "--reason", "minutes", "--idempotency-key", "fix-1"] + arguments)
            #expect(different.status == 0 && different.stdout.contains("already recorded"), "\(different)")
            #expect(different.stderr.contains("warning: idempotency key 'fix-1' was first used for seq \(correctionSeq), a correction of seq \(meeting.seq) that says something else (\(differing)); nothing was corrected (a repeated key appends nothing); to correct it again, use a new key"), "\(different)")
            #expect(try ledger.events().last?.seq == correctionSeq)
        }
        // A later correction moves the meeting: the first one is compared with the date it left,
        // not today's; and a value that cannot be read is quoted, not compared.
        #expect(try ledger.kopa("correct", "\(meeting.seq)", "--occurred-at", "2020-01-05", "--reason", "date in the minutes").status == 0)
        let moved = try ledger.kopa("correct", "\(meeting.seq)", "--title", "Uno", "--occurred-at", "2020-01-05", "--reason", "minutes", "--idempotency-key", "fix-1")
        #expect(moved.status == 0 && moved.stderr.contains("a correction of seq \(meeting.seq) that says something else (occurred_at)"), "\(moved)")
        let left = try ledger.kopa("correct", "\(meeting.seq)", "--title", "Uno", "--occurred-at", "2020-01-01", "--reason", "minutes", "--idempotency-key", "fix-1")
        #expect(left.status == 0 && left.stderr.isEmpty, "\(left)")
        for (arguments, quoted) in [(["--participants", "many"], "'many'"), (["--data", "[1]"], "--data is an array but expected a JSON object")] {
            let unreadable = try ledger.kopa(["correct", "\(meeting.seq)", "--reason", "minutes", "--idempotency-key", "fix-1"] + arguments)
            #expect(unreadable.status == 0 && unreadable.stdout.contains("already recorded"), "\(unreadable)")
            #expect(unreadable.stderr.contains("a correction of seq \(meeting.seq); this command's values were not compared with it: ") && unreadable.stderr.contains(quoted), "\(unreadable)")
        }
        // The corrected meeting withdrawn: the repeat says neither is in force.
        #expect(try ledger.kopa("retract", "\(meeting.seq)", "--reason", "never held").status == 0)
        let meetingRetraction = try #require(try ledger.events().last).seq
        let afterRetraction = try ledger.kopa("correct", "\(meeting.seq)", "--title", "Uno", "--reason", "minutes", "--idempotency-key", "fix-1")
        #expect(afterRetraction.stderr.contains("note: seq \(correctionSeq), which this idempotency key first appended, corrects seq \(meeting.seq), which was retracted at seq \(meetingRetraction): neither is in force"), "\(afterRetraction)")

        let retract = try ledger.kopa("retract", "\(fundingSeq)", "--reason", "entered twice")
        #expect(retract.status == 0, "\(retract)")
        let retraction = try #require(try ledger.events().last).seq
        let repeated = try ledger.kopa(["record"] + Self.funding + ["--amount", "100 EUR", "--idempotency-key", "inv-1"])
        #expect(repeated.status == 0, "\(repeated)")
        #expect(repeated.stderr.contains("note: seq \(fundingSeq), which this idempotency key first appended, was retracted at seq \(retraction): it is not in force"), "\(repeated)")
        // An import says it too, for each line whose key names the withdrawn meeting.
        let reimported = try ledger.kopa("import", ledger.directory.path("keys.ndjson"))
        #expect(reimported.status == 0 && reimported.stdout.contains("imported 0 events (3 already recorded"), "\(reimported)")
        let note = "seq \(meeting.seq), which this idempotency key first appended, was retracted at seq \(meetingRetraction): it is not in force"
        #expect(reimported.stderr.contains("note: 3 lines repeat idempotency keys whose event is not in force: line 1: \(note); line 2: \(note); line 3: \(note); to record such a fact again, use a new key"), "\(reimported)")
    }

    /// A correction or retraction is dated by its recording: an import line that gives it an
    /// `occurred_at` (meaning to move the event, which takes `data.occurred_at`) is refused.
    @Test func anImportedCorrectionOrRetractionCannotGiveItsOwnOccurredAt() throws {
        let ledger = try CLILedger()
        #expect(try ledger.kopa("import", try ledger.directory.write("m.ndjson", Self.meetingLine(1) + "\n")).status == 0)
        let meeting = try #require(try ledger.events().last)
        let before = try ledger.head()
        let correction = #"{"type": "event-corrected", "occurred_at": "2019", "meta": {"corrects": "\#(meeting.id)", "reason": "minutes"}, "data": {"target_type": "meeting-held", "data": {"meeting": "m1", "kind": "forum", "title": "Uno", "project": "cities4csr"}, "changes": [{"field": "title", "from": "Meeting 1", "to": "Uno"}]}}"#
        let retraction = #"{"type": "event-retracted", "occurred_at": "1999", "meta": {"retracts": "\#(meeting.id)", "reason": "twice"}, "data": {"target_type": "meeting-held"}}"#
        for (line, fragment) in [(correction, "a correction's occurred_at is the time it is recorded and cannot be given; to move the corrected event in time, give data.occurred_at"), (retraction, "a retraction's occurred_at is the time it is recorded")] {
            let result = try ledger.kopa("import", try ledger.directory.write("fix.ndjson", line + "\n"))
            #expect(result.status == 65, "\(result)")
            #expect(result.stderr.contains(fragment) && result.stderr.contains("fix.ndjson:1"), "\(result)")
            #expect(try ledger.head() == before)
        }
        // Without it, the same correction goes in.
        let accepted = try ledger.kopa("import", try ledger.directory.write("ok.ndjson", correction.replacingOccurrences(of: #""occurred_at": "2019", "#, with: "") + "\n"))
        #expect(accepted.status == 0, "\(accepted)")
    }

    /// A bidirectional override in a value is stored as given, but `state`, `history` and a table
    /// show it as an escape: raw, it would make "12 ‮05" read "12 50" on the auditor's screen.
    @Test func bidirectionalControlsAreShownNotObeyedOnTheTerminal() throws {
        let ledger = try CLILedger()
        let name = "Invoice 12 \u{202E}05\u{202C} paid"
        #expect(try ledger.kopa("record", "organisation-registered", "--organisation", "spoof", "--name", name, "--kind", "ngo", "--country", "LV").status == 0)
        #expect(try ledger.events().last?.data["name"]?.stringValue.map { Array($0.unicodeScalars) } == Array(name.unicodeScalars))
        for command in [["state", "organisation/spoof"], ["history", "organisation/spoof"], ["report", "audit-trail"], ["log"]] {
            let result = try ledger.kopa(command)
            #expect(result.status == 0, "\(result)")
            #expect(!result.stdout.unicodeScalars.contains { $0.value == 0x202E || $0.value == 0x202C }, "\(command)")
        }
        #expect(try ledger.kopa("state", "organisation/spoof").stdout.contains(#"Invoice 12 \u202e05\u202c paid"#))
        // Machine formats carry the value exactly.
        let json = try ledger.kopa("state", "organisation/spoof", "--format", "json")
        #expect(json.stdout.unicodeScalars.contains { $0.value == 0x202E })
    }

    /// A list option is items separated by commas, spaces around them trimmed; "" is the empty list.
    @Test func aListOptionIsItemsBetweenCommas() throws {
        let ledger = try CLILedger()
        let listed = try ledger.kopa(["record", "meeting-held", "--meeting", "m1", "--kind", "forum", "--title", "One", "--organisations", " kekava ,kekava"])
        #expect(listed.status == 0, "\(listed)")
        #expect(try ledger.events().last?.data["organisations"] == .array(["kekava", "kekava"]))
        let empty = try ledger.kopa(["record", "meeting-held", "--meeting", "m2", "--kind", "forum", "--title", "Two", "--organisations", ""])
        #expect(empty.status == 0, "\(empty)")
        #expect(try ledger.events().last?.data["organisations"] == .array([]))
    }

    /// A list option given several times is every value given, in order and duplicates kept, and
    /// replaces `--data`'s list whole (the stored list was once `--data`'s with the options'
    /// appended, and a repeated value was dropped); `correct` collects the values the same way.
    @Test func aRepeatedListOptionIsEveryValueAndReplacesTheDataList() throws {
        let ledger = try CLILedger()
        for slug in ["riga", "ogre"] {
            let registered = try ledger.kopa("record", "organisation-registered", "--organisation", slug, "--name", slug, "--kind", "municipality", "--country", "LV")
            #expect(registered.status == 0, "\(registered)")
        }
        let meeting = ["record", "meeting-held", "--kind", "workshop", "--title", "T", "--data", #"{"organisations":["kekava"]}"#]
        for (slug, given, stored) in [
            ("dm3", ["riga", "ogre"], ["riga", "ogre"]),
            ("dm4", ["kekava", "kekava"], ["kekava", "kekava"]),
            ("dm5", ["kekava", "riga", "kekava"], ["kekava", "riga", "kekava"]),
        ] {
            let result = try ledger.kopa(meeting + ["--meeting", slug] + given.flatMap { ["--organisations", $0] })
            #expect(result.status == 0, "\(result)")
            #expect(try ledger.events().last?.data["organisations"] == .array(stored.map(JSONValue.string)), "\(given)")
        }
        let target = try #require(try ledger.events().last)
        let corrected = try ledger.kopa("correct", "\(target.seq)", "--organisations", "ogre", "--organisations", "ogre", "--reason", "minutes")
        #expect(corrected.status == 0, "\(corrected)")
        #expect(try ledger.events().last?.data["data"]?["organisations"] == .array(["ogre", "ogre"]))
    }

    @Test func sqlLookingStringsAreStoredVerbatim() throws {
        let ledger = try CLILedger()
        let name = "Robert'); DROP TABLE events; --"
        let result = try ledger.kopa("record", "organisation-registered", "--organisation", "bobby", "--name", name, "--kind", "ngo", "--country", "LV", "--source", "x' OR '1'='1")
        #expect(result.status == 0, "\(result)")
        let show = try ledger.kopa("show", "bobby-does-not-exist")
        #expect(show.status == 66)
        let record = try #require(try ledger.events().last)
        #expect(record.data["name"] == .string(name))
        #expect(record.meta["source"] == .string("x' OR '1'='1"))
        let verify = try ledger.kopa("verify")
        #expect(verify.status == 0, "\(verify)")
    }

    // MARK: - import

    @Test func importsFromAFileAndFromStandardInput() throws {
        let ledger = try CLILedger()
        let before = try ledger.head()
        let file = try ledger.directory.write("meetings.ndjson", (1...3).map { Self.meetingLine($0) }.joined(separator: "\n") + "\n")
        let fromFile = try ledger.kopa("import", file)
        #expect(fromFile.status == 0, "\(fromFile)")
        #expect(fromFile.stdout.contains("imported 3 events"))
        #expect(fromFile.stdout.contains("seq \(before.seq + 1)–\(before.seq + 3)"))
        let fromStdin = try ledger.kopa("import", "-", stdin: .text((4...5).map { Self.meetingLine($0) }.joined(separator: "\n")))
        #expect(fromStdin.status == 0, "\(fromStdin)")
        #expect(fromStdin.stdout.contains("imported 2 events"))
        let one = try ledger.kopa("import", "-", stdin: .text(Self.meetingLine(6)))
        #expect(one.stdout.contains("imported 1 event,"), "\(one.stdout)")
        let events = try ledger.events()
        #expect(events.count == Int(before.seq) + 6)
        #expect(events.suffix(6).map { $0.data["meeting"]?.stringValue } == ["m1", "m2", "m3", "m4", "m5", "m6"])
        #expect(try ledger.head().hash == events.last?.hash)
    }

    // MARK: - log and show

    /// A ledger with the fixtures plus a few events of several types and streams.
    static func populated() throws -> CLILedger {
        let ledger = try CLILedger()
        let lines = [
            Self.meetingLine(1), Self.meetingLine(2),
            #"{"type": "funding-committed", "data": {"project": "cities4csr", "funding_source": "erdf", "amount": {"amount": "48454.95", "currency": "EUR"}}, "meta": {"source": "doc, with \"quotes\""}}"#,
            #"{"type": "organisation-registered", "data": {"organisation": "riga", "name": "Rīga", "kind": "municipality", "country": "LV"}}"#,
        ]
        let result = try ledger.kopa("import", "-", stdin: .text(lines.joined(separator: "\n")))
        #expect(result.status == 0, "\(result)")
        return ledger
    }

    func seqs(_ ndjson: ProcessResult) throws -> [Int64] {
        try ndjson.lines.map { try #require(parseJSON($0)["seq"]?.integerValue) }
    }

    @Test func logPrintsEveryFormat() throws {
        let ledger = try Self.populated()
        let events = try ledger.events()

        let ndjson = try ledger.kopa("log", "--format", "ndjson")
        #expect(ndjson.status == 0, "\(ndjson)")
        #expect(ndjson.lines == events.map(\.exportLine), "ndjson prints exactly the export records")

        let json = try ledger.kopa("log", "--format", "json")
        #expect(json.status == 0)
        guard case .array(let list) = try parseJSON(json.stdout) else { Issue.record("not a list"); return }
        #expect(list.count == events.count)
        #expect(list.last?["hash"] == .string(events.last!.hash))
        #expect(list.first?["data"]?["name"] == .string("CLI test ledger"))

        let csv = try ledger.kopa("log", "--format", "csv")
        #expect(csv.status == 0)
        let rows = csv.stdout.components(separatedBy: "\r\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        #expect(rows.first == "seq,id,type,version,stream,stream_version,occurred_at,recorded_at,recorded_by,data,meta,prev,hash")
        #expect(rows.count == events.count + 1)
        let funding = try #require(events.first { $0.type == "funding-committed" })
        let row = try #require(rows.first { $0.hasPrefix("\(funding.seq),") })
        #expect(row.contains(#""{""amount"":{""amount"":""48454.95"",""currency"":""EUR""},"#), "quoted as RFC 4180: \(row)")
        #expect(row.hasSuffix(",\(funding.prev),\(funding.hash)"))

        let table = try ledger.kopa("log")
        #expect(table.status == 0)
        let header = try #require(table.lines.first)
        for column in ["seq", "occurred_at", "type", "stream"] { #expect(header.contains(column)) }
        #expect(table.lines.count == events.count + 2)
        #expect(table.stdout.contains("funding-committed"))

        let markdown = try ledger.kopa("log", "--format", "md", "--limit", "1")
        #expect(markdown.status == 0)
        #expect(markdown.lines.first?.hasPrefix("| seq |") == true)
        #expect(markdown.lines.count == 3)
    }

    @Test func logFilters() throws {
        let ledger = try Self.populated()
        let events = try ledger.events()
        func log(_ arguments: String...) throws -> [Int64] {
            let result = try ledger.kopa(["log", "--format", "ndjson"] + arguments)
            #expect(result.status == 0, "\(result)")
            return try seqs(result)
        }
        #expect(try log("--stream", "project/cities4csr") == events.filter { $0.stream == "project/cities4csr" }.map(\.seq))
        #expect(try log("--stream", "project/cities4csr").count == 2)
        #expect(try log("--type", "meeting-held") == events.filter { $0.type == "meeting-held" }.map(\.seq))
        #expect(try log("--type", "meeting-held", "--type", "funding-committed").count == 3)
        #expect(try log("--from", "3", "--to", "5") == [3, 4, 5])
        #expect(try log("--limit", "2") == [1, 2])
        #expect(try log("--type", "schema-registered", "--limit", "3", "--from", "10") == [10, 11, 12])
        #expect(try log("--until", "2000-01-01").isEmpty)
        #expect(try log("--since", "2000-01-01").count == events.count)
        let today = String(events.last!.recordedAt.prefix(10))
        #expect(try log("--since", today, "--until", today).count == events.count)
        #expect(try log("--stream", "project/nothing").isEmpty)
        #expect(try ledger.kopa("log", "--limit", "0").status == 64)
        #expect(try ledger.kopa("log", "--since", "yesterday").status == 64, "a bad option value is a bad command line")
    }

    @Test func showsAnEventBySeqAndById() throws {
        let ledger = try Self.populated()
        let record = try #require(try ledger.events().first { $0.type == "funding-committed" })
        let bySeq = try ledger.kopa("show", String(record.seq))
        #expect(bySeq.status == 0, "\(bySeq)")
        #expect(bySeq.stdout.contains("seq            \(record.seq)\n"))
        #expect(bySeq.stdout.contains("id             \(record.id)\n"))
        #expect(bySeq.stdout.contains("hash           \(record.hash)"))
        // Folded at 100 columns: the continuation lines, put together, give the payload back.
        let unfolded = bySeq.stdout.replacingOccurrences(of: "\n" + String(repeating: " ", count: 15), with: "")
        #expect(unfolded.contains("data           " + record.dataJSON + "\n"), "\(bySeq.stdout)")
        let byID = try ledger.kopa("show", record.id)
        #expect(byID.status == 0)
        #expect(byID.stdout == bySeq.stdout)
        let json = try ledger.kopa("show", record.id, "--format", "ndjson")
        #expect(json.stdout == record.exportLine + "\n")
        let missing = try ledger.kopa("show", "00000000-0000-4000-8000-000000000000")
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("00000000-0000-4000-8000-000000000000"))
        #expect(bySeq.stderr.isEmpty, "an event as recorded needs no note")

        // Corrected since, then retracted: the record is shown as stored, and a note on stderr says
        // it is not what is in force (a withdrawn payment looked as if it stood).
        #expect(try ledger.kopa("correct", String(record.seq), "--amount", "7.00 EUR", "--reason", "contract amended").status == 0)
        let correctionSeq = try ledger.head().seq
        for format in ["table", "json"] {
            let corrected = try ledger.kopa("show", String(record.seq), "--format", format)
            #expect(corrected.status == 0, "\(corrected)")
            #expect(corrected.stderr.contains("note: seq \(record.seq) was corrected since: what is in force differs from this record (`kopa history \(record.stream)` shows the corrections"), "\(corrected)")
        }
        #expect(try ledger.kopa("show", String(correctionSeq)).stderr.isEmpty, "the correction itself stands")
        #expect(try ledger.kopa("correct", String(record.seq), "--amount", "8.00 EUR", "--reason", "amended again").status == 0)
        let replaced = try ledger.kopa("show", String(correctionSeq))
        #expect(replaced.stderr.contains("note: seq \(correctionSeq) was replaced by a later correction of seq \(record.seq): what is in force differs from it"), "\(replaced)")
        #expect(try ledger.kopa("show", String(try ledger.head().seq)).stderr.isEmpty, "the latest correction stands")
        #expect(try ledger.kopa("retract", String(record.seq), "--reason", "entered twice").status == 0)
        let retracted = try ledger.kopa("show", record.id, "--format", "ndjson")
        #expect(retracted.stdout == record.exportLine + "\n")
        #expect(retracted.stderr.contains("note: seq \(record.seq) was retracted at seq \(try ledger.head().seq): it is not in force"), "\(retracted)")
        let moot = try ledger.kopa("show", String(correctionSeq))
        #expect(moot.stderr.contains("note: seq \(correctionSeq) corrects seq \(record.seq), which was retracted at seq \(try ledger.head().seq): neither is in force"), "\(moot)")
    }

    // MARK: - verify and the independent script

    static let verifyScript = checkoutRoot.appendingPathComponent("scripts/verify_chain.py").path

    func kopaVerify(_ ledger: CLILedger) throws -> (count: Int, head: String)? {
        let result = try ledger.kopa("verify")
        #expect(result.status == 0, "\(result)")
        guard let match = result.stdout.firstMatch(of: /ok: (\d+) events verified.*head ([0-9a-f]{64})/) else {
            Issue.record("unexpected verify output: \(result.stdout)")
            return nil
        }
        return (Int(match.1)!, String(match.2))
    }

    func scriptVerify(_ ndjsonPath: String) throws -> ProcessResult {
        try run(try tool("python3"), [Self.verifyScript], stdin: .file(ndjsonPath))
    }

    @Test func verifyAndTheIndependentScriptAgree() throws {
        let ledger = try Self.populated()
        let (count, head) = try #require(try kopaVerify(ledger))
        let events = try ledger.events()
        #expect(count == events.count)
        #expect(head == events.last?.hash)
        // The same result as one JSON object, for scripts.
        guard case .array(let rows) = try parseJSON(try ledger.kopa("verify", "--format", "json").stdout), let row = rows.first else {
            Issue.record("verify --format json printed no array")
            return
        }
        #expect(row["events"] == .integer(Int64(count)))
        #expect(row["head"] == .string(head))

        let log = try ledger.kopa("log", "--format", "ndjson")
        let export = try ledger.directory.write("export.ndjson", log.stdout)
        let script = try scriptVerify(export)
        #expect(script.status == 0, "\(script)")
        #expect(script.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "ok: \(count) events, head \(head)")

        // Change one character of one line's data: the script names that seq.
        var lines = log.lines
        let target = try #require(events.firstIndex { $0.type == "organisation-registered" && $0.data["organisation"] == "riga" })
        lines[target] = lines[target].replacingOccurrences(of: "Rīga", with: "Riga")
        #expect(lines[target] != log.lines[target])
        let tampered = try ledger.directory.write("tampered.ndjson", lines.joined(separator: "\n") + "\n")
        let broken = try scriptVerify(tampered)
        #expect(broken.status == 1, "\(broken)")
        #expect(broken.stderr.contains("broken at seq \(target + 1)"), "\(broken.stderr)")
        // A line removed is found too.
        lines = log.lines
        lines.remove(at: 5)
        let removed = try ledger.directory.write("removed.ndjson", lines.joined(separator: "\n") + "\n")
        let gap = try scriptVerify(removed)
        #expect(gap.status == 1)
        #expect(gap.stderr.contains("broken at seq 6"), "\(gap.stderr)")
    }

    @Test func theScriptsSelfTestPasses() throws {
        let result = try run(try tool("python3"), [Self.verifyScript, "--self-test"])
        #expect(result.status == 0, "\(result)")
    }

    // MARK: - catalog

    @Test func catalogListsTypesAndDescribesOne() throws {
        let folder = try TemporaryDirectory()
        let list = try kopa(["catalog"], cwd: folder.url)
        #expect(list.status == 0, "\(list)")
        let bundled = try EventCatalog.load(directory: BundledResources.events)
        // The table names every type in full (a name cut with '…' could not be typed).
        let names = Set(list.lines.dropFirst(2).compactMap { $0.split(separator: " ").first.map(String.init) })
        #expect(names == Set(bundled.types.keys), "\(list.stdout)")
        let csv = try kopa(["catalog", "--format", "csv"], cwd: folder.url)
        #expect(csv.stdout.hasPrefix("type,version,stream,required,description\r\n"))
        let listed = Set(csv.stdout.components(separatedBy: "\r\n").dropFirst().filter { $0.contains(",") }.compactMap { $0.split(separator: ",").first.map(String.init) })
        #expect(listed == Set(bundled.types.keys))
        let one = try kopa(["catalog", "meeting-held"], cwd: folder.url)
        #expect(one.status == 0)
        #expect(one.stdout.contains("--participants <integer>"))
        let schema = try kopa(["catalog", "meeting-held", "--format", "json"], cwd: folder.url)
        #expect(try parseJSON(schema.stdout)["title"] == .string("meeting-held"))
        let unknown = try kopa(["catalog", "meeting-hold"], cwd: folder.url)
        // A type to read about that does not exist is not found, as a report is (66).
        #expect(unknown.status == 66, "\(unknown)")
        #expect(unknown.stderr.contains("unknown event type 'meeting-hold' (did you mean 'meeting-held'?)"), "\(unknown)")
        // A type's fields as rows for scripts.
        let fields = try kopa(["catalog", "meeting-held", "--format", "csv"], cwd: folder.url)
        #expect(fields.stdout.hasPrefix("field,type,required,refers_to,description,expected\r\n"))
        #expect(fields.stdout.contains("\r\nproject,slug,no,project,"), "\(fields.stdout)")
    }

    /// A system type's help names the command that writes it, lists its payload fields (not as
    /// options) and no options; `kopa record` refuses it before reading a field (65), writing
    /// nothing. It printed a `kopa record` usage that could only fail: `--data` was taken for the
    /// whole payload, and no option sets meta.corrects.
    @Test(arguments: [
        ("event-corrected", "written by `kopa correct ID", "  changes <array>", "the corrected event's stream"),
        ("event-retracted", "written by `kopa retract ID --reason TEXT`", "  target_type <string>", "the retracted event's stream"),
        ("schema-registered", "written by `kopa init` only", "  event_type <string>", "schema/{event_type}"),
        ("ledger-created", "written by `kopa init` only", "  name <string>", "ledger"),
    ])
    func aSystemTypeIsDescribedAsWrittenByItsOwnCommand(type: String, writer: String, field: String, stream: String) throws {
        let ledger = try CLILedger()
        for arguments in [["catalog", type], ["record", type, "--help"]] {
            let help = try ledger.kopa(arguments)
            #expect(help.status == 0, "\(help)")
            // The usage folded to 100 columns, its continuation indented under it.
            let usage = help.stdout.replacingOccurrences(of: "\n       ", with: " ")
            #expect(usage.hasPrefix("USAGE: " + writer), "\(help.stdout)")
            #expect(usage.contains(", not by `kopa record`\n"), "\(help.stdout)")
            #expect(help.lines.allSatisfy { $0.count <= 100 }, "\(help.stdout)")
            #expect(help.stdout.contains("Stream: \(stream)"), "\(help.stdout)")
            #expect(help.lines.contains { $0.hasPrefix(field + "  (") }, "\(help.stdout)")
            #expect(!help.stdout.contains("OPTIONS:") && !help.stdout.contains("  --"), "\(help.stdout)")
        }
        let before = try ledger.head()
        let record = try ledger.kopa("record", type, "--target-type", "meeting-held")
        #expect(record.status == 65, "\(record)")
        #expect(record.stderr.contains("'\(type)' events are written by \(writer.dropFirst("written by ".count))"), "\(record)")
        #expect(record.stderr.contains("not by `kopa record`"))
        #expect(try ledger.head() == before)
    }

    /// `kopa correct ID --help` gives the usage of `correct` (it gave `kopa correct 27 meeting-held
    /// …`, which fails, without `--reason`), the corrected type's fields, and options folded under
    /// their descriptions within 100 columns.
    @Test func correctHelpGivesTheUsageOfCorrect() throws {
        let ledger = try CLILedger()
        #expect(try ledger.kopa("record", "meeting-held", "--meeting", "m1", "--kind", "forum", "--title", "One").status == 0)
        let seq = try ledger.head().seq
        let help = try ledger.kopa("correct", String(seq), "--help")
        #expect(help.status == 0, "\(help)")
        let usage = help.stdout.replacingOccurrences(of: "\n       ", with: " ")
        #expect(usage.hasPrefix("USAGE: kopa correct \(seq) [--FIELD VALUE …] [--data JSON] [--remove FIELD] [--occurred-at WHEN] --reason TEXT "), "\(help.stdout)")
        #expect(help.stdout.contains("  --title <string>  (optional)"), "a correction gives only the fields that change")
        #expect(help.stdout.contains("  --reason TEXT          why the event is corrected (required)"))
        #expect(!help.stdout.contains("(default: now)"), "a correction's --occurred-at moves the event")
        #expect(help.lines.allSatisfy { $0.count <= 100 }, "\(help.stdout)")
        #expect(help.lines.contains { $0.hasPrefix(String(repeating: " ", count: 25) + "YYYY-MM-DDThh:mm:ss") }, "\(help.stdout)")
    }

    // MARK: - demo

    @Test func demoWorksFromAnotherWorkingDirectory() throws {
        let folder = try TemporaryDirectory("kopa-demo-cwd")
        let seedEvents = try Seeds.files().reduce(0) { total, file in
            total + (try String(contentsOf: file, encoding: .utf8)).split(separator: "\n").filter { !$0.allSatisfy(\.isWhitespace) }.count
        }
        let result = try kopa(["demo"], cwd: folder.url)
        defer {
            if let match = result.stdout.firstMatch(of: /The ledger is at (.+kopa\.sqlite)/) {
                try? FileManager.default.removeItem(at: URL(fileURLWithPath: String(match.1)).deletingLastPathComponent())
            }
        }
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("\(seedEvents) events"), "\(result.stdout.prefix(500))")
        #expect(result.stdout.contains("verified"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty, "demo wrote into the working directory")
    }

    /// In a machine format the demo's stdout is the overview alone, and parses.
    @Test(arguments: ["json", "csv"])
    func demoInAMachineFormatPrintsOnlyTheOverview(_ format: String) throws {
        let folder = try TemporaryDirectory("kopa-demo-format")
        let result = try kopa(["demo", "--ledger", folder.path("kopa.sqlite"), "--format", format])
        #expect(result.status == 0, "\(result)")
        #expect(result.stderr.contains("verified") && result.stderr.contains("The ledger is at"), "\(result.stderr)")
        if format == "json" {
            guard case .array(let rows) = try parseJSON(result.stdout) else {
                Issue.record("not a JSON array: \(result.stdout.prefix(300))")
                return
            }
            #expect(rows.contains { $0["project"] == "cities4csr" }, "\(result.stdout.prefix(300))")
        } else {
            #expect(result.lines.first?.hasPrefix("project,title,programme") == true, "\(result.stdout.prefix(300))")
        }
    }

    // MARK: - correct and retract

    @Test func correctAndRetract() throws {
        let ledger = try CLILedger()
        let recorded = try ledger.kopa(["record"] + Self.funding + ["--amount", "48454.95 EUR"])
        #expect(recorded.status == 0, "\(recorded)")
        let funding = try #require(try ledger.events().last)
        var head = try ledger.head()

        let noReason = try ledger.kopa("correct", String(funding.seq), "--amount", "50000.00 EUR")
        #expect(noReason.status == 65, "\(noReason)")
        #expect(noReason.stderr.contains("--reason"))
        let systemEvent = try ledger.kopa("correct", "1", "--name", "Other", "--reason", "rename")
        #expect(systemEvent.status == 65, "\(systemEvent)")
        #expect(systemEvent.stderr.contains("ledger-created"))
        let retractSystem = try ledger.kopa("retract", "1", "--reason", "no")
        #expect(retractSystem.status == 65)
        #expect(try ledger.head() == head)

        let corrected = try ledger.kopa("correct", funding.id, "--amount", "50000.00 EUR", "--reason", "typo in the amount")
        #expect(corrected.status == 0, "\(corrected)")
        #expect(corrected.stdout.contains("corrected seq \(funding.seq)"))
        let correction = try #require(try ledger.events().last)
        #expect(correction.type == "event-corrected")
        #expect(correction.meta["corrects"] == .string(funding.id))
        #expect(correction.meta["reason"] == .string("typo in the amount"))
        #expect(correction.data["data"]?["amount"]?["amount"] == .string("50000.00"))
        #expect(correction.data["data"]?["funding_source"] == .string("erdf"))

        // A correction takes the options of every append: a repeated key appends nothing, a stale
        // version is refused, evidence is kept.
        let keyed = ["correct", funding.id, "--amount", "50001.00 EUR", "--reason", "invoice", "--idempotency-key", "fix-1", "--evidence", "invoice 17"]
        #expect(try ledger.kopa(keyed).status == 0)
        let keyedCorrection = try #require(try ledger.events().last)
        #expect(keyedCorrection.meta["evidence"] == .array([.object(["title": "invoice 17"])]))
        #expect(keyedCorrection.meta["idempotency_key"] == "fix-1")
        head = try ledger.head()
        let repeated = try ledger.kopa(keyed)
        #expect(repeated.status == 0, "\(repeated)")
        #expect(try ledger.head() == head, "the same key appended again")
        let stale = try ledger.kopa("correct", funding.id, "--amount", "50002.00 EUR", "--reason", "r", "--expect-version", "1")
        #expect(stale.status == 65, "\(stale)")
        #expect(stale.stderr.contains("stale"))
        // A reason must say something.
        for command in [["correct", funding.id, "--amount", "1.00 EUR", "--reason", "   "], ["retract", funding.id, "--reason", " \t "]] {
            let blank = try ledger.kopa(command)
            #expect(blank.status == 65, "\(blank)")
            #expect(blank.stderr.contains("--reason"))
        }
        #expect(try ledger.head() == head)

        let retractNoReason = try ledger.kopa("retract", funding.id)
        #expect(retractNoReason.status == 65, "\(retractNoReason)")
        #expect(retractNoReason.stderr.contains("--reason"))
        let retracted = try ledger.kopa("retract", funding.id, "--reason", "entered twice")
        #expect(retracted.status == 0, "\(retracted)")
        head = try ledger.head()
        let twice = try ledger.kopa("retract", funding.id, "--reason", "again")
        #expect(twice.status == 65, "\(twice)")
        #expect(twice.stderr.contains("retracted"))
        #expect(try ledger.head() == head)
        #expect(try ledger.kopa("verify").status == 0)
    }

    @Test func importOfAForgedCorrectionIsRejectedAndWritesNothing() throws {
        let ledger = try CLILedger()
        let recorded = try ledger.kopa("import", "-", stdin: .text(Self.meetingLine(1)))
        #expect(recorded.status == 0, "\(recorded)")
        let meeting = try #require(try ledger.events().last)
        let before = try ledger.head()
        // The title changes, but the changes list claims the number of participants did.
        let forged = #"{"type": "event-corrected", "data": {"target_type": "meeting-held", "data": {"meeting": "m1", "kind": "forum", "title": "ZZZZ", "project": "cities4csr"}, "changes": [{"field": "participants", "from": 1, "to": 2}]}, "meta": {"corrects": "\#(meeting.id)", "reason": "minutes"}}"#
        let file = try ledger.directory.write("in.ndjson", Self.meetingLine(2) + "\n" + forged + "\n")
        let result = try ledger.kopa("import", file)
        #expect(result.status == 65, "\(result)")
        for fragment in ["in.ndjson:2", "seq \(meeting.seq)", "'participants'", #""field":"title""#] {
            #expect(result.stderr.contains(fragment), "stderr does not name '\(fragment)': \(result.stderr)")
        }
        #expect(result.stdout.isEmpty, "\(result.stdout)")
        #expect(try ledger.head() == before, "the ledger changed")
    }
}
