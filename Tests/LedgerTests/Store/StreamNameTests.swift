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
}
