import Foundation
import GRDB
import KopaTestSupport
import Testing

@testable import Ledger

// Helpers for the projection, report, seed and time-travel tests. They build on `TestLedger`
// (TestLedger.swift): one fresh ledger per test in its own temporary folder, with the projection
// database next to it (`kopa.projections.sqlite`).

/// Report values written as literals in expectations: `"48454.95"`, `2`, `nil`.
extension ReportValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

extension ReportResult {
    /// The rows as dictionaries keyed by column.
    var records: [[String: ReportValue]] {
        rows.map { Dictionary(uniqueKeysWithValues: zip(columns, $0)) }
    }

    /// The rows whose `column` holds `value`.
    func rows(where column: String, is value: ReportValue) -> [[String: ReportValue]] {
        records.filter { $0[column] == value }
    }

    /// The single row whose `column` holds `value` (a test failure otherwise).
    func row(where column: String, is value: ReportValue, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: ReportValue] {
        let found = rows(where: column, is: value)
        try #require(found.count == 1, "expected one row with \(column) = \(value), found \(found.count)", sourceLocation: sourceLocation)
        return found[0]
    }

    /// The rows with only the given columns, in the order given.
    func projected(_ names: [String]) -> [[ReportValue]] {
        records.map { row in names.map { row[$0] ?? .null } }
    }
}

extension TestLedger {
    /// A projection engine on this ledger (bundled projections plus `extra` folders).
    func engine(extra: [URL] = []) throws -> ProjectionEngine {
        try ProjectionEngine(ledger: ledger, extraFolders: extra)
    }

    /// The projection database file of this ledger.
    var projectionDatabasePath: String { ProjectionEngine.defaultDatabasePath(for: path) }

    /// Runs a report with the bundled projections.
    func report(_ name: String, asOf: String? = nil, knownAt: String? = nil, parameters: [String: String] = [:]) throws -> ReportResult {
        let time = ReportTime(asOf: try asOf.map { try TimeBound($0) }, knownAt: try knownAt.map { try TimeBound($0) })
        return try engine().report(name, time: time, parameters: parameters)
    }

    /// Appends a prepared draft (a correction or retraction) and returns the stored event.
    @discardableResult
    func append(draft: EventDraft) throws -> EventRecord {
        try #require(try ledger.append([draft], actor: actor).last)
    }

    /// Records an organisation with its kind and country.
    @discardableResult
    func org(_ slug: String, _ name: String, country: String = "LV", kind: String = "municipality") throws -> EventRecord {
        try record("organisation-registered", ["organisation": .string(slug), "name": .string(name), "kind": .string(kind), "country": .string(country)], occurredAt: "2019-01-01")
    }

    /// Deletes the projection database (and its WAL files).
    func deleteProjectionDatabase() {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: projectionDatabasePath + suffix) }
    }
}

/// Money as the catalog writes it.
func money(_ amount: String, _ currency: String = "EUR") -> JSONValue {
    .object(["amount": .string(amount), "currency": .string(currency)])
}

/// Waits long enough for the next append to get a later `recorded_at` (millisecond precision).
func tick() {
    Thread.sleep(forTimeInterval: 0.005)
}

/// Every table of an SQLite file, with its rows, as text: to show that a failed catch-up left the
/// projection database exactly as it was.
func dumpDatabase(_ path: String) throws -> String {
    var configuration = SQLiteSetup.configuration()
    configuration.readonly = true
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    return try queue.read { db in
        var text = ""
        for row in try Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_master ORDER BY type, name") {
            let type: String = row["type"], name: String = row["name"]
            text += "\(type) \(name): \(row["sql"] as String? ?? "")\n"
            guard type == "table" else { continue }
            for values in try Row.fetchAll(db, sql: "SELECT * FROM \(name.quotedDatabaseIdentifier) ORDER BY rowid") {
                text += "  \(values)\n"
            }
        }
        return text
    }
}

/// A folder of analyst projections: `*.sql` files and `reports/*.sql`.
final class AnalystFolder: Sendable {
    let directory: TemporaryDirectory
    var url: URL { directory.url }

    init() throws {
        directory = try TemporaryDirectory("kopa-analyst")
        try FileManager.default.createDirectory(at: directory.url.appendingPathComponent("reports"), withIntermediateDirectories: true)
    }

    /// Writes a projection file and returns its path.
    @discardableResult
    func projection(_ file: String, _ sql: String) throws -> String {
        try directory.write(file, sql)
    }

    /// Writes a report file and returns its path.
    @discardableResult
    func report(_ file: String, _ sql: String) throws -> String {
        try directory.write("reports/" + file, sql)
    }
}

/// The small ledger the report tests check to the cent: one project with three partners (one
/// leaves), two meetings, a plan drafted and approved, a budget, funding committed by three
/// sources with their rates, two expenditures (one verified), one payment, and three
/// neighbourhoods of which one has an active council (another's was formed and dissolved).
struct HandMadeLedger {
    let test: TestLedger
    /// The events recorded, by a short name.
    let events: [String: EventRecord]

    init() throws {
        let test = try TestLedger(actor: "clerk-1")
        self.test = test
        var events: [String: EventRecord] = [:]
        func add(_ name: String, _ type: String, _ data: [String: JSONValue], _ occurredAt: String, meta: [String: JSONValue] = [:]) throws {
            events[name] = try test.record(type, data, occurredAt: occurredAt, meta: meta)
        }
        try add("kekava", "organisation-registered", ["organisation": "kekava", "name": "Ķekavas novada pašvaldība", "kind": "municipality", "country": "LV"], "2019-01-01")
        try add("milano", "organisation-registered", ["organisation": "milano", "name": "Comune di Milano", "kind": "municipality", "country": "IT"], "2019-01-01")
        try add("porto", "organisation-registered", ["organisation": "porto", "name": "Câmara Municipal do Porto", "kind": "municipality", "country": "PT"], "2019-01-01")
        try add("project", "project-registered", [
            "project": "p1", "title": "Project One", "programme": "URBACT III", "network_type": "action-planning",
            "lead_partner": "milano", "starts_on": "2019-09-02", "ends_on": "2022-08-07",
        ], "2019-09-02")
        try add("join-milano", "partner-joined", ["project": "p1", "organisation": "milano", "role": "lead"], "2019-09-02")
        try add("join-kekava", "partner-joined", ["project": "p1", "organisation": "kekava", "role": "partner"], "2019-09-02")
        try add("join-porto", "partner-joined", ["project": "p1", "organisation": "porto", "role": "partner"], "2019-10-01")
        try add("leave-porto", "partner-left", ["project": "p1", "organisation": "porto", "reason": "withdrew"], "2021-03-15")
        try add("m1", "meeting-held", [
            "meeting": "m1", "kind": "partner-meeting", "title": "Kick-off", "project": "p1", "place": "Milano",
            "participants": .integer(30), "organisations": ["milano", "kekava", "porto"],
        ], "2019-10-15", meta: [
            "source": "minutes of the kick-off meeting",
            "evidence": [["title": "Minutes", "sha256": .string(String(repeating: "ab", count: 32))]],
        ])
        try add("m2", "meeting-held", ["meeting": "m2", "kind": "local-group-meeting", "title": "ULG 1", "project": "p1", "place": "Ķekava", "organisations": ["kekava"]], "2019-12-05")
        try add("drafted", "plan-drafted", ["plan": "iap1", "title": "Integrated Action Plan", "kind": "integrated-action-plan", "project": "p1", "organisation": "kekava"], "2021-06")
        try add("approved", "plan-approved", ["plan": "iap1", "approved_by": "Ķekava municipal council", "organisation": "kekava", "decision_reference": "No. 7"], "2022-05-25")
        try add("budget", "budget-approved", ["project": "p1", "amount": money("57005.82")], "2019-09-02")
        try add("erdf", "funding-committed", ["project": "p1", "funding_source": "erdf", "amount": money("48454.95"), "rate": "85", "organisation": "kekava"], "2019-09-02")
        try add("state", "funding-committed", ["project": "p1", "funding_source": "state", "amount": money("4275.44"), "rate": "7.5"], "2019-09-02")
        try add("municipality", "funding-committed", ["project": "p1", "funding_source": "municipality", "amount": money("4275.43"), "rate": "7.50"], "2019-09-02")
        try add("e1", "expenditure-recorded", ["expenditure": "e1", "project": "p1", "amount": money("1200.50"), "cost_category": "staff", "description": "Coordinator salary"], "2020-01-31")
        try add("e2", "expenditure-recorded", ["expenditure": "e2", "project": "p1", "amount": money("300.25"), "cost_category": "travel-accommodation"], "2020-02-15")
        try add("verified", "expenditure-verified", ["expenditure": "e1", "amount": money("1150.00"), "controller": "FLC"], "2020-06-30")
        try add("payment", "payment-received", ["project": "p1", "funding_source": "erdf", "amount": money("977.50"), "payer": "URBACT Secretariat"], "2020-12-01")
        for (slug, name) in [("n1", "Neighbourhood one"), ("n2", "Neighbourhood two"), ("n3", "Neighbourhood three")] {
            try add(slug, "neighbourhood-registered", ["neighbourhood": .string(slug), "name": .string(name), "municipality": "kekava"], "2025-01")
        }
        try add("formed-n1", "council-formed", ["neighbourhood": "n1", "members_count": .integer(12)], "2025-03-01")
        try add("formed-n2", "council-formed", ["neighbourhood": "n2", "members_count": .integer(9)], "2025-04")
        try add("dissolved-n2", "council-dissolved", ["neighbourhood": "n2", "reason": "merged"], "2025-09-30")
        self.events = events
    }

    subscript(_ name: String) -> EventRecord { events[name]! }
}
