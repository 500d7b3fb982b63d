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

    @Test func exportRefusesToWriteToATerminal() throws {
        let ledger = try CLILedger()
        // `script` runs the command on a pseudo-terminal.
        let result = try run("/usr/bin/script", ["-qec", "'\(try kopaPath())' export --ledger '\(ledger.path)'", "/dev/null"])
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.contains("give --out FILE"), "\(result)")
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
