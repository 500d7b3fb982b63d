#ifndef KOPA_CSQLITESETUP_H
#define KOPA_CSQLITESETUP_H

/// Sets SQLite's process-wide options for Kopa: multi-thread mode (no mutex per call on a
/// connection), no memory statistics (no global lock per allocation), and `file:` URI names (a
/// ledger on read-only media is opened with `immutable=1`). `sqlite3_config` is a
/// variadic C function, which Swift cannot call, hence this shim.
///
/// Must run before SQLite is initialised (the first connection opened in the process).
/// Returns SQLITE_OK (0), or SQLite's error code: SQLITE_MISUSE once SQLite has been initialised.
int kopa_sqlite_setup(void);

typedef struct sqlite3 sqlite3;

/// Turns off, on one connection, what lets SQL reach native code: the two-argument form of
/// `fts3_tokenizer()` with the pointer written in the SQL text (it installs a tokenizer from an
/// address, so that creating an FTS table calls code there: an analyst's projection file must not)
/// and extension loading. Debian's SQLite is built with the first on. SQLite still takes a pointer
/// bound as a parameter: Kopa's check of each projection and report statement (`StatementReach`)
/// refuses the function itself, in any form. Returns SQLITE_OK or SQLite's error code.
int kopa_sqlite_harden(sqlite3 *db);

#endif
