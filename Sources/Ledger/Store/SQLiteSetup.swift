import Foundation
import CSQLiteSetup
import GRDB
import GRDBSQLite

/// SQLite's process-wide settings, applied once, before Kopa opens its first connection.
///
/// - Multi-thread mode: no connection is ever used by two threads at once (GRDB runs each queue's
///   work one closure at a time, and Kopa's raw statements never leave those closures), so SQLite's
///   mutex around every call on a connection only costs time.
/// - No memory statistics: SQLite's allocator otherwise takes a process-wide lock on every
///   allocation to count bytes Kopa never asks about.
/// - `file:` URIs: a ledger on read-only media is opened as `file:…?immutable=1`
///   (``SQLiteEventStore/isOnReadOnlyMedia(_:)``); a plain path is read as before.
///
/// The first two are on SQLite's own list of recommended options. Measured on 1M events (paired
/// runs): the timeline report 11 % faster, restore 7 %, rebuild 4 %, verify 2 %.
public enum SQLiteSetup {
    /// Whether the settings are in force. False when SQLite refused one: it was initialised before
    /// Kopa's first connection (another library's connection opened first in the same process), or
    /// it was built without threads. SQLite's defaults then stay, which is slower but exactly as
    /// correct, so it is not an error.
    public static let applied: Bool = kopa_sqlite_setup() == 0

    /// A new GRDB configuration for a Kopa connection; sets the process up first. Every connection
    /// is hardened (``kopa_sqlite_harden``): an analyst's projection file runs its SQL in them.
    static func configuration() -> Configuration {
        _ = applied
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            let code = kopa_sqlite_harden(db.sqliteConnection)
            guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "SQLite refused to turn off fts3_tokenizer() and extension loading") }
        }
        return configuration
    }

    /// A `file:` URI for `path` with `query` (URIs are enabled on every connection Kopa opens); the
    /// path's own '?', '#' and '%' are escaped.
    static func fileURI(_ path: String, query: String) -> String {
        "file:" + (path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path) + "?" + query
    }

    /// The URI that opens or attaches `path` read-only: ATTACH would otherwise create a file
    /// removed meanwhile, empty.
    static func readOnlyURI(_ path: String) -> String { fileURI(path, query: "mode=ro") }
}
