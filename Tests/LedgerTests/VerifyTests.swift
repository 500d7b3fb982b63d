import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// What appends never write, found by every verification: of an archive, by restore, and of a
/// ledger's store, on one thread and on two (the second starting mid-log).
@Suite("verification: what appends never write")
struct VerifyTests {
    enum Change: String, CaseIterable, CustomTestStringConvertible {
        case emailActor, emptyActor, impossibleTime, oversize

        var testDescription: String { rawValue }

        var message: String {
            switch self {
            case .emailActor: "recorded_by 'jane.doe@example.org' is not a staff identifier"
            case .emptyActor: "recorded_by '' is not a staff identifier"
            case .impossibleTime: "recorded_at '2099-02-29T00:00:00.000Z' is not a real UTC time"
            case .oversize: "but Kopa writes records of at most 1048576 bytes (1 MiB)"
            }
        }

        func apply(to record: inout EventRecord) {
            switch self {
            case .emailActor: record.recordedBy = "jane.doe@example.org"
            case .emptyActor: record.recordedBy = ""
            case .impossibleTime: record.recordedAt = "2099-02-29T00:00:00.000Z"
            case .oversize:
                var data = record.data.objectValue ?? [:]
                data["name"] = .string(String(repeating: "a", count: Ledger.maxRecordBytes))
                record.dataJSON = CanonicalJSON.string(.object(data))
            }
        }
    }

    /// The record changed is the first the second thread of a ledger's verify checks (which
    /// starts knowing the previous record's hash and time, not its actor).
    @Test(arguments: Change.allCases)
    func whatAppendsNeverWriteIsRefused(_ change: Change) throws {
        let source = try ArchivedLedger(organisations: 6)
        let dir = try TemporaryDirectory("kopa-verify")
        var records = try source.test.ledger.events()
        let index = records.count / 2
        change.apply(to: &records[index])
        // Every later event keeps its time: the forged one is the first to break a rule.
        for i in (index + 1)..<records.count where records[i].recordedAt < records[index].recordedAt {
            records[i].recordedAt = records[index].recordedAt
        }
        records.relink(from: index)
        let seq = records[index].seq
        let archive = try RestoreChecksTests.archive(records, in: dir)
        let error = expectLedgerError(.integrity, mentioning: [change.message]) { _ = try Ledger.verifyArchive(path: archive) }
        #expect(error?.seq == seq)
        expectLedgerError(.integrity, mentioning: [change.message]) { try Ledger.restore(from: archive, to: dir.path("r.sqlite")) }
        // The same records in a ledger's store, written past every append check.
        let ledger = try Self.storing(records, from: source, in: dir)
        for parallelFrom in [Int64.max, 2] {
            let found = expectLedgerError(.integrity, mentioning: [change.message]) { _ = try ledger.verify(parallelFrom: parallelFrom) }
            #expect(found?.seq == seq, "parallel from \(parallelFrom)")
        }
    }

    /// A ledger's first record with no time at all (an archive line without one is no record).
    @Test func aFirstRecordWithoutATimeIsRefused() throws {
        let source = try ArchivedLedger(organisations: 6)
        let dir = try TemporaryDirectory("kopa-verify")
        var records = try source.test.ledger.events()
        records[0].recordedAt = ""
        records.relink(from: 0)
        let ledger = try Self.storing(records, from: source, in: dir)
        let error = expectLedgerError(.integrity, mentioning: ["recorded_at '' is not a real UTC time"]) { _ = try ledger.verify() }
        #expect(error?.seq == 1)
    }

    static func storing(_ records: [EventRecord], from source: ArchivedLedger, in dir: TemporaryDirectory) throws -> Ledger {
        let store = try SQLiteEventStore.create(path: dir.path("forged.sqlite"))
        try store.append { session in
            for record in records {
                try session.insert(record, occurred: try OccurredAt(record.occurredAt), idempotencyKey: nil, target: nil)
            }
        }
        return Ledger(store: store, catalog: source.test.ledger.catalog)
    }
}
