import Foundation
import GRDB
import KopaTestSupport
import Synchronization
import Testing

@testable import Ledger

/// The SQLite store: opening, appending, reading, imports, idempotency, optimistic concurrency.
@Suite("event store")
struct EventStoreTests {
    // MARK: - Creating and opening

    @Test func createRefusesToOverwrite() throws {
        let test = try TestLedger()
        let before = try test.head()
        expectLedgerError(.conflict, mentioning: [test.path, "exists already"]) {
            _ = try Ledger.create(at: test.path, name: "again", actor: "tester")
        }
        #expect(try Ledger.open(at: test.path).head() == before)
        // Any existing file, not only a ledger.
        let folder = try TemporaryDirectory()
        let notes = try folder.write("notes.txt", "keep me")
        expectLedgerError(.conflict, mentioning: ["notes.txt"]) { _ = try Ledger.create(at: notes, name: "x", actor: "tester") }
        #expect(FileManager.default.contents(atPath: notes) == Data("keep me".utf8))
    }

    /// A symbolic link to a missing file is named as one: the check for an existing file follows
    /// it and found nothing, so link(2) failed later and blamed "someone else meanwhile". The link
    /// is not followed: nothing is made where it points.
    @Test(arguments: ["", "-wal", "-shm"])
    func createRefusesASymbolicLinkToAMissingFile(suffix: String) throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("link.sqlite")
        let target = folder.path("missing.sqlite")
        try FileManager.default.createSymbolicLink(atPath: path + suffix, withDestinationPath: target + suffix)
        let error = expectLedgerError(.conflict, mentioning: ["'\(path + suffix)' is a symbolic link to '\(target + suffix)', which does not exist", "not written through a link"]) {
            _ = try Ledger.create(at: path, name: "x", actor: "tester")
        }
        #expect(error.map { !$0.description.contains("meanwhile") } ?? false)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path + suffix) == target + suffix)
        #expect(!FileManager.default.fileExists(atPath: target) && !FileManager.default.fileExists(atPath: path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["link.sqlite" + suffix])
    }

    /// A new ledger has 16 KiB pages and is in WAL mode (WAL fixes the page size, so the order of
    /// the two settings matters).
    @Test func aNewLedgerHasSixteenKibibytePagesAndAWriteAheadLog() throws {
        let test = try TestLedger()
        let settings = try DatabaseQueue(path: test.path, configuration: SQLiteSetup.configuration()).read { db in
            (try Int.fetchOne(db, sql: "PRAGMA page_size"), try String.fetchOne(db, sql: "PRAGMA journal_mode"))
        }
        #expect(settings.0 == 16384 && settings.0 == SQLiteEventStore.pageSize)
        #expect(settings.1 == "wal")
    }

    @Test func createInAMissingFolderIsNotFound() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("no/such/folder/kopa.sqlite")
        expectLedgerError(.notFound, mentioning: ["no/such/folder"]) { _ = try Ledger.create(at: path, name: "x", actor: "tester") }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func createWithABadActorLeavesNoFile() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("kopa.sqlite")
        expectLedgerError(.invalidInput, mentioning: ["'Jānis Bērziņš'"]) { _ = try Ledger.create(at: path, name: "x", actor: "Jānis Bērziņš") }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// A ledger appears at its path whole or not at all: a failure while it is filled leaves no
    /// file, and a successful create leaves no temporary file beside it.
    @Test func aCreateThatFailsHalfwayLeavesNothing() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("kopa.sqlite")
        expectLedgerError(.invalidInput, mentioning: ["stopped"]) {
            _ = try Ledger.create(at: path, name: "x", actor: "tester") { ledger in
                #expect(try ledger.head().seq > 1, "the catalog is in before the ledger is filled")
                #expect(!FileManager.default.fileExists(atPath: path), "the ledger is not in place before it is whole")
                throw LedgerError(.invalidInput, "stopped")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == [])
        let created = try Ledger.create(at: path, name: "x", actor: "tester")
        #expect(try created.verify().count > 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains(".creating-") } == [])
    }

    /// What a `kopa init` killed outright left (its process gone) is removed by the next create in
    /// that place; a file of a process that still runs, or of another name, stays.
    @Test func leftoversOfAKilledCreateAreRemovedByTheNext() throws {
        let folder = try TemporaryDirectory()
        let gone = try endedProcessID()
        let left = ["kopa.sqlite.creating-\(gone)-1", "kopa.sqlite.creating-\(gone)-1-wal", "kopa.sqlite.creating-\(gone)-shm"]
        let kept = ["kopa.sqlite.creating-1", "other.sqlite.creating-\(gone)"]
        for name in left + kept { try folder.write(name, "half") }
        let ledger = try Ledger.create(at: folder.path("kopa.sqlite"), name: "x", actor: "tester")
        try ledger.store.queue.close()
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.url.path)) == Set(kept + ["kopa.sqlite"]))
    }

    /// Threads of one process creating the same ledger at once each build their own temporary
    /// file: one wins, the others are refused, and the winner is whole. With one temporary name per
    /// process, a thread removed the file another was building.
    @Test func threadsCreatingOneLedgerAtOnceLeaveOneWholeLedger() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("kopa.sqlite")
        let outcomes = Mutex<[Result<Int64, any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let outcome = Result { () throws -> Int64 in
                let ledger = try Ledger.create(at: path, name: "x", actor: "tester")
                defer { try? ledger.store.queue.close() }
                return try ledger.verify().count
            }
            outcomes.withLock { $0.append(outcome) }
        }
        let results = outcomes.withLock { $0 }
        #expect(results.count(where: { (try? $0.get()) != nil }) == 1, "\(results)")
        for case .failure(let error) in results {
            #expect((error as? LedgerError)?.kind == .conflict, "\(error)")
        }
        #expect(try Ledger.open(at: path).verify().count > 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).filter { $0.contains(".creating-") } == [])
    }

    @Test func openingAMissingLedgerIsNotFound() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("missing.sqlite")
        expectLedgerError(.notFound, mentioning: [path, "kopa init"]) { _ = try Ledger.open(at: path) }
        #expect(!FileManager.default.fileExists(atPath: path), "opening must not create a file")
    }

    @Test(arguments: [
        ("text", Data("this is not a database, just some text that is long enough to look like a header......".utf8)),
        ("random", Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 7) })),
        ("empty", Data()),
    ])
    func openingAFileThatIsNotSQLiteIsNotFound(label: String, contents: Data) throws {
        let folder = try TemporaryDirectory()
        let path = try folder.write("\(label).sqlite", contents)
        expectLedgerError(.notFound, mentioning: [path]) { _ = try Ledger.open(at: path) }
        #expect(FileManager.default.contents(atPath: path) == contents, "the file must be left as it was")
    }

    @Test func openingAnSQLiteDatabaseThatIsNotALedgerIsNotFound() throws {
        let folder = try TemporaryDirectory()
        let path = folder.path("other.sqlite")
        try sqlite3(path, "CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        expectLedgerError(.notFound, mentioning: [path, "not a Kopa ledger"]) { _ = try Ledger.open(at: path) }
    }

    @Test func theStoreIsConfiguredAsDesigned() throws {
        let test = try TestLedger()
        let (journal, synchronous, applicationID, triggers, indexes) = try test.ledger.store.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try Int.fetchOne(db, sql: "PRAGMA synchronous"),
             try Int.fetchOne(db, sql: "PRAGMA application_id"),
             try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"),
             try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql LIKE 'CREATE UNIQUE%'"))
        }
        #expect(journal == "wal")
        #expect(synchronous == 2, "synchronous=FULL")
        #expect(applicationID == 0x4B4F_5041)
        #expect(triggers == ["events_no_delete", "events_no_update"])
        #expect(indexes.contains { $0.contains("(id)") })
        #expect(indexes.contains { $0.contains("(stream, stream_version)") })
        #expect(indexes.contains { $0.contains("(idempotency_key)") })
        #expect(SQLiteEventStore.busyTimeout >= 5)
    }

    // MARK: - Appending

    @Test func streamVersionsCountWithinEachStream() throws {
        let test = try TestLedger().withFixtures()
        let a = try test.record("funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "1", "currency": "EUR"]])
        let b = try test.record("organisation-registered", ["organisation": "riga", "name": "Rīga", "kind": "municipality", "country": "LV"])
        let c = try test.record("partner-joined", ["project": "cities4csr", "organisation": "riga", "role": "partner"])
        #expect(a.stream == "project/cities4csr" && a.streamVersion == 2)
        #expect(b.stream == "organisation/riga" && b.streamVersion == 1)
        #expect(c.stream == "project/cities4csr" && c.streamVersion == 3)
        #expect(c.seq == b.seq + 1 && b.seq == a.seq + 1)
        #expect(c.prev == b.hash && b.prev == a.hash)
    }

    @Test func expectVersionAcceptsTheCurrentVersion() throws {
        let test = try TestLedger().withFixtures()
        let summary = try test.append(EventDraft(type: "funding-committed", data: ["project": "cities4csr", "funding_source": "state", "amount": ["amount": "10.50", "currency": "EUR"]], expectVersion: 1))
        #expect(summary.last?.streamVersion == 2)
        let opened = try test.append(EventDraft(type: "organisation-registered", data: ["organisation": "riga", "name": "Rīga", "kind": "municipality", "country": "LV"], expectVersion: 0))
        #expect(opened.last?.streamVersion == 1)
    }

    @Test func aBatchIsAllOrNothing() throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        let drafts = (1...50).map { i in
            EventDraft(type: "meeting-held", data: ["meeting": .string("m\(i)"), "kind": "forum", "title": .string(i == 37 ? "" : "Meeting \(i)")])
        }
        let error = expectLedgerError(.invalidInput, mentioning: ["title", "empty"]) { _ = try test.ledger.append(drafts, actor: "tester") }
        #expect(error?.line == 37)
        #expect(try test.head() == before)
        // Two events of one batch that open the same stream: the second one is a conflict.
        let twice = [EventDraft(type: "meeting-held", data: ["meeting": "same", "kind": "forum", "title": "A"]),
                     EventDraft(type: "meeting-held", data: ["meeting": "same", "kind": "forum", "title": "B"])]
        expectLedgerError(.conflict, mentioning: ["meeting/same"]) { _ = try test.ledger.append(twice, actor: "tester") }
        #expect(try test.head() == before)
    }

    /// A repeated key answers with the event it first appended, even one retracted since; the
    /// summary counts those repeats and keeps the first ones with their places, for the note
    /// that the event is not in force (an import of any size keeps at most the first 20).
    @Test func aRepeatOfARetractedEventIsCountedAsNotInForce() throws {
        let test = try TestLedger().withFixtures()
        let drafts = (1...25).map { i in
            EventDraft(type: "funding-committed", data: ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": .string("\(i)"), "currency": "EUR"]], idempotencyKey: "invoice-\(i)")
        }
        let first = try test.ledger.append(drafts, actor: "tester")
        let before = try test.ledger.append(drafts, actor: "tester")
        #expect(before.repeated == 25 && before.notInForce == 0 && before.notInForceNote == nil, "nothing retracted yet")
        let retracted = try #require(first.first)
        try test.append(draft: try test.ledger.retractionDraft(of: retracted.id, reason: "entered twice"))
        let retraction = try test.head().seq
        var lines = (drafts + drafts).enumerated().makeIterator()
        let repeated = try test.ledger.append(actor: "tester") { lines.next().map { ($0.element, line: $0.offset + 1) } }
        #expect(repeated.appended == 0 && repeated.repeated == 50)
        #expect(repeated.notInForce == 2)
        let note = "seq \(retracted.seq), which this idempotency key first appended, was retracted at seq \(retraction): it is not in force"
        #expect(repeated.notInForceExamples == [NotInForce(line: 1, note: note), NotInForce(line: 26, note: note)])
        #expect(repeated.notInForceNote?.hasPrefix("2 lines repeat idempotency keys whose event is not in force: line 1: \(note); line 26: ") == true, "\(repeated.notInForceNote ?? "")")
        let single = try test.append(drafts[0])
        #expect(single.notInForceNote == note)
        var many = Array(repeating: drafts[0], count: 30).enumerated().makeIterator()
        let capped = try test.ledger.append(actor: "tester") { many.next().map { ($0.element, line: $0.offset + 1) } }
        #expect(capped.notInForce == 30 && capped.notInForceExamples.count == AppendSummary.exampleLimit)
        #expect(capped.notInForceNote?.contains("; and 10 more; to record such a fact again, use a new key") == true)
    }

    @Test func aRepeatedIdempotencyKeyAppendsNothingAndReturnsTheFirstEvent() throws {
        let test = try TestLedger().withFixtures()
        let draft = EventDraft(type: "funding-committed", data: ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "100", "currency": "EUR"]], idempotencyKey: "invoice-42")
        let first = try test.append(draft)
        #expect(first.appended == 1 && first.repeated == 0)
        let head = try test.head()
        let second = try test.append(draft)
        #expect(second.appended == 0 && second.repeated == 1)
        #expect(second.last == first.last)
        #expect(second.head == head)
        #expect(second.reusedKeys == 0 && second.reusedKeyNote == nil, "a true repeat is no reuse")
        // Even with another payload (a retry after a change of mind) the first event stands, and
        // the summary says that this content was not appended.
        var changed = draft
        changed.data = ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "999", "currency": "EUR"]]
        let reused = try test.append(changed)
        #expect(reused.last?.id == first.last?.id)
        #expect(reused.reusedKeys == 1)
        #expect(reused.reusedKeyExamples == [ReusedKey(line: nil, key: "invoice-42", event: try #require(first.last))])
        let note = try #require(reused.reusedKeyNote)
        #expect(note.contains("idempotency key 'invoice-42' was first used for seq \(first.last!.seq) ('funding-committed' in project/cities4csr), which says something else; nothing was appended"))
        // Another source, or another given occurred_at, is other content too; a draft without
        // one is a repeat whatever the time of recording.
        var otherSource = draft
        otherSource.meta = ["source": "minutes"]
        #expect(try test.append(otherSource).reusedKeys == 1)
        var dated = draft
        dated.occurredAt = "2019"
        #expect(try test.append(dated).reusedKeys == 1)
        // The key given in meta counts the same.
        var viaMeta = draft
        viaMeta.idempotencyKey = nil
        viaMeta.meta = ["idempotency_key": "invoice-42"]
        #expect(try test.append(viaMeta).last?.id == first.last?.id)
        #expect(try test.head() == head)
        #expect(first.last?.meta["idempotency_key"] == .string("invoice-42"))
        // Within one batch too.
        let other = EventDraft(type: "funding-committed", data: ["project": "cities4csr", "funding_source": "state", "amount": ["amount": "1", "currency": "EUR"]], idempotencyKey: "k2")
        var otherAmount = other
        otherAmount.data = ["project": "cities4csr", "funding_source": "state", "amount": ["amount": "2", "currency": "EUR"]]
        let batch = try test.ledger.append([other, other, otherAmount], actor: "tester")
        #expect(batch.appended == 1 && batch.repeated == 2)
        #expect(batch.reusedKeys == 1 && batch.reusedKeyExamples.map(\.line) == [3])
        #expect(batch.reusedKeyNote?.contains("1 line reuses an idempotency key first used for events that say something else: line 3 (key 'k2', seq ") == true)
        #expect(try test.head().seq == head.seq + 1)
    }

    @Test func conflictingIdempotencyKeysAreRejected() throws {
        let test = try TestLedger().withFixtures()
        var draft = EventDraft(type: "funding-committed", data: ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "1", "currency": "EUR"]], idempotencyKey: "a")
        draft.meta = ["idempotency_key": "b"]
        expectLedgerError(.invalidInput, mentioning: ["'a'", "'b'"]) { try test.append(draft) }
    }

    @Test func recordedAtNeverDecreasesAndOccurredAtIsKeptAsGiven() throws {
        let test = try TestLedger().withFixtures()
        for (i, when) in ["2022", "2022-05", "2019-12-05", "2019-12-05T18:00:00.5Z"].enumerated() {
            let record = try test.record("meeting-held", ["meeting": .string("m\(i)"), "kind": "forum", "title": "T"], occurredAt: when)
            #expect(record.occurredAt == when)
        }
        let now = try test.record("meeting-held", ["meeting": "now", "kind": "forum", "title": "T"])
        #expect(now.occurredAt == now.recordedAt, "occurred_at defaults to now")
        let times = try test.ledger.events().map(\.recordedAt)
        #expect(times == times.sorted())
    }

    /// A store that is not SQLite: the append logic only needs the `AppendSession` protocol.
    final class MemorySession: AppendSession {
        var head: ChainHead
        var inserted: [EventRecord] = []
        init(head: ChainHead) { self.head = head }
        func streamVersion(_ stream: String) throws -> Int64 { Int64(inserted.filter { $0.stream == stream }.count) }
        func event(idempotencyKey: String) throws -> EventRecord? { nil }
        func event(id: String) throws -> EventRecord? { inserted.first { $0.id == id } }
        func events(targeting id: String) throws -> [EventRecord] { [] }
        func hasRetractions() throws -> Bool { inserted.contains { $0.type == "event-retracted" } }
        func isWithdrawn(_ stream: String, openingTypes: [String]) throws -> Bool { false }
        func insert(_ record: EventRecord, occurred: OccurredAt, idempotencyKey: String?, target: String?) throws {
            inserted.append(record)
            head = ChainHead(seq: record.seq, hash: record.hash, recordedAt: record.recordedAt)
        }
    }

    @Test func recordedAtNeverFallsBehindTheHeadEvenIfTheClockDoes() throws {
        // The head was recorded "in the future" (a clock that was ahead): new events take its time.
        let future = "2999-01-01T00:00:00.000Z"
        let session = MemorySession(head: ChainHead(seq: 41, hash: String(repeating: "ab", count: 32), recordedAt: future))
        let catalog = try EventCatalog.load(directory: BundledResources.events)
        var context = AppendContext(session: session, catalog: catalog, actor: "tester", allowSystem: false)
        let committed = try context.append(EventDraft(type: "organisation-registered", data: ["organisation": "kekava", "name": "Ķekava", "kind": "municipality", "country": "LV"]))
        #expect(committed.isNew)
        let first = committed.record
        #expect(first.seq == 42)
        #expect(first.prev == String(repeating: "ab", count: 32))
        #expect(first.recordedAt == future)
        let second = try context.append(EventDraft(type: "organisation-registered", data: ["organisation": "riga", "name": "Rīga", "kind": "municipality", "country": "LV"])).record
        #expect(second.recordedAt == future)
        #expect(second.prev == first.hash)
        #expect(session.inserted.count == 2)
        // With a head in the past, the clock's time is used.
        let past = MemorySession(head: ChainHead(seq: 1, hash: String(repeating: "cd", count: 32), recordedAt: "2001-01-01T00:00:00.000Z"))
        var other = AppendContext(session: past, catalog: catalog, actor: "tester", allowSystem: false)
        let now = try other.append(EventDraft(type: "organisation-registered", data: ["organisation": "kekava", "name": "Ķekava", "kind": "municipality", "country": "LV"])).record
        #expect(now.recordedAt > "2020-01-01T00:00:00.000Z")
        #expect(now.recordedAt < future)
    }

    // MARK: - Reading

    @Test func readsWithFilters() throws {
        let test = try TestLedger().withFixtures()
        let system = try test.head().seq - 2
        try test.organisation("riga")
        try test.record("partner-joined", ["project": "cities4csr", "organisation": "riga", "role": "partner"])
        try test.record("funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "1", "currency": "EUR"]])
        var filter = EventFilter()
        filter.stream = "project/cities4csr"
        #expect(try test.ledger.events(filter).map(\.type) == ["project-registered", "partner-joined", "funding-committed"])
        filter = EventFilter()
        filter.streamPrefix = "organisation/"
        #expect(try test.ledger.events(filter).compactMap { $0.data["organisation"]?.stringValue } == ["kekava", "riga"])
        filter = EventFilter()
        filter.types = ["partner-joined", "funding-committed"]
        #expect(try test.ledger.events(filter).count == 2)
        filter = EventFilter()
        filter.fromSeq = system + 1
        filter.toSeq = system + 2
        #expect(try test.ledger.events(filter).map(\.seq) == [system + 1, system + 2])
        filter = EventFilter()
        filter.limit = 3
        #expect(try test.ledger.events(filter).map(\.seq) == [1, 2, 3])
        filter = EventFilter()
        filter.recordedFrom = "2000-01-01T00:00:00.000Z"
        filter.recordedUntil = "2000-12-31T23:59:59.999Z"
        #expect(try test.ledger.events(filter).isEmpty)
        filter.recordedUntil = "9999-12-31T23:59:59.999Z"
        #expect(try test.ledger.events(filter).count == Int(try test.head().seq))
        filter = EventFilter()
        filter.stream = "project/cities4csr"
        filter.types = ["funding-committed"]
        filter.limit = 10
        #expect(try test.ledger.events(filter).count == 1)
    }

    @Test func findsAnEventBySeqOrId() throws {
        let test = try TestLedger().withFixtures()
        let head = try test.head()
        let record = try test.ledger.event(String(head.seq))
        #expect(record.hash == head.hash)
        #expect(try test.ledger.event(record.id) == record)
        #expect(try test.ledger.event(record.id.uppercased()) == record)
        expectLedgerError(.notFound, mentioning: ["seq 999"]) { _ = try test.ledger.event("999") }
        expectLedgerError(.notFound, mentioning: ["'nonsense'"]) { _ = try test.ledger.event("nonsense") }
    }

    // MARK: - Import

    static func meetingLine(_ i: Int, title: String? = nil) -> String {
        #"{"type": "meeting-held", "occurred_at": "2020-01-01", "data": {"meeting": "m\#(i)", "kind": "forum", "title": "\#(title ?? "Meeting \(i)")", "project": "cities4csr"}}"#
    }

    @Test func importsNDJSONInOneTransaction() throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        let lines = (1...1000).map { Self.meetingLine($0) }.joined(separator: "\n") + "\n"
        let file = try test.directory.write("import.ndjson", lines)
        let summary = try test.ledger.importNDJSON(path: file, actor: "importer")
        #expect(summary.appended == 1000)
        #expect(summary.first?.seq == before.seq + 1)
        #expect(summary.head.seq == before.seq + 1000)
        #expect(try test.ledger.verify().count == before.seq + 1000)
        let last = try test.ledger.event(String(summary.head.seq))
        #expect(last.recordedBy == "importer")
        #expect(last.data["meeting"] == "m1000")
    }

    @Test func importAcceptsCRLFBlankLinesAndAMissingFinalNewline() throws {
        let test = try TestLedger().withFixtures()
        let text = Self.meetingLine(1) + "\r\n\r\n   \n" + Self.meetingLine(2) + "\n\t\n" + Self.meetingLine(3)
        let file = try test.directory.write("crlf.ndjson", text)
        #expect(try test.ledger.importNDJSON(path: file, actor: "tester").appended == 3)
    }

    @Test func importSkipsAByteOrderMarkOnTheFirstLineOnly() throws {
        let test = try TestLedger().withFixtures()
        let file = try test.directory.write("bom.ndjson", Data([0xEF, 0xBB, 0xBF]) + Data((Self.meetingLine(1) + "\n" + Self.meetingLine(2)).utf8))
        #expect(try test.ledger.importNDJSON(path: file, actor: "tester").appended == 2)
        // Inside the file a byte-order mark is not whitespace: that line is rejected.
        let inner = try test.directory.write("bom2.ndjson", Data((Self.meetingLine(3) + "\n").utf8) + Data([0xEF, 0xBB, 0xBF]) + Data(Self.meetingLine(4).utf8))
        expectLedgerError(.invalidInput, mentioning: ["bom2.ndjson:2", "not valid JSON"]) {
            _ = try test.ledger.importNDJSON(path: inner, actor: "tester")
        }
    }

    @Test func importOfOneBadLineAmongFiveThousandImportsNothingAndNamesTheLine() throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        var lines = (1...5000).map { Self.meetingLine($0) }
        lines[2999] = Self.meetingLine(3000).replacingOccurrences(of: "\"forum\"", with: "\"picnic\"")
        let file = try test.directory.write("bad.ndjson", lines.joined(separator: "\n") + "\n")
        let error = expectLedgerError(.invalidInput, mentioning: ["bad.ndjson:3000", "'picnic'"]) {
            _ = try test.ledger.importNDJSON(path: file, actor: "tester")
        }
        #expect(error?.line == 3000)
        #expect(try test.head() == before)
    }

    @Test(arguments: [
        ("not JSON", "this is not json", ["not valid JSON"]),
        ("an array", "[1, 2]", ["must be a JSON object"]),
        ("no type", #"{"data": {}}"#, ["no string 'type'"]),
        ("no data", #"{"type": "meeting-held"}"#, ["no 'data'"]),
        ("unknown key", #"{"type": "meeting-held", "data": {}, "when": "2020"}"#, ["unknown key 'when'"]),
        ("float amount", #"{"type": "funding-committed", "data": {"project": "cities4csr", "funding_source": "erdf", "amount": {"amount": 12.5, "currency": "EUR"}}}"#, ["12.5", "strings"]),
        ("duplicate key", #"{"type": "meeting-held", "type": "forum", "data": {}}"#, ["duplicate key 'type'"]),
        ("integer too large", #"{"type": "meeting-held", "data": {"meeting": "m", "kind": "forum", "title": "t", "participants": 9007199254740992}}"#, ["2^53"]),
        ("numeric occurred_at", #"{"type": "meeting-held", "occurred_at": 2020, "data": {}}"#, ["occurred_at", "2020"]),
        ("negative expect_version", #"{"type": "meeting-held", "expect_version": -1, "data": {}}"#, ["expect_version", "-1"]),
    ])
    func importRejectsABadLineAndNamesIt(label: String, bad: String, mentions: [String]) throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        let file = try test.directory.write("in.ndjson", [Self.meetingLine(1), Self.meetingLine(2), bad, Self.meetingLine(4)].joined(separator: "\n"))
        let error = expectLedgerError(.invalidInput, mentioning: ["in.ndjson:3"] + mentions) {
            _ = try test.ledger.importNDJSON(path: file, actor: "tester")
        }
        #expect(error?.line == 3)
        #expect(try test.head() == before)
    }

    @Test func importRejectsInvalidUTF8() throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        var bytes = Data((Self.meetingLine(1) + "\n").utf8)
        bytes.append(Data(Self.meetingLine(2, title: "Ķekava").utf8.map { $0 == 0xB6 ? 0xFF : $0 }))  // break the Ķ
        bytes.append(Data(("\n" + Self.meetingLine(3) + "\n").utf8))
        let file = try test.directory.write("latin.ndjson", bytes)
        expectLedgerError(.invalidInput, mentioning: ["latin.ndjson:2", "UTF-8"]) {
            _ = try test.ledger.importNDJSON(path: file, actor: "tester")
        }
        #expect(try test.head() == before)
    }

    @Test(arguments: [("empty", ""), ("blank lines", "\n\n  \n\r\n")])
    func anEmptyImportIsAnError(label: String, contents: String) throws {
        let test = try TestLedger()
        let before = try test.head()
        let file = try test.directory.write("empty.ndjson", contents)
        expectLedgerError(.invalidInput, mentioning: ["nothing to import", "empty.ndjson"]) {
            _ = try test.ledger.importNDJSON(path: file, actor: "tester")
        }
        #expect(try test.head() == before)
    }

    @Test func importOfAMissingFileIsNotFound() throws {
        let test = try TestLedger()
        expectLedgerError(.notFound, mentioning: ["nowhere.ndjson"]) {
            _ = try test.ledger.importNDJSON(path: test.directory.path("nowhere.ndjson"), actor: "tester")
        }
        // A folder, by name or as standard input, is not found either (it was an internal error).
        let folder = test.directory.path("batch")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        expectLedgerError(.notFound, mentioning: ["'\(folder)' is a folder", "expected an NDJSON file"]) {
            _ = try test.ledger.importNDJSON(path: folder, actor: "tester")
        }
        let fd = open(folder, O_RDONLY)
        defer { close(fd) }
        expectLedgerError(.notFound, mentioning: ["is a folder"]) { _ = try LineReader(fd: fd, owns: false).next { _ in } }
    }

    @Test func importRejectsATenMegabyteString() throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        let big = Self.meetingLine(2, title: String(repeating: "x", count: 10 << 20))
        let file = try test.directory.write("big.ndjson", Self.meetingLine(1) + "\n" + big + "\n")
        expectLedgerError(.invalidInput, mentioning: ["big.ndjson:2", "title", "10485760 characters", "at most 300"]) {
            _ = try test.ledger.importNDJSON(path: file, actor: "tester")
        }
        #expect(try test.head() == before)
    }

    /// A line past the reader's 64 MiB limit is placed at its own line (it was `FILE:0:` for the
    /// first line: the line being read was not counted yet).
    @Test func importPlacesALineOverTheLimitAtItsLine() throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        for (lines, expected) in [([String](), 1), ([Self.meetingLine(1)], 2)] {
            let file = test.directory.path("huge-\(expected).ndjson")
            _ = FileManager.default.createFile(atPath: file, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            for line in lines { handle.write(Data((line + "\n").utf8)) }
            let piece = Data(repeating: UInt8(ascii: "x"), count: 1 << 20)
            handle.write(Data(#"{"type": "meeting-held", "data": {"title": ""#.utf8))
            for _ in 0..<65 { handle.write(piece) }
            try handle.close()
            let error = expectLedgerError(.invalidInput, mentioning: ["\(file):\(expected): ", "longer than 64 MiB"]) {
                _ = try test.ledger.importNDJSON(path: file, actor: "tester")
            }
            #expect(error?.line == expected)
            #expect(error.map { !$0.description.contains(":0:") } ?? false)
            try FileManager.default.removeItem(atPath: file)
        }
        #expect(try test.head() == before)
    }

    @Test func importsAreIdempotentWithKeys() throws {
        let test = try TestLedger().withFixtures()
        let lines = (1...3).map { i in
            #"{"type": "meeting-held", "idempotency_key": "k\#(i)", "data": {"meeting": "m\#(i)", "kind": "forum", "title": "t"}}"#
        }.joined(separator: "\n")
        let file = try test.directory.write("keys.ndjson", lines)
        #expect(try test.ledger.importNDJSON(path: file, actor: "tester").appended == 3)
        let head = try test.head()
        let again = try test.ledger.importNDJSON(path: file, actor: "tester")
        #expect(again.appended == 0 && again.repeated == 3)
        #expect(try test.head() == head)
    }

    // MARK: - Corrections and retractions

    @Test func correctionsCompareBytesAndNameAMissingTargetAsRejectedInput() throws {
        let test = try TestLedger().withFixtures()
        // Bytes decide, not Swift's canonical equivalence: a title with a precomposed é corrected
        // to e + U+0301 is a change, listed as one.
        let cafe = try test.record("meeting-held", ["meeting": "cafe", "kind": "workshop", "title": "Caf\u{E9}", "project": "cities4csr"])
        let decomposed = try test.ledger.correctionDraft(of: cafe.id, set: ["title": "Cafe\u{301}", "participants": .integer(3)], reason: "typed on another keyboard")
        #expect(decomposed.data["changes"] == [["field": "participants", "to": .integer(3)], ["field": "title", "from": "Caf\u{E9}", "to": "Cafe\u{301}"]])
        #expect(JSONValue.string("Caf\u{E9}") != .string("Cafe\u{301}"))
        try test.append(decomposed)
        expectLedgerError(.invalidInput, mentioning: ["does not exist", "no event with seq 999"]) { _ = try test.ledger.retractionDraft(of: "999", reason: "gone") }
        expectLedgerError(.invalidInput, mentioning: ["does not exist"]) { _ = try test.ledger.correctionDraft(of: "999", set: ["title": "x"], reason: "gone") }
    }

    @Test func correctionsAndRetractions() throws {
        let test = try TestLedger().withFixtures()
        let funding = try test.record("funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "48454.95", "currency": "EUR"]])
        let draft = try test.ledger.correctionDraft(of: funding.id, set: ["amount": ["amount": "50000.00", "currency": "EUR"]], reason: "typo in the amount")
        let correction = try #require(try test.append(draft).last)
        #expect(correction.type == "event-corrected")
        #expect(correction.stream == funding.stream)
        #expect(correction.meta["corrects"] == .string(funding.id))
        #expect(correction.meta["reason"] == "typo in the amount")
        let effective = try test.ledger.effectiveEvent(funding)
        #expect(effective.data["amount"]?["amount"] == "50000.00")
        #expect(effective.data["funding_source"] == "erdf", "unchanged fields are kept")

        // A correction or retraction needs a reason.
        let head = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["--reason"]) { _ = try test.ledger.correctionDraft(of: funding.id, set: ["note": "x"], reason: nil) }
        expectLedgerError(.invalidInput, mentioning: ["--reason"]) { _ = try test.ledger.retractionDraft(of: funding.id, reason: "") }
        var noReason = draft
        noReason.meta.removeValue(forKey: "reason")
        expectLedgerError(.invalidInput, mentioning: ["reason is required"]) { try test.append(noReason) }
        // System events cannot be corrected or retracted.
        expectLedgerError(.invalidInput, mentioning: ["'ledger-created'", "seq 1"]) {
            try test.append(try test.ledger.retractionDraft(of: "1", reason: "no"))
        }
        expectLedgerError(.invalidInput, mentioning: ["'ledger-created'"]) {
            try test.append(try test.ledger.correctionDraft(of: "1", set: ["name": "Other"], reason: "rename"))
        }
        // A correction that changes nothing is refused, naming the fields of that event's type
        // (a meeting was told to give --amount).
        expectLedgerError(.invalidInput, mentioning: ["changes nothing", "(its fields: --amount, --funding-source, --project)"]) {
            _ = try test.ledger.correctionDraft(of: funding.id, set: ["funding_source": "erdf"], reason: "same")
        }
        // The new data must be valid for the corrected type.
        expectLedgerError(.invalidInput, mentioning: ["'-1'"]) {
            try test.append(try test.ledger.correctionDraft(of: funding.id, set: ["amount": ["amount": "-1", "currency": "EUR"]], reason: "bad"))
        }
        #expect(try test.head() == head)

        // Retract once; the second retraction and a later correction are refused.
        let retraction = try #require(try test.append(try test.ledger.retractionDraft(of: funding.id, reason: "duplicate entry")).last)
        #expect(retraction.meta["retracts"] == .string(funding.id))
        #expect(retraction.data["target_type"] == "funding-committed")
        #expect(try test.ledger.effectiveEvent(funding).retracted)
        let after = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["retracted", "seq \(funding.seq)"]) {
            try test.append(try test.ledger.retractionDraft(of: funding.id, reason: "again"))
        }
        expectLedgerError(.invalidInput, mentioning: ["retracted"]) {
            try test.append(try test.ledger.correctionDraft(of: funding.id, set: ["note": "late"], reason: "late"))
        }
        #expect(try test.head() == after)
        #expect(try test.ledger.verify().count == after.seq)
    }

    // MARK: - Seeds

    @Test func theSeedLedgerBuildsAndVerifies() throws {
        let folder = try TemporaryDirectory()
        let (ledger, count) = try Seeds.build(at: folder.path("seed.sqlite"))
        let lines = try Seeds.files().reduce(0) { total, file in
            total + (try String(contentsOf: file, encoding: .utf8)).split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.count
        }
        #expect(count == lines)
        #expect(count > 100)
        let report = try ledger.verify()
        #expect(report.count == Int64(count) + Int64(ledger.catalog.types.values.map(\.count).reduce(0, +)) + 1)
    }
}
