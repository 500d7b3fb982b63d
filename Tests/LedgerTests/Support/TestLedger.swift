import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// One fresh ledger in its own temporary folder, created with the bundled catalog.
final class TestLedger: Sendable {
    let directory: TemporaryDirectory
    let path: String
    let ledger: Ledger
    let actor: String

    init(name: String = "Test ledger", actor: String = "tester") throws {
        directory = try TemporaryDirectory("kopa-ledger")
        path = directory.path("kopa.sqlite")
        self.actor = actor
        ledger = try Ledger.create(at: path, name: name, actor: actor)
    }

    /// Appends drafts as the test actor.
    @discardableResult
    func append(_ drafts: EventDraft..., actor: String? = nil) throws -> AppendSummary {
        try ledger.append(drafts, actor: actor ?? self.actor)
    }

    /// Appends one event and returns it.
    @discardableResult
    func record(_ type: String, _ data: [String: JSONValue], occurredAt: String? = nil, meta: [String: JSONValue] = [:]) throws -> EventRecord {
        let summary = try ledger.append([EventDraft(type: type, data: .object(data), occurredAt: occurredAt, meta: meta)], actor: actor)
        return try #require(summary.last)
    }

    /// Registers an organisation.
    @discardableResult
    func organisation(_ slug: String, name: String? = nil) throws -> EventRecord {
        try record("organisation-registered", ["organisation": .string(slug), "name": .string(name ?? "Org \(slug)"), "kind": "municipality", "country": "LV"], occurredAt: "2019-01-01")
    }

    /// Registers a project (with a lead partner when given).
    @discardableResult
    func project(_ slug: String, lead: String? = nil) throws -> EventRecord {
        var data: [String: JSONValue] = ["project": .string(slug), "title": .string("Project \(slug)"), "programme": "URBACT III", "network_type": "action-planning"]
        if let lead { data["lead_partner"] = .string(lead) }
        return try record("project-registered", data, occurredAt: "2019-09-02")
    }

    /// The usual fixture: organisation `kekava`, project `cities4csr` led by it.
    func withFixtures() throws -> TestLedger {
        try organisation("kekava", name: "Ķekavas novada pašvaldība")
        try project("cities4csr", lead: "kekava")
        return self
    }

    /// The fixtures and one workshop, `meeting/m1` of 2019-12-05: what an analyst's projection is tried on.
    func withOneMeeting() throws -> TestLedger {
        _ = try withFixtures()
        try record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "One"], occurredAt: "2019-12-05")
        return self
    }

    /// The current head.
    func head() throws -> ChainHead { try ledger.head() }
}

/// Runs a command line tool (sqlite3, python3) and returns its exit status and output.
@discardableResult
func runTool(_ executable: String, _ arguments: [String], stdin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let scratch = try TemporaryDirectory("kopa-tool")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let outPath = scratch.path("stdout"), errPath = scratch.path("stderr"), inPath = scratch.path("stdin")
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    _ = FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    try input.close()
    let stdout = String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self)
    let stderr = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
    return (process.terminationStatus, stdout, stderr)
}

/// Runs SQL on a ledger file with the `sqlite3` shell, outside Kopa.
@discardableResult
func sqlite3(_ path: String, _ sql: String) throws -> (status: Int32, stdout: String, stderr: String) {
    try runTool("/usr/bin/sqlite3", ["-bail", path], stdin: sql)
}

/// Expects `body` to throw a ``LedgerError`` and returns it.
@discardableResult
func expectLedgerError(
    _ kind: LedgerError.Kind, mentioning fragments: [String] = [],
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> LedgerError? {
    do {
        try body()
        Issue.record("expected a LedgerError of kind \(kind), but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as LedgerError {
        #expect(error.kind == kind, "kind of: \(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.description.contains(fragment), "'\(fragment)' not named in: \(error)", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected a LedgerError of kind \(kind), got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// The repository checkout (for `events/`, `seeds/`, `scripts/`).
let checkoutRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

extension JSONValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(uniqueKeysWithValues: elements))
    }
}

extension JSONValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: JSONValue...) {
        self = .array(elements)
    }
}
