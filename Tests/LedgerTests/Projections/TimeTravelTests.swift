import Foundation
import GRDB
import KopaTestSupport
import Testing

@testable import Ledger

/// Time travel and corrections (issue 5): reports as of a valid time and as known at a
/// transaction time, corrections and retractions applied by the engine, state and history of an
/// entity at a time, the corrections that are rejected, and the rule that a report as known at T
/// equals the report of a ledger holding only what was recorded by T.
@Suite("time travel")
struct TimeTravelTests {
    // MARK: - Scenarios

    /// One question asked of a report: the value of `column` in the row whose `key` column holds
    /// `keyValue`, as of `asOf` and as known at `knownAt` (nil: now).
    struct Check {
        var label: String
        var report = "overview"
        var asOf: String?
        var knownAt: String?
        var key = "project"
        var keyValue: ReportValue = "p1"
        var column: String
        var expected: ReportValue
    }

    /// A ledger story and the answers worked out by hand.
    struct Scenario: Sendable, CustomTestStringConvertible {
        let name: String
        let build: @Sendable (TestLedger) throws -> [Check]
        var testDescription: String { name }
    }

    /// Ķekava and project p1 (registered 2019-09-02, no lead partner).
    @discardableResult
    static func base(_ test: TestLedger) throws -> EventRecord {
        try test.org("kekava", "Ķekavas novada pašvaldība")
        return try test.record("project-registered", ["project": "p1", "title": "Project One", "programme": "URBACT III", "network_type": "action-planning"], occurredAt: "2019-09-02")
    }

    @discardableResult
    static func meeting(_ test: TestLedger, _ slug: String, _ date: String) throws -> EventRecord {
        tick()
        return try test.record("meeting-held", ["meeting": .string(slug), "kind": "workshop", "title": .string("Meeting \(slug)"), "project": "p1"], occurredAt: date)
    }

    @discardableResult
    static func commit(_ test: TestLedger, _ source: String, _ amount: String, rate: String) throws -> EventRecord {
        tick()
        return try test.record("funding-committed", ["project": "p1", "funding_source": .string(source), "amount": money(amount), "rate": .string(rate)], occurredAt: "2019-09-02")
    }

    @discardableResult
    static func correct(_ test: TestLedger, _ target: EventRecord, set: [String: JSONValue] = [:], occurredAt: String? = nil, reason: String = "checked against the contract") throws -> EventRecord {
        tick()
        return try test.append(draft: try test.ledger.correctionDraft(of: target.id, set: set, occurredAt: occurredAt, reason: reason))
    }

    @discardableResult
    static func retract(_ test: TestLedger, _ target: EventRecord, reason: String = "recorded by mistake") throws -> EventRecord {
        tick()
        return try test.append(draft: try test.ledger.retractionDraft(of: target.id, reason: reason))
    }

    /// The instant halfway between two recorded times.
    static func between(_ a: String, _ b: String) -> String {
        UTCTime.format(millis: (TimeBound.millis(a) + TimeBound.millis(b)) / 2)
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "a back-dated meeting recorded after a report was certified") { test in
            try base(test)
            let m1 = try meeting(test, "m1", "2021-05-10")
            let certified = m1.recordedAt  // the report was certified at this instant
            let m2 = try meeting(test, "m2", "2021-04-20")  // learned later, happened earlier
            return [
                Check(label: "as known when certified", knownAt: certified, column: "meetings_held", expected: 1),
                Check(label: "as known just after", knownAt: m2.recordedAt, column: "meetings_held", expected: 2),
                Check(label: "now", column: "meetings_held", expected: 2),
                Check(label: "April, as known when certified", asOf: "2021-04-30", knownAt: certified, column: "meetings_held", expected: 0),
                Check(label: "April, as known now", asOf: "2021-04-30", column: "meetings_held", expected: 1),
                Check(label: "10 May, as known when certified", asOf: "2021-05-10", knownAt: certified, column: "meetings_held", expected: 1),
                Check(label: "9 May, as known now", asOf: "2021-05-09", column: "meetings_held", expected: 1),
            ]
        },
        Scenario(name: "a funding amount corrected twice") { test in
            let project = try base(test)
            let commitment = try commit(test, "erdf", "1000.00", rate: "80")
            let first = try correct(test, commitment, set: ["amount": money("1200.00")])
            let second = try correct(test, commitment, set: ["amount": money("1150.50")])
            let t0 = commitment.recordedAt, t1 = first.recordedAt, t2 = second.recordedAt
            return [
                Check(label: "before the commitment", knownAt: project.recordedAt, column: "committed", expected: "0.00"),
                Check(label: "as recorded", knownAt: t0, column: "committed", expected: "1000.00"),
                Check(label: "between recording and the first correction", knownAt: between(t0, t1), column: "committed", expected: "1000.00"),
                Check(label: "at the first correction", knownAt: t1, column: "committed", expected: "1200.00"),
                Check(label: "between the corrections", knownAt: between(t1, t2), column: "committed", expected: "1200.00"),
                Check(label: "at the second correction", knownAt: t2, column: "committed", expected: "1150.50"),
                Check(label: "now", column: "committed", expected: "1150.50"),
                Check(label: "now, ERDF share", column: "erdf_share", expected: "100.00"),
                Check(label: "as of the day it was committed, as recorded", asOf: "2019-09-02", knownAt: t0, column: "committed", expected: "1000.00"),
                Check(label: "funding report between the corrections", report: "funding", knownAt: between(t1, t2), key: "funding_source", keyValue: "erdf", column: "committed", expected: "1200.00"),
                Check(label: "funding report, agreed rate unchanged", report: "funding", key: "funding_source", keyValue: "erdf", column: "agreed_rate", expected: "80.00"),
            ]
        },
        Scenario(name: "a retracted council formation") { test in
            try base(test)
            for hood in ["n1", "n2", "n3"] {
                try test.record("neighbourhood-registered", ["neighbourhood": .string(hood), "municipality": "kekava"], occurredAt: "2025-01")
            }
            try test.record("council-formed", ["neighbourhood": "n1"], occurredAt: "2025-03-01")
            tick()
            let formed = try test.record("council-formed", ["neighbourhood": "n2"], occurredAt: "2025-04-01")
            let retraction = try retract(test, formed, reason: "the council was only proposed")
            func coverage(_ label: String, asOf: String? = nil, knownAt: String?, _ expected: ReportValue) -> Check {
                Check(label: label, report: "councils", asOf: asOf, knownAt: knownAt, key: "neighbourhood", keyValue: "TOTAL", column: "coverage", expected: expected)
            }
            return [
                coverage("before the retraction", knownAt: formed.recordedAt, "2 of 3"),
                Check(label: "share before", report: "councils", knownAt: formed.recordedAt, key: "neighbourhood", keyValue: "TOTAL", column: "share", expected: "66.67"),
                coverage("at the retraction", knownAt: retraction.recordedAt, "1 of 3"),
                coverage("now", knownAt: nil, "1 of 3"),
                Check(label: "share now", report: "councils", key: "neighbourhood", keyValue: "TOTAL", column: "share", expected: "33.33"),
                coverage("March, before the retraction", asOf: "2025-03-31", knownAt: formed.recordedAt, "1 of 3"),
                Check(label: "n2 before", report: "councils", knownAt: formed.recordedAt, key: "neighbourhood", keyValue: "n2", column: "active_council", expected: "yes"),
                Check(label: "n2 now", report: "councils", key: "neighbourhood", keyValue: "n2", column: "active_council", expected: "no"),
                Check(label: "n2 formed_on now", report: "councils", key: "neighbourhood", keyValue: "n2", column: "formed_on", expected: nil),
            ]
        },
        Scenario(name: "a correction moves a meeting into the as-of period") { test in
            try base(test)
            let m1 = try meeting(test, "m1", "2021-03-10")
            let moved = try correct(test, m1, occurredAt: "2021-02-20", reason: "the minutes are dated 20 February")
            return [
                Check(label: "February, as first recorded", asOf: "2021-02-28", knownAt: m1.recordedAt, column: "meetings_held", expected: 0),
                Check(label: "February, after the correction", asOf: "2021-02-28", knownAt: moved.recordedAt, column: "meetings_held", expected: 1),
                Check(label: "February, now", asOf: "2021-02-28", column: "meetings_held", expected: 1),
                Check(label: "March, as first recorded", asOf: "2021-03-31", knownAt: m1.recordedAt, column: "meetings_held", expected: 1),
                Check(label: "timeline date as first recorded", report: "timeline", knownAt: m1.recordedAt, key: "subject", keyValue: "m1", column: "date", expected: "2021-03-10"),
                Check(label: "timeline date now", report: "timeline", key: "subject", keyValue: "m1", column: "date", expected: "2021-02-20"),
            ]
        },
        Scenario(name: "a correction moves a meeting out of the as-of period") { test in
            try base(test)
            let m1 = try meeting(test, "m1", "2021-02-15")
            let moved = try correct(test, m1, occurredAt: "2021-03", reason: "held in March, day unknown")
            return [
                Check(label: "February, as first recorded", asOf: "2021-02-28", knownAt: m1.recordedAt, column: "meetings_held", expected: 1),
                Check(label: "February, after the correction", asOf: "2021-02-28", knownAt: moved.recordedAt, column: "meetings_held", expected: 0),
                // "2021-03" has happened only once March is over.
                Check(label: "mid-March, now", asOf: "2021-03-15", column: "meetings_held", expected: 0),
                Check(label: "end of March, now", asOf: "2021-03-31", column: "meetings_held", expected: 1),
                Check(label: "timeline date now", report: "timeline", key: "subject", keyValue: "m1", column: "date", expected: "2021-03"),
            ]
        },
        // A moved event replays from the side list at its corrected time: once retracted, it
        // must leave that list too, or a withdrawn meeting is counted at its new date.
        Scenario(name: "a meeting moved by a correction, then retracted") { test in
            try base(test)
            let m1 = try meeting(test, "m1", "2021-03-10")
            let moved = try correct(test, m1, occurredAt: "2021-02-20", reason: "the minutes are dated 20 February")
            let retraction = try retract(test, m1, reason: "the meeting was cancelled")
            return [
                Check(label: "after the correction", knownAt: moved.recordedAt, column: "meetings_held", expected: 1),
                Check(label: "at the retraction", knownAt: retraction.recordedAt, column: "meetings_held", expected: 0),
                Check(label: "now", column: "meetings_held", expected: 0),
                Check(label: "February, now", asOf: "2021-02-28", column: "meetings_held", expected: 0),
            ]
        },
        Scenario(name: "as of and known at combined") { test in
            let project = try base(test)
            try test.org("milano", "Comune di Milano", country: "IT")
            tick()
            let joined = try test.record("partner-joined", ["project": "p1", "organisation": "milano", "role": "partner"], occurredAt: "2020-01-15")
            tick()
            let left = try test.record("partner-left", ["project": "p1", "organisation": "milano"], occurredAt: "2020-06-30")
            return [
                Check(label: "March 2020 as known at the join", asOf: "2020-03-01", knownAt: joined.recordedAt, column: "partners", expected: 1),
                Check(label: "March 2020 as known at the leave", asOf: "2020-03-01", knownAt: left.recordedAt, column: "partners", expected: 1),
                Check(label: "end of 2020 as known at the join", asOf: "2020-12-31", knownAt: joined.recordedAt, column: "partners", expected: 1),
                Check(label: "end of 2020 as known at the leave", asOf: "2020-12-31", knownAt: left.recordedAt, column: "partners", expected: 0),
                Check(label: "end of 2019 as known at the leave", asOf: "2019-12-31", knownAt: left.recordedAt, column: "partners", expected: 0),
                Check(label: "end of 2020 before the join was recorded", asOf: "2020-12-31", knownAt: project.recordedAt, column: "partners", expected: 0),
                Check(label: "30 June 2020 (the day it left) as known now", asOf: "2020-06-30", column: "partners", expected: 0),
                Check(label: "29 June 2020 as known now", asOf: "2020-06-29", column: "partners", expected: 1),
                Check(label: "partners report, left_on, as known at the join", report: "partners", knownAt: joined.recordedAt, key: "organisation", keyValue: "milano", column: "left_on", expected: nil),
                Check(label: "partners report, left_on, now", report: "partners", key: "organisation", keyValue: "milano", column: "left_on", expected: "2020-06-30"),
            ]
        },
        Scenario(name: "a correction of a correction") { test in
            try base(test)
            let commitment = try commit(test, "erdf", "1000.00", rate: "80")
            let first = try correct(test, commitment, set: ["amount": money("2000.00")])
            let second = try correct(test, first, set: ["amount": money("1500.00")], reason: "the first correction was wrong too")
            return [
                Check(label: "as recorded", knownAt: commitment.recordedAt, column: "committed", expected: "1000.00"),
                Check(label: "first correction", knownAt: first.recordedAt, column: "committed", expected: "2000.00"),
                Check(label: "second correction", knownAt: second.recordedAt, column: "committed", expected: "1500.00"),
                Check(label: "now", column: "committed", expected: "1500.00"),
            ]
        },
        Scenario(name: "a retraction of a correction") { test in
            try base(test)
            let commitment = try commit(test, "erdf", "1000.00", rate: "80")
            let correction = try correct(test, commitment, set: ["amount": money("2000.00")])
            let retraction = try retract(test, correction, reason: "the original amount was right")
            return [
                Check(label: "corrected", knownAt: correction.recordedAt, column: "committed", expected: "2000.00"),
                Check(label: "correction retracted", knownAt: retraction.recordedAt, column: "committed", expected: "1000.00"),
                Check(label: "now", column: "committed", expected: "1000.00"),
            ]
        },
        Scenario(name: "a correction of events that opened their streams") { test in
            let project = try base(test)
            let kekava = try #require(try test.ledger.events().first { $0.type == "organisation-registered" })
            let renamed = try correct(test, project, set: ["title": "Project Uno", "lead_partner": "kekava"])
            let orgRenamed = try correct(test, kekava, set: ["name": "Ķekava Municipality"])
            return [
                Check(label: "title as registered", knownAt: project.recordedAt, column: "title", expected: "Project One"),
                Check(label: "no lead as registered", knownAt: project.recordedAt, column: "lead_partner", expected: nil),
                Check(label: "title corrected", knownAt: renamed.recordedAt, column: "title", expected: "Project Uno"),
                Check(label: "lead added", knownAt: renamed.recordedAt, column: "lead_partner", expected: "Ķekavas novada pašvaldība"),
                Check(label: "lead's name corrected", knownAt: orgRenamed.recordedAt, column: "lead_partner", expected: "Ķekava Municipality"),
                Check(label: "now, counted as a partner", column: "partners", expected: 1),
            ]
        },
        Scenario(name: "a meeting known only by its month has happened from the end of the month") { test in
            try base(test)
            try meeting(test, "m1", "2021-05")
            return [
                Check(label: "the month's first day", asOf: "2021-05-01", column: "meetings_held", expected: 0),
                Check(label: "mid-month", asOf: "2021-05-15", column: "meetings_held", expected: 0),
                Check(label: "the month's last day", asOf: "2021-05-31", column: "meetings_held", expected: 1),
                Check(label: "the month's last millisecond", asOf: "2021-05-31T23:59:59.999Z", column: "meetings_held", expected: 1),
                Check(label: "a millisecond before", asOf: "2021-05-31T23:59:59.998Z", column: "meetings_held", expected: 0),
            ]
        },
    ]

    @Test(arguments: scenarios)
    func scenario(_ scenario: Scenario) throws {
        let test = try TestLedger(actor: "auditor-1")
        let checks = try scenario.build(test)
        #expect(!checks.isEmpty)
        let engine = try test.engine()
        for check in checks {
            let time = ReportTime(asOf: try check.asOf.map { try TimeBound($0) }, knownAt: try check.knownAt.map { try TimeBound($0) })
            let result = try engine.report(check.report, time: time)
            let rows = result.rows(where: check.key, is: check.keyValue)
            guard rows.count == 1 else {
                Issue.record("\(check.label): expected one row with \(check.key) = \(check.keyValue) in \(check.report), found \(rows.count)")
                continue
            }
            #expect(rows[0][check.column] == check.expected, "\(check.label): \(check.report).\(check.column)")
        }
        // Whatever was asked before, the report now equals a fresh rebuild.
        let now = try engine.report("overview")
        test.deleteProjectionDatabase()
        #expect(try engine.report("overview") == now)
    }

    // MARK: - The change log at each time

    @Test func theChangeLogAsKnownAtEachTime() throws {
        let test = try TestLedger(actor: "auditor-1")
        try Self.base(test)
        let commitment = try Self.commit(test, "erdf", "1000.00", rate: "80")
        let correction = try Self.correct(test, commitment, set: ["amount": money("1200.00")], reason: "contract annex 2")
        let moved = try Self.correct(test, commitment, occurredAt: "2019-10-01", reason: "signed in October")
        let engine = try test.engine()
        let before = try engine.report("change-log", time: ReportTime(knownAt: try TimeBound(commitment.recordedAt)))
        #expect(before.rows.isEmpty)
        let first = try engine.report("change-log", time: ReportTime(knownAt: try TimeBound(correction.recordedAt)))
        #expect(first.projected(["seq", "action", "target", "target_type", "changes", "new_occurred_at", "recorded_by", "reason"]) == [[
            .integer(correction.seq), "corrected", .text(commitment.id), "funding-committed",
            #"[{"field":"amount","from":{"amount":"1000.00","currency":"EUR"},"to":{"amount":"1200.00","currency":"EUR"}}]"#,
            nil, "auditor-1", "contract annex 2",
        ]])
        let now = try engine.report("change-log")
        #expect(now.column("seq") == [.integer(correction.seq), .integer(moved.seq)])
        let last = try now.row(where: "seq", is: .integer(moved.seq))
        #expect(last["changes"] == #"[{"field":"occurred_at","from":"2019-09-02","to":"2019-10-01"}]"#)
        #expect(last["new_occurred_at"] == "2019-10-01")
        #expect(last["recorded_at"] == .text(moved.recordedAt))
        // The second correction kept the first one's amount.
        #expect(try engine.report("overview").rows.first?[8] == "1200.00")
        #expect(try engine.report("timeline").rows.filter { $0[2] == "funding-committed" }.map { $0[0] } == ["2019-10-01"])
    }

    // MARK: - State and history of one entity at a time

    /// An event as precise as a month has happened as of the month's end, not before: the state
    /// of its stream as of a day inside the month leaves it out.
    @Test func stateAsOfADayInsideAMonthPreciseEventLeavesItOut() throws {
        let test = try TestLedger(actor: "auditor-1")
        try Self.base(test)
        try test.record("funding-committed", ["project": "p1", "funding_source": "erdf", "amount": money("1000.00"), "rate": "80"], occurredAt: "2021-05")
        func facts(asOf: String) throws -> [String] {
            try test.ledger.state(of: "project/p1", time: ReportTime(asOf: try TimeBound(asOf))).facts.map(\.occurredAt)
        }
        #expect(try facts(asOf: "2021-05-15") == [])
        #expect(try facts(asOf: "2021-05-31T23:59:59.998Z") == [])
        #expect(try facts(asOf: "2021-05-31") == ["2021-05"])
        let history = try test.ledger.history(of: "project/p1", time: ReportTime(asOf: try TimeBound("2021-05-15")))
        #expect(history.map(\.record.type) == ["project-registered"])
    }

    /// State folds a stream in valid-time order, not in the order it was recorded: a back-dated
    /// event recorded last comes first among the facts.
    @Test func stateListsFactsInValidTimeOrderNotRecordedOrder() throws {
        let test = try TestLedger(actor: "auditor-1")
        try Self.base(test)
        let later = try test.record("funding-committed", ["project": "p1", "funding_source": "erdf", "amount": money("1000.00"), "rate": "80"], occurredAt: "2021-03-01")
        let earlier = try test.record("funding-committed", ["project": "p1", "funding_source": "state", "amount": money("50.00"), "rate": "5"], occurredAt: "2020-03-01")
        let sameDay = try test.record("funding-committed", ["project": "p1", "funding_source": "municipality", "amount": money("10.00"), "rate": "1"], occurredAt: "2020-03-01")
        let state = try test.ledger.state(of: "project/p1")
        #expect(state.facts.map(\.seq) == [earlier.seq, sameDay.seq, later.seq])
        #expect(state.facts.map(\.occurredAt) == ["2020-03-01", "2020-03-01", "2021-03-01"])
        #expect(state.events.map(\.seq).suffix(3) == [earlier.seq, sameDay.seq, later.seq])
    }

    @Test func stateAndHistoryAtATime() throws {
        let test = try TestLedger(actor: "auditor-1")
        try Self.base(test)
        let m1 = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "Wrong", "project": "p1", "participants": .integer(10)], occurredAt: "2021-03-10")
        let first = try Self.correct(test, m1, set: ["title": "Right", "participants": .integer(12)], reason: "minutes")
        let second = try Self.correct(test, first, occurredAt: "2021-03-11", reason: "date in the minutes")
        func state(asOf: String? = nil, knownAt: String? = nil) throws -> EntityState {
            try test.ledger.state(of: "meeting/m1", time: ReportTime(asOf: try asOf.map { try TimeBound($0) }, knownAt: try knownAt.map { try TimeBound($0) }))
        }
        // Now: both corrections applied.
        let now = try state()
        #expect(now.fields["title"] == "Right")
        #expect(now.fields["participants"] == .integer(12))
        #expect(now.fields["kind"] == "workshop")
        #expect(now.events.map(\.seq) == [m1.seq])
        #expect(now.events.map(\.occurredAt) == ["2021-03-11"])
        // As known when it was recorded, and between the corrections.
        let recorded = try state(knownAt: m1.recordedAt)
        #expect(recorded.fields["title"] == "Wrong")
        #expect(recorded.fields["participants"] == .integer(10))
        #expect(recorded.events.map(\.occurredAt) == ["2021-03-10"])
        let between = try state(knownAt: Self.between(first.recordedAt, second.recordedAt))
        #expect(between.fields["title"] == "Right")
        #expect(between.events.map(\.occurredAt) == ["2021-03-10"])
        // As of 10 March: it had happened by then only as known before the second correction.
        #expect(try state(asOf: "2021-03-10").events.isEmpty)
        #expect(try state(asOf: "2021-03-10", knownAt: first.recordedAt).fields["title"] == "Right")
        #expect(try state(asOf: "2021-03-11").events.count == 1)
        // A stream that did not exist yet.
        expectLedgerError(.notFound, mentioning: ["meeting/m1"]) {
            _ = try test.ledger.state(of: "meeting/m1", time: ReportTime(knownAt: try TimeBound("2000-01-01")))
        }
        expectLedgerError(.notFound, mentioning: ["meeting/none"]) { _ = try test.ledger.state(of: "meeting/none") }

        // History: every event of the stream, corrections beside the event they correct.
        let history = try test.ledger.history(of: "meeting/m1")
        #expect(history.map(\.record.seq) == [m1.seq, first.seq, second.seq])
        #expect(history.map(\.record.type) == ["meeting-held", "event-corrected", "event-corrected"])
        #expect(history[0].corrected)
        #expect(!history[0].retracted)
        #expect(history[0].changes == ["kind = 'workshop'", "meeting = 'm1'", "participants = 10", "project = 'p1'", "title = 'Wrong'"])
        #expect(history[1].changes == ["corrects seq \(m1.seq)", "participants: 10 → 12", "title: 'Wrong' → 'Right'", "reason: minutes"])
        #expect(history[2].changes == ["corrects seq \(first.seq)", "occurred_at: '2021-03-10' → '2021-03-11'", "reason: date in the minutes"])
        #expect(history.allSatisfy { $0.record.recordedBy == "auditor-1" })
        // At a valid time the meeting counts by its corrected date (the 11th), and its corrections
        // go with it (their own occurred_at is when they were recorded, in the test's present).
        func seqs(asOf: String) throws -> [Int64] {
            try test.ledger.history(of: "meeting/m1", time: ReportTime(asOf: try TimeBound(asOf))).map(\.record.seq)
        }
        #expect(try seqs(asOf: "2021-03-10").isEmpty)
        #expect(try seqs(asOf: "2021-03-11") == [m1.seq, first.seq, second.seq])
        // A correction of a correction of a correction goes with the event too.
        let third = try Self.correct(test, second, set: ["title": "Right again"], reason: "third look")
        #expect(try seqs(asOf: "2021-03-10").isEmpty)
        #expect(try seqs(asOf: "2021-03-11") == [m1.seq, first.seq, second.seq, third.seq])
        // As known at the first recording: the event alone, not yet corrected.
        let early = try test.ledger.history(of: "meeting/m1", time: ReportTime(knownAt: try TimeBound(m1.recordedAt)))
        #expect(early.map(\.record.seq) == [m1.seq])
        #expect(!early[0].corrected)
        // A retraction shows in the history, and the state no longer holds the meeting.
        let retraction = try Self.retract(test, m1, reason: "duplicate")
        let afterRetraction = try test.ledger.history(of: "meeting/m1")
        #expect(afterRetraction.last?.record.seq == retraction.seq)
        #expect(afterRetraction.last?.changes == ["retracts seq \(m1.seq)", "reason: duplicate"])
        #expect(afterRetraction[0].retracted)
        // Retracted, the meeting still counts by its corrected date (the 11th) at a valid time,
        // with its corrections and its retraction.
        #expect(try seqs(asOf: "2021-03-10").isEmpty)
        #expect(try seqs(asOf: "2021-03-11") == [m1.seq, first.seq, second.seq, third.seq, retraction.seq])
        // Machine formats get what each event said exactly: the payload, or the list of changes.
        #expect(afterRetraction[0].said == m1.data)
        #expect(afterRetraction[1].target == m1.seq && afterRetraction[2].target == first.seq)
        #expect(afterRetraction[1].said == first.data["changes"])
        #expect(afterRetraction.last?.said == .array([]) && afterRetraction.last?.target == m1.seq)
        #expect(try state().events.isEmpty)
        #expect(try state().withdrawn, "its only opening event was retracted")
        #expect(try !state(knownAt: second.recordedAt).withdrawn)
        #expect(try state(knownAt: second.recordedAt).fields["title"] == "Right")
    }

    @Test func anEntitysFieldsComeFromTheEventsThatDescribeItAndItsOtherEventsAreFactsOfTheirOwn() throws {
        let test = try TestLedger()
        let project = try Self.base(test)
        let phase = try test.record("project-phase-defined", ["project": "p1", "phase": "phase-1", "title": "Phase one", "starts_on": "2019-09-02"], occurredAt: "2019-09-02")
        let erdf = try Self.commit(test, "erdf", "100.00", rate: "80.00")
        let state = try test.ledger.state(of: "project/p1")
        #expect(state.openedBy == "project-registered")
        // The phase's title is not the project's, nor is a commitment's amount.
        #expect(state.fields["title"] == "Project One")
        #expect(state.fields["amount"] == nil)
        #expect(state.fieldSeqs["title"] == project.seq)
        #expect(state.facts.map(\.seq) == [phase.seq, erdf.seq])
        #expect(state.facts.map(\.type) == ["project-phase-defined", "funding-committed"])
        #expect(state.facts[0].data["title"] == "Phase one")
        #expect(state.facts[1].data["funding_source"] == "erdf")
        // A correction of the project itself still changes its fields.
        try Self.correct(test, project, set: ["title": "Project 1"])
        #expect(try test.ledger.state(of: "project/p1").fields["title"] == "Project 1")
    }

    // MARK: - Rejected corrections

    enum Rejection: String, CaseIterable, CustomTestStringConvertible {
        case correctingARetractedEvent, correctingACorrectionOfARetractedEvent, correctingLedgerCreated,
            correctingSchemaRegistered, retractingLedgerCreated, invalidNewData, missingRequiredField,
            referenceToNothing, movingToAnotherStream, missingReason, emptyReason, missingReasonOnRetraction,
            draftWithoutReason, retractingTwice, retractingARetraction, changingNothing, retractingACorrectionThatALaterOneRepeats, removingAFieldThatIsNotThere, removingAFieldThatDataLeavesOut
        var testDescription: String { rawValue }

        /// Tries the rejected correction on a ledger with meeting m1 (and what the case needs).
        func attempt(_ test: TestLedger, meeting: EventRecord) throws {
            let ledger = test.ledger
            switch self {
            case .correctingARetractedEvent:
                try test.append(draft: try ledger.retractionDraft(of: meeting.id, reason: "duplicate"))
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["title": "New"], reason: "typo"))
            case .correctingACorrectionOfARetractedEvent:
                let correction = try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["title": "New"], reason: "typo"))
                try test.append(draft: try ledger.retractionDraft(of: meeting.id, reason: "duplicate"))
                try test.append(draft: try ledger.correctionDraft(of: correction.id, set: ["title": "Newer"], reason: "typo"))
            case .correctingLedgerCreated:
                try test.append(draft: try ledger.correctionDraft(of: "1", set: ["name": "Another name"], reason: "renamed"))
            case .correctingSchemaRegistered:
                try test.append(draft: try ledger.correctionDraft(of: "2", set: ["version": .integer(2)], reason: "new rules"))
            case .retractingLedgerCreated:
                try test.append(draft: try ledger.retractionDraft(of: "1", reason: "start again"))
            case .invalidNewData:
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["kind": "party"], reason: "it was a party"))
            case .missingRequiredField:
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, remove: ["title"], reason: "no title"))
            case .referenceToNothing:
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["organisations": ["nobody"]], reason: "who was there"))
            case .movingToAnotherStream:
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["meeting": "m9"], reason: "other meeting"))
            case .missingReason:
                _ = try ledger.correctionDraft(of: meeting.id, set: ["title": "New"], reason: nil)
            case .emptyReason:
                _ = try ledger.correctionDraft(of: meeting.id, set: ["title": "New"], reason: "")
            case .missingReasonOnRetraction:
                _ = try ledger.retractionDraft(of: meeting.id, reason: nil)
            case .draftWithoutReason:
                // A hand-written correction without meta.reason, past the draft builder.
                try test.append(draft: EventDraft(
                    type: "event-corrected",
                    data: ["target_type": "meeting-held", "data": ["meeting": "m1", "kind": "workshop", "title": "New"], "changes": []],
                    meta: ["corrects": .string(meeting.id)]))
            case .retractingTwice:
                try test.append(draft: try ledger.retractionDraft(of: meeting.id, reason: "duplicate"))
                try test.append(draft: try ledger.retractionDraft(of: meeting.id, reason: "duplicate"))
            case .retractingARetraction:
                let retraction = try test.append(draft: try ledger.retractionDraft(of: meeting.id, reason: "duplicate"))
                try test.append(draft: try ledger.retractionDraft(of: retraction.id, reason: "it was not a duplicate"))
            case .changingNothing:
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["title": "One"], reason: "same"))
            case .retractingACorrectionThatALaterOneRepeats:
                // The first moves the date and renames; the second renames again and keeps the
                // first's date (it does not restate it). Withdrawing the first alone would keep
                // its title in force (in the second's payload) but undo its date.
                let first = try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["title": "New"], occurredAt: "2021-03-01", reason: "minutes"))
                try test.append(draft: try ledger.correctionDraft(of: first.id, set: ["title": "Newer"], reason: "typo"))
                try test.append(draft: try ledger.retractionDraft(of: first.id, reason: "the minutes were of another meeting"))
            case .removingAFieldThatIsNotThere:
                // A mistyped field used to say only that the correction changes nothing.
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, remove: ["titel"], reason: "no title"))
            case .removingAFieldThatDataLeavesOut:
                // --data replaces the payload whole: the event has the field, the new payload not.
                try test.append(draft: try ledger.correctionDraft(of: meeting.id, remove: ["project"], replaceData: ["meeting": "m1", "kind": "workshop", "title": "New"], reason: "no project"))
            }
        }

        var fragments: [String] {
            switch self {
            case .correctingARetractedEvent: ["was retracted"]
            case .correctingACorrectionOfARetractedEvent: ["was retracted", "cannot be corrected"]
            case .correctingLedgerCreated: ["'ledger-created'", "seq 1"]
            case .correctingSchemaRegistered: ["'schema-registered'", "seq 2"]
            case .retractingLedgerCreated: ["'ledger-created'"]
            case .invalidNewData: ["not a valid 'meeting-held'", "'party'"]
            case .missingRequiredField: ["not a valid 'meeting-held'", "title"]
            case .referenceToNothing: ["'nobody'"]
            case .movingToAnotherStream: ["'meeting/m1'", "'meeting/m9'"]
            case .missingReason, .emptyReason, .missingReasonOnRetraction, .draftWithoutReason: ["reason"]
            case .retractingTwice: ["retracted again"]
            case .retractingARetraction: ["the retraction at seq", "cannot be retracted", "record the withdrawn event again"]
            case .changingNothing: ["changes nothing"]
            case .retractingACorrectionThatALaterOneRepeats: ["is not the latest of seq 28", "retract seq 30 first"]
            case .removingAFieldThatIsNotThere: ["--remove titel", "no field 'titel'", "kind, meeting, project, title"]
            case .removingAFieldThatDataLeavesOut: ["--remove project with --data", "already leaves out 'project'", "has it", "give --data alone"]
            }
        }

        /// Events the attempt appends before the rejected one.
        var appendedBefore: Int64 {
            switch self {
            case .correctingARetractedEvent, .retractingTwice, .retractingARetraction: 1
            case .correctingACorrectionOfARetractedEvent, .retractingACorrectionThatALaterOneRepeats: 2
            default: 0
            }
        }
    }

    @Test(arguments: Rejection.allCases)
    func aCorrectionIsRejected(_ rejection: Rejection) throws {
        let test = try TestLedger()
        try Self.base(test)
        let meeting = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One", "project": "p1"], occurredAt: "2021-03-10")
        let head = try test.head()
        expectLedgerError(.invalidInput, mentioning: rejection.fragments) { try rejection.attempt(test, meeting: meeting) }
        #expect(try test.head().seq == head.seq + rejection.appendedBefore, "nothing written by the rejected event")
    }

    /// Corrections are withdrawn latest first, each bringing back exactly what was in force before
    /// it: payload and date.
    @Test func correctionsAreRetractedLatestFirst() throws {
        let test = try TestLedger()
        try Self.base(test)
        let meeting = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One", "project": "p1"], occurredAt: "2021-03-10")
        let ledger = test.ledger
        let first = try test.append(draft: try ledger.correctionDraft(of: meeting.id, set: ["title": "New"], occurredAt: "2021-03-01", reason: "minutes"))
        let second = try test.append(draft: try ledger.correctionDraft(of: first.id, set: ["title": "Newer"], reason: "typo"))
        func now() throws -> (title: String?, date: String) {
            let effective = try ledger.effectiveEvent(meeting)
            return (effective.data["title"]?.stringValue, effective.occurredAt)
        }
        #expect(try now() == ("Newer", "2021-03-01"))
        try test.append(draft: try ledger.retractionDraft(of: second.id, reason: "typo was right"))
        #expect(try now() == ("New", "2021-03-01"))
        // Now the first is the latest in force, and can go.
        try test.append(draft: try ledger.retractionDraft(of: first.id, reason: "the minutes were of another meeting"))
        #expect(try now() == ("One", "2021-03-10"))
    }

    // MARK: - Known at T equals the ledger of what was recorded by T

    /// One step of a ledger's story; corrections and retractions name an earlier step, so the same
    /// story can be told to several ledgers (whose event ids differ).
    enum Step {
        case record(String, [String: JSONValue], String?)
        case correct(Int, [String: JSONValue], String?)
        case retract(Int)
    }

    static let story: [Step] = [
        .record("organisation-registered", ["organisation": "kekava", "name": "Ķekavas novada pašvaldība", "kind": "municipality", "country": "LV"], "2019-01-01"),
        .record("project-registered", ["project": "p1", "title": "Project One", "programme": "URBACT III", "network_type": "action-planning", "lead_partner": "kekava", "starts_on": "2019-09-02"], "2019-09-02"),
        .record("organisation-registered", ["organisation": "milano", "name": "Comune di Milano", "kind": "municipality", "country": "IT"], "2019-01-01"),
        .record("partner-joined", ["project": "p1", "organisation": "milano", "role": "partner"], "2019-10-01"),
        .record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One", "project": "p1"], "2021-05-10"),
        .record("meeting-held", ["meeting": "m2", "kind": "forum", "title": "Two", "project": "p1"], "2021-04-20"),  // back-dated
        .record("funding-committed", ["project": "p1", "funding_source": "erdf", "amount": money("1000.00"), "rate": "80"], "2019-09-02"),
        .record("funding-committed", ["project": "p1", "funding_source": "municipality", "amount": money("250.00"), "rate": "20"], "2019-09-02"),
        .correct(6, ["amount": money("1200.00")], nil),
        .correct(8, ["amount": money("1150.50")], nil),  // a correction of a correction
        .record("neighbourhood-registered", ["neighbourhood": "n1", "municipality": "kekava"], "2025-01"),
        .record("neighbourhood-registered", ["neighbourhood": "n2", "municipality": "kekava"], "2025-01"),
        .record("council-formed", ["neighbourhood": "n1", "members_count": .integer(8)], "2025-03-01"),
        .record("council-formed", ["neighbourhood": "n2"], "2025-04"),
        .retract(13),
        .correct(4, [:], "2021-03-01"),  // m1 moved before the as-of boundaries below
        .record("partner-left", ["project": "p1", "organisation": "milano"], "2022-01-31"),
        .retract(9),  // the second amount withdrawn: back to 1200.00
        .correct(1, ["title": "Project Uno"], nil),  // the event that opened the project's stream
        .record("plan-drafted", ["plan": "iap", "title": "Plan", "kind": "integrated-action-plan", "project": "p1"], "2021-06"),
        .record("plan-approved", ["plan": "iap", "approved_by": "Council"], "2022-05-25"),
    ]

    /// Tells the first `count` steps of the story to a fresh ledger and returns the event of each step.
    static func tell(_ count: Int, pause: Bool) throws -> (TestLedger, [EventRecord]) {
        let test = try TestLedger(actor: "clerk-1")
        var events: [EventRecord] = []
        for step in story.prefix(count) {
            if pause { tick() }
            switch step {
            case .record(let type, let data, let when):
                events.append(try test.record(type, data, occurredAt: when))
            case .correct(let target, let set, let when):
                events.append(try test.append(draft: try test.ledger.correctionDraft(of: events[target].id, set: set, occurredAt: when, reason: "step \(events.count)")))
            case .retract(let target):
                events.append(try test.append(draft: try test.ledger.retractionDraft(of: events[target].id, reason: "step \(events.count)")))
            }
        }
        return (test, events)
    }

    /// A report at a past time builds its projections in a temporary database named after its
    /// process, removes it afterwards, and removes one that a run killed outright left (its
    /// process gone); another running process's file stays.
    @Test func aPastTimesTemporaryDatabaseIsRemovedAndSoIsOneAKilledRunLeft() throws {
        let test = try TestLedger()
        try Self.base(test)
        let folder = FileManager.default.temporaryDirectory.path
        let tag = UUID().uuidString.lowercased()
        let abandoned = folder + "/kopa-past-\(try endedProcessID())-\(tag).sqlite"
        let running = folder + "/kopa-past-1-\(tag).sqlite"
        for path in [abandoned, running] { #expect(FileManager.default.createFile(atPath: path, contents: Data("half".utf8))) }
        defer { unlink(running) }
        let engine = try test.engine()
        var during = ""
        let count = try engine.withProjections(at: ReportTime(asOf: try TimeBound("2020-01-01"))) { db in
            during = try Row.fetchOne(db, sql: "PRAGMA database_list")?["file"] ?? ""
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM projects") ?? -1
        }
        #expect(count == 1)
        #expect(URL(fileURLWithPath: during).lastPathComponent.hasPrefix("kopa-past-\(getpid())-"), "named after this process: \(during)")
        #expect(!FileManager.default.fileExists(atPath: during), "removed afterwards")
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(FileManager.default.fileExists(atPath: running))
    }

    @Test func aReportKnownAtTEqualsTheReportOfTheLedgerRecordedUpToT() throws {
        let (full, events) = try Self.tell(Self.story.count, pause: true)
        let engine = try full.engine()
        let created = try full.ledger.event("1")
        // T before every step (the ledger's creation), then at each step.
        let instants = [created.recordedAt] + events.map(\.recordedAt)
        #expect(Set(instants).count == instants.count, "every step recorded at its own millisecond")
        let reports = ["overview", "funding", "councils", "partners", "timeline"]
        let validTimes: [String?] = [nil, "2021-04-30", "2025-03-31"]
        /// The reports for one time, from one replay.
        func run(_ engine: ProjectionEngine, _ time: ReportTime) throws -> [ReportResult] {
            try engine.withProjections(at: time) { db in
                try reports.map { try ProjectionEngine.run(try engine.set.report($0), db: db, parameters: [:]) }
            }
        }
        for (count, instant) in instants.enumerated() {
            let (prefix, _) = try Self.tell(count, pause: false)
            let prefixEngine = try prefix.engine()
            for asOf in validTimes {
                let asOfBound = try asOf.map { try TimeBound($0) }
                let known = try run(engine, ReportTime(asOf: asOfBound, knownAt: try TimeBound(instant)))
                // The prefix ledger's reports now come from its projection database, as of a date from a replay.
                let recorded = asOf == nil ? try reports.map { try prefixEngine.report($0) } : try run(prefixEngine, ReportTime(asOf: asOfBound))
                for (name, (a, b)) in zip(reports, zip(known, recorded)) {
                    #expect(a == b, "\(name) as of \(asOf ?? "now") known after \(count) steps")
                }
            }
        }
        // Spot checks of the story's answers, worked out by hand:
        func committed(_ knownAfter: Int) throws -> ReportValue? {
            try engine.report("overview", time: ReportTime(knownAt: try TimeBound(instants[knownAfter]))).records.first?["committed"]
        }
        #expect(try committed(7) == "1000.00")  // ERDF 1000.00 as recorded
        #expect(try committed(8) == "1250.00")  // + municipality 250.00
        #expect(try committed(9) == "1450.00")  // ERDF corrected to 1200.00
        #expect(try committed(10) == "1400.50")  // and again to 1150.50
        #expect(try committed(18) == "1450.00")  // the second correction retracted
        let councils = try engine.report("councils", time: ReportTime(knownAt: try TimeBound(instants[14])))
        #expect(try councils.row(where: "neighbourhood", is: "TOTAL")["coverage"] == "2 of 2")
        #expect(try engine.report("councils").row(where: "neighbourhood", is: "TOTAL")["coverage"] == "1 of 2")
        let april = try engine.report("overview", time: ReportTime(asOf: try TimeBound("2021-04-30")))
        #expect(april.records.first?["meetings_held"] == 2, "m2 (20 April) and m1 (moved to 1 March)")
        #expect(april.records.first?["title"] == "Project Uno")
    }
}
