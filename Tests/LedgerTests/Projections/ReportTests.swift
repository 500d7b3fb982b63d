import Foundation
import GRDB
import KopaTestSupport
import Testing

@testable import Ledger

/// The bundled reports: each runs on an empty ledger and on the seed ledger, and their numbers on a
/// small hand-made ledger (`HandMadeLedger`) are right to the cent. The expected rows are worked
/// out by hand in the comments.
@Suite("reports")
struct ReportTests {
    static let bundledReports = (try? ProjectionSet.load().reports.keys.sorted()) ?? []

    @Test func theBundledReportsAreThere() throws {
        let set = try ProjectionSet.load()
        for name in ["overview", "funding", "partners", "timeline", "councils", "audit-trail", "change-log"] {
            let report = try #require(set.reports[name], "report \(name)")
            #expect(!(report.description ?? "").isEmpty, "report \(name) has a one-line description")
        }
        expectLedgerError(.notFound, mentioning: ["'overveiw'", "did you mean 'overview'"]) { _ = try set.report("overveiw") }
        // The table the tests below run over: were it empty (the set failed to load), they would
        // run no case and pass.
        #expect(Self.bundledReports == set.reports.keys.sorted() && Self.bundledReports.count >= 7)
    }

    // MARK: - Every report on an empty and on the seed ledger

    @Test(arguments: bundledReports)
    func runsOnAnEmptyLedger(name: String) throws {
        let test = try TestLedger()
        let head = try test.head()
        let result = try test.report(name)
        #expect(!result.columns.isEmpty)
        switch name {
        case "funding":
            // Only the TOTAL row, all zero.
            #expect(result.rows == [["TOTAL", "all", nil, "0.00", "0.00", nil, nil, "0.00", "0.00", "0.00"]])
        case "councils":
            // Only the TOTAL row: no neighbourhood, no share of nothing.
            #expect(result.rows == [["TOTAL", nil, nil, nil, nil, nil, nil, "0 of 0", nil]])
        case "audit-trail":
            // ledger-created and one schema-registered per catalog file.
            #expect(result.rows.count == Int(head.seq))
            #expect(result.column("type").first == "ledger-created")
            #expect(result.column("seq") == (1...head.seq).map { .integer($0) })
        default:
            #expect(result.rows.isEmpty, "report \(name) on an empty ledger: \(result.rows)")
        }
        // As of a past time and as known at the creation: the same.
        #expect(try test.report(name, asOf: "2099-12-31") == result)
        #expect(try test.report(name, knownAt: head.recordedAt) == result)
    }

    @Test(arguments: bundledReports)
    func runsOnTheSeedLedger(name: String) throws {
        let folder = try TemporaryDirectory("kopa-seed")
        let (ledger, count) = try Seeds.build(at: folder.path("seed.sqlite"))
        #expect(count > 100)
        let engine = try ProjectionEngine(ledger: ledger)
        let now = try engine.report(name)
        if name == "change-log" {
            #expect(now.rows.isEmpty, "the seeds correct nothing")
        } else {
            #expect(!now.rows.isEmpty, "report \(name) on the seed ledger")
        }
        #expect(now.rows.allSatisfy { $0.count == now.columns.count })
        // On 2 March 2020, the end of CITIES4CSR's phase 1.
        let past = try engine.report(name, time: ReportTime(asOf: try TimeBound("2020-03-02")))
        #expect(past.columns == now.columns)
        // Rebuilt from nothing: identical.
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: engine.databasePath + suffix) }
        #expect(try engine.report(name) == now)
    }

    // MARK: - The hand-made ledger, to the cent

    @Test func overview() throws {
        let ledger = try HandMadeLedger()
        let result = try ledger.test.report("overview")
        #expect(result.columns == [
            "project", "title", "programme", "period", "lead_partner", "partners", "meetings_held", "plans_approved",
            "committed", "erdf", "state", "municipality", "other", "currency", "erdf_share",
        ])
        // Partners: Milan and Ķekava; Porto left. Committed: 48454.95 + 4275.44 + 4275.43 = 57005.82.
        // ERDF share: 4845495 / 5700582 = 0.85000005… → 85.00.
        #expect(result.rows == [[
            "p1", "Project One", "URBACT III", "2019-09-02 – 2022-08-07", "Comune di Milano", 2, 2, 1,
            "57005.82", "48454.95", "4275.44", "4275.43", "0.00", "EUR", "85.00",
        ]])
    }

    @Test func funding() throws {
        let ledger = try HandMadeLedger()
        let result = try ledger.test.report("funding")
        #expect(result.columns == ["project", "funding_source", "currency", "budget", "committed", "share", "agreed_rate", "received", "spent", "verified"])
        // Shares of 5700582 cents committed:
        //   ERDF 4845495 → 85.000005 % → 85.00; state 427544 → 7.5000061 % → 7.50;
        //   municipality 427543 → 7.4999886 % → 7.50.
        // Agreed rates "85", "7.5" and "7.50" → 8500, 750, 750 basis points.
        // Spent 1200.50 + 300.25 = 1500.75; verified 1150.00 of e1; received 977.50 ERDF.
        #expect(result.rows == [
            ["p1", "erdf", "EUR", nil, "48454.95", "85.00", "85.00", "977.50", nil, nil],
            ["p1", "state", "EUR", nil, "4275.44", "7.50", "7.50", "0.00", nil, nil],
            ["p1", "municipality", "EUR", nil, "4275.43", "7.50", "7.50", "0.00", nil, nil],
            ["p1", "all", "EUR", "57005.82", "57005.82", nil, nil, "977.50", "1500.75", "1150.00"],
            ["TOTAL", "all", "EUR", "57005.82", "57005.82", nil, nil, "977.50", "1500.75", "1150.00"],
        ])
    }

    @Test func fundingAcrossProjectsAndAReVerification() throws {
        let ledger = try HandMadeLedger()
        let test = ledger.test
        // A second project with one commitment in cents that do not divide evenly, and a second
        // check of e1 that lowers the eligible amount (the latest check counts).
        try test.record("project-registered", ["project": "p2", "title": "Project Two", "programme": "URBACT IV", "network_type": "transfer"], occurredAt: "2023")
        try test.record("funding-committed", ["project": "p2", "funding_source": "erdf", "amount": money("0.01"), "rate": "100"], occurredAt: "2023")
        try test.record("funding-committed", ["project": "p2", "funding_source": "other", "amount": money("0.02")], occurredAt: "2023")
        try test.record("expenditure-verified", ["expenditure": "e1", "amount": money("1100.99"), "controller": "FLC"], occurredAt: "2020-09-01")
        let result = try test.report("funding")
        // p2: 1 of 3 cents → 33.33 %, 2 of 3 → 66.67 %; no rate given for "other".
        #expect(result.rows(where: "project", is: "p2").map { $0["funding_source"]! } == ["erdf", "other", "all"])
        let p2erdf = try #require(result.rows(where: "project", is: "p2").first)
        #expect(p2erdf["committed"] == "0.01")
        #expect(p2erdf["share"] == "33.33")
        #expect(p2erdf["agreed_rate"] == "100.00")
        let p2other = result.rows(where: "project", is: "p2")[1]
        #expect(p2other["share"] == "66.67")
        #expect(p2other["agreed_rate"] == .null)
        let total = try result.row(where: "project", is: "TOTAL")
        // 5700582 + 3 cents; verified now 1100.99 (the later check).
        #expect(total["committed"] == "57005.85")
        #expect(total["verified"] == "1100.99")
        #expect(total["budget"] == "57005.82")
        // As of before the second check: 1150.00.
        let before = try test.report("funding", asOf: "2020-08-31")
        #expect(try before.row(where: "project", is: "TOTAL")["verified"] == "1150.00")
        // The stream filter keeps one project; TOTAL sums only it.
        let onlyP2 = try test.report("funding", parameters: ["stream": "project/p2"])
        #expect(onlyP2.column("project") == ["p2", "p2", "p2", "TOTAL"])
        #expect(try onlyP2.row(where: "project", is: "TOTAL")["committed"] == "0.03")
    }

    @Test func partners() throws {
        let ledger = try HandMadeLedger()
        let result = try ledger.test.report("partners")
        #expect(result.columns == ["project", "organisation", "name", "country", "role", "joined_on", "left_on"])
        // The lead first, then partners by slug.
        #expect(result.rows == [
            ["p1", "milano", "Comune di Milano", "IT", "lead", "2019-09-02", nil],
            ["p1", "kekava", "Ķekavas novada pašvaldība", "LV", "partner", "2019-09-02", nil],
            ["p1", "porto", "Câmara Municipal do Porto", "PT", "partner", "2019-10-01", "2021-03-15"],
        ])
        // As of the end of 2020 Porto had not left yet.
        let asOf = try ledger.test.report("partners", asOf: "2020-12-31")
        #expect(try asOf.row(where: "organisation", is: "porto")["left_on"] == .null)
        // Filtered by an organisation's stream.
        #expect(try ledger.test.report("partners", parameters: ["stream": "organisation/porto"]).rows.count == 1)
    }

    @Test func aLeadNamedOnlyInTheRegistrationKeepsItsRoleWhenItLeaves() throws {
        let test = try TestLedger().withFixtures()
        _ = try test.organisation("milano", name: "Comune di Milano")
        try test.record("partner-joined", ["project": "cities4csr", "organisation": "milano", "role": "partner"], occurredAt: "2019-10-01")
        try test.record("partner-left", ["project": "cities4csr", "organisation": "kekava", "reason": "withdrew"], occurredAt: "2020-03-01")
        #expect(try test.report("partners").rows.map { [$0[1], $0[4], $0[5], $0[6]] } == [
            ["kekava", "lead", nil, "2020-03-01"],
            ["milano", "partner", "2019-10-01", nil],
        ])
    }

    @Test func councils() throws {
        let ledger = try HandMadeLedger()
        let result = try ledger.test.report("councils")
        #expect(result.columns == ["neighbourhood", "name", "active_council", "since", "formed_on", "dissolved_on", "members", "coverage", "share"])
        // n1 active since 1 March; n2 formed in April, dissolved on 30 September; n3 none.
        // Coverage 1 of 3 → 33.33 %; members of active councils: 12.
        #expect(result.rows == [
            ["n1", "Neighbourhood one", "yes", "2025-03-01", "2025-03-01", nil, 12, nil, nil],
            ["n2", "Neighbourhood two", "no", nil, "2025-04", "2025-09-30", 9, nil, nil],
            ["n3", "Neighbourhood three", "no", nil, nil, nil, nil, nil, nil],
            ["TOTAL", nil, nil, nil, nil, nil, 12, "1 of 3", "33.33"],
        ])
        // In the summer both councils were active: 2 of 3 → 66.67 %, 21 members.
        let summer = try ledger.test.report("councils", asOf: "2025-07-31")
        #expect(summer.rows.last == ["TOTAL", nil, nil, nil, nil, nil, 21, "2 of 3", "66.67"])
        // The stream filter keeps one neighbourhood and the total.
        #expect(try ledger.test.report("councils", parameters: ["stream": "neighbourhood/n2"]).column("neighbourhood") == ["n2", "TOTAL"])
    }

    @Test func timeline() throws {
        let ledger = try HandMadeLedger()
        let result = try ledger.test.report("timeline")
        #expect(result.columns == ["date", "project", "kind", "subject", "title"])
        // By date (a partial date sorts at its start), then kind rank, then subject.
        #expect(result.rows == [
            ["2019-09-02", "p1", "project-registered", "p1", "Project One (URBACT III, action-planning)"],
            ["2019-09-02", "p1", "partner-joined", "kekava", "Ķekavas novada pašvaldība joined as partner"],
            ["2019-09-02", "p1", "partner-joined", "milano", "Comune di Milano joined as lead"],
            ["2019-09-02", "p1", "budget-approved", nil, "Budget 57005.82 EUR"],
            ["2019-09-02", "p1", "funding-committed", "erdf", "ERDF 48454.95 EUR (85.00 %)"],
            ["2019-09-02", "p1", "funding-committed", "municipality", "MUNICIPALITY 4275.43 EUR (7.50 %)"],
            ["2019-09-02", "p1", "funding-committed", "state", "STATE 4275.44 EUR (7.50 %)"],
            ["2019-10-01", "p1", "partner-joined", "porto", "Câmara Municipal do Porto joined as partner"],
            ["2019-10-15", "p1", "meeting-held", "m1", "Kick-off (partner-meeting)"],
            ["2019-12-05", "p1", "meeting-held", "m2", "ULG 1 (local-group-meeting)"],
            ["2020-01-31", "p1", "expenditure-recorded", "e1", "1200.50 EUR staff – Coordinator salary"],
            ["2020-02-15", "p1", "expenditure-recorded", "e2", "300.25 EUR travel-accommodation"],
            ["2020-06-30", "p1", "expenditure-verified", "e1", "1150.00 EUR eligible, checked by FLC"],
            ["2020-12-01", "p1", "payment-received", "erdf", "ERDF 977.50 EUR from URBACT Secretariat"],
            ["2021-03-15", "p1", "partner-left", "porto", "Câmara Municipal do Porto left (withdrew)"],
            ["2021-06", "p1", "plan-drafted", "iap1", "Integrated Action Plan"],
            ["2022-05-25", "p1", "plan-approved", "iap1", "Integrated Action Plan – approved by Ķekava municipal council (No. 7)"],
            ["2025-03-01", nil, "council-formed", "n1", "Residents' council – Neighbourhood one (12 members)"],
            ["2025-04", nil, "council-formed", "n2", "Residents' council – Neighbourhood two (9 members)"],
            ["2025-09-30", nil, "council-dissolved", "n2", "Residents' council – Neighbourhood two (merged)"],
        ])
        // A stream filter: one meeting's own stream.
        #expect(try ledger.test.report("timeline", parameters: ["stream": "meeting/m2"]).column("subject") == ["m2"])
    }

    @Test func timelineShowsEveryPublicationAndEveryJoiningOfAGroup() throws {
        let test = try TestLedger().withFixtures()
        _ = try test.organisation("ngo", name: "NGO")
        try test.record("local-action-group-formed", ["group": "g", "name": "G", "project": "cities4csr", "members": ["kekava", "ngo"]], occurredAt: "2019-10-01")
        // A founder joins formally; a deliverable has a second edition; a phase is defined again.
        try test.record("local-action-group-member-joined", ["group": "g", "organisation": "ngo"], occurredAt: "2019-11-01")
        try test.record("deliverable-published", ["project": "cities4csr", "deliverable": "d", "title": "Report v1", "kind": "report"], occurredAt: "2020-04-01")
        try test.record("deliverable-published", ["project": "cities4csr", "deliverable": "d", "title": "Report v2", "kind": "report"], occurredAt: "2020-06-01")
        try test.record("project-phase-defined", ["project": "cities4csr", "phase": "one", "title": "Phase 1", "starts_on": "2019-09-02"], occurredAt: "2019-09-02")
        try test.record("project-phase-defined", ["project": "cities4csr", "phase": "one", "title": "Phase 1", "starts_on": "2019-09-15"], occurredAt: "2019-09-15")
        let rows = try test.report("timeline").rows.filter { $0[2] != "project-registered" }.map { [$0[0], $0[2], $0[4]] }
        #expect(rows == [
            ["2019-09-15", "phase-started", "Phase 1 (2019-09-15 – ?)"],
            ["2019-10-01", "local-action-group-formed", "G"],
            ["2019-11-01", "local-action-group-member-joined", "NGO joined G"],
            ["2020-04-01", "deliverable-published", "Report v1 (report)"],
            ["2020-06-01", "deliverable-published", "Report v2 (report)"],
        ])
        // The group's own stream: its forming and the joining.
        #expect(try test.report("timeline", parameters: ["stream": "group/g"]).column("kind") == ["local-action-group-formed", "local-action-group-member-joined"])
    }

    @Test func auditTrail() throws {
        let ledger = try HandMadeLedger()
        let test = ledger.test
        let head = try test.head()
        let all = try test.report("audit-trail")
        #expect(all.columns == ["seq", "occurred_at", "recorded_at", "recorded_by", "type", "stream", "source", "evidence"])
        #expect(all.column("seq") == (1...head.seq).map { .integer($0) })
        // Filtered by a stream: the project's ten events, in log order.
        let project = try test.report("audit-trail", parameters: ["stream": "project/p1"])
        #expect(project.column("type") == [
            "project-registered", "partner-joined", "partner-joined", "partner-joined", "partner-left",
            "budget-approved", "funding-committed", "funding-committed", "funding-committed", "payment-received",
        ])
        #expect(project.column("seq").first == .integer(ledger["project"].seq))
        // One event in full: who, when, from which source and evidence.
        let m1 = ledger["m1"]
        let row = try all.row(where: "seq", is: .integer(m1.seq))
        #expect(row["occurred_at"] == "2019-10-15")
        #expect(row["recorded_at"] == .text(m1.recordedAt))
        #expect(row["recorded_by"] == "clerk-1")
        #expect(row["type"] == "meeting-held")
        #expect(row["stream"] == "meeting/m1")
        #expect(row["source"] == "minutes of the kick-off meeting")
        #expect(row["evidence"] == .text(#"[{"sha256":"\#(String(repeating: "ab", count: 32))","title":"Minutes"}]"#))
        // An event without meta: no source, no evidence.
        let m2 = try all.row(where: "seq", is: .integer(ledger["m2"].seq))
        #expect(m2["source"] == .null)
        #expect(m2["evidence"] == .null)
    }

    @Test func theAuditTrailAndChangeLogShowEverythingAsRecordedTheOtherReportsTheFacts() throws {
        let ledger = try HandMadeLedger()
        let test = ledger.test
        let m1 = ledger["m1"]
        // m1 moved to another day and renamed, that correction then withdrawn; m2 withdrawn.
        let correction = try test.append(draft: try test.ledger.correctionDraft(of: m1.id, set: ["title": "Renamed"], occurredAt: "2019-11-20", reason: "minutes"))
        let second = try test.append(draft: try test.ledger.correctionDraft(of: m1.id, set: ["title": "Renamed again"], reason: "second look"))
        let withdrawn = try test.append(draft: try test.ledger.retractionDraft(of: second.id, reason: "the second look was wrong"))
        let retraction = try test.append(draft: try test.ledger.retractionDraft(of: ledger["m2"].id, reason: "duplicate"))
        let trail = try test.report("audit-trail")
        let head = try test.head()
        #expect(trail.column("seq") == (1...head.seq).map { .integer($0) }, "every event recorded, the retracted ones too")
        #expect(try trail.row(where: "seq", is: .integer(m1.seq))["occurred_at"] == "2019-10-15", "as recorded, not as corrected")
        #expect(try trail.row(where: "seq", is: .integer(ledger["m2"].seq))["type"] == "meeting-held")
        let log = try test.report("change-log")
        #expect(log.column("seq") == [correction.seq, second.seq, withdrawn.seq, retraction.seq].map { .integer($0) },
                "a correction that was withdrawn is still one that was recorded")
        // The facts: m2 gone, m1 on its corrected day with the first correction's title.
        let timeline = try test.report("timeline")
        #expect(!timeline.column("subject").contains("m2"))
        let meeting = try timeline.row(where: "subject", is: "m1")
        #expect(meeting["date"] == "2019-11-20")
        guard case .text(let title)? = meeting["title"] else { Issue.record("no title: \(meeting)"); return }
        #expect(title.hasPrefix("Renamed ("), "the withdrawn second correction no longer counts: \(title)")
        // As known before the retraction of m2, the trail ends there; replaying from nothing gives the same.
        #expect(try test.report("audit-trail", knownAt: withdrawn.recordedAt).column("seq").last == .integer(withdrawn.seq))
        try FileManager.default.removeItem(atPath: test.projectionDatabasePath)
        #expect(try test.report("audit-trail").rows == trail.rows)
        #expect(try test.report("change-log").rows == log.rows)
    }

    @Test func moneyInAnotherCurrencyIsNeverAddedToEuros() throws {
        let ledger = try HandMadeLedger()
        let test = ledger.test
        let before = try test.report("funding")
        let euroTotal = try before.row(where: "project", is: "TOTAL")
        try test.record("funding-committed", ["project": "p1", "funding_source": "other", "amount": ["amount": "250.00", "currency": "USD"]], occurredAt: "2020-01-01")
        let after = try test.report("funding")
        // The euro rows are what they were; the dollars have rows of their own, and a TOTAL.
        #expect(after.rows.filter { $0[2] == "EUR" } == before.rows.filter { $0[2] == "EUR" })
        let dollars = after.rows.filter { $0[2] == "USD" }.map { [$0[0], $0[1], $0[4], $0[5]] }
        #expect(dollars == [["p1", "other", "250.00", "100.00"], ["p1", "all", "250.00", nil], ["TOTAL", "all", "250.00", nil]])
        #expect(try after.rows(where: "project", is: "TOTAL").count == 2)
        #expect(after.rows.first { $0[0] == "TOTAL" && $0[2] == "EUR" }.map { Dictionary(uniqueKeysWithValues: zip(after.columns, $0)) } == euroTotal)
        // The overview: one row per currency of the project's commitments.
        let overview = try test.report("overview", parameters: ["stream": "project/p1"])
        #expect(overview.column("currency") == ["EUR", "USD"])
        #expect(overview.column("committed") == ["57005.82", "250.00"])
    }

    /// A rate is agreed for the commitments of one currency: the latest ERDF rate in lati (80 %)
    /// is not the euro row's (85 %), and a source without a rate in dollars shows none there,
    /// whatever it agreed in euros. (The rate of the latest commitment across currencies was shown.)
    @Test func theAgreedRateIsThatOfTheRowsCurrency() throws {
        let test = try TestLedger().withFixtures()
        for (source, amount, currency, rate, day) in [
            ("erdf", "85000.00", "EUR", "85.00", "01"), ("erdf", "4000.00", "LVL", "80.00", "02"),
            ("state", "100.00", "EUR", "10.00", "03"), ("state", "100.00", "USD", nil, "04"),
        ] {
            var data: [String: JSONValue] = ["project": "cities4csr", "funding_source": .string(source), "amount": money(amount, currency)]
            if let rate { data["rate"] = .string(rate) }
            try test.record("funding-committed", data, occurredAt: "2014-03-\(day)")
        }
        let rows = try test.report("funding").rows.filter { $0[1] != "all" }.map { [$0[1], $0[2], $0[6]] }
        #expect(rows == [["erdf", "EUR", "85.00"], ["state", "EUR", "10.00"], ["erdf", "LVL", "80.00"], ["state", "USD", nil]], "\(rows)")
    }

    @Test func aBudgetInAnotherCurrencyReplacesTheEarlierOneAndNoBudgetTotalsZero() throws {
        let test = try TestLedger().withFixtures()
        try test.record("funding-committed", ["project": "cities4csr", "funding_source": "erdf", "amount": money("1000.00")], occurredAt: "2014-03-01")
        func budgets() throws -> [[ReportValue]] {
            try test.report("funding").rows.filter { $0[1] == "all" }.map { [$0[0], $0[2], $0[3], $0[4]] }
        }
        // No budget at all: the TOTAL's budget is 0.00, as before currencies had rows of their own.
        #expect(try budgets() == [["cities4csr", "EUR", nil, "1000.00"], ["TOTAL", "EUR", "0.00", "1000.00"]])
        // A budget in lati, then one in euros: the later one is the budget.
        try test.record("budget-approved", ["project": "cities4csr", "amount": money("1400.00", "LVL")], occurredAt: "2013-06-01")
        try test.record("budget-approved", ["project": "cities4csr", "amount": money("2000.00")], occurredAt: "2014-02-01")
        #expect(try budgets() == [["cities4csr", "EUR", "2000.00", "1000.00"], ["TOTAL", "EUR", "2000.00", "1000.00"]])
    }

    @Test func aWholeProjectBudgetLeavesOutPartnersBudgetsInAnyCurrency() throws {
        let test = try TestLedger().withFixtures()
        try test.record("budget-approved", ["project": "cities4csr", "amount": money("1000.00")], occurredAt: "2014-02-01")
        try test.record("budget-approved", ["project": "cities4csr", "organisation": "kekava", "amount": money("200.00", "LVL")], occurredAt: "2014-03-01")
        try test.record("expenditure-recorded", ["expenditure": "x1", "project": "cities4csr", "amount": money("50.00", "LVL"), "cost_category": "staff"], occurredAt: "2014-04-01")
        func budgets() throws -> [[ReportValue]] {
            try test.report("funding").rows.filter { $0[1] == "all" }.map { [$0[0], $0[2], $0[3]] }
        }
        // The project's budget is the whole-project one; the lati row has spending and no budget.
        #expect(try budgets() == [["cities4csr", "EUR", "1000.00"], ["cities4csr", "LVL", nil], ["TOTAL", "EUR", "1000.00"], ["TOTAL", "LVL", "0.00"]])
        // Without a whole-project budget, the partners' budgets are the budget, per currency.
        let other = try TestLedger().withFixtures()
        _ = try other.organisation("milano", name: "Comune di Milano")
        try other.record("budget-approved", ["project": "cities4csr", "organisation": "kekava", "amount": money("200.00", "LVL")], occurredAt: "2014-03-01")
        try other.record("budget-approved", ["project": "cities4csr", "organisation": "milano", "amount": money("300.00")], occurredAt: "2014-03-01")
        #expect(try other.report("funding").rows.filter { $0[1] == "all" }.map { [$0[0], $0[2], $0[3]] }
            == [["cities4csr", "EUR", "300.00"], ["cities4csr", "LVL", "200.00"], ["TOTAL", "EUR", "300.00"], ["TOTAL", "LVL", "200.00"]])
    }

    @Test func changeLogOfTheHandMadeLedgerIsEmptyUntilACorrection() throws {
        let ledger = try HandMadeLedger()
        let test = ledger.test
        #expect(try test.report("change-log").rows.isEmpty)
        let correction = try test.append(draft: try test.ledger.correctionDraft(
            of: ledger["payment"].id, set: ["amount": money("977.05")], reason: "digits swapped on entry"))
        let retraction = try test.append(draft: try test.ledger.retractionDraft(of: ledger["m2"].id, reason: "duplicate of another record"))
        let log = try test.report("change-log")
        #expect(log.columns == ["seq", "action", "target", "target_type", "changes", "new_occurred_at", "recorded_at", "recorded_by", "reason"])
        #expect(log.rows == [
            [.integer(correction.seq), "corrected", .text(ledger["payment"].id), "payment-received",
             #"[{"field":"amount","from":{"amount":"977.50","currency":"EUR"},"to":{"amount":"977.05","currency":"EUR"}}]"#,
             nil, .text(correction.recordedAt), "clerk-1", "digits swapped on entry"],
            [.integer(retraction.seq), "retracted", .text(ledger["m2"].id), "meeting-held", nil, nil, .text(retraction.recordedAt), "clerk-1", "duplicate of another record"],
        ])
        // And the reports follow: received 977.05, one meeting.
        #expect(try test.report("funding").row(where: "project", is: "TOTAL")["received"] == "977.05")
        #expect(try test.report("overview").rows.first?[6] == 1)
    }

    // MARK: - Exact money and shares

    @Test func percentAndMoneyExamples() {
        #expect(Money.percent(1, of: 3) == "33.33")
        #expect(Money.percent(2, of: 3) == "66.67")
        #expect(Money.format(cents: 5) == "0.05")
    }

    @Test(arguments: [
        (1, 3, "33.33"), (2, 3, "66.67"), (1, 8, "12.50"), (1, 200, "0.50"),
        (1, 20_000, "0.01"),  // 0.005 % rounds half up
        (1, 40_000, "0.00"),  // 0.0025 % rounds down
        (0, 5, "0.00"), (5, 5, "100.00"), (7, 2, "350.00"),
        (-1, 3, "-33.33"), (1, -3, "-33.33"), (-2, -3, "66.67"),
        (4_845_495, 5_700_582, "85.00"), (855_087, 5_700_582, "15.00"),
        (5_342_800, 6_678_500, "80.00"), (667_850, 6_678_500, "10.00"),
        (Int64.max, Int64.max, "100.00"), (Int64.max / 3, Int64.max, "33.33"),
    ] as [(Int64, Int64, String)])
    func percentIsExact(part: Int64, whole: Int64, expected: String) {
        #expect(Money.percent(part, of: whole) == expected)
    }

    @Test(arguments: [
        (0, "0.00"), (5, "0.05"), (10, "0.10"), (99, "0.99"), (100, "1.00"), (5_700_582, "57005.82"),
        (-5, "-0.05"), (-123_456, "-1234.56"),
        (Int64.max, "92233720368547758.07"), (Int64.min, "-92233720368547758.08"),
    ] as [(Int64, String)])
    func moneyFormatIsExact(cents: Int64, expected: String) {
        #expect(Money.format(cents: cents) == expected)
    }

    @Test(arguments: [
        ("48454.95", 4_845_495 as Int64?), ("0", 0), ("0.1", 10), ("0.29", 29), ("1.5", 150), ("8550.87", 855_087),
        ("", nil), (".5", nil), ("1.234", nil),
        // 15 integer digits at most: 16 are refused before whole * 100 could come near Int64's limit.
        ("999999999999999.99", 99_999_999_999_999_999), ("1000000000000000", nil), ("1,00", nil), ("-1", nil), ("1.2.3", nil), ("1e3", nil), (" 1", nil),
    ] as [(String, Int64?)])
    func centsOfADecimalString(amount: String, cents: Int64?) {
        #expect(Money.cents(amount) == cents)
    }

    @Test func sqlFunctionsAreExactAndKeepNull() throws {
        var configuration = SQLiteSetup.configuration()
        configuration.prepareDatabase { db in SQLFunctions.install(db) }
        let queue = try DatabaseQueue(configuration: configuration)
        try queue.read { db in
            let row = try #require(try Row.fetchOne(db, sql: """
                SELECT money(5700582) AS a, money(NULL) AS b, money(5) AS c, percent(1, 3) AS d, percent(2, 3) AS e,
                       percent(1, 0) AS f, percent(NULL, 3) AS g, typeof(money(1)) AS h, money(-1) AS i
                """))
            #expect(row["a"] == "57005.82")
            #expect(row["b"] == nil as String?)
            #expect(row["c"] == "0.05")
            #expect(row["d"] == "33.33")
            #expect(row["e"] == "66.67")
            #expect(row["f"] == nil as String?)
            #expect(row["g"] == nil as String?)
            #expect(row["h"] == "text")
            #expect(row["i"] == "-0.01")
            // Summing in cents and printing once: 0.10 + 0.20 is 0.30, not 0.30000000000000004.
            #expect(try String.fetchOne(db, sql: "SELECT money(SUM(c)) FROM (SELECT 10 AS c UNION ALL SELECT 20)") == "0.30")
        }
    }
}
