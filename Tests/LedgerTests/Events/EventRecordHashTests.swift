import Crypto
import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// hash = lower-case hex SHA-256(0x00 ‖ UTF-8(JCS(record))), recomputed here without Kopa's code.
@Suite("event record and hash")
struct EventRecordHashTests {
    static let sample = EventRecord(
        seq: 7, id: "0f8fad5b-d9cb-469f-a165-70867728950e", type: "organisation-registered", version: 1,
        stream: "organisation/kekava", streamVersion: 1, occurredAt: "2019-12", recordedAt: "2024-01-02T03:04:05.678Z",
        recordedBy: "clerk-1", dataJSON: #"{"name":"Ķekavas \"novads\"","organisation":"kekava"}"#,
        metaJSON: #"{"source":"doc\n1"}"#, prev: String(repeating: "ab", count: 32), hash: "")

    /// The canonical text of `sample`, written out by hand: keys sorted, no whitespace.
    static let sampleCanonical = #"{"data":{"name":"Ķekavas \"novads\"","organisation":"kekava"},"id":"0f8fad5b-d9cb-469f-a165-70867728950e","meta":{"source":"doc\n1"},"occurred_at":"2019-12","prev":"abababababababababababababababababababababababababababababababab","recorded_at":"2024-01-02T03:04:05.678Z","recorded_by":"clerk-1","seq":7,"stream":"organisation/kekava","stream_version":1,"type":"organisation-registered","version":1}"#

    static func independentHash(_ canonical: [UInt8]) -> String {
        let digest = SHA256.hash(data: [0x00] + canonical)
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// JCS of a stored record built from its fields with the generic canonicaliser (not the
    /// record's hand-ordered writer).
    static func genericCanonical(_ record: EventRecord) throws -> [UInt8] {
        let object: JSONValue = .object([
            "seq": .integer(record.seq), "id": .string(record.id), "type": .string(record.type),
            "version": .integer(record.version), "stream": .string(record.stream),
            "stream_version": .integer(record.streamVersion), "occurred_at": .string(record.occurredAt),
            "recorded_at": .string(record.recordedAt), "recorded_by": .string(record.recordedBy),
            "data": try JSONParser.parse(record.dataJSON), "meta": try JSONParser.parse(record.metaJSON),
            "prev": .string(record.prev),
        ])
        return try CanonicalJSON.bytes(object)
    }

    @Test func canonicalFormMatchesTheHandWrittenText() throws {
        #expect(String(decoding: Self.sample.canonicalBytes, as: UTF8.self) == Self.sampleCanonical)
        #expect(try Self.genericCanonical(Self.sample) == Array(Self.sampleCanonical.utf8))
    }

    @Test func hashIsSHA256OfZeroByteAndCanonicalText() throws {
        let expected = Self.independentHash(Array(Self.sampleCanonical.utf8))
        #expect(Self.sample.computeHash() == expected)
        #expect(EventHash.isHash(expected))
        // Without the 0x00 leaf prefix the hash differs: the prefix is really there.
        let unprefixed = SHA256.hash(data: Array(Self.sampleCanonical.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(Self.sample.computeHash() != unprefixed)
    }

    @Test func everyFieldIsCoveredByTheHash() {
        let base = Self.sample.computeHash()
        var variants: [EventRecord] = []
        for change in 0..<12 {
            var r = Self.sample
            switch change {
            case 0: r.seq += 1
            case 1: r.id = "1f8fad5b-d9cb-469f-a165-70867728950e"
            case 2: r.type = "organisation-registeres"
            case 3: r.version = 2
            case 4: r.stream = "organisation/kekavb"
            case 5: r.streamVersion = 2
            case 6: r.occurredAt = "2019-11"
            case 7: r.recordedAt = "2024-01-02T03:04:05.679Z"
            case 8: r.recordedBy = "clerk-2"
            case 9: r.dataJSON = #"{"name":"Ķekavas \"novads\"","organisation":"kekavb"}"#
            case 10: r.metaJSON = "{}"
            default: r.prev = String(repeating: "ab", count: 31) + "ac"
            }
            variants.append(r)
        }
        for (i, variant) in variants.enumerated() {
            #expect(variant.computeHash() != base, "field \(i) is not hashed")
        }
    }

    @Test func exportLineIsTheCanonicalRecordWithItsHash() throws {
        var record = Self.sample
        record.hash = record.computeHash()
        let line = record.exportLine
        guard case .object(var members) = try JSONParser.parse(line) else { Issue.record("not an object"); return }
        #expect(members["hash"] == .string(record.hash))
        #expect(String(decoding: try CanonicalJSON.bytes(.object(members)), as: UTF8.self) == line)
        members.removeValue(forKey: "hash")
        #expect(try CanonicalJSON.bytes(.object(members)) == Array(Self.sampleCanonical.utf8))
        #expect(members.count == 12)
    }

    @Test func aNewLedgerStartsWithLedgerCreatedAndAnUnbrokenChain() throws {
        let test = try TestLedger(name: "Ķekava")
        try test.organisation("kekava")
        try test.project("cities4csr", lead: "kekava")
        let records = try test.ledger.events()
        let first = try #require(records.first)
        #expect(first.seq == 1)
        #expect(first.type == "ledger-created")
        #expect(first.stream == "ledger")
        #expect(first.streamVersion == 1)
        #expect(first.prev == String(repeating: "0", count: 64))
        #expect(first.data["name"] == .string("Ķekava"))
        #expect(first.recordedBy == "tester")
        var previous = String(repeating: "0", count: 64)
        var previousRecordedAt = ""
        for (i, record) in records.enumerated() {
            #expect(record.seq == Int64(i + 1))
            #expect(record.prev == previous, "prev of seq \(record.seq)")
            #expect(record.hash == Self.independentHash(try Self.genericCanonical(record)), "hash of seq \(record.seq)")
            #expect(record.recordedAt >= previousRecordedAt)
            #expect(record.recordedAt.utf8.count == 24 && record.recordedAt.hasSuffix("Z"))
            #expect(UUIDText.isValid(record.id))
            // data and meta are stored in canonical form, exactly the bytes that were hashed
            #expect(record.dataJSON == CanonicalJSON.string(try JSONParser.parse(record.dataJSON)))
            #expect(record.metaJSON == CanonicalJSON.string(try JSONParser.parse(record.metaJSON)))
            previous = record.hash
            previousRecordedAt = record.recordedAt
        }
        #expect(records.dropFirst().prefix { $0.type == "schema-registered" }.count == test.ledger.catalog.types.values.map(\.count).reduce(0, +))
        let report = try test.ledger.verify()
        #expect(report.count == Int64(records.count))
        #expect(report.head == records.last?.hash)
        #expect(try test.head().hash == records.last?.hash)
    }

    @Test func ledgerCreatedAndSchemaRegisteredCannotBeAppendedByUsers() throws {
        let test = try TestLedger()
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["ledger-created", "kopa init"]) {
            try test.append(EventDraft(type: "ledger-created", data: ["name": "second"]))
        }
        expectLedgerError(.invalidInput, mentioning: ["schema-registered"]) {
            try test.append(EventDraft(type: "schema-registered", data: ["event_type": "x", "version": .integer(1), "schema": .object([:])]))
        }
        #expect(try test.head() == before)
    }

    @Test func chainVerifierRejectsAFirstEventThatIsNotLedgerCreated() throws {
        var record = Self.sample
        record.seq = 1
        record.prev = EventRecord.genesisPrev
        record.hash = record.computeHash()
        var verifier = ChainVerifier()
        expectLedgerError(.integrity, mentioning: ["seq 1", "ledger-created"]) { try verifier.check(record) }
    }
}
