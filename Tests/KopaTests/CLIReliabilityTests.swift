import Foundation
import Ledger
import KopaTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Several processes writing at once, a SIGKILL in the middle of an import, and tampering found
/// by `kopa verify`, all through the real `kopa` binary.
@Suite("kopa reliability", .serialized)
struct CLIReliabilityTests {
    @Test func concurrentProcessesRecordingIntoOneLedgerLoseNothing() throws {
        let ledger = try CLILedger()
        let start = try ledger.head().seq
        let writers = 4, each = 25
        // Each writer is a shell that runs `kopa record` 25 times; the four start together.
        let script = #"""
            i=0
            while [ $i -lt "$EACH" ]; do
              "$KOPA" record --ledger "$LEDGER" --actor "writer-$W" meeting-held --meeting "w$W-m$i" --kind forum --title "Meeting $i of writer $W" --project cities4csr >/dev/null
              rc=$?
              if [ $rc -ne 0 ]; then echo "writer $W: record $i failed with exit $rc" >&2; exit $rc; fi
              i=$((i+1))
            done
            """#
        let kopa = try kopaPath()
        let processes = try (0..<writers).map { w in
            try RunningProcess("/bin/sh", ["-c", script], environment: [
                "KOPA": kopa, "LEDGER": ledger.path, "W": String(w), "EACH": String(each),
            ])
        }
        let results = processes.map { $0.wait() }
        for (w, result) in results.enumerated() {
            #expect(result.status == 0, "writer \(w): \(result)")
            #expect(!result.stderr.contains("busy"), "writer \(w): \(result.stderr)")
            #expect(!result.stderr.contains("locked"), "writer \(w): \(result.stderr)")
        }
        let opened = try ledger.open()
        let report = try opened.verify()
        #expect(report.count == start + Int64(writers * each))
        let events = try opened.events()
        #expect(events.map(\.seq) == Array(1...report.count), "seq without gaps")
        let meetings = events.filter { $0.type == "meeting-held" }
        #expect(meetings.count == writers * each)
        var expected: Set<String> = []
        for w in 0..<writers { for i in 0..<each { expected.insert("meeting/w\(w)-m\(i)") } }
        #expect(Set(meetings.map(\.stream)) == expected)
        #expect(Set(meetings.map(\.recordedBy)) == Set((0..<writers).map { "writer-\($0)" }))
        let verify = try ledger.kopa("verify")
        #expect(verify.status == 0, "\(verify)")
    }

    @Test func concurrentImportsAreEachAllOrNothingAndAllLand() throws {
        let ledger = try CLILedger()
        let start = try ledger.head().seq
        let imports = 3, lines = 3000
        var files: [String] = []
        for n in 0..<imports {
            let text = (0..<lines).map { i in
                #"{"type": "meeting-held", "data": {"meeting": "i\#(n)-m\#(i)", "kind": "workshop", "title": "Workshop", "project": "cities4csr"}}"#
            }.joined(separator: "\n")
            files.append(try ledger.directory.write("import-\(n).ndjson", text))
        }
        let kopa = try kopaPath()
        let processes = try files.map { try RunningProcess(kopa, ["import", "--ledger", ledger.path, "--actor", "importer", $0]) }
        for result in processes.map({ $0.wait() }) {
            #expect(result.status == 0, "\(result)")
            #expect(result.stdout.contains("imported \(lines) events"))
        }
        let opened = try ledger.open()
        #expect(try opened.verify().count == start + Int64(imports * lines))
        // Each import is one transaction: its events are contiguous in seq.
        let events = try opened.events().filter { $0.type == "meeting-held" }
        for n in 0..<imports {
            let seqs = events.filter { $0.stream.hasPrefix("meeting/i\(n)-") }.map(\.seq)
            #expect(seqs.count == lines)
            #expect(seqs.last! - seqs.first! == Int64(lines - 1), "import \(n) was interleaved")
        }
    }

    @Test func sigkillInTheMiddleOfAnImportLeavesAVerifiableLedgerWithNoneOfIt() throws {
        let ledger = try CLILedger()
        let before = try ledger.head()
        let lines = 300_000
        let path = ledger.directory.path("large.ndjson")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var chunk = ""
        for i in 0..<lines {
            chunk += #"{"type": "meeting-held", "occurred_at": "2021-03-04", "data": {"meeting": "bulk-\#(i)", "kind": "training", "title": "Training session \#(i)", "project": "cities4csr", "participants": \#(i % 50)}}"#
            chunk += "\n"
            if i % 10_000 == 9_999 {
                try handle.write(contentsOf: Data(chunk.utf8))
                chunk = ""
            }
        }
        try handle.write(contentsOf: Data(chunk.utf8))
        try handle.close()

        let process = try RunningProcess(try kopaPath(), ["import", "--ledger", ledger.path, "--actor", "importer", path])
        // Wait until the import is writing (its uncommitted pages spill into the WAL), then kill it.
        let wal = ledger.path + "-wal"
        let deadline = Date().addingTimeInterval(120)
        var walSize = 0
        while process.isRunning, Date() < deadline {
            walSize = ((try? FileManager.default.attributesOfItem(atPath: wal))?[.size] as? Int) ?? 0
            if walSize > 4 << 20 { break }
            usleep(10_000)
        }
        #expect(process.isRunning, "the import ended before it could be killed (WAL \(walSize) bytes)")
        kill(process.pid, SIGKILL)
        let result = process.wait()
        #expect(result.signalled && result.status == SIGKILL, "\(result)")

        let opened = try ledger.open()
        let report = try opened.verify()
        var filter = EventFilter()
        filter.streamPrefix = "meeting/bulk-"
        let imported = try opened.events(filter).count
        #expect(imported == 0 || imported == lines, "a partial import is visible: \(imported) events")
        #expect(imported == 0, "killed before its commit, the import must be absent")
        #expect(report.count == before.seq + Int64(imported))
        // The ledger is not left locked: the next writer succeeds and the chain continues.
        let next = try ledger.kopa("record", "meeting-held", "--meeting", "after-crash", "--kind", "forum", "--title", "After")
        #expect(next.status == 0, "\(next)")
        let verify = try ledger.kopa("verify")
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.contains("\(report.count + 1) events verified"))
    }

    /// A `kopa init` killed at any moment leaves either no ledger or a whole one (it used to leave
    /// a half-made file that `init` then refused to replace and every other command rejected);
    /// the next `init` removes what the killed ones left beside the path.
    @Test func aKilledInitLeavesNoLedgerOrAWholeOne() throws {
        let folder = try TemporaryDirectory("kopa-killed-init")
        let path = folder.path("kopa.sqlite")
        let kopa = try kopaPath()
        let arguments = ["init", "--ledger", path, "--actor", "tester"]
        let started = Date()
        let first = try KopaTests.kopa(arguments)
        #expect(first.status == 0, "\(first)")
        let whole = try Ledger.open(at: path).verify().count
        let duration = Date().timeIntervalSince(started)
        var killed = 0
        for attempt in 0..<24 {
            for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
            let process = try RunningProcess(kopa, arguments)
            // From the start to past the end of a whole run, so some kills land in every phase.
            usleep(useconds_t(duration * 1.2 * Double(attempt) / 24 * 1_000_000))
            kill(process.pid, SIGKILL)
            let result = process.wait()
            if result.signalled { killed += 1 } else { #expect(result.status == 0, "\(result)") }
            if FileManager.default.fileExists(atPath: path) {
                let count = try Ledger.open(at: path).verify().count
                #expect(count == whole, "attempt \(attempt): a ledger of \(count) events appeared, expected none or \(whole)")
            }
        }
        #expect(killed > 0, "no init was killed before it ended; the test exercised nothing")
        for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
        let last = try KopaTests.kopa(arguments)
        #expect(last.status == 0, "\(last)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["kopa.sqlite"])
    }

    static let tamperings: [(String, String)] = [
        ("a byte of data", "UPDATE events SET data = replace(data, 'Rīga', 'Riga') WHERE seq = %d;"),
        ("a deleted row", "DELETE FROM events WHERE seq = %d;"),
        ("a changed hash", "UPDATE events SET hash = replace(hash, substr(hash, 1, 1), CASE substr(hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE seq = %d;"),
        ("recorded_by", "UPDATE events SET recorded_by = 'someone-else' WHERE seq = %d;"),
    ]

    @Test("kopa verify finds tampering and names the seq", arguments: tamperings)
    func verifyFindsTampering(label: String, sql: String) throws {
        let ledger = try CLILedger()
        let added = try ledger.kopa("record", "organisation-registered", "--organisation", "riga", "--name", "Rīga", "--kind", "municipality", "--country", "LV")
        #expect(added.status == 0, "\(added)")
        let target = try ledger.head().seq
        let more = try ledger.kopa("record", "partner-joined", "--project", "cities4csr", "--organisation", "riga", "--role", "partner")
        #expect(more.status == 0, "\(more)")
        #expect(try ledger.kopa("verify").status == 0)

        // While the triggers exist, the sqlite3 shell cannot change or remove an event.
        for refused in ["UPDATE events SET recorded_by = 'x' WHERE seq = \(target);", "DELETE FROM events WHERE seq = \(target);"] {
            let attempt = try run("/usr/bin/sqlite3", ["-bail", ledger.path], stdin: .text(refused))
            #expect(attempt.status != 0)
            #expect(attempt.stderr.contains("events are immutable"), "\(attempt)")
        }
        #expect(try ledger.kopa("verify").status == 0)

        let tamper = "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;" + String(format: sql, Int(target))
        let shell = try run("/usr/bin/sqlite3", ["-bail", ledger.path], stdin: .text(tamper))
        #expect(shell.status == 0, "\(shell)")
        let verify = try ledger.kopa("verify")
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stderr.contains("seq \(target)"), "\(verify.stderr)")
        #expect(verify.stdout.isEmpty)

        // The independent script, fed by `kopa log`, finds the same seq.
        let log = try ledger.kopa("log", "--format", "ndjson")
        let export = try ledger.directory.write("export.ndjson", log.stdout)
        let script = try run(try tool("python3"), [checkoutRoot.appendingPathComponent("scripts/verify_chain.py").path], stdin: .file(export))
        #expect(script.status == 1, "\(script)")
        #expect(script.stderr.contains("broken at seq \(target)"), "\(script.stderr)")
    }

    /// An auditor's copy in a folder nobody can write (file 0444, folder 0555): reading works, a
    /// write and a report each say what is read-only, with exit 66, and nothing is created. Root
    /// may write anything, so as root the commands run as `nobody`, as the auditor would.
    @Test func aLedgerInAReadOnlyFolderSaysSoForWritesAndReports() throws {
        let ledger = try CLILedger()
        let folder = ledger.directory.url.path
        let head = try ledger.head()
        let before = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        chmod(ledger.path, 0o444)
        chmod(folder, 0o555)
        defer { chmod(folder, 0o755) }
        func kopaAsAuditor(_ arguments: [String], ledgerPath: String? = nil) throws -> ProcessResult {
            try Self.kopaAsAnotherUser(arguments, ledger: ledgerPath ?? ledger.path)
        }
        let verify = try kopaAsAuditor(["verify"])
        #expect(verify.status == 0, "\(verify)")
        let record = try kopaAsAuditor(["record", "organisation-registered", "--organisation", "riga", "--name", "Rīga", "--kind", "municipality", "--country", "LV"])
        #expect(record.status == 66, "\(record)")
        #expect(record.stderr.contains("ledger '\(ledger.path)' is read-only") && record.stderr.contains("nothing was written"), "\(record.stderr)")
        let report = try kopaAsAuditor(["report", "overview"])
        #expect(report.status == 66, "\(report)")
        #expect(report.stderr.contains("folder '\(folder)' is read-only") && report.stderr.contains("copy the ledger"), "\(report.stderr)")
        #expect(!report.stderr.contains("delete"), "there is nothing to delete: \(report.stderr)")
        // A new ledger there: the folder is named, not the temporary file SQLite could not open.
        let initialised = try kopaAsAuditor(["init"], ledgerPath: ledger.directory.path("new.sqlite"))
        #expect(initialised.status == 66, "\(initialised)")
        #expect(initialised.stderr.contains("folder '\(folder)' is read-only") && !initialised.stderr.contains("creating-"), "\(initialised.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).sorted() == before)
        #expect(try ledger.head() == head)
    }

    /// `kopa SUB --ledger PATH --actor auditor …` as a user who owns nothing here: as root (who
    /// may write any file) as `nobody`, else as this user.
    static func kopaAsAnotherUser(_ arguments: [String], ledger: String) throws -> ProcessResult {
        let full = [arguments[0], "--ledger", ledger, "--actor", "auditor"] + arguments.dropFirst()
        guard getuid() == 0 else { return try kopa(full) }
        return try run(try tool("setpriv"), ["--reuid=65534", "--regid=65534", "--clear-groups", try kopaPath()] + full)
    }

    /// A projection database left read-only in a folder the user can write: the report names the
    /// file and says it can be deleted (66). SQLite's "attempt to write a readonly database" was
    /// reported as an error in a bundled projection file (65).
    @Test func aReadOnlyProjectionDatabaseIsNamedAndMayBeDeleted() throws {
        let ledger = try CLILedger()
        let folder = ledger.directory.url.path
        chmod(folder, 0o777)
        defer { chmod(folder, 0o755) }
        #expect(try ledger.kopa("report", "overview").status == 0)
        #expect(try ledger.kopa("record", "organisation-registered", "--organisation", "riga", "--name", "Rīga", "--kind", "municipality", "--country", "LV").status == 0)
        let projections = ProjectionEngine.defaultDatabasePath(for: ledger.path)
        chmod(projections, 0o444)
        let report = try Self.kopaAsAnotherUser(["report", "overview"], ledger: ledger.path)
        #expect(report.status == 66, "\(report)")
        #expect(report.stderr.contains("'\(projections)") && report.stderr.contains("is read-only for this user") && report.stderr.contains("delete"), "\(report.stderr)")
        #expect(!report.stderr.contains(".sql:"), "no projection file is to blame: \(report.stderr)")
    }
}
