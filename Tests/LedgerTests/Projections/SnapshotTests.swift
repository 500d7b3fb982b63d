import Foundation
import GRDB
import GRDBSQLite
import KopaTestSupport
import Synchronization
import Testing

@testable import Ledger

/// Projection snapshots (issue 5): a full replay keeps the projections' tables at valid-time cuts,
/// and a report at a past time starts from the latest snapshot that the asked-for time allows.
/// Whatever the snapshots, a report must equal the same report replayed from the start.
@Suite("projection snapshots")
struct SnapshotTests {
    /// A ledger of ten years of monthly meetings and commitments, recorded in two batches (2015–2021,
    /// then 2022–2024), with one meeting dated only by its month and one only by its year.
    struct Story {
        let test: TestLedger
        /// The `recorded_at` of the last event of each batch.
        let firstBatch: String
        let secondBatch: String
    }

    static func months(_ years: ClosedRange<Int>) -> [String] {
        years.flatMap { year in (1...12).map { String(format: "%04d-%02d", year, $0) } }
    }

    static func month(_ month: String, index: Int) -> [EventDraft] {
        [
            EventDraft(type: "meeting-held", data: .object(["meeting": .string("m-\(month)"), "kind": "workshop", "title": .string("Workshop \(month)"), "project": "p1"]), occurredAt: month + "-10"),
            EventDraft(type: "funding-committed", data: .object(["project": "p1", "funding_source": index % 3 == 0 ? "municipality" : "erdf", "amount": money("\(100 + index).\(index % 100 < 10 ? "0" : "")\(index % 100)"), "rate": "85.00"]), occurredAt: month + "-20"),
        ]
    }

    static func story() throws -> Story {
        let test = try TestLedger(actor: "clerk-1")
        var first: [EventDraft] = [
            EventDraft(type: "organisation-registered", data: .object(["organisation": "kekava", "name": "Ķekavas novada pašvaldība", "kind": "municipality", "country": "LV"]), occurredAt: "2015-01-01"),
            EventDraft(type: "project-registered", data: .object(["project": "p1", "title": "Project One", "programme": "URBACT III", "network_type": "action-planning", "lead_partner": "kekava"]), occurredAt: "2015-01-05"),
            EventDraft(type: "meeting-held", data: .object(["meeting": "by-month", "kind": "workshop", "title": "Dated by month", "project": "p1"]), occurredAt: "2018-06"),
            EventDraft(type: "meeting-held", data: .object(["meeting": "by-year", "kind": "workshop", "title": "Dated by year", "project": "p1"]), occurredAt: "2019"),
        ]
        for (index, month) in months(2015...2021).enumerated() { first += Self.month(month, index: index) }
        let a = try test.ledger.append(first, actor: test.actor)
        tick()
        var second: [EventDraft] = []
        for (index, month) in months(2022...2024).enumerated() { second += Self.month(month, index: 84 + index) }
        let b = try test.ledger.append(second, actor: test.actor)
        return Story(test: test, firstBatch: try #require(a.last).recordedAt, secondBatch: try #require(b.last).recordedAt)
    }

    /// An engine that keeps snapshots even on a small ledger.
    static func engine(_ test: TestLedger, parts: Int = 4) throws -> ProjectionEngine {
        var engine = try test.engine()
        engine.snapshotMinimumEvents = 0
        engine.snapshotParts = parts
        return engine
    }

    /// An engine on its own, empty projection database: it has no snapshots and replays from the start.
    static func reference(_ test: TestLedger) throws -> ProjectionEngine {
        try ProjectionEngine(ledger: test.ledger, databasePath: test.directory.path("reference.projections.sqlite"))
    }

    static func listed(_ engine: ProjectionEngine) throws -> [Row] {
        try DatabaseQueue(path: engine.databasePath, configuration: SQLiteSetup.configuration()).read { db in
            try Row.fetchAll(db, sql: "SELECT projection, file, cut_start, head_seq, max_end FROM kopa_snapshots ORDER BY projection, cut_start")
        }
    }

    static func files(_ engine: ProjectionEngine) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: engine.snapshotFolder)) ?? [])
    }

    static let reports = ["overview", "funding", "timeline", "audit-trail"]

    /// A report at a past time reads the ledger up to one head in every replay, from a snapshot or
    /// from the start, corrections and retractions included: events appended meanwhile (here, after
    /// the head it is given) are in none of it. Two processes found a report with half an import
    /// (a snapshot's tail read further than its head), and one with a retraction applied whose
    /// import's earlier events were missing.
    @Test func aReportAtAPastTimeReadsUpToOneHeadEverywhere() throws {
        let story = try Self.story()
        let test = story.test
        let engine = try Self.engine(test)
        try engine.catchUp(rebuild: nil)
        let cuts = try Self.listed(engine).map { $0["cut_start"] as String }
        #expect(!cuts.isEmpty)
        let time = ReportTime(asOf: try TimeBound("2030-01-01"))
        func committed(head: Int64?) throws -> Int {
            try engine.withProjections(at: time, reading: "SELECT * FROM commitments", head: head) { db in
                try Int.fetchOne(db, sql: "SELECT sum(amount_cents) FROM commitments") ?? 0
            }
        }
        let before = try committed(head: nil)
        let head = try test.head().seq
        // One import: 1000.00 before the first cut (in the snapshots' part) and 0.01 after the last
        // (in the replayed tail), then a commitment that a later import retracts with 0.02 more.
        let pair = try test.ledger.append([
            EventDraft(type: "funding-committed", data: .object(["project": "p1", "funding_source": "erdf", "amount": money("1000.00")]), occurredAt: "2015-02-01"),
            EventDraft(type: "funding-committed", data: .object(["project": "p1", "funding_source": "erdf", "amount": money("0.01")]), occurredAt: "2024-12-30"),
        ], actor: test.actor)
        #expect(try committed(head: nil) == before + 100_001)
        #expect(try committed(head: head) == before, "what came after the head is in none of the report")
        let x = try #require(pair.first)
        let later = try test.ledger.append([
            EventDraft(type: "funding-committed", data: .object(["project": "p1", "funding_source": "erdf", "amount": money("0.02")]), occurredAt: "2024-12-30"),
            try test.ledger.retractionDraft(of: x.id, reason: "entered twice"),
        ], actor: test.actor)
        #expect(try committed(head: nil) == before + 1 + 2)
        #expect(try committed(head: try #require(later.first).seq) == before + 100_001 + 2, "the retraction after the head is not applied")
        #expect(try committed(head: try #require(pair.last).seq) == before + 100_001)
    }

    /// Each report at `time` from `engine`, all from one replay.
    static func run(_ engine: ProjectionEngine, _ time: ReportTime) throws -> [ReportResult] {
        try engine.withProjections(at: time) { db in
            try reports.map { try ProjectionEngine.run(try engine.set.report($0), db: db, parameters: [:]) }
        }
    }

    static func funding(_ engine: ProjectionEngine) throws -> ProjectionDefinition {
        try #require(engine.set.projections.first { $0.name == "funding" })
    }

    @Test func aFullReplayKeepsSnapshotsAtMonthCutsAndRemovesTheOldOnes() throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        let summary = try engine.catchUp()
        #expect(summary.rebuilt.count == engine.set.projections.count)
        let rows = try Self.listed(engine)
        let cuts = Set(rows.map { $0["cut_start"] as String })
        #expect(cuts.count == 3, "4 parts: 3 cuts")
        for cut in cuts { #expect(cut.hasSuffix("-01T00:00:00.000Z"), "cut \(cut) at the first of a month") }
        #expect(Set(rows.map { $0["projection"] as String }) == Set(engine.set.projections.map(\.name)))
        let head = try story.test.head().seq
        #expect(rows.allSatisfy { ($0["head_seq"] as Int64) == head })
        // Funding's events are all dated by day, so each ended before the cut (at a month's first day).
        for row in rows where (row["projection"] as String) == "funding" {
            #expect((row["max_end"] as String) < (row["cut_start"] as String))
        }
        let files = Self.files(engine)
        #expect(files == Set(rows.map { $0["file"] as String }))
        #expect(files.count == 3)

        // Rebuilding one projection replaces its snapshots; the files of the others stay.
        try engine.catchUp(rebuild: ["funding"])
        let after = try Self.listed(engine)
        #expect(after.count == rows.count)
        let fundingFiles = Set(after.filter { ($0["projection"] as String) == "funding" }.map { $0["file"] as String })
        #expect(fundingFiles.isDisjoint(with: files))
        #expect(Self.files(engine) == files.union(fundingFiles))

        // Rebuilding everything leaves only the new files.
        try engine.catchUp(rebuild: nil)
        let final = Set(try Self.listed(engine).map { $0["file"] as String })
        #expect(final.count == 3 && final.isDisjoint(with: files) && Self.files(engine) == final)
    }

    @Test func aSmallLedgerOrOnePartKeepsNoSnapshots() throws {
        let story = try Self.story()
        var engine = try story.test.engine()
        #expect(engine.snapshotMinimumEvents > (try story.test.head().seq))
        try engine.catchUp()
        #expect(try Self.listed(engine).isEmpty)
        engine.snapshotMinimumEvents = 0
        engine.snapshotParts = 1
        try engine.catchUp(rebuild: nil)
        #expect(try Self.listed(engine).isEmpty)
        #expect(Self.files(engine).isEmpty)
    }

    /// A replay from the start that takes no snapshots (here the ledger is below the engine's
    /// minimum; in use, a plan that changed while waiting for the lock) unlists the snapshots of
    /// what it replayed, and removes their files at once: left for the hourly sweep, 45 of them
    /// piled up in 90 s of reports under load.
    @Test func aReplayWithoutSnapshotsRemovesTheFilesItUnlistedAtOnce() throws {
        let story = try Self.story()
        var engine = try Self.engine(story.test)
        try engine.catchUp()
        let before = Self.files(engine)
        try #require(before.count == 3)
        engine.snapshotMinimumEvents = .max
        try engine.catchUp(rebuild: ["meetings"])
        #expect(Self.files(engine) == before, "other projections still list every file")
        try engine.catchUp(rebuild: nil)
        #expect(try Self.listed(engine).isEmpty)
        #expect(Self.files(engine).isEmpty, "left: \(Self.files(engine))")
    }

    /// Reports at many times, from snapshots, equal the same reports replayed from the start, also
    /// after a back-dated commitment and a correction were recorded since the snapshots were taken.
    @Test func reportsFromSnapshotsEqualReportsReplayedFromTheStart() throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        try engine.catchUp()
        let reference = try Self.reference(story.test)
        let validTimes: [String?] = [nil, "2015-03-31", "2016-12-31", "2018-06-15", "2018-06-30", "2019-06-30", "2019-12-31", "2021-12-31", "2023-02-14"]
        func compare(knownAt: [String?], _ context: String) throws {
            for known in knownAt {
                for asOf in validTimes {
                    let time = ReportTime(asOf: try asOf.map { try TimeBound($0) }, knownAt: try known.map { try TimeBound($0) })
                    let expected = try Self.run(reference, time)
                    let actual = try Self.run(engine, time)
                    for (name, (a, b)) in zip(Self.reports, zip(actual, expected)) {
                        #expect(a == b, "\(context): \(name) as of \(asOf ?? "now") known at \(known ?? "now")")
                    }
                }
            }
        }
        try compare(knownAt: [nil, story.firstBatch], "as taken")

        // Used where the time allows it: known at the end of the first batch, the latest cut before
        // the second batch's first event (2022-01-10) serves; as of a time before the first cut, none.
        let funding = try Self.funding(engine)
        var filter = ReplayFilter()
        filter.knownAt = try TimeBound(story.firstBatch).end
        let early = try engine.usableSnapshot(for: funding, filter: filter, seqBound: try engine.lastSeq(recordedBy: filter.knownAt!))
        let cuts = try Self.listed(engine).filter { ($0["projection"] as String) == "funding" }.map { $0["cut_start"] as String }.sorted()
        #expect(cuts.last! > "2022-01-10", "the last cut falls in the second batch")
        #expect(early != nil && early?.cutStart == cuts.last { $0 <= "2022-01-10" })
        filter = ReplayFilter()
        filter.asOf = try TimeBound("2015-03-31").end
        #expect(try engine.usableSnapshot(for: funding, filter: filter, seqBound: try story.test.head().seq) == nil)

        // A commitment back-dated to 2016-03-15 recorded after the snapshots: funding may now use only
        // a cut before that date; the meetings' snapshots are untouched by it.
        tick()
        try story.test.record("funding-committed", ["project": "p1", "funding_source": "state", "amount": money("999.99"), "rate": "10.00"], occurredAt: "2016-03-15")
        let now = try story.test.head().seq
        let afterBackDated = try engine.usableSnapshot(for: funding, filter: ReplayFilter(), seqBound: now)
        #expect(afterBackDated?.cutStart == cuts.last { $0 <= "2016-03-15" })
        let meetings = try #require(engine.set.projections.first { $0.name == "meetings" })
        #expect(try engine.usableSnapshot(for: meetings, filter: ReplayFilter(), seqBound: now)?.cutStart == cuts.last)
        try compare(knownAt: [nil, story.secondBatch], "after a back-dated commitment")

        // A correction recorded since: no snapshot serves the present, every earlier time still can.
        tick()
        let target = try #require(try story.test.ledger.events().last { $0.type == "meeting-held" })
        try story.test.append(draft: try story.test.ledger.correctionDraft(of: target.id, set: ["title": "Renamed"], occurredAt: "2016-01-10", reason: "minutes checked"))
        #expect(try engine.usableSnapshot(for: meetings, filter: ReplayFilter(), seqBound: try story.test.head().seq) == nil)
        try compare(knownAt: [nil], "after a correction")
    }

    /// Snapshot files are written without syncs: those listed in another boot of the machine are
    /// passed over, and the next catch-up (which replays every projection of that boot) replaces them.
    @Test func snapshotsWrittenInAnotherBootAreNotUsed() throws {
        let story = try Self.story()
        var engine = try Self.engine(story.test)
        engine.boot = "boot-1"
        try engine.catchUp()
        let meetings = try #require(engine.set.projections.first { $0.name == "meetings" })
        let head = try story.test.head().seq
        #expect(try engine.usableSnapshot(for: meetings, filter: ReplayFilter(), seqBound: head) != nil)
        let before = Self.files(engine)

        engine.boot = "boot-2"
        #expect(try engine.usableSnapshot(for: meetings, filter: ReplayFilter(), seqBound: head) == nil)
        #expect(try engine.catchUp().rebuilt == ProjectionEngineTests.bundledNames)
        #expect(try engine.usableSnapshot(for: meetings, filter: ReplayFilter(), seqBound: head) != nil)
        let after = Self.files(engine)
        #expect(!after.isEmpty && after.isDisjoint(with: before), "the other boot's files are replaced")
        let past = ReportTime(asOf: try TimeBound("2023-02-14"))
        #expect(try Self.run(engine, past) == (try Self.run(Self.reference(story.test), past)))
    }

    /// A projection database beside a ledger restored from an earlier archive of the same ledger,
    /// which then goes on differently, was made from another history (both share seq 1): neither
    /// its checkpoints nor its snapshots are used, and every report equals a replay from the start.
    @Test func aProjectionDatabaseFromAnotherHistoryOfTheLedgerIsNotUsed() throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        try engine.catchUp()
        let firstBatch = try engine.lastSeq(recordedBy: try TimeBound(story.firstBatch).end)
        let archive = story.test.directory.path("early.kopa")
        #expect(try story.test.ledger.export(toFile: archive, until: firstBatch).chain.count == firstBatch)
        let restoredPath = story.test.directory.path("restored.sqlite")
        try Ledger.restore(from: archive, to: restoredPath)
        let restored = try Ledger.open(at: restoredPath)
        var forked = try ProjectionEngine(ledger: restored, databasePath: engine.databasePath)
        forked.snapshotMinimumEvents = 0
        forked.snapshotParts = 4
        let reference = try ProjectionEngine(ledger: restored, databasePath: story.test.directory.path("restored-reference.projections.sqlite"))
        let funding = try Self.funding(engine)
        #expect(try engine.usableSnapshot(for: funding, filter: ReplayFilter(), seqBound: try story.test.head().seq) != nil)
        #expect(try forked.usableSnapshot(for: funding, filter: ReplayFilter(), seqBound: firstBatch) == nil)
        let times = [ReportTime(), ReportTime(asOf: try TimeBound("2019-06-30")), ReportTime(asOf: try TimeBound("2023-02-14"))]
        for time in times { #expect(try Self.run(forked, time) == Self.run(reference, time), "restored, \(time)") }
        // Going on differently: a commitment that the original never had.
        tick()
        _ = try restored.append([EventDraft(type: "funding-committed", data: ["project": "p1", "funding_source": "state", "amount": money("7.77")], occurredAt: "2024-06-01")], actor: "clerk-2")
        for time in times { #expect(try Self.run(forked, time) == Self.run(reference, time), "forked, \(time)") }
        // Its catch-up replays every projection once (the checkpoints name the original's head),
        // and from then on applies only what is new.
        #expect(try forked.catchUp().rebuilt.count == forked.set.projections.count)
        #expect(try forked.catchUp().rebuilt.isEmpty)
        for time in times { #expect(try Self.run(forked, time) == Self.run(reference, time), "caught up, \(time)") }
    }

    /// Another process's rebuild makes its snapshot files before it may write, and lists them when
    /// it commits: a rebuild removes only the files it replaced, its own unlisted ones, and any left
    /// unlisted for an hour (by a run that was killed), never a file another process is writing.
    @Test func aRebuildRemovesOnlyTheSnapshotFilesItReplacedOrThatWereAbandoned() throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        try engine.catchUp()
        let before = Self.files(engine)
        let fresh = "cut-another-process.sqlite", stale = "cut-killed-run.sqlite"
        for file in [fresh, stale] { try Data("being written".utf8).write(to: URL(fileURLWithPath: engine.snapshotFolder + "/" + file)) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: engine.snapshotFolder + "/" + stale)
        try engine.catchUp(rebuild: nil)
        let after = Self.files(engine)
        #expect(after.isDisjoint(with: before), "the replaced snapshots are removed")
        #expect(after.contains(fresh), "another process's file is left alone")
        #expect(!after.contains(stale), "an abandoned file is removed")
        let listed = Set(try Self.listed(engine).map { $0["file"] as String })
        #expect(listed.isSubset(of: after) && !listed.isEmpty)
    }

    /// Two rebuilds at once: the second commits and lists its snapshots between the first one's
    /// commit and its listing (each process lists after its commit). A projection keeps one set,
    /// the one taken at the later head (the first's when the heads are equal), and every snapshot
    /// file left is listed. Before, both sets stayed listed and on disk.
    @Test(arguments: [false, true])
    func twoRebuildsAtOnceLeaveOneSetOfSnapshotsPerProjection(secondSeesALaterHead: Bool) throws {
        let story = try Self.story()
        var first = try Self.engine(story.test)
        let second = try Self.engine(story.test)
        try first.catchUp()
        let ledger = story.test.ledger, actor = story.test.actor
        let secondFiles = Mutex<Set<String>>([])
        first.beforeListingSnapshots = {
            if secondSeesALaterHead {
                _ = try ledger.append([EventDraft(type: "meeting-held", data: .object(["meeting": "meanwhile", "kind": "workshop", "title": "Meanwhile", "project": "p1"]), occurredAt: "2024-12-20")], actor: actor)
            }
            try second.catchUp(rebuild: nil)
            let listed = Set(try Self.listed(second).map { $0["file"] as String })
            secondFiles.withLock { $0 = listed }
        }
        try first.catchUp(rebuild: nil)
        let head = try story.test.head().seq
        let rows = try Self.listed(first)
        let files = Set(rows.map { $0["file"] as String })
        for projection in first.set.projections.map(\.name) {
            #expect(rows.filter { ($0["projection"] as String) == projection }.count == 3, "\(projection): one snapshot per cut")
        }
        #expect(rows.allSatisfy { ($0["head_seq"] as Int64) == head }, "the later head, \(head)")
        #expect(files.count == 3)
        #expect(Self.files(first) == files, "no unlisted snapshot file is left")
        let secondListed = secondFiles.withLock { $0 }
        #expect(secondListed.count == 3)
        #expect(secondSeesALaterHead ? files == secondListed : files.isDisjoint(with: secondListed))
    }

    /// A projection database another process holds longer than the busy timeout is busy (75),
    /// whether it is being caught up or being set up.
    @Test func aProjectionDatabaseHeldByAnotherProcessIsBusy() throws {
        let story = try Self.story()
        var engine = try Self.engine(story.test)
        engine.busyTimeout = 0.2
        try engine.catchUp()
        try story.test.record("meeting-held", ["meeting": "late", "kind": "workshop", "title": "Late", "project": "p1"], occurredAt: "2025-01-10")
        let other = try DatabaseQueue(path: engine.databasePath, configuration: SQLiteSetup.configuration())
        try other.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            expectLedgerError(.busy, mentioning: ["is busy", "try again"]) { try engine.catchUp() }
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try engine.catchUp().incremental.count > 0)
        // A new file another process holds while it sets it up (before WAL mode is on).
        var fresh = try ProjectionEngine(ledger: story.test.ledger, databasePath: story.test.directory.path("fresh.projections.sqlite"))
        fresh.busyTimeout = 0.2
        let creator = try DatabaseQueue(path: fresh.databasePath, configuration: SQLiteSetup.configuration())
        try creator.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE; CREATE TABLE being_made (x)")
            expectLedgerError(.busy, mentioning: ["is busy"]) { try fresh.catchUp() }
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try fresh.catchUp().rebuilt.count == fresh.set.projections.count)
    }

    @Test func aMissingOrDamagedSnapshotFileIsPassedOver() throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        try engine.catchUp()
        let reference = try Self.reference(story.test)
        let time = ReportTime(asOf: try TimeBound("2023-02-14"))
        let expected = try Self.run(reference, time)
        let files = Self.files(engine).sorted()
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: engine.snapshotFolder + "/" + files[0]))
        try FileManager.default.removeItem(atPath: engine.snapshotFolder + "/" + files[1])
        #expect(try Self.run(engine, time) == expected)
        try FileManager.default.removeItem(atPath: engine.snapshotFolder)
        #expect(try Self.run(engine, time) == expected)
    }

    @Test func aChangedProjectionFileDoesNotUseTheOldSnapshots() throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        try engine.catchUp()
        var changed = try Self.funding(engine)
        changed.checksum = String(repeating: "0", count: 64)
        #expect(try engine.usableSnapshot(for: changed, filter: ReplayFilter(), seqBound: try story.test.head().seq) == nil)
        #expect(try engine.usableSnapshot(for: try Self.funding(engine), filter: ReplayFilter(), seqBound: try story.test.head().seq) != nil)
    }

    @Test func theLastSeqKnownAtATimeIsFoundByBisection() throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        let events = try story.test.ledger.events()
        for event in events.filter({ $0.seq % 37 == 0 }) + [events[0], events[events.count - 1]] {
            let expected = events.last { $0.recordedAt <= event.recordedAt }!.seq
            #expect(try engine.lastSeq(recordedBy: event.recordedAt) == expected)
        }
        #expect(try engine.lastSeq(recordedBy: "2000-01-01T00:00:00.000Z") == 0)
    }

    /// A report at a past time replays into a database thrown away afterwards: indexes no
    /// projection statement searches by are built after the replay only when the report's query
    /// would search by them, and either way the rows are those of a replay from the start.
    @Test("a past-time replay builds only the indexes the report searches by", arguments: [
        ("SELECT count(*) FROM audit_trail WHERE stream = 'meeting/m-2019-03'", true),
        ("SELECT count(*) FROM audit_trail WHERE substr(stream, 1) = 'meeting/m-2019-03' AND type <> ''", false),
        (nil, true),
    ] as [(String?, Bool)])
    func aPastTimeReplayBuildsOnlyTheIndexesTheReportUses(sql: String?, built: Bool) throws {
        let story = try Self.story()
        let engine = try Self.engine(story.test)
        try engine.catchUp()
        let time = ReportTime(asOf: try TimeBound("2023-06-30"))
        let query = sql ?? "SELECT count(*) FROM audit_trail WHERE stream = 'meeting/m-2019-03'"
        let (indexed, count) = try engine.withProjections(at: time, reading: sql) { db in
            (try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'audit_trail_stream')") ?? false,
             try Int.fetchOne(db, sql: query) ?? -1)
        }
        #expect(indexed == built)
        #expect(count == 1)
        let expected = try Self.reference(story.test).withProjections(at: time) { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail WHERE stream LIKE 'meeting/%' AND occurred_at <= '2023-06-30'")
        }
        let replayed = try engine.withProjections(at: time, reading: sql) { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_trail WHERE stream LIKE 'meeting/%' AND occurred_at <= '2023-06-30'")
        }
        #expect(replayed == expected && (expected ?? 0) > 100)
    }

    /// Every projection table's rows, the indexes and triggers, and the checkpoints, as text: what
    /// a catch-up must leave the same, whether it replayed from the start or from a snapshot.
    static func state(_ engine: ProjectionEngine) throws -> String {
        var configuration = SQLiteSetup.configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: engine.databasePath, configuration: configuration).read { db in
            var text = ""
            for name in try String.fetchAll(db, sql: "SELECT name FROM kopa_objects WHERE type = 'table' ORDER BY name") {
                text += name + "\n"
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(name.quotedDatabaseIdentifier) ORDER BY rowid") { text += "  \(row)\n" }
            }
            for row in try Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY name") { text += "\(row)\n" }
            for row in try Row.fetchAll(db, sql: "SELECT projection, version, checksum, last_seq, last_start, ledger FROM kopa_checkpoints ORDER BY projection") { text += "\(row)\n" }
            return text
        }
    }

    /// A workshop of project p1 named `name`, held on `date`.
    static func meeting(_ name: String, on date: String) -> EventDraft {
        EventDraft(type: "meeting-held", data: .object(["meeting": .string(name), "kind": "workshop", "title": .string("Back-dated \(name)"), "project": "p1"]), occurredAt: date)
    }

    /// DESIGN.md: a back-dated event makes the engine replay the projections it moves from the last
    /// snapshot before the event's occurred time, or from the start; either way the projection
    /// database ends as a replay from the start leaves it.
    @Test func aBackDatedEventResumesFromTheLatestSnapshotBeforeIt() throws {
        let story = try Self.story()
        let test = story.test
        let engine = try Self.engine(test)
        try engine.catchUp()
        let reference = try Self.reference(test)
        let cuts = Set(try Self.listed(engine).map { $0["cut_start"] as String }).sorted()
        try #require(cuts.count == 3)
        #expect(cuts[2] < "2023-03-15" && cuts[1] < "2021-02-15" && "2021-02-15" < cuts[2] && "2015-06-15" < cuts[0], "cuts \(cuts)")
        let head = try test.head().seq

        // After the latest cut: from that cut's snapshot, the tail only.
        try test.ledger.append([Self.meeting("late-1", on: "2023-03-15")], actor: test.actor)
        let late = try engine.catchUp()
        #expect(Set(late.resumed) == ["audit_trail", "meetings"], "the projections that receive meetings and have applied later ones")
        #expect(late.rebuilt.isEmpty)
        #expect(late.applied > 0 && late.applied < Int(head) / 2, "\(late.applied) events of \(head) replayed")
        try reference.catchUp(rebuild: nil)
        #expect(try Self.state(engine) == Self.state(reference))

        // Before the latest cut, recorded after its snapshot: that snapshot no longer holds every
        // event before its cut, so the one before it serves, with a longer tail.
        try test.ledger.append([Self.meeting("late-2", on: "2021-02-15")], actor: test.actor)
        let earlier = try engine.catchUp()
        #expect(Set(earlier.resumed) == ["audit_trail", "meetings"])
        #expect(earlier.applied > late.applied)
        try reference.catchUp(rebuild: nil)
        #expect(try Self.state(engine) == Self.state(reference))

        // Before the first cut: no snapshot serves, so from the start (which keeps new snapshots).
        try test.ledger.append([Self.meeting("early", on: "2015-06-15")], actor: test.actor)
        let early = try engine.catchUp()
        #expect(early.resumed.isEmpty)
        #expect(Set(early.rebuilt) == ["audit_trail", "meetings"])
        try reference.catchUp(rebuild: nil)
        #expect(try Self.state(engine) == Self.state(reference))

        // A correction since the snapshots: from the start, as DESIGN.md has corrections replayed.
        try test.ledger.append([Self.meeting("late-3", on: "2024-02-15")], actor: test.actor)
        #expect(Set(try engine.catchUp().resumed) == ["audit_trail", "meetings"], "the new snapshots serve")
        let target = try #require(test.ledger.events().last { $0.type == "meeting-held" && $0.occurredAt == "2023-03-15" })
        try test.append(draft: try test.ledger.correctionDraft(of: target.id, set: ["title": "Renamed"], reason: "minutes checked"))
        let corrected = try engine.catchUp()
        #expect(corrected.resumed.isEmpty)
        #expect(corrected.rebuilt.contains("meetings"))
        try reference.catchUp(rebuild: nil)
        #expect(try Self.state(engine) == Self.state(reference))
    }

    /// A snapshot holds the events before its cut as they stood corrected, a moved event at its new
    /// time included; resuming from it replays the events from its cut on, so an event moved to
    /// before the cut is not applied again (a projection that adds a row per event held it twice).
    @Test func resumingFromASnapshotDoesNotApplyAnEventMovedBeforeItsCutAgain() throws {
        let story = try Self.story()
        let test = story.test
        let analyst = try AnalystFolder()
        try analyst.projection("order_log.sql", ProjectionEngineTests.orderLog)
        let moved = try #require(try test.ledger.events().last { $0.type == "meeting-held" })
        try test.append(draft: try test.ledger.correctionDraft(of: moved.id, occurredAt: "2016-01-15", reason: "minutes checked"))
        var engine = try test.engine(extra: [analyst.url])
        engine.snapshotMinimumEvents = 0
        engine.snapshotParts = 4
        try engine.catchUp()
        let cuts = try Self.listed(engine).filter { ($0["projection"] as String) == "order_log" }.map { $0["cut_start"] as String }.sorted()
        try #require(!cuts.isEmpty && cuts.first! > "2016-01-15" && cuts.last! < "2024-06-15", "cuts \(cuts)")
        try test.ledger.append([Self.meeting("late-1", on: "2024-06-15")], actor: test.actor)
        let late = try engine.catchUp()
        #expect(late.resumed.contains("order_log"))
        func count(_ sql: String, _ arguments: StatementArguments = []) throws -> Int64? {
            try DatabaseQueue(path: engine.databasePath, configuration: SQLiteSetup.configuration()).read { db in try Int64.fetchOne(db, sql: sql, arguments: arguments) }
        }
        #expect(try count("SELECT count(*) FROM order_log WHERE seq = ?", [moved.seq]) == 1)
        #expect(try count("SELECT count(*) FROM order_log") == (try test.head().seq), "every event once")
    }

    /// A snapshot that cannot be read when a back-dated event would resume from it: the projection
    /// replays from the start instead, takes new snapshots, and nothing else changes. A file whose
    /// header is sound and whose pages are zeros failed every report (exit 70) while it stayed
    /// attached: SQLite reads every attached schema to find a table.
    @Test(arguments: ["not a database", "zeroed after its first pages"])
    func aBackDatedEventWhoseSnapshotCannotBeReadReplaysFromTheStart(damage: String) throws {
        let story = try Self.story()
        let test = story.test
        let engine = try Self.engine(test)
        try engine.catchUp()
        let damaged = Self.files(engine)
        for file in damaged {
            let url = URL(fileURLWithPath: engine.snapshotFolder + "/" + file)
            if damage == "not a database" {
                try Data("not a database".utf8).write(to: url)
            } else {
                var bytes = try Data(contentsOf: url)
                let keep = min(2 * 65536, bytes.count / 2)
                bytes.replaceSubrange(keep..<bytes.count, with: Data(count: bytes.count - keep))
                try bytes.write(to: url)
            }
        }
        try test.ledger.append([Self.meeting("late-1", on: "2023-03-15")], actor: test.actor)
        let summary = try engine.catchUp()
        #expect(summary.resumed.isEmpty)
        #expect(Set(summary.rebuilt) == ["audit_trail", "meetings"])
        let reference = try Self.reference(test)
        try reference.catchUp(rebuild: nil)
        #expect(try Self.state(engine) == Self.state(reference))
        let renewed = try Self.listed(engine).filter { ($0["projection"] as String) == "meetings" }.map { $0["file"] as String }
        #expect(renewed.count == 3 && Set(renewed).isDisjoint(with: damaged), "the replay from the start took new snapshots")
        #expect(try Self.run(engine, ReportTime(asOf: try TimeBound("2023-06-30"))) == Self.run(reference, ReportTime(asOf: try TimeBound("2023-06-30"))))
    }

    /// An analyst's projection whose replay depends on more than its rows: an AUTOINCREMENT counter
    /// (the largest id ever given, rows deleted since), rowids of a table without an INTEGER
    /// PRIMARY KEY, and a generated column (which took a value in the copy and failed every
    /// replay from the start on a large ledger). Resumed from a snapshot, and at a past time, it
    /// equals a replay from the start.
    @Test func aSnapshotKeepsCountersRowidsAndGeneratedColumns() throws {
        let story = try Self.story()
        let test = story.test
        let analyst = try AnalystFolder()
        try analyst.projection("tally.sql", """
            -- projection: tally
            -- version: 1
            CREATE TABLE tally_log (id INTEGER PRIMARY KEY AUTOINCREMENT, meeting TEXT NOT NULL, doubled INTEGER AS (length(meeting) * 2));
            CREATE TABLE tally_order (meeting TEXT NOT NULL, position INTEGER NOT NULL);

            -- on meeting-held
            INSERT INTO tally_log (meeting) VALUES (:meeting);
            DELETE FROM tally_log WHERE meeting LIKE 'drop-%';
            INSERT INTO tally_order (meeting, position) SELECT :meeting, coalesce(max(rowid), 0) + 1 FROM tally_order;
            DELETE FROM tally_order WHERE meeting LIKE 'drop-%' AND :meeting NOT LIKE 'drop-%';
            """)
        // Deleted just before the latest cut: a copy of the rows alone would give the next ids again,
        // and number the order's rows without the gap the deletion left before "keep-1".
        try test.ledger.append([Self.meeting("drop-1", on: "2023-02-25"), Self.meeting("drop-2", on: "2023-02-26"), Self.meeting("keep-1", on: "2023-02-27")], actor: test.actor)
        var engine = try ProjectionEngine(ledger: test.ledger, extraFolders: [analyst.url])
        engine.snapshotMinimumEvents = 0
        try engine.catchUp()
        #expect(try Self.listed(engine).contains { ($0["cut_start"] as String) == "2023-03-01T00:00:00.000Z" }, "the deleted rows are the last before a cut")
        let reference = try ProjectionEngine(ledger: test.ledger, extraFolders: [analyst.url], databasePath: test.directory.path("reference.projections.sqlite"))
        try test.ledger.append([Self.meeting("late-1", on: "2023-03-15")], actor: test.actor)
        #expect(try engine.catchUp().resumed.contains("tally"))
        try reference.catchUp(rebuild: nil)
        let state = try Self.state(engine)
        #expect(state == (try Self.state(reference)))
        #expect(state.contains("tally_log"))
        let query = "SELECT id, meeting, doubled, (SELECT group_concat(meeting || ':' || position || ':' || rowid) FROM tally_order) AS positions FROM tally_log ORDER BY id"
        let time = ReportTime(asOf: try TimeBound("2024-06-30"))
        let past = try engine.withProjections(at: time, reading: query) { db in try Row.fetchAll(db, sql: query) }
        let replayed = try reference.withProjections(at: time, reading: query) { db in try Row.fetchAll(db, sql: query) }
        #expect(past == replayed && past.count > 100)
    }

    /// The files a catch-up attaches at once are held to SQLite's limit: the snapshots resumed
    /// from, and a new set of snapshots for what must replay from the start. Two back-dated events
    /// want two snapshot files; with nine cuts (nine new files) under a limit of ten, only one of
    /// them is attached, and the projections of the other replay from the start and keep new
    /// snapshots at every cut. Ten cuts leave no room at all: nothing resumes.
    @Test(arguments: [10, 11])
    func theFilesAttachedAtOnceStayWithinSQLitesLimit(parts: Int) throws {
        let story = try Self.story()
        let test = story.test
        let limit = try DatabaseQueue().read { db in Int(sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_ATTACHED, -1)) }
        try #require(limit == 10, "the cases are worked out for SQLite's default limit of 10 attached files")
        let engine = try Self.engine(test, parts: parts)
        try engine.catchUp()
        let cuts = Set(try Self.listed(engine).map { $0["cut_start"] as String })
        try #require(cuts.count == parts - 1)
        let commitment = EventDraft(type: "funding-committed", data: .object(["project": "p1", "funding_source": "erdf", "amount": money("7.00"), "rate": "85.00"]), occurredAt: "2017-03-15")
        try test.ledger.append([Self.meeting("late-1", on: "2023-03-15"), commitment], actor: test.actor)
        let summary = try engine.catchUp()
        let moved: Set<String> = ["audit_trail", "meetings", "funding"]
        #expect(Set(summary.resumed + summary.rebuilt) == moved, "\(summary)")
        if parts == 10 {
            #expect(!summary.resumed.isEmpty && !summary.rebuilt.isEmpty, "one file attached, one left out: \(summary)")
        } else {
            #expect(summary.resumed.isEmpty, "no room: \(summary)")
        }
        let listed = try Self.listed(engine)
        for name in summary.rebuilt {
            #expect(listed.filter { ($0["projection"] as String) == name }.count == parts - 1, "'\(name)' keeps new snapshots at every cut")
        }
        let reference = try Self.reference(test)
        try reference.catchUp(rebuild: nil)
        #expect(try Self.state(engine) == Self.state(reference))
    }
}
