import Foundation
import GRDB
import KopaTestSupport
import Testing

@testable import Ledger

@Suite("event columns")
struct EventColumnsTests {
    /// The bytes verify hashes and export writes straight from SQLite's buffers must be the record's
    /// canonical form exactly: verify falls back to the decoded record on any difference, so a wrong
    /// byte would only show as a slower verify, never as a failure.
    @Test func writtenRecordIsTheCanonicalRecordOfEveryRow() throws {
        let test = try TestLedger(name: "Ķekava \"ledger\"").withFixtures()
        _ = try test.append(
            EventDraft(
                type: "organisation-registered",
                data: ["organisation": "esc", "name": .string("Tab\there, quote \" back\\slash, bell \u{7}, ā 😀"), "kind": "ngo", "country": "LV"],
                occurredAt: "2019-05", meta: ["source": "Ķekava news \"quoted\"\n2019"]),
            actor: "clerk.a_1")
        _ = try test.ledger.append([try test.ledger.correctionDraft(of: String(try test.head().seq), set: ["name": "Corrected"], reason: "typo\u{1}")], actor: "clerk-2")
        let events = try test.ledger.events()
        let written: [(plain: [UInt8], line: [UInt8])] = try test.ledger.store.read { db in
            let statement = try db.makeStatement(sql: "SELECT \(SQLiteEventStore.columns) FROM events ORDER BY seq")
            let s = RawStatement(statement, in: db)
            var rows: [([UInt8], [UInt8])] = []
            while try s.step() {
                let columns = EventColumns(s, seq: s.int64(0), prev: s.bytes(11), hash: s.bytes(12))
                func written(includingHash: Bool) -> [UInt8] {
                    var buffer = [UInt8](repeating: 0xEE, count: columns.maxCanonicalBytes)
                    let count = buffer.withUnsafeMutableBufferPointer { room in
                        var out = ByteCursor(room.baseAddress!)
                        columns.write(into: &out, includingHash: includingHash)
                        return room.baseAddress!.distance(to: out.position)
                    }
                    #expect(count <= columns.maxCanonicalBytes, "seq \(columns.seq) wrote more than its bound")
                    return Array(buffer[..<count])
                }
                rows.append((written(includingHash: false), written(includingHash: true)))
            }
            return rows
        }
        #expect(written.count == events.count)
        for (record, bytes) in zip(events, written) {
            var canonical: [UInt8] = []
            record.writeCanonical(into: &canonical, includingHash: false)
            #expect(bytes.plain == canonical, "seq \(record.seq)")
            #expect(bytes.line == Array(record.exportLine.utf8), "seq \(record.seq)")
        }
        #expect(events.contains { $0.exportLine.contains(#"\t"#) && $0.exportLine.contains(#"\u0007"#) })
        #expect(try test.ledger.verify(parallelFrom: 2).count == Int64(events.count))
    }
}
