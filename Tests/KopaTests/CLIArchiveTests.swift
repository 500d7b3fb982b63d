import Foundation
import Ledger
import KopaTestSupport
import Testing

/// `kopa export`, `kopa verify FILE`, `kopa restore`: outputs and exit codes.
@Suite("kopa archives on the command line")
struct CLIArchiveTests {
    @Test func exportVerifyRestoreWithExitCodes() throws {
        let ledger = try CLILedger()
        let archive = ledger.directory.path("ledger.kopa")
        let head = try ledger.head()

        let export = try ledger.kopa("export", "--out", archive)
        #expect(export.status == 0, "\(export)")
        #expect(export.stdout.contains("exported \(head.seq) events") && export.stdout.contains(head.hash), "\(export)")

        let verify = try kopa(["verify", archive, "--expect-head", head.hash, "--expect-count", String(head.seq)])
        #expect(verify.status == 0, "\(verify)")
        #expect(verify.stdout.contains("\(head.seq) events verified") && verify.stdout.contains("head \(head.hash)"), "\(verify)")
        #expect(verify.stdout.contains("recorded 20"), "the time range: \(verify)")

        let tail = try kopa(["verify", archive, "--expect-count", String(head.seq + 1)])
        #expect(tail.status == 1, "\(tail)")
        #expect(tail.stderr.contains("but \(head.seq + 1) were expected"), "\(tail)")
        let badHead = try kopa(["verify", archive, "--expect-head", "xyz"])
        #expect(badHead.status == 64, "\(badHead)")

        let restored = ledger.directory.path("restored.sqlite")
        let restore = try kopa(["restore", archive, "--ledger", restored])
        #expect(restore.status == 0, "\(restore)")
        #expect(restore.stdout.contains("restored \(head.seq) events") && restore.stdout.contains(head.hash), "\(restore)")
        #expect(try Ledger.open(at: restored).events() == (try ledger.events()))
        let again = try kopa(["restore", archive, "--ledger", restored])
        #expect(again.status == 65 && again.stderr.contains("exists already"), "\(again)")
        let missing = try kopa(["restore", ledger.directory.path("nope.kopa"), "--ledger", ledger.directory.path("x.sqlite")])
        #expect(missing.status == 66, "\(missing)")

        // To standard output when it is not a terminal; the summary goes to stderr then.
        let piped = ledger.directory.path("piped.kopa")
        #expect(FileManager.default.createFile(atPath: piped, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: piped))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try kopaPath())
        process.arguments = ["export", "--ledger", ledger.path, "--until", "5"]
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        #expect(process.terminationStatus == 0)
        #expect(try Ledger.verifyArchive(path: piped).chain.count == 5)
    }

    /// Long work shows its progress on stderr when that is a terminal (every 100,000 events: the
    /// count, the rate, and the percentage when the total is known, or the share of the file an
    /// import has read), ends it with a new line before the summary, and is silent otherwise.
    @Test func progressShowsOnATerminalAndNowhereElse() throws {
        let ledger = try CLILedger()
        let lines = 100_000
        let text = (0..<lines).map { i in
            #"{"type": "meeting-held", "data": {"meeting": "p-m\#(i)", "kind": "workshop", "title": "Workshop", "project": "cities4csr"}}"#
        }.joined(separator: "\n")
        let file = try ledger.directory.write("many.ndjson", text)
        let archive = ledger.directory.path("many.kopa")
        let kopa = try kopaPath()
        // `script` runs the command on a pseudo-terminal, whose output it copies (\n becomes \r\n).
        func onTerminal(_ arguments: String...) throws -> ProcessResult {
            let command = ([kopa] + arguments).map { "'\($0)'" }.joined(separator: " ")
            let result = try run("/usr/bin/script", ["-qec", command, "/dev/null"])
            #expect(result.status == 0, "\(result)")
            return result
        }
        func expectProgress(_ result: ProcessResult, _ label: String, percentage: Bool, then summary: String) throws {
            // 100,000 events, or (verify, whose two threads count in turns) up to the last event.
            let pattern = "\r\(label): 1[0-9]{5} events, [0-9]+ events/s" + (percentage ? ", (99|100)%" : "") + "\r\n\(summary)"
            #expect(result.stdout.contains(try Regex(pattern)), "\(label): \(result)")
        }
        try expectProgress(try onTerminal("import", "--ledger", ledger.path, "--actor", "tester", file), "import", percentage: true, then: "imported 100000 events")
        let head = try ledger.head().seq
        try expectProgress(try onTerminal("verify", "--ledger", ledger.path), "verify", percentage: true, then: "ok: \(head) events verified")
        try expectProgress(try onTerminal("export", "--ledger", ledger.path, "--out", archive), "export", percentage: true, then: "exported \(head) events")
        try expectProgress(try onTerminal("verify", archive, "--expect-count", "\(head)"), "verify", percentage: true, then: "ok: archive")
        // Without --expect-count a restore does not know its total: no percentage.
        try expectProgress(try onTerminal("restore", archive, "--ledger", ledger.directory.path("restored.sqlite")), "restore", percentage: false, then: "restored \(head) events")

        for arguments in [["verify", archive], ["export", "--ledger", ledger.path, "--out", ledger.directory.path("again.kopa")]] {
            let silent = try KopaTests.kopa(arguments)
            #expect(silent.status == 0, "\(silent)")
            #expect(!silent.stderr.contains("events/s") && !silent.stdout.contains("events/s"), "\(silent)")
        }
    }

    @Test func exportWritesIntoAPipeAndThroughALinkWithoutReplacingEither() throws {
        let ledger = try CLILedger()
        let dir = ledger.directory
        // A FIFO is written into, as a stream: a reader at its other end gets the archive (the
        // reader gives up after 20 s, should the export not open the FIFO).
        let fifo = dir.path("archive.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let copy = dir.path("from-fifo.kopa")
        let reader = try run("/bin/sh", ["-c", "timeout 20 cat '\(fifo)' > '\(copy)' & '\(try kopaPath())' export --ledger '\(ledger.path)' --out '\(fifo)'; wait"])
        #expect(reader.status == 0, "\(reader)")
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO was replaced by a file")
        #expect(try ledger.kopa("verify", copy).status == 0)
        // A link: the file it points to gets the archive, the link stays a link.
        let target = dir.path("target.kopa")
        let link = dir.path("link.kopa")
        #expect(symlink(target, link) == 0)
        let dangling = try ledger.kopa("export", "--out", link)
        #expect(dangling.status == 65, "\(dangling)")
        #expect(dangling.stderr.contains("link to a file that does not exist"))
        #expect(try ledger.kopa("export", "--out", target).status == 0)
        let throughLink = try ledger.kopa("export", "--until", "3", "--out", link)
        #expect(throughLink.status == 0, "\(throughLink)")
        #expect(lstat(link, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK, "the link was replaced by a file")
        #expect(try ledger.kopa("verify", target, "--expect-count", "3").status == 0)
        // `--out -` is standard output, and so is `--out /dev/stdout` (a link to a pipe here).
        let dash = try ledger.kopa("export", "--out", "-")
        #expect(dash.status == 0)
        #expect(!FileManager.default.fileExists(atPath: dir.path("-")))
        let events = try ledger.head().seq
        let piped = try run("/bin/sh", ["-c", "'\(try kopaPath())' export --ledger '\(ledger.path)' --out /dev/stdout | lz4 -dc | wc -l"])
        #expect(piped.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == String(events), "\(piped)")
    }

    @Test func aRestoreStoppedByASignalLeavesNothingBehind() throws {
        let ledger = try CLILedger()
        let dir = ledger.directory
        let archive = dir.path("a.kopa")
        try #require(try ledger.kopa("export", "--out", archive).status == 0)
        // The archive comes through a FIFO that stays open after its first 100 bytes, so the
        // restore is mid-way, its temporary ledger created, when SIGTERM arrives.
        let fifo = dir.path("in.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let script = """
            '\(try kopaPath())' restore '\(fifo)' --ledger '\(dir.path("r.sqlite"))' & pid=$!
            exec 3>'\(fifo)'; head -c 100 '\(archive)' >&3
            for i in $(seq 50); do ls '\(dir.path(""))' | grep -q restoring && break; sleep 0.1; done
            ls '\(dir.path(""))' | grep -q restoring && echo started
            kill -TERM $pid
            for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
            kill -KILL $pid 2>/dev/null; wait $pid; echo "exit $?"
            """
        let result = try run("/bin/sh", ["-c", script])
        #expect(result.stdout.contains("started"), "the restore never created its temporary ledger: \(result)")
        #expect(result.stdout.contains("exit 143"), "stopped by SIGTERM itself, not by the SIGKILL after 5 s: \(result)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path("")).filter { $0.hasPrefix("r.sqlite") }
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test func exportRefusesToWriteToATerminal() throws {
        let ledger = try CLILedger()
        // `script` runs the command on a pseudo-terminal.
        let result = try run("/usr/bin/script", ["-qec", "'\(try kopaPath())' export --ledger '\(ledger.path)'", "/dev/null"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.contains("give --out FILE"), "\(result)")
        // Nor through /dev/stdout, a link to the terminal there.
        let linked = try run("/usr/bin/script", ["-qec", "'\(try kopaPath())' export --ledger '\(ledger.path)' --out /dev/stdout", "/dev/null"])
        #expect(linked.status == 65, "\(linked)")
        #expect(linked.stdout.contains("is a terminal"), "\(linked)")
    }

    /// Archives re-hashed by another tool, so that their chains verify: an id that is not a
    /// lower-case UUID is refused by `verify FILE` and `restore` (1, as any line that is not a
    /// record); a stream whose versions are 5, 2, 3 passes `verify FILE` (it does not check
    /// stream versions) but not `restore` (65, as a repeated version), which leaves nothing.
    @Test func aRehashedArchiveThatBreaksTheRecordFormatIsRefused() throws {
        let ledger = try CLILedger()
        for i in 1...3 {
            #expect(try ledger.kopa("record", "meeting-held", "--meeting", "m\(i)", "--kind", "forum", "--title", "M\(i)").status == 0)
        }
        let records = try ledger.events()
        let meetings = records.indices.filter { records[$0].type == "meeting-held" }
        func forged(_ name: String, _ change: (inout [EventRecord]) -> Void) throws -> String {
            var forged = records
            change(&forged)
            forged.relink(from: 1)
            let plain = try ledger.directory.write(name + ".ndjson", forged.map { $0.exportLine + "\n" }.joined())
            let archive = ledger.directory.path(name + ".kopa")
            #expect(try run(try tool("lz4"), ["-q", plain, archive]).status == 0)
            return archive
        }
        let upper = try forged("upper") { $0[meetings[1]].id = $0[meetings[1]].id.uppercased() }
        let seq = records[meetings[1]].seq
        for command in [["verify", upper], ["restore", upper, "--ledger", ledger.directory.path("upper.sqlite")]] {
            let result = try kopa(command)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains("seq \(seq)") && result.stderr.contains("is not a lower-case UUID"), "\(result)")
        }
        let versions = try forged("versions") { records in
            for (i, version) in zip(meetings, [5, 2, 3] as [Int64]) {
                records[i].stream = "meeting/m1"
                records[i].streamVersion = version
            }
        }
        #expect(try kopa(["verify", versions]).status == 0)
        let restore = try kopa(["restore", versions, "--ledger", ledger.directory.path("versions.sqlite")])
        #expect(restore.status == 65, "\(restore)")
        #expect(restore.stderr.contains("seq \(records[meetings[0]].seq): the record cannot be restored: it is version 5 of stream 'meeting/m1'"), "\(restore)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: ledger.directory.url.path).filter { $0.hasPrefix("upper.sqlite") || $0.hasPrefix("versions.sqlite") } == [])
    }

    /// A correction re-hashed by another tool to change a field its `changes` list does not name
    /// passes `verify FILE` (it does not read corrections), but `restore` refuses it as `kopa
    /// correct` would have (65), naming its seq and the unlisted field, and writes nothing: the
    /// audit trail would have shown the title corrected and hidden the new kind. The forged one is
    /// a second correction: the advice `correct` gives a clerk whose event was corrected meanwhile
    /// ("make the correction again") is left out, meaning nothing for an archive.
    @Test func aRehashedCorrectionThatHidesAChangeIsRefusedByRestore() throws {
        let ledger = try CLILedger()
        #expect(try ledger.kopa("record", "meeting-held", "--meeting", "m1", "--kind", "forum", "--title", "M1").status == 0)
        let meeting = try #require(try ledger.events().last)
        #expect(try ledger.kopa("correct", "\(meeting.seq)", "--title", "Meeting 1", "--reason", "typo").status == 0)
        #expect(try ledger.kopa("correct", "\(meeting.seq)", "--title", "Meeting one", "--reason", "spelt out").status == 0)
        var records = try ledger.events()
        let correction = try #require(records.lastIndex { $0.type == "event-corrected" })
        var data = records[correction].data.objectValue ?? [:]
        var payload = data["data"]?.objectValue ?? [:]
        payload["kind"] = "workshop"
        data["data"] = .object(payload)
        records[correction].dataJSON = CanonicalJSON.string(.object(data))
        records.relink(from: correction)
        let plain = try ledger.directory.write("hidden.ndjson", records.map { $0.exportLine + "\n" }.joined())
        let archive = ledger.directory.path("hidden.kopa")
        #expect(try run(try tool("lz4"), ["-q", plain, archive]).status == 0)
        #expect(try kopa(["verify", archive]).status == 0)
        let restore = try kopa(["restore", archive, "--ledger", ledger.directory.path("hidden.sqlite")])
        #expect(restore.status == 65, "\(restore)")
        #expect(restore.stderr.contains("seq \(records[correction].seq): the record cannot be restored: 'event-corrected' event rejected: data.changes does not match"), "\(restore)")
        #expect(restore.stderr.contains("field 'kind' changes from 'forum' to 'workshop' but is not listed"), "\(restore)")
        #expect(!restore.stderr.contains("make the correction again"), "\(restore)")
        #expect(!FileManager.default.fileExists(atPath: ledger.directory.path("hidden.sqlite")))
    }

    @Test func aBadArchiveExitsOneOrSixtyFiveAndNamesWhatIsWrong() throws {
        let ledger = try CLILedger()
        let archive = ledger.directory.path("ledger.kopa")
        #expect(try ledger.kopa("export", "--out", archive).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: archive)))
        bytes[bytes.count / 2] ^= 0x10
        let damaged = try ledger.directory.write("damaged.kopa", Data(bytes))
        let result = try kopa(["verify", damaged])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("damaged LZ4 frame at byte"), "\(result)")

        let restore = try kopa(["restore", damaged, "--ledger", ledger.directory.path("r.sqlite")])
        #expect(restore.status == 1, "\(restore)")
        #expect(!FileManager.default.fileExists(atPath: ledger.directory.path("r.sqlite")))

        let ndjson = try ledger.directory.write("plain.ndjson", #"{"data":{}}"# + "\n")
        let plain = try kopa(["verify", ndjson])
        #expect(plain.status == 65, "\(plain)")
        #expect(plain.stderr.contains("is not an LZ4 frame"), "\(plain)")

        // Export never overwrites a file that is not an archive (here: the ledger itself).
        let over = try ledger.kopa("export", "--out", ledger.path)
        #expect(over.status == 65, "\(over)")
        #expect(try ledger.open().verify().count == (try ledger.head()).seq)
    }
}
