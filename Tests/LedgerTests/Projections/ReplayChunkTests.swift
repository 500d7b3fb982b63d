import Foundation
import Testing

@testable import Ledger

/// The values a replay binds are worked out from the stored bytes, without parsing payloads into
/// dictionaries. Whatever the payload, they must be what binding the parsed value gives.
@Suite("replay values")
struct ReplayChunkTests {
    /// A value as a test can compare it.
    enum Bound: Equatable, CustomStringConvertible {
        case null, integer(Int64), text(String)
        var description: String {
            switch self {
            case .null: "NULL"
            case .integer(let n): "\(n)"
            case .text(let s): "'\(s)'"
            }
        }
    }

    static func bound(_ chunk: ReplayChunk) -> [Bound] {
        chunk.values.map { value in
            switch value.kind {
            case .null: .null
            case .integer: .integer(value.number)
            case .text:
                .text(String(decoding: chunk.bytes[Int(value.number)..<Int(value.number) + Int(value.length)], as: UTF8.self))
            }
        }
    }

    /// Binds `json` through the byte path and through the parsed reference.
    static func both(_ json: String) throws -> (fast: [Bound], reference: [Bound]) {
        var fast = ReplayChunk()
        var text = json
        text.withUTF8 { fast.appendJSON($0) }
        var reference = ReplayChunk()
        reference.appendValue(try JSONParser.parse(json))
        return (bound(fast), bound(reference))
    }

    @Test(arguments: [
        #""plain""#, #""""#, #""Ķekava – Rīga""#, #""with \"quotes\" and \\ and \n""#, #""\u00e9""#,
        "0", "7", "-12", "123456789012345", "9007199254740991", "-9007199254740991",
        "true", "false", "null",
        #"{"amount":"48454.95","currency":"EUR"}"#, #"{"amount":"1.5"}"#, #"{"a":[1,{"b":"}"}],"c":null}"#,
        #"{"amount":"a\"b","currency":"EUR"}"#, #"["x","y,z",["]"]]"#, "[]", "{}",
    ])
    func fastValueIsTheParsedValue(json: String) throws {
        let (fast, reference) = try Self.both(json)
        #expect(fast == reference, "\(json)")
        #expect(fast.count == 1)
    }

    @Test func membersAreFoundAtTheTopLevelOnly() {
        let object = #"{"a":{"b":1},"b":"top","c":["b"],"d\"b":2,"e":"x"}"#
        let bytes = Array(object.utf8)
        bytes.withUnsafeBufferPointer { b in
            func member(_ key: String) -> String? { ReplayChunk.member(key, of: b).map { String(decoding: $0, as: UTF8.self) } }
            #expect(member("b") == #""top""#)
            #expect(member("a") == #"{"b":1}"#)
            #expect(member("c") == #"["b"]"#)
            #expect(member("e") == #""x""#)
            #expect(member("z") == nil)
            #expect(member("") == nil)
            let notObject = Array("[1,2]".utf8)
            notObject.withUnsafeBufferPointer { #expect(ReplayChunk.member("a", of: $0) == nil) }
        }
    }

    /// A whole event: envelope fields, payload fields, money in cents and its currency, meta fields,
    /// each in its type's slot, the `-- on *` ones first.
    @Test func eventsCarryTheirSlotsInPlanOrder() throws {
        let meta = #"{"evidence":"minutes.pdf","source":"doc-1"}"#
        let data = #"{"amount":{"amount":"1200.50","currency":"EUR"},"note":"a \"quoted\" note","project":"project/x"}"#
        let record = EventRecord(
            seq: 42, id: "0190e0e0-0000-7000-8000-000000000000", type: "funding-committed", version: 1, stream: "project/x",
            streamVersion: 3, occurredAt: "2024-03", recordedAt: "2026-11-21T10:00:00.000Z", recordedBy: "clerk",
            dataJSON: data, metaJSON: meta, prev: "", hash: "")
        let occurred = try OccurredAt("2024-03")
        let slots: [Binding] = [.seq, .source, .field("project"), .cents("amount"), .currency("amount"), .field("note"), .field("missing"), .evidence, .reason, .occurredStart, .type, .streamVersion]
        let plan = ReplayPlan(slots: ["funding-committed": slots], shared: [])
        var chunk = ReplayChunk()
        RawEventRow.with(record, data: data, occurred: occurred) { chunk.append($0, plan: plan) }
        #expect(chunk.events.count == 1)
        #expect(chunk.events[0].seq == 42)
        #expect(chunk.events[0].type == 0)
        #expect(Self.bound(chunk) == [
            .integer(42), .text("doc-1"), .text("project/x"), .integer(120_050), .text("EUR"), .text(#"a "quoted" note"#), .null,
            .text("minutes.pdf"), .null, .text(occurred.start), .text("funding-committed"), .integer(3),
        ])
        let other = EventRecord(
            seq: 43, id: "x", type: "meeting-held", version: 1, stream: "meeting/y", streamVersion: 1, occurredAt: "2024",
            recordedAt: "2026-11-21T10:00:00.000Z", recordedBy: "clerk", dataJSON: "{}", metaJSON: "{}", prev: "", hash: "")
        RawEventRow.with(other, data: "{}", occurred: try OccurredAt("2024")) { chunk.append($0, plan: plan) }
        #expect(chunk.events[1].type == 1, "a type without blocks of its own gets the shared slots only")
        #expect(chunk.events[1].firstValue == 12)
    }
}
