import Foundation
import GRDB
import Testing

@testable import Ledger

/// A stream named on the command line that has no events is most likely a typo: the answer names
/// the nearest recorded stream, preferring streams of the same kind.
@Suite("stream names")
struct StreamNameTests {
    @Test func aMistypedStreamIsAnsweredWithTheNearestRecordedOne() throws {
        let test = try TestLedger().withFixtures()
        try test.project("cities4all", lead: "kekava")
        #expect(try test.ledger.hasStream("project/cities4csr"))
        #expect(try !test.ledger.hasStream("project/cities4cs"))
        #expect(try test.ledger.nearestStream(to: "project/cities4cs") == "project/cities4csr")
        #expect(try test.ledger.nearestStream(to: "projcet/cities4csr") == "project/cities4csr", "a mistyped kind")
        #expect(try test.ledger.nearestStream(to: "cities4csr") == "project/cities4csr", "a missing kind")
        #expect(try test.ledger.nearestStream(to: "meeting/cities4csr") == "project/cities4csr", "a kind with no streams: the slug where it is")
        let kinds = try test.ledger.store.queue.read { db in try Ledger.streamKinds(in: db) }
        #expect(kinds.contains("project/") && kinds.contains("organisation/") && Set(kinds).count == kinds.count, "\(kinds)")
        #expect(try test.ledger.nearestStream(to: "project/zzzzzzzzzz") == nil, "nothing near: no guess")
        #expect(try test.ledger.unknownStreamNote("project/cities4csr") == nil)
        let note = try #require(try test.ledger.unknownStreamNote("project/cities4cs"))
        #expect(note.contains("'project/cities4cs'") && note.contains("did you mean 'project/cities4csr'?"), "\(note)")
        expectLedgerError(.notFound, mentioning: ["stream 'organisation/kekav'", "did you mean 'organisation/kekava'?"]) {
            _ = try test.ledger.state(of: "organisation/kekav")
        }
    }

    /// A stream asked about as known before its first event was recorded: the answer names the
    /// time asked about, and says there is such a stream (no "did you mean").
    @Test func aStreamKnownOnlyLaterNamesTheTimeAskedAbout() throws {
        let test = try TestLedger().withFixtures()
        let time = ReportTime(knownAt: try TimeBound("2019-12-05"))
        let error = expectLedgerError(.notFound, mentioning: ["stream 'project/cities4csr' has no events known at 2019-12-05T23:59:59.999Z (its first event was recorded later)"]) {
            _ = try test.ledger.history(of: "project/cities4csr", time: time)
        }
        #expect(error?.message.contains("did you mean") == false)
        // A stream that does not exist at all: a typo, not a time too early.
        let typo = expectLedgerError(.notFound, mentioning: ["stream 'project/cities4cs' has no events known at 2019-12-05T23:59:59.999Z", "did you mean 'project/cities4csr'?"]) {
            _ = try test.ledger.history(of: "project/cities4cs", time: time)
        }
        #expect(typo?.message.contains("recorded later") == false)
    }
}
