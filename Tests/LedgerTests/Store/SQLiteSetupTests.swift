import GRDB
import GRDBSQLite
import KopaTestSupport
import Testing

@testable import Ledger

@Suite("SQLite setup")
struct SQLiteSetupTests {
    /// A connection Kopa opens has no mutex of its own exactly when the process-wide setup took
    /// effect (it does unless another connection opened first), and works either way. Every
    /// connection the tests open goes through `SQLiteSetup.configuration()`: one opened beside it,
    /// on another test's thread, could initialise SQLite between two of the setup's calls.
    @Test func kopaConnectionsHaveNoMutexWhenSetUp() throws {
        let test = try TestLedger(name: "setup")
        let mutexFree = try test.ledger.store.read { db in sqlite3_db_mutex(db.sqliteConnection) == nil }
        #expect(mutexFree == SQLiteSetup.applied)
        #expect(try test.ledger.verify().count == (try test.head().seq))
    }
}
