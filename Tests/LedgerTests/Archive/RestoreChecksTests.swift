import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// What restore refuses beyond the chain: archives that verify (their chain recomputed after a
/// change) but that Kopa could not have written, because a record breaks a rule an append keeps.
@Suite("archives: what restore checks beyond the chain")
struct RestoreChecksTests {
    /// A change to the archive's correction (of seq 30's name) or its retraction (of seq 31).
    enum Forgery: String, CaseIterable, CustomTestStringConvertible {
        case targetMissing, targetLater, otherStream, changesLie, targetTypeLies, correctsASystemEvent
        case retractsARetraction, ownTimeIsNotItsRecording, unknownMetaKey, noTarget

        var testDescription: String { rawValue }

        /// What the refusal says.
        var message: String {
            switch self {
            case .targetMissing: "there is no event with id '00000000-0000-4000-8000-000000000000' to correct"
            case .targetLater: "there is no event with id"
            case .otherStream: "it is in stream 'organisation/org-5', but the event it concerns is in stream 'organisation/org-"
            case .changesLie: "data.changes does not match the correction of seq"
            case .targetTypeLies: "target_type is 'meeting-held' but the event at seq"
            case .correctsASystemEvent: "the 'ledger-created' event at seq 1 cannot be corrected: system events are fixed"
            case .retractsARetraction: "cannot be retracted; record the withdrawn event again instead"
            case .ownTimeIsNotItsRecording: "is not its recorded_at"
            case .unknownMetaKey: "unknown meta key 'approved_by'"
            case .noTarget: "meta.corrects must name the id of the event to correct"
            }
        }
    }

    /// Adds `record` at the end of `records` as a new event (`id`, in `stream` at `version`,
    /// recorded with the last event) and recomputes the chain from it.
    static func append(_ record: EventRecord, to records: inout [EventRecord], id: String, stream: String? = nil, version: Int64) {
        var added = record
        added.seq = Int64(records.count + 1)
        added.id = id
        added.stream = stream ?? record.stream
        added.streamVersion = version
        added.recordedAt = records.last!.recordedAt
        records.append(added)
        records.relink(from: records.count - 1)
    }

    /// The records as an archive in `dir`.
    static func archive(_ records: [EventRecord], in dir: TemporaryDirectory) throws -> String {
        let path = dir.path("forged.kopa")
        try Frames.compress(Array(records.map { $0.exportLine + "\n" }.joined().utf8), to: path)
        return path
    }

    @Test("a correction or retraction that an append would refuse is refused at its seq", arguments: Forgery.allCases)
    func aCorrectionAnAppendWouldRefuseIsRefused(_ forgery: Forgery) throws {
        let source = try ArchivedLedger()
        let dir = try TemporaryDirectory("kopa-archive")
        var records = try source.test.ledger.events()
        let correction = try #require(records.firstIndex { $0.type == "event-corrected" })
        let retraction = try #require(records.firstIndex { $0.type == "event-retracted" })
        var forged = forgery == .retractsARetraction ? retraction : correction
        func edit(_ index: Int, meta: (inout [String: JSONValue]) -> Void = { _ in }, data: (inout [String: JSONValue]) -> Void = { _ in }) {
            var m = records[index].meta.objectValue ?? [:], d = records[index].data.objectValue ?? [:]
            meta(&m)
            data(&d)
            records[index].metaJSON = CanonicalJSON.string(.object(m))
            records[index].dataJSON = CanonicalJSON.string(.object(d))
        }
        switch forgery {
        case .targetMissing: edit(correction, meta: { $0["corrects"] = "00000000-0000-4000-8000-000000000000" })
        case .targetLater: edit(correction, meta: { $0["corrects"] = .string(records.last!.id) })
        case .otherStream:
            records[correction].stream = "organisation/org-5"
            records[correction].streamVersion = 2
        case .changesLie:
            edit(correction, data: { data in
                var payload = data["data"]?.objectValue ?? [:]
                payload["country"] = "EE"  // changed, but only the name is listed
                data["data"] = .object(payload)
            })
        case .targetTypeLies: edit(correction, data: { $0["target_type"] = "meeting-held" })
        case .correctsASystemEvent:
            edit(correction, meta: { $0["corrects"] = .string(records[0].id) }, data: { $0["target_type"] = "ledger-created" })
            records[correction].stream = records[0].stream
            records[correction].streamVersion = 2
        case .retractsARetraction:
            // A second retraction, of the first, at the end.
            var second = records[retraction]
            second.occurredAt = records.last!.recordedAt
            let version = Int64(records.filter { $0.stream == second.stream }.count + 1)
            Self.append(second, to: &records, id: "00000000-0000-4000-8000-0000000000aa", version: version)
            forged = records.count - 1
            edit(forged, meta: { $0["retracts"] = .string(records[retraction].id) }, data: { $0["target_type"] = "event-retracted" })
        case .ownTimeIsNotItsRecording: records[correction].occurredAt = "2019-01-01"
        case .unknownMetaKey: edit(correction, meta: { $0["approved_by"] = "someone" })
        case .noTarget: edit(correction, meta: { $0["corrects"] = nil })
        }
        try ArchiveTests.expectRestoreRefuses(records, forgedFrom: min(forged, correction), in: dir, .invalidInput, mentioning: forgery.message, at: records[forged].seq)
    }

    /// A correction whose payload names an organisation withdrawn before it (its registration
    /// retracted) is refused, as an append refuses it: the log is forged by moving the
    /// retraction before the correction, which an append would have made after it.
    @Test func aCorrectionNamingAWithdrawnOrganisationIsRefused() throws {
        let test = try TestLedger().withFixtures()
        let registration = try test.organisation("alpha")
        let joined = try test.record("partner-joined", ["project": "cities4csr", "organisation": "alpha", "role": "partner"])
        _ = try test.ledger.append([try test.ledger.correctionDraft(of: "\(joined.seq)", set: ["role": "associate"], reason: "an associate, says the agreement")], actor: "clerk-1")
        _ = try test.ledger.append([try test.ledger.retractionDraft(of: "\(registration.seq)", reason: "registered by mistake")], actor: "clerk-1")
        var records = try test.ledger.events()
        let n = records.count
        #expect(records[n - 2].type == "event-corrected" && records[n - 1].type == "event-retracted")
        // The two swapped: each keeps its stream version (their streams differ), both one time.
        records.swapAt(n - 2, n - 1)
        let time = records[n - 1].recordedAt
        for i in [n - 2, n - 1] {
            records[i].seq = Int64(i + 1)
            records[i].recordedAt = time
            records[i].occurredAt = time
        }
        let dir = try TemporaryDirectory("kopa-archive")
        try ArchiveTests.expectRestoreRefuses(
            records, forgedFrom: n - 2, in: dir, .invalidInput,
            mentioning: "field 'organisation' refers to 'alpha', but the organisation was withdrawn (the event that opened stream 'organisation/alpha' was retracted)", at: Int64(n))
    }

    /// The archive's own corrections and retraction, unchanged, pass the same checks.
    @Test func theArchivesOwnCorrectionsPass() throws {
        let source = try ArchivedLedger()
        let dir = try TemporaryDirectory("kopa-restore")
        try Ledger.restore(from: source.archive, to: dir.path("r.sqlite"))
        let restored = try Ledger.open(at: dir.path("r.sqlite"))
        #expect(try restored.events() == source.test.ledger.events())
        #expect(try restored.events().filter { $0.type == "event-corrected" || $0.type == "event-retracted" }.count == 2)
    }

    /// Kopa never writes a record over 1 MiB: `verify FILE` and restore refuse one at its seq (a
    /// megabyte-long value also took `kopa show` 23 s to fold).
    @Test func aRecordOverOneMiBIsRefusedByVerifyAndRestore() throws {
        let source = try ArchivedLedger()
        let dir = try TemporaryDirectory("kopa-archive")
        var records = try source.test.ledger.events()
        let index = try #require(records.firstIndex { $0.stream == "organisation/org-100" })
        var data = records[index].data.objectValue ?? [:]
        data["name"] = .string(String(repeating: "a", count: Ledger.maxRecordBytes))
        records[index].dataJSON = CanonicalJSON.string(.object(data))
        records.relink(from: index)
        let forged = try RestoreChecksTests.archive(records, in: dir)
        let message = "but Kopa writes records of at most 1048576 bytes (1 MiB)"
        let verifyError = expectLedgerError(.integrity, mentioning: [message]) { _ = try Ledger.verifyArchive(path: forged) }
        #expect(verifyError?.seq == records[index].seq)
        let target = try TemporaryDirectory("kopa-restore")
        let restoreError = expectLedgerError(.integrity, mentioning: [message]) { try Ledger.restore(from: forged, to: target.path("r.sqlite")) }
        #expect(restoreError?.seq == records[index].seq)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.url.path) == [])
    }

    /// A `recorded_at` of the right shape that names no instant (month 99, 31 November, 29
    /// February of a common year) is refused by `verify FILE` and restore: every later append
    /// would fail reading the head's time.
    @Test("a recorded_at that is no real time is refused", arguments: ["2099-99-99T99:99:99.999Z", "2099-11-31T08:30:00.000Z", "2099-02-29T00:00:00.000Z", "2099-01-01T24:00:00.000Z"])
    func aRecordedAtThatIsNoRealTimeIsRefused(_ recordedAt: String) throws {
        let source = try ArchivedLedger()
        let dir = try TemporaryDirectory("kopa-archive")
        var records = try source.test.ledger.events()
        records[records.count - 1].recordedAt = recordedAt
        records.relink(from: records.count - 1)
        let forged = try Self.archive(records, in: dir)
        let message = "recorded_at '\(recordedAt)' is not a real UTC time"
        let error = expectLedgerError(.integrity, mentioning: [message]) { _ = try Ledger.verifyArchive(path: forged) }
        #expect(error?.seq == Int64(records.count))
        let target = try TemporaryDirectory("kopa-restore")
        expectLedgerError(.integrity, mentioning: [message]) { try Ledger.restore(from: forged, to: target.path("r.sqlite")) }
    }

    /// An archive whose last event was recorded more than a day after this machine's clock is
    /// refused (every later event would take that time); a little ahead (another machine's
    /// clock) restores. `verify FILE` reads no clock and accepts both.
    @Test func anArchiveRecordedInTheFutureIsRefused() throws {
        let source = try ArchivedLedger()
        let dir = try TemporaryDirectory("kopa-archive")
        var records = try source.test.ledger.events()
        let now = UTCTime.nowMillis()
        for (ahead, refused) in [(2 * 86_400_000, true), (3_600_000, false)] as [(Int64, Bool)] {
            records[records.count - 1].recordedAt = UTCTime.format(millis: now + ahead)
            records.relink(from: records.count - 1)
            let forged = try Self.archive(records, in: dir)
            #expect(try Ledger.verifyArchive(path: forged).chain.count == Int64(records.count))
            let target = try TemporaryDirectory("kopa-restore")
            if refused {
                let error = expectLedgerError(.invalidInput, mentioning: ["the record cannot be restored", "more than a day after this machine's clock"]) {
                    try Ledger.restore(from: forged, to: target.path("r.sqlite"))
                }
                #expect(error?.seq == Int64(records.count))
                #expect(try FileManager.default.contentsOfDirectory(atPath: target.url.path) == [])
            } else {
                try Ledger.restore(from: forged, to: target.path("r.sqlite"))
            }
        }
    }

    /// `kopa init` registers each version of a type once; a second schema for one (which would
    /// replace the one earlier events were validated against) is refused by restore, naming both seqs.
    @Test func aSchemaRegisteredTwiceIsRefused() throws {
        let source = try ArchivedLedger()
        let dir = try TemporaryDirectory("kopa-archive")
        var records = try source.test.ledger.events()
        let again = try #require(records.first { $0.type == "schema-registered" && $0.stream == "schema/meeting-held" })
        Self.append(again, to: &records, id: "00000000-0000-4000-8000-0000000000bb", version: 2)
        let forged = try Self.archive(records, in: dir)
        let target = try TemporaryDirectory("kopa-restore")
        let error = expectLedgerError(.integrity, mentioning: ["cannot be restored", "the schema of 'meeting-held' version 1 is registered again at seq \(records.count) (first at seq \(again.seq))"]) {
            try Ledger.restore(from: forged, to: target.path("r.sqlite"))
        }
        #expect(error?.seq == Int64(records.count))
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.url.path) == [])
    }

    /// A schema error that knows nothing of the event (a pattern that does not compile) names the
    /// seq that registered the schema.
    @Test func aBrokenSchemaIsNamedByItsSeq() throws {
        let source = try ArchivedLedger(organisations: 5)
        let dir = try TemporaryDirectory("kopa-archive")
        var records = try source.test.ledger.events()
        var broken = try #require(records.first { $0.type == "schema-registered" && $0.stream == "schema/meeting-held" })
        var data = broken.data.objectValue ?? [:]
        var schema = data["schema"]?.objectValue ?? [:]
        var properties = schema["properties"]?.objectValue ?? [:]
        var title = try #require(properties["title"]?.objectValue)
        title["pattern"] = "(["
        properties["title"] = .object(title)
        schema["properties"] = .object(properties)
        data["schema"] = .object(schema)
        data["event_type"] = "forged-type"
        broken.dataJSON = CanonicalJSON.string(.object(data))
        Self.append(broken, to: &records, id: "00000000-0000-4000-8000-0000000000cc", stream: "schema/forged-type", version: 1)
        let forged = try Self.archive(records, in: dir)
        let error = expectLedgerError(.invalidInput, mentioning: ["cannot be restored", "the schema registered at seq \(records.count): pattern '([' is not a valid regular expression"]) {
            try Ledger.restore(from: forged, to: dir.path("r.sqlite"))
        }
        #expect(error?.seq == Int64(records.count))
    }
}
