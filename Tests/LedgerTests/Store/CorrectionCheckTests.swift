import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// A correction's `changes` must be what `correctionDraft` computes at the moment it is
/// appended, and `meta.corrects`/`meta.retracts` belong only on corrections and retractions,
/// whichever path the event comes by (import, an appended draft).
@Suite("correction checks")
struct CorrectionCheckTests {
    /// A ledger with the fixtures and meeting m1 ("Wrong", 1 participant); returns the meeting.
    static func ledgerWithMeeting() throws -> (TestLedger, EventRecord) {
        let test = try TestLedger().withFixtures()
        let meeting = try test.record("meeting-held", ["meeting": "m1", "kind": "forum", "title": "Wrong", "project": "cities4csr", "participants": .integer(1)], occurredAt: "2020-01-01")
        return (test, meeting)
    }

    /// An import line correcting `target` to `data`, with the `changes` given as JSON text.
    static func correctionLine(_ target: EventRecord, data: String, changes: String, occurredAt: String? = nil) -> String {
        let when = occurredAt.map { #", "occurred_at": "\#($0)""# } ?? ""
        return #"{"type": "event-corrected", "data": {"target_type": "meeting-held", "data": \#(data)\#(when), "changes": \#(changes)}, "meta": {"corrects": "\#(target.id)", "reason": "minutes"}}"#
    }

    static let retitled = #"{"meeting": "m1", "kind": "forum", "title": "ZZZZ", "project": "cities4csr", "participants": 1}"#

    /// Imports `lines` (a valid meeting first, so that all-or-nothing is seen) and expects a
    /// rejection of line 2 naming `fragments`, with the ledger unchanged.
    static func expectImportRejected(_ test: TestLedger, _ line: String, mentioning fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try test.head()
        let file = try test.directory.write("in.ndjson", [EventStoreTests.meetingLine(7), line].joined(separator: "\n") + "\n")
        let error = expectLedgerError(.invalidInput, mentioning: ["in.ndjson:2"] + fragments, sourceLocation: sourceLocation) {
            _ = try test.ledger.importNDJSON(path: file, actor: "importer")
        }
        #expect(error?.line == 2, sourceLocation: sourceLocation)
        #expect(try test.head() == before, "the event count changed", sourceLocation: sourceLocation)
        #expect(try test.ledger.verify().count == before.seq, sourceLocation: sourceLocation)
    }

    @Test func importRejectsChangesThatNameAnotherField() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let line = Self.correctionLine(meeting, data: Self.retitled, changes: #"[{"field": "participants", "from": 1, "to": 2}]"#)
        try Self.expectImportRejected(test, line, mentioning: ["seq \(meeting.seq)", "'participants'", "does not change", #""field":"title","from":"Wrong","to":"ZZZZ""#])
    }

    @Test func importRejectsEmptyChanges() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let line = Self.correctionLine(meeting, data: Self.retitled, changes: "[]")
        try Self.expectImportRejected(test, line, mentioning: ["seq \(meeting.seq)", "field 'title' changes from 'Wrong' to 'ZZZZ' but is not listed"])
    }

    @Test func importRejectsACorrectionThatChangesNothing() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let same = #"{"meeting": "m1", "kind": "forum", "title": "Wrong", "project": "cities4csr", "participants": 1}"#
        try Self.expectImportRejected(test, Self.correctionLine(meeting, data: same, changes: "[]"), mentioning: ["seq \(meeting.seq)", "changes nothing"])
        // Nor can a list of changes make it change something.
        try Self.expectImportRejected(test, Self.correctionLine(meeting, data: same, changes: #"[{"field": "title", "from": "Wrong", "to": "Wrong"}]"#), mentioning: ["changes nothing"])
    }

    @Test func importRejectsChangesMissingAChangedField() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let data = #"{"meeting": "m1", "kind": "forum", "title": "Right", "project": "cities4csr", "participants": 12}"#
        let line = Self.correctionLine(meeting, data: data, changes: #"[{"field": "title", "from": "Wrong", "to": "Right"}]"#)
        try Self.expectImportRejected(test, line, mentioning: ["field 'participants' changes from 1 to 12 but is not listed"])
    }

    @Test func importRejectsChangesWithWrongValuesOrOrder() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let data = #"{"meeting": "m1", "kind": "forum", "title": "Right", "project": "cities4csr", "participants": 12}"#
        let wrongFrom = Self.correctionLine(meeting, data: data, changes: #"[{"field": "participants", "from": 10, "to": 12}, {"field": "title", "from": "Wrong", "to": "Right"}]"#)
        try Self.expectImportRejected(test, wrongFrom, mentioning: ["field 'participants' changes from 10 to 12, but it changes from 1 to 12"])
        let moved = Self.correctionLine(meeting, data: data, changes: #"[{"field": "participants", "from": 1, "to": 12}, {"field": "title", "from": "Wrong", "to": "Right"}, {"field": "occurred_at", "from": "2020-01-01", "to": "2020-01-02"}]"#)
        try Self.expectImportRejected(test, moved, mentioning: ["'occurred_at'", "does not change", "'2020-01-01' before and after"])
        let reordered = Self.correctionLine(meeting, data: data, changes: #"[{"field": "title", "from": "Wrong", "to": "Right"}, {"field": "participants", "from": 1, "to": 12}]"#)
        try Self.expectImportRejected(test, reordered, mentioning: ["another order", "expected participants, title"])
    }

    @Test func importRejectsMetaCorrectsOnAnOrdinaryEvent() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let line = #"{"type": "meeting-held", "data": {"meeting": "m2", "kind": "forum", "title": "T", "project": "cities4csr"}, "meta": {"corrects": "\#(meeting.id)"}}"#
        try Self.expectImportRejected(test, line, mentioning: ["meta.corrects", "'meeting-held'", "'event-corrected'"])
    }

    @Test func importRejectsMetaRetractsOnAnOrdinaryEvent() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let line = #"{"type": "meeting-held", "data": {"meeting": "m2", "kind": "forum", "title": "T", "project": "cities4csr"}, "meta": {"retracts": "\#(meeting.id)", "reason": "dup"}}"#
        try Self.expectImportRejected(test, line, mentioning: ["meta.retracts", "'meeting-held'", "'event-retracted'"])
    }

    /// `target_type` is recorded, hashed and read by auditors as the type of what is corrected or
    /// withdrawn: one naming another type than the event's (a meeting's correction or retraction
    /// claiming a council) is refused, whatever else the line gets right.
    @Test(arguments: ["event-corrected", "event-retracted"])
    func importRejectsATargetTypeThatIsNotTheTargets(action: String) throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let line = action == "event-corrected"
            ? Self.correctionLine(meeting, data: Self.retitled, changes: #"[{"field": "title", "from": "Wrong", "to": "ZZZZ"}]"#)
                .replacingOccurrences(of: #""target_type": "meeting-held""#, with: #""target_type": "council-formed""#)
            : #"{"type": "event-retracted", "data": {"target_type": "council-formed"}, "meta": {"retracts": "\#(meeting.id)", "reason": "duplicate"}}"#
        try Self.expectImportRejected(test, line, mentioning: ["'\(action)' event rejected", "target_type is 'council-formed' but the event at seq \(meeting.seq) is a 'meeting-held'"])
    }

    @Test func aCorrectionCannotCarryARetractionPointer() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        var draft = try test.ledger.correctionDraft(of: meeting.id, set: ["title": "Right"], reason: "minutes")
        draft.meta["retracts"] = .string(meeting.id)
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["meta.retracts", "'event-corrected'"]) { try test.append(draft) }
        #expect(try test.head() == before)
    }

    @Test func importAcceptsHandWrittenCorrectionsWithTheExactChanges() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        let first = Self.correctionLine(meeting, data: Self.retitled, changes: #"[{"field": "title", "from": "Wrong", "to": "ZZZZ"}]"#)
        // The second is checked against the state the first left, in the same transaction.
        let second = Self.correctionLine(
            meeting, data: #"{"meeting": "m1", "kind": "forum", "title": "Right", "project": "cities4csr"}"#,
            changes: #"[{"field": "participants", "from": 1}, {"field": "title", "from": "ZZZZ", "to": "Right"}, {"field": "occurred_at", "from": "2020-01-01", "to": "2020-01-02"}]"#,
            occurredAt: "2020-01-02")
        let file = try test.directory.write("in.ndjson", first + "\n" + second + "\n")
        #expect(try test.ledger.importNDJSON(path: file, actor: "importer").appended == 2)
        let effective = try test.ledger.effectiveEvent(meeting)
        #expect(effective.data["title"] == "Right")
        #expect(effective.data["participants"] == nil)
        #expect(effective.occurredAt == "2020-01-02")
        // `kopa correct`'s draft against that state is accepted too.
        try test.append(try test.ledger.correctionDraft(of: meeting.id, set: ["participants": .integer(3)], reason: "counted"))
        #expect(try test.ledger.effectiveEvent(meeting).data["participants"] == .integer(3))
    }

    @Test func anAppendedDraftWithFalseOrStaleChangesIsRejected() throws {
        let (test, meeting) = try Self.ledgerWithMeeting()
        var forged = try test.ledger.correctionDraft(of: meeting.id, set: ["title": "ZZZZ"], reason: "minutes")
        forged.data = ["target_type": "meeting-held", "data": forged.data["data"]!, "changes": [["field": "participants", "from": .integer(1), "to": .integer(2)]]]
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["'participants'", "seq \(meeting.seq)"]) { try test.append(forged) }
        #expect(try test.head() == before)

        // A draft made before another correction was appended would now also undo that one.
        let stale = try test.ledger.correctionDraft(of: meeting.id, set: ["participants": .integer(5)], reason: "counted")
        try test.append(try test.ledger.correctionDraft(of: meeting.id, set: ["title": "Right"], reason: "minutes"))
        let after = try test.head()
        // It also says which correction came in between (two clerks correcting one event at once).
        expectLedgerError(.invalidInput, mentioning: ["field 'title' changes from 'Right' to 'Wrong' but is not listed", "stands as corrected at seq \(after.seq)", "by \(test.actor)", "meanwhile"]) { try test.append(stale) }
        #expect(try test.head() == after)
    }
}
