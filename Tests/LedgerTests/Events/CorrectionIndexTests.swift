import Foundation
import Testing

@testable import Ledger

/// Which corrections apply to which event: chains of corrections of corrections of any length, and
/// retracted events with their corrections.
@Suite("correction index")
struct CorrectionIndexTests {
    static func record(_ seq: Int64, _ type: String, data: String, meta: String = "{}", occurredAt: String = "2020-01-01") -> EventRecord {
        EventRecord(
            seq: seq, id: String(format: "00000000-0000-7000-8000-%012d", seq), type: type, version: 1, stream: "organisation/o1",
            streamVersion: seq, occurredAt: occurredAt, recordedAt: "2026-01-01T00:00:00.000Z", recordedBy: "clerk",
            dataJSON: data, metaJSON: meta, prev: String(repeating: "0", count: 64), hash: String(repeating: "0", count: 64))
    }

    /// Each correction corrects the one before it; the last one's payload is the event's, however
    /// long the chain (a limit of 1000 steps filed the later ones under a correction).
    @Test(arguments: [1, 2, 1_500])
    func theLastOfAChainOfCorrectionsApplies(length: Int) {
        let original = Self.record(1, "organisation-registered", data: #"{"name":"n0"}"#)
        var actions: [EventRecord] = []
        var target = original.id
        for i in 1...length {
            let correction = Self.record(Int64(i + 1), "event-corrected", data: #"{"data":{"name":"n\#(i)"}}"#, meta: #"{"corrects":"\#(target)","reason":"r"}"#)
            actions.append(correction)
            target = correction.id
        }
        let index = CorrectionIndex(actions)
        #expect(index.corrections[original.id]?.count == length)
        #expect(index.effective(original).data["name"]?.stringValue == "n\(length)")
    }

    /// A retracted event still carries its corrected valid time, so that its history at a valid
    /// time goes by the corrected date.
    @Test func aRetractedEventKeepsItsCorrectedTime() {
        let original = Self.record(1, "organisation-registered", data: #"{"name":"n0"}"#, occurredAt: "2025-03-01")
        let correction = Self.record(2, "event-corrected", data: #"{"data":{"name":"n0"},"occurred_at":"2019-03-01"}"#, meta: #"{"corrects":"\#(original.id)","reason":"r"}"#)
        let retraction = Self.record(3, "event-retracted", data: "{}", meta: #"{"retracts":"\#(original.id)","reason":"r"}"#)
        let effective = CorrectionIndex([correction, retraction]).effective(original)
        #expect(effective.retracted)
        #expect(effective.occurredAt == "2019-03-01")
        #expect(!CorrectionIndex([correction]).effective(original).retracted)
    }
}
