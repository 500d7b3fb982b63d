import Foundation
import GRDB
import KopaTestSupport
import Testing

@testable import Ledger

/// The projection engine: parameter binding, valid-time replay order, checkpoints and incremental
/// catch-up, version changes, rebuild equality, analysts' own projections, and errors in
/// projection files.
@Suite("projection engine")
struct ProjectionEngineTests {
    /// The bundled projections.
    static let bundledNames = [
        "audit_trail", "change_log", "councils", "deliverables", "funding", "groups", "meetings",
        "organisations", "partners", "plans", "positions", "projects",
    ]

    /// Reads one row of the projection database.
    static func row(_ test: TestLedger, _ sql: String, _ arguments: StatementArguments = []) throws -> Row? {
        let queue = try DatabaseQueue(path: test.projectionDatabasePath, configuration: SQLiteSetup.configuration())
        return try queue.read { db in try Row.fetchOne(db, sql: sql, arguments: arguments) }
    }

    static func values<T: DatabaseValueConvertible>(_ test: TestLedger, _ sql: String, _ arguments: StatementArguments = []) throws -> [T] {
        let queue = try DatabaseQueue(path: test.projectionDatabasePath, configuration: SQLiteSetup.configuration())
        return try queue.read { db in try T.fetchAll(db, sql: sql, arguments: arguments) }
    }

    // MARK: - Binding

    static let probe = """
        -- projection: probe
        -- version: 1
        CREATE TABLE probe (
            seq INTEGER PRIMARY KEY, id TEXT, type TEXT, version INTEGER, stream TEXT, stream_version INTEGER,
            occurred_at TEXT, occurred_start TEXT, occurred_end TEXT, recorded_at TEXT, recorded_by TEXT,
            project TEXT, funding_source TEXT, amount TEXT, amount_cents INTEGER, cents_type TEXT,
            amount_currency TEXT, rate TEXT, note TEXT, note_type TEXT,
            data TEXT, data_amount TEXT, source TEXT, evidence TEXT, meta TEXT
        );
        CREATE TABLE meeting_probe (
            meeting TEXT PRIMARY KEY, online INTEGER, online_type TEXT, participants INTEGER,
            participants_type TEXT, organisations TEXT, organisation_count INTEGER, days INTEGER
        );

        -- on funding-committed
        INSERT INTO probe VALUES (
            :_seq, :_id, :_type, :_version, :_stream, :_stream_version,
            :_occurred_at, :_occurred_start, :_occurred_end, :_recorded_at, :_recorded_by,
            :project, :funding_source, :amount, :amount_cents, typeof(:amount_cents),
            :amount_currency, :rate, :note, typeof(:note),
            :_data, json_extract(:_data, '$.amount.amount'), :_source, :_evidence, :_meta);

        -- on meeting-held
        INSERT INTO meeting_probe VALUES (
            :meeting, :online, typeof(:online), :participants, typeof(:participants),
            :organisations, (SELECT count(*) FROM json_each(:organisations)), :days);
        """

    @Test func payloadAndEnvelopeFieldsBind() throws {
        let test = try TestLedger(actor: "clerk-7").withFixtures()
        let analyst = try AnalystFolder()
        try analyst.projection("probe.sql", Self.probe)
        let evidence: JSONValue = [["title": "Subsidy contract", "sha256": .string(String(repeating: "0f", count: 32))]]
        let commitment = try test.record(
            "funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": money("48454.95"), "rate": "85"],
            occurredAt: "2019-09", meta: ["source": "contract, clause 4", "evidence": evidence])
        try test.org("milano", "Comune di Milano", country: "IT")
        try test.record("meeting-held", [
            "meeting": "m1", "kind": "workshop", "title": "Workshop", "online": .bool(true), "participants": .integer(25),
            "organisations": ["kekava", "milano", "kekava"],
        ], occurredAt: "2019-12-05T09:30:00Z")
        try test.record("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Second"], occurredAt: "2020")

        try test.engine(extra: [analyst.url]).catchUp()
        let row = try #require(try Self.row(test, "SELECT * FROM probe"))
        // The envelope, from the stored record.
        #expect(row["seq"] == commitment.seq)
        #expect(row["id"] == commitment.id)
        #expect(row["type"] == "funding-committed")
        #expect(row["version"] == 1)
        #expect(row["stream"] == "project/cities4csr")
        #expect(row["stream_version"] == 2)  // after project-registered
        #expect(row["occurred_at"] == "2019-09")
        #expect(row["occurred_start"] == "2019-09-01T00:00:00.000Z")
        #expect(row["occurred_end"] == "2019-09-30T23:59:59.999Z")
        #expect(row["recorded_at"] == commitment.recordedAt)
        #expect(row["recorded_by"] == "clerk-7")
        // Payload fields; a money field binds its amount text, _cents and _currency.
        #expect(row["project"] == "cities4csr")
        #expect(row["funding_source"] == "erdf")
        #expect(row["amount"] == "48454.95")
        #expect(row["amount_cents"] == 4_845_495)
        #expect(row["cents_type"] == "integer")
        #expect(row["amount_currency"] == "EUR")
        #expect(row["rate"] == "85")
        // An absent optional field binds NULL.
        #expect(row["note"] == nil as String?)
        #expect(row["note_type"] == "null")
        // _data is the whole payload as canonical JSON, usable with SQLite's JSON functions.
        #expect(row["data"] == commitment.dataJSON)
        #expect(row["data"] == #"{"amount":{"amount":"48454.95","currency":"EUR"},"funding_source":"erdf","project":"cities4csr","rate":"85"}"#)
        #expect(row["data_amount"] == "48454.95")
        // Meta: source as text, evidence as JSON, the whole meta.
        #expect(row["source"] == "contract, clause 4")
        #expect(row["evidence"] == #"[{"sha256":"\#(String(repeating: "0f", count: 32))","title":"Subsidy contract"}]"#)
        #expect(row["meta"] == commitment.metaJSON)

        // Booleans bind 1/0, integers as integers, arrays as JSON; a missing field is NULL.
        let m1 = try #require(try Self.row(test, "SELECT * FROM meeting_probe WHERE meeting = 'm1'"))
        #expect(m1["online"] == 1)
        #expect(m1["online_type"] == "integer")
        #expect(m1["participants"] == 25)
        #expect(m1["participants_type"] == "integer")
        #expect(m1["organisations"] == #"["kekava","milano","kekava"]"#)
        #expect(m1["organisation_count"] == 3)
        #expect(m1["days"] == nil as Int?)
        let m2 = try #require(try Self.row(test, "SELECT * FROM meeting_probe WHERE meeting = 'm2'"))
        #expect(m2["online"] == nil as Int?)
        #expect(m2["online_type"] == "null")
        #expect(m2["organisations"] == nil as String?)
        #expect(m2["organisation_count"] == 0)
    }

    @Test(arguments: [
        ("48454.95", 4_845_495 as Int64),
        ("0", 0),
        ("0.01", 1),
        ("0.1", 10),
        ("1.5", 150),
        ("8550.87", 855_087),
        ("100", 10_000),
        ("0.29", 29),  // 0.29 × 100 is 28.999999999999996 in floating point
        ("1000000000000", 100_000_000_000_000),
        ("9999999999999.99", 999_999_999_999_999),  // the largest amount the catalog accepts
    ])
    func amountCentsAreExact(amount: String, cents: Int64) throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.projection("probe.sql", Self.probe)
        try test.record("funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": money(amount)], occurredAt: "2019-09-02")
        try test.engine(extra: [analyst.url]).catchUp()
        let row = try #require(try Self.row(test, "SELECT amount, amount_cents, cents_type FROM probe"))
        #expect(row["amount"] == amount)
        #expect(row["amount_cents"] == cents)
        #expect(row["cents_type"] == "integer")
        // The bundled funding projection stores the same integer, and money() prints it back.
        #expect(try Self.values(test, "SELECT amount_cents FROM commitments") == [cents])
        #expect(Money.format(cents: cents) == Self.twoDecimals(amount))
    }

    /// "1.5" → "1.50", "100" → "100.00": the amount with exactly two decimals.
    static func twoDecimals(_ amount: String) -> String {
        let parts = amount.split(separator: ".", omittingEmptySubsequences: false)
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        return "\(parts[0]).\(fraction)\(String(repeating: "0", count: 2 - fraction.count))"
    }

    // MARK: - Valid-time order

    /// Logs the order in which every event reaches a projection.
    static let orderLog = """
        -- projection: order_log
        -- version: 1
        CREATE TABLE order_log (n INTEGER PRIMARY KEY, seq INTEGER NOT NULL, type TEXT NOT NULL, occurred_at TEXT NOT NULL);

        -- on *
        INSERT INTO order_log (seq, type, occurred_at) VALUES (:_seq, :_type, :_occurred_at);
        """

    @Test func replayIsInValidTimeOrderThenSeq() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.projection("order_log.sql", Self.orderLog)
        // Recorded in this order; the comments give the order in which they occurred.
        var seqs: [String: Int64] = [:]
        for (meeting, when) in [
            ("a", "2021-03-01T10:00:00Z"),  // 5th: ten o'clock on 1 March
            ("b", "2021-03"),  // 3rd: March sorts at its first millisecond, with "2021-03-01" after it (seq)
            ("c", "2021"),  // 2nd: the year sorts at 1 January
            ("d", "2021-03-01"),  // 4th: same start as b, recorded later
            ("e", "2020-12-31T23:59:59.999Z"),  // 1st
            ("f", "2021-03-01T10:00:00.000Z"),  // 6th: same instant as a, recorded later
        ] {
            seqs[meeting] = try test.record("meeting-held", ["meeting": .string(meeting), "kind": "workshop", "title": .string("Meeting \(meeting)")], occurredAt: when).seq
        }
        try test.engine(extra: [analyst.url]).catchUp()
        let meetingOrder: [Int64] = try Self.values(test, "SELECT seq FROM order_log WHERE type = 'meeting-held' ORDER BY n")
        #expect(meetingOrder == ["e", "c", "b", "d", "a", "f"].map { seqs[$0]! })
        // Every event, system ones included, arrives by (start of occurred_at, seq).
        let all: [Int64] = try Self.values(test, "SELECT seq FROM order_log ORDER BY n")
        let expected = try test.ledger.events().map { ($0.seq, try OccurredAt($0.occurredAt).start) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
        #expect(all == expected)
        #expect(all.count == Int(try test.head().seq))
    }

    /// An event that a correction moves takes its place among the events already at its new time
    /// by seq, as if it had been recorded there: before a later-recorded one, after an earlier one.
    @Test func aMovedEventTiesWithOthersAtItsNewTimeBySeq() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.projection("order_log.sql", Self.orderLog)
        let early = try test.record("meeting-held", ["meeting": "early", "kind": "workshop", "title": "Early"], occurredAt: "2019-05-01")
        let middle = try test.record("meeting-held", ["meeting": "middle", "kind": "workshop", "title": "Middle"], occurredAt: "2021-06-01")
        let late = try test.record("meeting-held", ["meeting": "late", "kind": "workshop", "title": "Late"], occurredAt: "2023-05-01")
        // Both moved to the middle meeting's day: the early one (lower seq) before it, the late one after.
        for target in [early, late] {
            try test.append(draft: try test.ledger.correctionDraft(of: target.id, occurredAt: "2021-06-01", reason: "date checked"))
        }
        try test.engine(extra: [analyst.url]).catchUp()
        let order: [Int64] = try Self.values(test, "SELECT seq FROM order_log WHERE type = 'meeting-held' ORDER BY n")
        #expect(order == [early.seq, middle.seq, late.seq])
    }

    /// An event a correction moved replays at its new time, from a list kept beside the ordered
    /// scan; an incremental catch-up afterwards applies the events after its checkpoint only, never
    /// that one again (a projection that adds a row per event would hold it twice).
    @Test func anIncrementalCatchUpDoesNotApplyAMovedEventAgain() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.projection("order_log.sql", Self.orderLog)
        let moved = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One"], occurredAt: "2021-03-10")
        try test.append(draft: try test.ledger.correctionDraft(of: moved.id, occurredAt: "2021-02-20", reason: "the minutes are dated 20 February"))
        let engine = try test.engine(extra: [analyst.url])
        try engine.catchUp()
        try test.record("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Two"])
        let summary = try engine.catchUp()
        #expect(summary.incremental.contains("order_log"))
        #expect(try Self.values(test, "SELECT count(*) FROM order_log WHERE seq = ?", [moved.seq]) == [1])
        #expect(try Self.values(test, "SELECT count(*) FROM order_log") == [try test.head().seq], "every event once")
    }

    /// A council dissolution recorded before the formation it ends, or the other way round: the
    /// result follows valid time, whatever order the facts were learned in, with or without a
    /// catch-up in between.
    @Test(arguments: [false, true])
    func backDatedCouncilEventsFollowValidTime(catchUpBetween: Bool) throws {
        let test = try TestLedger().withFixtures()
        let engine = try test.engine()
        for hood in ["ramava", "baldone"] {
            try test.record("neighbourhood-registered", ["neighbourhood": .string(hood), "municipality": "kekava"], occurredAt: "2025")
        }
        // Ramava: the dissolution (June) is recorded first, the formation (March) afterwards.
        try test.record("council-dissolved", ["neighbourhood": "ramava", "reason": "too few members"], occurredAt: "2025-06-01")
        // Baldone: a council formed in September is recorded before the dissolution in June of the one before it.
        try test.record("council-formed", ["neighbourhood": "baldone", "members_count": .integer(7)], occurredAt: "2025-09-01")
        if catchUpBetween { try engine.catchUp() }
        try test.record("council-formed", ["neighbourhood": "ramava", "members_count": .integer(5)], occurredAt: "2025-03-01")
        try test.record("council-dissolved", ["neighbourhood": "baldone"], occurredAt: "2025-06-01")
        if catchUpBetween {
            let summary = try engine.catchUp()
            #expect(summary.rebuilt.contains("councils"), "the back-dated formation makes the councils projection replay")
        }

        let councils = try engine.report("councils")
        #expect(councils.columns == ["neighbourhood", "name", "active_council", "since", "formed_on", "dissolved_on", "members", "coverage", "share"])
        #expect(councils.rows == [
            ["ramava", nil, "no", nil, "2025-03-01", "2025-06-01", 5, nil, nil],
            ["baldone", nil, "yes", "2025-09-01", "2025-09-01", nil, 7, nil, nil],
            ["TOTAL", nil, nil, nil, nil, nil, 7, "1 of 2", "50.00"],
        ])
        // The same as a fresh replay.
        test.deleteProjectionDatabase()
        #expect(try engine.report("councils") == councils)
    }

    // MARK: - Checkpoints, incremental catch-up, rebuilds

    @Test func catchUpIsIncrementalUntilAnEventIsBackDated() throws {
        let test = try TestLedger().withFixtures()
        let engine = try test.engine()
        let first = try engine.catchUp()
        #expect(first.rebuilt == Self.bundledNames, "a new projection database builds every projection")
        #expect(first.incremental.isEmpty)
        #expect(first.applied > 0)

        let again = try engine.catchUp()
        #expect(again == ProjectionEngine.CatchUp(), "nothing new: nothing to do")

        // Events that occurred no earlier than anything applied: incremental.
        try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One", "project": "cities4csr"])
        let incremental = try engine.catchUp()
        #expect(incremental.rebuilt.isEmpty)
        #expect(incremental.incremental == Self.bundledNames)
        #expect(incremental.applied == 2, "the meeting reaches the meetings projection and the audit trail")
        #expect(try Self.values(test, "SELECT meeting FROM meetings") == ["m1"])
        let checkpoint = try #require(try Self.row(test, "SELECT last_seq FROM kopa_checkpoints WHERE projection = 'meetings'"))
        #expect(checkpoint["last_seq"] == (try test.head().seq))

        // A dated meeting whose day began before the meeting above (recorded now): back-dated.
        try test.record("meeting-held", ["meeting": "m0", "kind": "workshop", "title": "Zero", "project": "cities4csr"], occurredAt: "2019-12-05")
        let backDated = try engine.catchUp()
        #expect(backDated.rebuilt.contains("meetings"))
        #expect(backDated.rebuilt.contains("audit_trail"))
        #expect(Set(backDated.rebuilt).isDisjoint(with: backDated.incremental))
        #expect(Set(backDated.rebuilt + backDated.incremental) == Set(Self.bundledNames))
        #expect(try Self.values(test, "SELECT meeting FROM meetings ORDER BY held_on") == ["m0", "m1"])
        #expect(try engine.catchUp() == ProjectionEngine.CatchUp())
    }

    /// An event that starts exactly when the latest one applied did (two meetings of one day, the
    /// commonest case) is not back-dated: it sorts after it by seq, so catch-up stays incremental
    /// (DESIGN.md: "no earlier than"), rather than replaying the projection for every such event.
    @Test(arguments: ["2021-05-10", "2021-05", "2021-05-10T09:30:00Z"])
    func anEventStartingWhenTheLatestAppliedDidCatchesUpIncrementally(occurredAt: String) throws {
        let test = try TestLedger()
        let engine = try test.engine()
        try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One"], occurredAt: occurredAt)
        try engine.catchUp()
        try test.record("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Two"], occurredAt: occurredAt)
        let summary = try engine.catchUp()
        #expect(summary.incremental.contains("meetings"))
        #expect(!summary.rebuilt.contains("meetings"))
        #expect(try Self.values(test, "SELECT meeting FROM meetings ORDER BY meeting") == ["m1", "m2"])
    }

    @Test func aProjectionOnlyReplaysForBackDatedEventsOfTypesItHandles() throws {
        // A meeting of 2019 recorded after a council of 2025 has been applied: the meeting does not
        // reach the councils projection, so it catches up incrementally, and the meetings
        // projection has applied no meeting yet, so nothing it applied is later than this one.
        let test = try TestLedger().withFixtures()
        try test.record("neighbourhood-registered", ["neighbourhood": "ramava", "municipality": "kekava"], occurredAt: "2025")
        try test.record("council-formed", ["neighbourhood": "ramava"], occurredAt: "2025-03-01")
        let engine = try test.engine()
        try engine.catchUp()
        try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One"], occurredAt: "2019-12-05")
        let summary = try engine.catchUp()
        #expect(summary.incremental.contains("councils"))
        #expect(summary.incremental.contains("meetings"))
        #expect(summary.rebuilt == ["audit_trail"], "the audit trail has applied the ledger's creation, which occurred now")
        // A council formed before the one applied: now the councils projection replays.
        try test.record("neighbourhood-registered", ["neighbourhood": "baldone", "municipality": "kekava"], occurredAt: "2025")
        let next = try engine.catchUp()
        #expect(next.rebuilt.contains("councils"))
        #expect(next.incremental.contains("meetings"))
    }

    @Test func correctionsAndRetractionsForceAReplay() throws {
        let test = try TestLedger().withFixtures()
        let meeting = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "Wrong title", "project": "cities4csr"])
        let engine = try test.engine()
        try engine.catchUp()
        let first = try test.append(draft: try test.ledger.correctionDraft(of: meeting.id, set: ["title": "Right title"], reason: "typo"))
        let corrected = try engine.catchUp()
        #expect(corrected.rebuilt == ["meetings"], "only the projection that receives meetings; the audit trail takes the correction as one more event")
        #expect(try Self.values(test, "SELECT title FROM meetings") == ["Right title"])
        // A correction of the correction, and its retraction, are followed back to the meeting.
        let second = try test.append(draft: try test.ledger.correctionDraft(of: first.id, set: ["title": "Righter title"], reason: "typo again"))
        #expect(second.meta["corrects"]?.stringValue == first.id)
        #expect(try engine.catchUp().rebuilt == ["meetings"])
        #expect(try Self.values(test, "SELECT title FROM meetings") == ["Righter title"])
        try test.append(draft: try test.ledger.retractionDraft(of: second.id, reason: "the first correction was right"))
        #expect(try engine.catchUp().rebuilt == ["meetings"])
        #expect(try Self.values(test, "SELECT title FROM meetings") == ["Right title"])
        try test.append(draft: try test.ledger.retractionDraft(of: meeting.id, reason: "never happened"))
        let retracted = try engine.catchUp()
        #expect(retracted.rebuilt == ["meetings"])
        #expect(try Self.values(test, "SELECT title FROM meetings") as [String] == [])
    }

    /// A projection of every type (`-- on *`) that sees events as corrected receives whatever a
    /// correction or retraction concerns, so any of them replays it: caught up incrementally, it
    /// would keep the payload as first recorded, and the withdrawn event.
    @Test func aProjectionOfEveryTypeReplaysForAnyCorrectionOrRetraction() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.projection("payloads.sql", """
            -- projection: payloads
            -- version: 1
            CREATE TABLE payloads (seq INTEGER PRIMARY KEY, data TEXT NOT NULL);

            -- on *
            INSERT INTO payloads VALUES (:_seq, :_data);
            """)
        let meeting = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "Wrong title"], occurredAt: "2021-05-10")
        let engine = try test.engine(extra: [analyst.url])
        try engine.catchUp()
        func title() throws -> [String] {
            try Self.values(test, "SELECT json_extract(data, '$.title') FROM payloads WHERE seq = ?", [meeting.seq])
        }
        #expect(try title() == ["Wrong title"])
        try test.append(draft: try test.ledger.correctionDraft(of: meeting.id, set: ["title": "Right title"], reason: "typo"))
        #expect(try engine.catchUp().rebuilt.contains("payloads"))
        #expect(try title() == ["Right title"])
        try test.append(draft: try test.ledger.retractionDraft(of: meeting.id, reason: "never happened"))
        #expect(try engine.catchUp().rebuilt.contains("payloads"))
        #expect(try title() == [])
    }

    /// A rebuild counts the events its projections receive (what `kopa rebuild NAME` prints): a
    /// meeting that a correction moved is none of the funding projection's, whether or not it moved.
    @Test func aRebuildCountsOnlyTheEventsItsProjectionsReceive() throws {
        let test = try TestLedger().withFixtures()
        try test.record("funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": money("100.00")], occurredAt: "2020-01-01")
        let meeting = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One"], occurredAt: "2021-03-10")
        let engine = try test.engine()
        try engine.catchUp()
        let funding = try #require(engine.set.projections.first { $0.name == "funding" })
        let received = try test.ledger.events().filter { funding.handledTypes.contains($0.type) }.count
        #expect(received > 0 && !funding.handledTypes.contains("meeting-held"))
        #expect(try engine.catchUp(rebuild: ["funding"]).appliedFromStart == received)
        try test.append(draft: try test.ledger.correctionDraft(of: meeting.id, occurredAt: "2021-02-20", reason: "the minutes are dated 20 February"))
        try engine.catchUp()
        #expect(try engine.catchUp(rebuild: ["funding"]).appliedFromStart == received)
    }

    @Test func rebuildOnRequest() throws {
        let test = try TestLedger().withFixtures()
        let engine = try test.engine()
        try engine.catchUp()
        #expect(try engine.catchUp(rebuild: ["councils", "funding"]).rebuilt == ["councils", "funding"])
        #expect(try engine.catchUp(rebuild: nil).rebuilt == Self.bundledNames)
        expectLedgerError(.notFound, mentioning: ["'councel'", "did you mean 'councils'"]) {
            try engine.catchUp(rebuild: ["councel"])
        }
    }

    static func counter(version: Int, extra: String = "") -> String {
        """
        -- projection: meeting_count
        -- version: \(version)
        CREATE TABLE meeting_count (n INTEGER NOT NULL, version INTEGER NOT NULL);
        INSERT INTO meeting_count VALUES (0, \(version));

        -- on meeting-held
        UPDATE meeting_count SET n = n + 1;\(extra)
        """
    }

    @Test func aChangedVersionOrFileRebuildsThatProjection() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.projection("count.sql", Self.counter(version: 1))
        try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One"])
        let first = try test.engine(extra: [analyst.url]).catchUp()
        #expect(first.rebuilt.contains("meeting_count"))

        try test.record("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Two"])
        let second = try test.engine(extra: [analyst.url]).catchUp()
        #expect(second.incremental.contains("meeting_count"))
        #expect(try Self.values(test, "SELECT n FROM meeting_count") == [2])

        // A new version: that projection alone replays from seq 1.
        try analyst.projection("count.sql", Self.counter(version: 2))
        let bumped = try test.engine(extra: [analyst.url]).catchUp()
        #expect(bumped.rebuilt == ["meeting_count"])
        #expect(bumped.incremental.isEmpty)
        #expect(try Self.values(test, "SELECT n || '/' || version FROM meeting_count") == ["2/2"])

        // The same version, an edited file: rebuilt too.
        try analyst.projection("count.sql", Self.counter(version: 2, extra: "\n-- counts every meeting"))
        #expect(try test.engine(extra: [analyst.url]).catchUp().rebuilt == ["meeting_count"])
        #expect(try Self.values(test, "SELECT n FROM meeting_count") == [2])

        // Unchanged: nothing to do.
        #expect(try test.engine(extra: [analyst.url]).catchUp() == ProjectionEngine.CatchUp())
    }

    @Test func aProjectionDatabaseOfAnotherLedgerIsRebuilt() throws {
        let one = try TestLedger().withFixtures()
        let other = try TestLedger().withFixtures()
        try ProjectionEngine(ledger: one.ledger).catchUp()
        try other.record("meeting-held", ["meeting": "m9", "kind": "workshop", "title": "Other"])
        let engine = try ProjectionEngine(ledger: other.ledger, databasePath: one.projectionDatabasePath)
        #expect(try engine.catchUp().rebuilt == Self.bundledNames)
        // The other ledger's meeting (beside the project its fixtures register).
        #expect(try engine.report("timeline").rows.filter { $0[2] != "project-registered" }.map { $0[3] } == ["m9"])
    }

    /// The projection database is written without syncs: after the machine has started again, a
    /// power cut may have torn it without SQLite noticing, so every projection written in another
    /// boot is replayed from the log, and rows written in this one are trusted again.
    @Test func aProjectionWrittenInAnotherBootIsReplayed() throws {
        let test = try TestLedger().withFixtures()
        var before = try test.engine()
        before.boot = "boot-1"
        try before.catchUp()
        try test.record("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Two"])
        // A torn page the checkpoint does not know about: a row that no event made.
        try DatabaseQueue(path: test.projectionDatabasePath).write { db in
            try db.execute(sql: "INSERT INTO meetings (meeting, kind, title, held_on, seq) VALUES ('torn', 'workshop', 'Torn', '2020', 0)")
        }
        var after = try test.engine()
        after.boot = "boot-2"
        let replayed = try after.catchUp()
        #expect(replayed.rebuilt == Self.bundledNames)
        #expect(replayed.incremental.isEmpty)
        #expect(try Self.values(test, "SELECT meeting FROM meetings ORDER BY meeting") == ["m2"])
        #expect(try Self.values(test, "SELECT DISTINCT boot FROM kopa_checkpoints") == ["boot-2"])
        // The same boot: on from the checkpoint.
        try test.record("meeting-held", ["meeting": "m3", "kind": "workshop", "title": "Three"])
        let next = try after.catchUp()
        #expect(next.rebuilt.isEmpty)
        #expect(next.incremental.contains("meetings"))
    }

    #if os(Linux)
    /// Linux gives every boot an id, so the projection database may go without syncs.
    @Test func linuxNamesTheBootAndTheProjectionsGoWithoutSyncs() throws {
        #expect(ProjectionEngine.currentBoot?.count == 36)
        #expect(ProjectionEngine.synchronous == "OFF")
        let test = try TestLedger().withFixtures()
        try test.engine().catchUp()
        #expect(try Self.values(test, "SELECT DISTINCT boot FROM kopa_checkpoints") == [ProjectionEngine.currentBoot!])
    }
    #endif

    /// A projection database made by a Kopa that did not record the boot gets the column, and its
    /// projections count as written in another boot.
    @Test func anOlderProjectionDatabaseGetsTheBootColumnAndIsReplayed() throws {
        let test = try TestLedger().withFixtures()
        try test.engine().catchUp()
        try DatabaseQueue(path: test.projectionDatabasePath).write { db in
            for table in ["kopa_checkpoints", "kopa_snapshots"] { try db.execute(sql: "ALTER TABLE \(table) DROP COLUMN boot") }
        }
        #expect(try test.engine().catchUp().rebuilt == Self.bundledNames)
        #expect(try test.engine().catchUp() == ProjectionEngine.CatchUp())
    }

    // MARK: - Rebuild equality

    @Test func deletingTheProjectionDatabaseGivesIdenticalReports() throws {
        let test = try TestLedger().withFixtures()
        let engine = try test.engine()
        let names = engine.set.reports.keys.sorted()
        // Built step by step: a catch-up after every event, some of them back-dated.
        let script: [(String, [String: JSONValue], String?)] = [
            ("organisation-registered", ["organisation": "milano", "name": "Comune di Milano", "kind": "municipality", "country": "IT"], "2019-01-01"),
            ("partner-joined", ["project": "cities4csr", "organisation": "milano", "role": "lead"], "2019-09-02"),
            ("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Two", "project": "cities4csr", "organisations": ["milano"]], "2020-02-01"),
            ("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One", "project": "cities4csr"], "2019-12-05"),
            ("funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": money("100.10"), "rate": "80"], "2019-09-02"),
            ("funding-committed", ["project": "cities4csr", "funding_source": "municipality", "amount": money("25.03")], nil),
            ("partner-left", ["project": "cities4csr", "organisation": "milano"], "2022-08-07"),
            ("neighbourhood-registered", ["neighbourhood": "ramava", "municipality": "kekava"], "2025"),
            ("council-formed", ["neighbourhood": "ramava", "members_count": .integer(4)], "2025-03"),
        ]
        for (type, data, when) in script {
            try test.record(type, data, occurredAt: when)
            try engine.catchUp()
        }
        let meeting = try #require(try test.ledger.events().first { $0.type == "meeting-held" })
        try test.append(draft: try test.ledger.correctionDraft(of: meeting.id, set: ["title": "Two (corrected)"], occurredAt: "2020-02-02", reason: "minutes"))
        try engine.catchUp()
        let stepwise = try names.map { try engine.report($0) }

        test.deleteProjectionDatabase()
        #expect(!FileManager.default.fileExists(atPath: test.projectionDatabasePath))
        let fresh = try names.map { try engine.report($0) }
        for (name, (a, b)) in zip(names, zip(stepwise, fresh)) {
            #expect(a == b, "report \(name)")
        }
        #expect(FileManager.default.fileExists(atPath: test.projectionDatabasePath))
        // And the same as the reports built for "now" in a temporary database.
        let head = try test.head()
        let known = try names.map { try engine.report($0, time: ReportTime(knownAt: try TimeBound(head.recordedAt))) }
        let temporary = try names.map { name in
            try engine.withProjections(at: ReportTime(asOf: try TimeBound("9999-12-31"))) { db in
                try ProjectionEngine.run(try engine.set.report(name), db: db, parameters: [:])
            }
        }
        for (name, (a, b)) in zip(names, zip(stepwise, known)) { #expect(a == b, "report \(name) known at the head") }
        for (name, (a, b)) in zip(names, zip(stepwise, temporary)) { #expect(a == b, "report \(name) in a temporary database") }
    }

    /// A projection database damaged on disk (it is written without syncs) is said to be damaged,
    /// with what to do, instead of SQLite's "malformed"; once deleted, the next report rebuilds it.
    @Test func aDamagedProjectionDatabaseIsNamedWithWhatToDo() throws {
        let test = try TestLedger().withFixtures()
        let expected = try test.report("overview")
        let path = test.projectionDatabasePath
        // Garbage over every page but the first (the header and schema stay readable).
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size > 4 * 16384, "the database has pages to damage")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 16384)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: size - 16384))
        try handle.close()
        expectLedgerError(.internalError, mentioning: [path, "is damaged", "delete it"]) { _ = try test.report("overview") }
        test.deleteProjectionDatabase()
        #expect(try test.report("overview") == expected)
    }

    /// A report that fails on the data, not on what was given (a sum past SQLite's 64-bit
    /// integers: amounts the schema allows, ~9,300 of the largest), is an internal error (70), and
    /// says what the limit is; it was "input rejected" (65).
    @Test func aReportFailingOnTheDataIsAnInternalErrorThatSaysWhy() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try TemporaryDirectory("kopa-analyst")
        try FileManager.default.createDirectory(at: analyst.url.appendingPathComponent("reports"), withIntermediateDirectories: true)
        try analyst.write("reports/overflow.sql", "SELECT sum(x) AS total FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1)")
        expectLedgerError(.internalError, mentioning: ["overflow.sql", "failed on the data", "integer overflow", "64-bit"]) {
            _ = try test.engine(extra: [analyst.url]).report("overflow")
        }
    }

    // MARK: - Analysts' projections

    @Test func anAnalystsProjectionAndReportInASeparateFolderWork() throws {
        let test = try TestLedger().withFixtures()
        try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One", "project": "cities4csr", "days": .integer(2)], occurredAt: "2019-12-05")
        try test.record("meeting-held", ["meeting": "m2", "kind": "forum", "title": "Two", "project": "cities4csr", "days": .integer(3)], occurredAt: "2021-05")
        try test.record("meeting-held", ["meeting": "m3", "kind": "forum", "title": "Three"], occurredAt: "2021-06-01")
        let analyst = try AnalystFolder()
        try analyst.projection("meeting_days.sql", """
            -- projection: meeting_days
            -- version: 3
            -- description: Meeting days per project.
            CREATE TABLE meeting_days (meeting TEXT PRIMARY KEY, project TEXT, days INTEGER NOT NULL);

            -- on meeting-held
            INSERT INTO meeting_days (meeting, project, days) VALUES (:meeting, COALESCE(:project, '(none)'), COALESCE(:days, 1));
            """)
        try analyst.report("meeting-days.sql", """
            -- description: Meeting days per project, with the project's title from the bundled projection.
            SELECT d.project, p.title, SUM(d.days) AS days, COUNT(*) AS meetings
            FROM meeting_days AS d LEFT JOIN projects AS p ON p.project = d.project
            GROUP BY d.project ORDER BY d.project
            """)
        let engine = try test.engine(extra: [analyst.url])
        #expect(engine.set.projections.map(\.name).last == "meeting_days")
        #expect(engine.set.reports["meeting-days"]?.description == "Meeting days per project, with the project's title from the bundled projection.")
        // The bundled reports are still there.
        #expect(engine.set.reports["overview"] != nil)
        let result = try engine.report("meeting-days")
        #expect(result.columns == ["project", "title", "days", "meetings"])
        #expect(result.rows == [["(none)", nil, 1, 1], ["cities4csr", "Project cities4csr", 5, 2]])
        // As of a past time too.
        let asOf = try engine.report("meeting-days", time: ReportTime(asOf: try TimeBound("2020-12-31")))
        #expect(asOf.rows == [["cities4csr", "Project cities4csr", 2, 1]])
        // The projection's table lives in the projection database beside the bundled ones.
        #expect(try Self.values(test, "SELECT meeting FROM meeting_days ORDER BY meeting") == ["m1", "m2", "m3"])
    }

    /// A streamed report row is read in place: each column's kind, and its text as UTF-8 bytes,
    /// repaired exactly as `String(decoding:as:)` repairs bytes that are not UTF-8, a BLOB as
    /// `<blob>`; `values` gives what the collected report holds.
    @Test func aReportRowReadsColumnsInPlaceAndRepairsTextThatIsNotUTF8() throws {
        let test = try TestLedger().withFixtures()
        let analyst = try AnalystFolder()
        try analyst.report("raw.sql", """
            SELECT CAST(x'41ff42' AS TEXT) AS broken, 'Ķekava' AS fine, x'00ff' AS blob, 7 AS n, 0.5 AS r, NULL AS empty
            """)
        let engine = try test.engine(extra: [analyst.url])
        var kinds: [ReportRow.Kind] = []
        var texts: [[UInt8]] = []
        var values: [[ReportValue]] = []
        try engine.report("raw", columns: { _ in }) { row in
            kinds = (0..<row.count).map(row.kind)
            texts = [0, 1, 2].map { i in row.withText(i) { Array($0) } }
            values.append(row.values)
        }
        #expect(kinds == [.text, .text, .text, .integer, .real, .null])
        #expect(texts == [Array("A\u{FFFD}B".utf8), Array("Ķekava".utf8), Array("<blob>".utf8)])
        #expect(values == [[.text("A\u{FFFD}B"), .text("Ķekava"), .text("<blob>"), .integer(7), .real(0.5), .null]])
        #expect(try engine.report("raw").rows == values)
    }

    /// A new projection database gets 16 KiB pages (set before WAL mode fixes the page size).
    @Test func aNewProjectionDatabaseHasSixteenKibibytePages() throws {
        let test = try TestLedger().withFixtures()
        try test.engine().catchUp()
        let pageSize: [Int] = try Self.values(test, "PRAGMA page_size")
        #expect(pageSize == [ProjectionEngine.pageSize])
        #expect(ProjectionEngine.pageSize == 16384)
    }

    // MARK: - Indexes built after a replay

    static func indexed(trigger: Bool = false) -> String {
        """
        -- projection: held
        -- version: 1
        CREATE TABLE held (meeting TEXT PRIMARY KEY, project TEXT, title TEXT, kind TEXT, n INTEGER NOT NULL);
        CREATE INDEX held_project ON held (project);
        CREATE INDEX held_title ON held (title);
        CREATE UNIQUE INDEX held_kind_meeting ON held (kind, meeting);
        CREATE TABLE held_log (meeting TEXT);\(trigger ? "\nCREATE TRIGGER held_logged AFTER INSERT ON held BEGIN INSERT INTO held_log VALUES (new.meeting); END;" : "")

        -- on meeting-held
        INSERT INTO held (meeting, project, title, kind, n) VALUES (:meeting, :project, :title, :kind, 0);
        UPDATE held SET n = n + 1 WHERE title = :title;
        """
    }

    /// Only an index made by CREATE INDEX, not unique, that no statement's query plan uses, on
    /// tables without triggers, is left to be built after a replay.
    @Test(arguments: [false, true])
    func onlyUnusedPlainIndexesAreDeferred(trigger: Bool) throws {
        let test = try TestLedger()
        let analyst = try AnalystFolder()
        try analyst.projection("held.sql", Self.indexed(trigger: trigger))
        let engine = try test.engine(extra: [analyst.url])
        let definition = try #require(engine.set.projections.first { $0.name == "held" })
        let queue = try DatabaseQueue(path: test.directory.path("deferred.sqlite"), configuration: SQLiteSetup.configuration())
        let names: [String] = try queue.write { db in
            try ProjectionEngine.defineTables(definition, in: db)
            let compiled = try CompiledProjection(definition, catalog: test.ledger.catalog, db: db)
            defer { compiled.finalize() }
            let statements = compiled.statements.values.flatMap { $0 }
            return try ProjectionEngine.deferrableIndexes(of: ["held", "held_log"], statements: statements, in: db).map(\.name)
        }
        #expect(names == (trigger ? [] : ["held_project"]))
    }

    /// After a replay that deferred an index, the index is there and the rows are right (a statement
    /// searching by another index still finds its rows); snapshot files hold only tables.
    @Test func aDeferredIndexIsThereAfterTheReplay() throws {
        let test = try TestLedger().withFixtures()
        for i in 1...12 {
            var data: [String: JSONValue] = ["meeting": .string("m\(i)"), "kind": i % 2 == 0 ? "workshop" : "forum", "title": .string("T\(i % 3)")]
            if i % 4 == 0 { data["project"] = "cities4csr" }
            try test.record("meeting-held", data, occurredAt: "2020-0\(i % 9 + 1)-01")
        }
        let analyst = try AnalystFolder()
        try analyst.projection("held.sql", Self.indexed())
        var engine = try test.engine(extra: [analyst.url])
        engine.snapshotMinimumEvents = 0
        try engine.catchUp()
        let indexes: [String] = try Self.values(test, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'held' AND sql IS NOT NULL ORDER BY name")
        #expect(indexes == ["held_kind_meeting", "held_project", "held_title"])
        let rows: [String] = try Self.values(test, "SELECT meeting || ' ' || COALESCE(project, '-') || ' ' || n FROM held ORDER BY meeting")
        #expect(rows.count == 12)
        // Titled T0: m9 (January), m3 and m12 (April, in seq order), m6 (July); each insert counts
        // up every T0 meeting applied so far, itself included.
        #expect(rows.contains("m9 - 4") && rows.contains("m3 - 3") && rows.contains("m12 cities4csr 2") && rows.contains("m6 - 1"), "\(rows)")
        // Snapshot files: tables only.
        let files = try FileManager.default.contentsOfDirectory(atPath: engine.snapshotFolder).filter { $0.hasPrefix("cut-") }
        #expect(!files.isEmpty)
        for file in files {
            let extra = try DatabaseQueue(path: engine.snapshotFolder + "/" + file, configuration: SQLiteSetup.configuration()).read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL")
            }
            #expect(extra == [], "\(file)")
        }
    }

    @Test func aNameDefinedTwiceIsRejected() throws {
        let test = try TestLedger()
        let analyst = try AnalystFolder()
        let file = try analyst.projection("mine.sql", "-- projection: councils\n-- version: 1\nCREATE TABLE mine (x INTEGER);\n")
        expectLedgerError(.invalidInput, mentioning: ["'councils'", "defined twice", file]) { _ = try test.engine(extra: [analyst.url]) }
        let other = try AnalystFolder()
        let report = try other.report("overview.sql", "SELECT 1")
        expectLedgerError(.invalidInput, mentioning: ["'overview'", "defined twice", report]) { _ = try test.engine(extra: [other.url]) }
    }

    // MARK: - Errors in projection files

    enum FileError: String, CaseIterable, CustomTestStringConvertible {
        case syntaxInHandler, syntaxInSchema, unknownTable, unknownParameter, centsOfTextField, constraintFailure, afterABlockComment
        var testDescription: String { rawValue }

        /// The projection file (the failing statement is on line 7 in each).
        var sql: String {
            let header = "-- projection: broken\n-- version: 1\nCREATE TABLE broken (meeting TEXT PRIMARY KEY, title TEXT NOT NULL);\n\n-- on meeting-held\nINSERT INTO broken (meeting, title) VALUES (:meeting, :title);\n"
            switch self {
            case .syntaxInHandler: return header + "UPDTE broken SET title = :title WHERE meeting = :meeting;\n"
            case .syntaxInSchema:
                return "-- projection: broken\n-- version: 1\nCREATE TABLE broken (meeting TEXT PRIMARY KEY);\n\n\n\nCREAT TABLE other (x INTEGER);\n\n-- on meeting-held\nINSERT INTO broken (meeting) VALUES (:meeting);\n"
            case .unknownTable: return header + "INSERT INTO meeting_titles (meeting, title) VALUES (:meeting, :title);\n"
            case .unknownParameter: return header + "UPDATE broken SET title = :titel WHERE meeting = :meeting;\n"
            // `_cents` and `_currency` exist for money fields only: on a text they would bind NULL unnoticed.
            case .centsOfTextField: return header + "UPDATE broken SET title = :title_cents WHERE meeting = :meeting;\n"
            case .constraintFailure: return header + "INSERT INTO broken (meeting, title) VALUES (:meeting || '-copy', :description);\n"
            case .afterABlockComment:
                // The statement's line, not the comment's (5).
                return "-- projection: broken\n-- version: 1\nCREATE TABLE broken (meeting TEXT PRIMARY KEY);\n-- on meeting-held\n/* titles moved\n   to their own table */\nINSERT INTO meeting_titles (meeting) VALUES (:meeting);\n"
            }
        }

        /// What the error must name besides the file and line.
        var fragments: [String] {
            switch self {
            case .syntaxInHandler: ["near \"UPDTE\": syntax error", "meeting-held"]
            case .syntaxInSchema: ["near \"CREAT\": syntax error"]
            case .unknownTable: ["no such table: meeting_titles", "meeting-held"]
            case .unknownParameter: ["':titel'", "'meeting-held'", "did you mean ':title'?"]
            case .centsOfTextField: ["parameter ':title_cents' is not a field of 'meeting-held'"]
            case .constraintFailure: ["NOT NULL constraint failed: broken.title", "'meeting-held'"]
            case .afterABlockComment: ["no such table: meeting_titles", "meeting-held"]
            }
        }
    }

    @Test(arguments: FileError.allCases)
    func anErrorInAProjectionFileNamesFileLineEventAndMessageAndChangesNothing(error: FileError) throws {
        let test = try TestLedger().withOneMeeting()
        try test.ledger.engineCatchUp()
        let before = try dumpDatabase(test.projectionDatabasePath)
        // New events the bundled projections would apply if the catch-up went through.
        try test.record("meeting-held", ["meeting": "m2", "kind": "workshop", "title": "Two"], occurredAt: "2020-01-10")
        let meeting = try test.record("meeting-held", ["meeting": "m3", "kind": "workshop", "title": "Three"], occurredAt: "2020-02-10")

        let analyst = try AnalystFolder()
        let file = try analyst.projection("broken.sql", error.sql)
        try analyst.report("broken.sql", "SELECT meeting FROM broken ORDER BY meeting")
        let engine = try test.engine(extra: [analyst.url])
        var fragments = error.fragments + ["\(file):7"]
        if error == .constraintFailure {
            // The first event the statement fails on: m1, applied first in valid time.
            let m1 = try #require(try test.ledger.events().first { $0.type == "meeting-held" })
            fragments += ["seq \(m1.seq)"]
            #expect(m1.seq < meeting.seq)
        }
        expectLedgerError(.invalidInput, mentioning: fragments) { try engine.catchUp() }
        #expect(try dumpDatabase(test.projectionDatabasePath) == before, "the projection database is left as it was")
        // Reports for a past time fail the same way, and still change nothing.
        expectLedgerError(.invalidInput, mentioning: fragments) {
            _ = try engine.report("broken", time: ReportTime(asOf: try TimeBound("2030-01-01")))
        }
        #expect(try dumpDatabase(test.projectionDatabasePath) == before)
        // Without the broken file everything catches up.
        let summary = try test.engine().catchUp()
        #expect(summary.rebuilt.contains("meetings") || summary.incremental.contains("meetings"))
        #expect(try Self.values(test, "SELECT meeting FROM meetings ORDER BY meeting") == ["m1", "m2", "m3"])
    }

    @Test(arguments: [
        ("-- version: 1\nCREATE TABLE x (a INTEGER);\n", "missing header line '-- projection: NAME'"),
        ("-- projection: bad name!\n", "projection name 'bad name!'"),
        ("-- projection: x\n-- version: two\n", ":2: version 'two' is not a positive integer"),
        ("-- projection: x\nCREATE TABLE x (a INTEGER);\n-- on meeting held!\nSELECT 1;\n", ":3: '-- on meeting held!' does not name an event type"),
        ("-- projection: x\n-- version: 1\n-- events: as stored\n", ":3: '-- events: as stored' is neither 'as recorded' nor 'corrected'"),
    ])
    func aMalformedProjectionFileIsRejectedWhenLoaded(sql: String, fragment: String) throws {
        let test = try TestLedger()
        let analyst = try AnalystFolder()
        let file = try analyst.projection("bad.sql", sql)
        expectLedgerError(.invalidInput, mentioning: [file, fragment]) { _ = try test.engine(extra: [analyst.url]) }
    }

    @Test func aHandlerForAnUnknownEventTypeNamesTheLine() throws {
        let test = try TestLedger()
        let analyst = try AnalystFolder()
        let file = try analyst.projection("typo.sql", "-- projection: typo\n-- version: 1\nCREATE TABLE typo (a TEXT);\n\n-- on meting-held\nINSERT INTO typo VALUES (:meeting);\n")
        expectLedgerError(.invalidInput, mentioning: ["\(file):5", "'-- on meting-held'", "did you mean 'meeting-held'"]) {
            try test.engine(extra: [analyst.url]).catchUp()
        }
    }
}

extension Ledger {
    /// Catches up the bundled projections of this ledger.
    func engineCatchUp() throws {
        try ProjectionEngine(ledger: self).catchUp()
    }
}
