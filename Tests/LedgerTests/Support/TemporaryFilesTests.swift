import Foundation
import Testing

@testable import Ledger

/// The signal handler's table of temporary files: a library user's long-running process registers
/// and releases far more paths than the table holds at once (1024). No test fills the table: the
/// tests run in one process, and others register their files meanwhile.
@Suite("temporary files")
struct TemporaryFilesTests {
    @Test func releasedSlotsAreReusedSoRegisteringNeverRunsOut() {
        for round in 0..<3000 {
            let files = TemporaryFiles(["/tmp/kopa-test-\(round)", "/tmp/kopa-test-\(round)-wal"])
            #expect(files.isRegistered, "round \(round)")
            files.release()
        }
    }

    @Test func aPathTooLongForTheTableIsNotRegistered() {
        let files = TemporaryFiles(["/tmp/" + String(repeating: "x", count: 5000)])
        #expect(!files.isRegistered)
        files.release()
    }
}
