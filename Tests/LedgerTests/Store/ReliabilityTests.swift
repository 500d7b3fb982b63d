import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// Tampering found by verify, immutability enforced by triggers, and concurrent writers.
/// (The multi-process and SIGKILL tests run the `kopa` binary: Tests/KopaTests/CLIReliabilityTests.swift.)
@Suite("reliability")
struct ReliabilityTests {
    /// A ledger with some events after the catalog, and the seq of one in the middle.
    static func ledgerWithEvents() throws -> (TestLedger, Int64) {
        let test = try TestLedger().withFixtures()
        try test.organisation("riga", name: "Original Rīga")
        let target = try test.head().seq
        try test.organisation("jurmala")
        try test.record("partner-joined", ["project": "cities4csr", "organisation": "riga", "role": "partner"])
        #expect(try test.ledger.verify().count == target + 2)
        return (test, target)
    }

    static let dropTriggers = "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;"

    /// Immutable (lock-free) only when nobody can write: a read-only file system, or no write bit
    /// for anyone on the file and its folder. A 0644 ledger someone else owns is not immutable for
    /// us: its owner may be writing it.
    @Test(arguments: [
        (false, mode_t(0o444), mode_t(0o555), true),
        (true, mode_t(0o644), mode_t(0o755), true),
        (false, mode_t(0o644), mode_t(0o555), false),
        (false, mode_t(0o444), mode_t(0o755), false),
        (false, mode_t(0o440), mode_t(0o550), true),
        (false, mode_t(0o404), mode_t(0o505), true),
        (false, mode_t(0o640), mode_t(0o555), false),
    ])
    func aLedgerIsImmutableOnlyWhenNobodyCanWriteIt(readOnlyVolume: Bool, file: mode_t, folder: mode_t, immutable: Bool) {
        #expect(SQLiteEventStore.nobodyCanWrite(readOnlyVolume: readOnlyVolume, fileMode: file, folderMode: folder) == immutable)
    }

    /// A ledger on read-only media (no write-ahead log, nowhere to create SQLite's shared-memory
    /// file) opens as immutable: every event reads and verifies, a write is refused. The folder's
    /// name holds the characters a `file:` URI must escape.
    @Test func aLedgerOpenedAsImmutableReadsVerifiesAndRefusesWrites() throws {
        let directory = try TemporaryDirectory("kopa-ro")
        let folder = directory.path("odd ?#% name")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/kopa.sqlite"
        do {
            let ledger = try Ledger.create(at: path, name: "Read-only", actor: "tester")
            _ = try ledger.append([EventDraft(type: "organisation-registered", data: ["organisation": "riga", "name": "Rīga", "kind": "municipality", "country": "LV"])], actor: "tester")
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "closed cleanly, without a write-ahead log")
        let store = try SQLiteEventStore(path: path, readonly: false, immutable: true)
        let ledger = Ledger(store: store, catalog: try Ledger.registeredCatalog(store))
        #expect(try ledger.verify().count == ledger.head().seq)
        // The second threads of verify and export open their own connections: immutable too.
        #expect(try ledger.verify(parallelFrom: 2).count == ledger.head().seq)
        #expect(try ledger.export(toFile: directory.path("copy.kopa")).chain.count == ledger.head().seq)
        #expect(try ledger.events().last?.type == "organisation-registered")
        expectLedgerError(.readOnly, mentioning: ["is read-only", "nothing was written"]) {
            _ = try ledger.append([EventDraft(type: "organisation-registered", data: ["organisation": "jurmala", "name": "Jūrmala", "kind": "municipality", "country": "LV"])], actor: "tester")
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"), "an immutable open needs no shared memory")
    }

    /// Only an expected end catches a removed tail, which leaves a valid chain.
    @Test func verifyChecksTheEndTheAuditorWasGiven() throws {
        let (test, _) = try Self.ledgerWithEvents()
        let head = try test.head()
        #expect(try test.ledger.verify(expectHead: head.hash, expectCount: head.seq).count == head.seq)
        expectLedgerError(.integrity, mentioning: ["holds \(head.seq) events but \(head.seq + 1) were expected", "removed tail"]) {
            _ = try test.ledger.verify(expectHead: nil, expectCount: head.seq + 1)
        }
        expectLedgerError(.integrity, mentioning: ["more events than expected"]) { _ = try test.ledger.verify(expectHead: nil, expectCount: head.seq - 1) }
        let other = String(repeating: "0", count: 64)
        let error = expectLedgerError(.integrity, mentioning: ["ends at seq \(head.seq) with head \(head.hash)", "expected head is \(other)"]) {
            _ = try test.ledger.verify(expectHead: other, expectCount: nil)
        }
        #expect(error?.seq == head.seq)
        expectLedgerError(.invalidInput, mentioning: ["--expect-head 'abc' is not a hash"]) { _ = try test.ledger.verify(expectHead: "abc", expectCount: nil) }
    }

    /// An expected count must be 1 or more: 0 is a mistyped value, not an end to check.
    @Test func anExpectedCountBelowOneIsRefusedBeforeVerifying() throws {
        let (test, _) = try Self.ledgerWithEvents()
        for count: Int64 in [0, -1] {
            expectLedgerError(.invalidInput, mentioning: ["--expect-count \(count) is not a count of events", "expected 1 or more"]) {
                _ = try test.ledger.verify(expectHead: nil, expectCount: count)
            }
        }
    }

    /// Replaces the events from `from` on with `records`, after dropping the triggers: a forger who
    /// changes an event and recomputes every link and hash after it.
    static func rewrite(_ test: TestLedger, _ records: ArraySlice<EventRecord>) throws {
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        var sql = Self.dropTriggers
        for r in records {
            sql += "UPDATE events SET type = \(quoted(r.type)), recorded_at = \(quoted(r.recordedAt)), prev = \(quoted(r.prev)), hash = \(quoted(r.hash)) WHERE seq = \(r.seq);\n"
        }
        let result = try sqlite3(test.path, sql)
        #expect(result.status == 0, "sqlite3: \(result.stderr)")
    }

    /// The ledger's events with `change` made to the one at `target`, and every link and hash from
    /// it on recomputed: a chain that is whole except for what `change` did.
    static func rechained(_ test: TestLedger, at target: Int64, _ change: (inout EventRecord) -> Void) throws -> ArraySlice<EventRecord> {
        var records = try test.ledger.events()
        let index = Int(target - 1)
        change(&records[index])
        records.relink(from: index)
        return records[index...]
    }

    /// `recorded_at` never decreases along the chain: an event whose time goes back is found at its
    /// seq even when every hash after it was recomputed, by one pass and by two halves.
    @Test func aRecordedAtEarlierThanThePreviousIsFoundThoughEveryHashWasRecomputed() throws {
        let (test, target) = try Self.ledgerWithEvents()
        try Self.rewrite(test, try Self.rechained(test, at: target) { $0.recordedAt = "2000-01-01T00:00:00.000Z" })
        for parallelFrom: Int64 in [.max, 2] {
            let error = expectLedgerError(.integrity, mentioning: ["recorded_at 2000-01-01T00:00:00.000Z is earlier than the previous event's"]) {
                _ = try test.ledger.verify(parallelFrom: parallelFrom)
            }
            #expect(error?.seq == target)
        }
    }

    /// The first event must be `ledger-created`, whose hash is checked like any other: one of
    /// another type is found even when its hash and every link after it were recomputed.
    @Test func aFirstEventOfAnotherTypeIsFoundThoughEveryHashWasRecomputed() throws {
        let (test, _) = try Self.ledgerWithEvents()
        try Self.rewrite(test, try Self.rechained(test, at: 1) { $0.type = "organisation-registered" })
        let error = expectLedgerError(.integrity, mentioning: ["the first event is 'organisation-registered' but must be 'ledger-created'"]) {
            _ = try test.ledger.verify()
        }
        #expect(error?.seq == 1)
    }

    @Test func triggersRefuseUpdateAndDelete() throws {
        let (test, target) = try Self.ledgerWithEvents()
        let before = try test.ledger.event(String(target))
        for sql in [
            "UPDATE events SET data = '{}' WHERE seq = \(target);",
            "UPDATE events SET hash = prev;",
            "DELETE FROM events WHERE seq = \(target);",
            "DELETE FROM events;",
        ] {
            let result = try sqlite3(test.path, sql)
            #expect(result.status != 0, "\(sql) was allowed")
            #expect(result.stderr.contains("events are immutable"), "\(sql): \(result.stderr)")
        }
        #expect(try test.ledger.event(String(target)) == before)
        #expect(try test.ledger.verify().count == target + 2)
    }

    /// Changes one stored byte of a column of the event at `target`, after dropping the triggers.
    static let tamperings: [(String, String)] = [
        ("data", "UPDATE events SET data = replace(data, 'Original', 'Originan') WHERE seq = %d;"),
        ("meta", "UPDATE events SET meta = '{\"source\":\"x\"}' WHERE seq = %d;"),
        ("id", "UPDATE events SET id = substr(id, 1, 35) || CASE substr(id, 36, 1) WHEN 'a' THEN 'b' ELSE 'a' END WHERE seq = %d;"),
        ("type", "UPDATE events SET type = 'organisation-registereD' WHERE seq = %d;"),
        ("version", "UPDATE events SET version = 2 WHERE seq = %d;"),
        ("stream", "UPDATE events SET stream = 'organisation/rigA' WHERE seq = %d;"),
        ("stream_version", "UPDATE events SET stream_version = 7 WHERE seq = %d;"),
        ("occurred_at", "UPDATE events SET occurred_at = '2019-01-02' WHERE seq = %d;"),
        ("recorded_at", "UPDATE events SET recorded_at = substr(recorded_at, 1, 22) || CASE substr(recorded_at, 23, 1) WHEN '9' THEN '8' ELSE '9' END || 'Z' WHERE seq = %d;"),
        ("recorded_by", "UPDATE events SET recorded_by = 'mallory' WHERE seq = %d;"),
        ("prev", "UPDATE events SET prev = substr(prev, 1, 63) || CASE substr(prev, 64, 1) WHEN '0' THEN '1' ELSE '0' END WHERE seq = %d;"),
        ("hash", "UPDATE events SET hash = substr(hash, 1, 63) || CASE substr(hash, 64, 1) WHEN '0' THEN '1' ELSE '0' END WHERE seq = %d;"),
        ("deleted row", "DELETE FROM events WHERE seq = %d;"),
        ("moved seq", "UPDATE events SET seq = seq + 1000 WHERE seq = %d;"),
    ]

    @Test("tampering is found and named by seq", arguments: tamperings)
    func verifyFindsTampering(column: String, sql: String) throws {
        let (test, target) = try Self.ledgerWithEvents()
        let before = try sqlite3(test.path, "SELECT * FROM events WHERE seq = \(target);").stdout
        let result = try sqlite3(test.path, Self.dropTriggers + String(format: sql, Int(target)))
        #expect(try sqlite3(test.path, "SELECT * FROM events WHERE seq = \(target);").stdout != before, "the tampering changed nothing")
        #expect(result.status == 0, "sqlite3: \(result.stderr)")
        let error = expectLedgerError(.integrity, mentioning: ["seq \(target)"]) { _ = try test.ledger.verify() }
        #expect(error?.seq == target, "\(column): \(String(describing: error))")
        // A fresh open sees it too.
        expectLedgerError(.integrity, mentioning: ["seq \(target)"]) { _ = try Ledger.open(at: test.path).verify() }
    }

    /// Verifying in two halves (two threads) finds exactly what one pass in order finds: the
    /// same report, or the same first error, whatever is changed at the halves' border or inside them.
    @Test("two halves find what one pass finds", arguments: [
        ("none", ""), ("data", "UPDATE events SET data = '{\"x\":1}' WHERE seq = %d;"),
        tamperings[8], tamperings[10], tamperings[11], tamperings[12], tamperings[13],
    ])
    func twoHalvesFindWhatOnePassFinds(column: String, sql: String) throws {
        for offset in [-1, 0, 1, 2] {
            let (test, _) = try Self.ledgerWithEvents()
            let head = try test.head().seq
            let target = head / 2 + Int64(offset)
            if !sql.isEmpty {
                #expect(try sqlite3(test.path, Self.dropTriggers + String(format: sql, Int(target))).status == 0)
            }
            let halves = Result { try test.ledger.verify(parallelFrom: 2) }
            let onePass = Result { try test.ledger.verify(parallelFrom: .max) }
            switch (halves, onePass) {
            case (.success(let a), .success(let b)):
                #expect(sql.isEmpty && a == b, "\(column) at \(target)")
                #expect(a.count == head)
            case (.failure(let a as LedgerError), .failure(let b as LedgerError)):
                #expect(a == b, "\(column) at \(target)")
                #expect(a.seq == target || a.seq == target + 1, "\(column) at \(target): \(a)")
            default:
                Issue.record("\(column) at \(target): \(halves) but \(onePass)")
            }
        }
    }

    @Test func swappingTwoEventsIsFound() throws {
        let (test, target) = try Self.ledgerWithEvents()
        let sql = Self.dropTriggers + """
            UPDATE events SET seq = -1 WHERE seq = \(target);
            UPDATE events SET seq = \(target) WHERE seq = \(target + 1);
            UPDATE events SET seq = \(target + 1) WHERE seq = -1;
            """
        #expect(try sqlite3(test.path, sql).status == 0)
        expectLedgerError(.integrity, mentioning: ["seq \(target)"]) { _ = try test.ledger.verify() }
    }

    @Test func rehashingATamperedEventBreaksTheNextLink() throws {
        // An attacker who recomputes the hash of the changed event still breaks the link of the next one.
        let (test, target) = try Self.ledgerWithEvents()
        var record = try test.ledger.event(String(target))
        record.dataJSON = record.dataJSON.replacingOccurrences(of: "Original", with: "Forged")
        let newHash = record.computeHash()
        let sql = Self.dropTriggers + "UPDATE events SET data = '\(record.dataJSON.replacingOccurrences(of: "'", with: "''"))', hash = '\(newHash)' WHERE seq = \(target);"
        #expect(try sqlite3(test.path, sql).status == 0)
        let error = expectLedgerError(.integrity, mentioning: ["seq \(target + 1)", "prev"]) { _ = try test.ledger.verify() }
        #expect(error?.seq == target + 1)
    }

    @Test func concurrentWritersFromSeparateConnectionsLoseNothing() async throws {
        let test = try TestLedger().withFixtures()
        let start = try test.head().seq
        let path = test.path
        let writers = 4, each = 25
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    // Each writer has its own connection, as separate processes would.
                    let ledger = try Ledger.open(at: path)
                    for i in 0..<each {
                        _ = try ledger.append([EventDraft(type: "meeting-held", data: [
                            "meeting": .string("w\(w)-m\(i)"), "kind": "forum", "title": "T", "project": "cities4csr",
                        ])], actor: "writer-\(w)")
                    }
                }
            }
            try await group.waitForAll()
        }
        let report = try test.ledger.verify()
        #expect(report.count == start + Int64(writers * each))
        var filter = EventFilter()
        filter.streamPrefix = "meeting/"
        let meetings = try test.ledger.events(filter)
        #expect(meetings.count == writers * each)
        #expect(Set(meetings.map(\.stream)).count == writers * each)
        #expect(try test.ledger.events().map(\.seq) == Array(1...report.count))
    }
}
