import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// A stream whose opening event was retracted is withdrawn: nothing may refer to it or be recorded
/// in it, until an opening event is recorded in it again.
@Suite("withdrawn streams")
struct WithdrawnStreamTests {
    static func retract(_ test: TestLedger, _ event: EventRecord) throws {
        _ = try test.append(draft: try test.ledger.retractionDraft(of: event.id, reason: "registered by mistake"))
    }

    @Test func aWithdrawnOrganisationCannotBeReferredToUntilItIsRegisteredAgain() throws {
        let test = try TestLedger().withFixtures()
        let gone = try test.organisation("gone", name: "Wrong name")
        try Self.retract(test, gone)
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["'host'", "'gone'", "withdrawn"]) {
            try test.record("meeting-held", ["meeting": "m1", "kind": "forum", "title": "T", "host": "gone"])
        }
        #expect(try test.head() == before, "nothing written")
        // Registered again: the stream continues (version 3), and the name is the new one.
        let again = try test.organisation("gone", name: "Right name")
        #expect(again.stream == "organisation/gone")
        #expect(again.streamVersion == 3)
        try test.record("meeting-held", ["meeting": "m1", "kind": "forum", "title": "T", "host": "gone"])
        #expect(try test.ledger.state(of: "organisation/gone").fields["name"] == "Right name")
        #expect(try test.ledger.verify().count == test.head().seq)
    }

    /// The state says withdrawn while every opening event is retracted, and no more once the
    /// stream is opened again.
    @Test func theStateIsWithdrawnOnlyWhileEveryOpeningEventIsRetracted() throws {
        let test = try TestLedger().withFixtures()
        #expect(try test.ledger.state(of: "organisation/kekava").withdrawn == false)
        let gone = try test.organisation("gone", name: "Wrong name")
        try Self.retract(test, gone)
        let withdrawn = try test.ledger.state(of: "organisation/gone")
        #expect(withdrawn.withdrawn)
        #expect(withdrawn.fields.isEmpty)
        try test.organisation("gone", name: "Right name")
        let again = try test.ledger.state(of: "organisation/gone")
        #expect(again.withdrawn == false)
        #expect(again.fields["name"] == "Right name")
    }

    @Test func aWithdrawnProjectTakesNoEventsButItsOpeningOne() throws {
        let test = try TestLedger().withFixtures()
        let project = try test.project("p2")
        try Self.retract(test, project)
        expectLedgerError(.invalidInput, mentioning: ["'p2'", "withdrawn", "project/p2"]) {
            try test.record("partner-joined", ["project": "p2", "organisation": "kekava", "role": "partner"])
        }
        // The stream of a live entity is unaffected by a retraction elsewhere.
        try test.record("partner-joined", ["project": "cities4csr", "organisation": "kekava", "role": "partner"])
        // Opening a live stream twice is still refused.
        expectLedgerError(.conflict, mentioning: ["project/cities4csr", "exists already"]) { try test.project("cities4csr") }
        try test.project("p2")
        try test.record("partner-joined", ["project": "p2", "organisation": "kekava", "role": "partner"])
    }

    /// Within one batch (one import), a withdrawal and a registration count from the next line on:
    /// what the append remembers of a stream must not outlive them, or a line after a retraction
    /// could refer to the withdrawn organisation, and one after its registration again could not.
    @Test func withinOneBatchAWithdrawalAndARegistrationAgainCountFromTheNextLine() throws {
        let test = try TestLedger().withFixtures()
        // A retraction elsewhere in the log: the append then looks streams up, and remembers them.
        try Self.retract(test, try test.organisation("old"))
        let gone = try test.organisation("gone", name: "Wrong name")
        func meeting(_ slug: String) -> EventDraft {
            EventDraft(type: "meeting-held", data: ["meeting": .string(slug), "kind": "forum", "title": "T", "host": "gone"])
        }
        let retraction = try test.ledger.retractionDraft(of: gone.id, reason: "registered by mistake")
        let before = try test.head()
        let error = expectLedgerError(.invalidInput, mentioning: ["'host'", "'gone'", "withdrawn"]) {
            _ = try test.ledger.append([meeting("m1"), retraction, meeting("m2")], actor: test.actor)
        }
        #expect(error?.line == 3)
        #expect(try test.head() == before, "nothing written")
        let again = EventDraft(type: "organisation-registered", data: ["organisation": "gone", "name": "Right name", "kind": "municipality", "country": "LV"])
        let summary = try test.ledger.append([retraction, again, meeting("m2")], actor: test.actor)
        #expect(summary.appended == 3)
        #expect(try test.ledger.state(of: "organisation/gone").fields["name"] == "Right name")
    }
}
