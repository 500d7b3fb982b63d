import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// One rejected draft: the kind of error, what the message must name, and that nothing is written.
struct BadDraft: Sendable, CustomTestStringConvertible {
    var name: String
    var draft: EventDraft
    var kind: LedgerError.Kind
    var mentions: [String]
    var testDescription: String { name }
}

/// Validation of payloads against the schemas registered in the ledger.
@Suite("validation")
struct ValidationTests {
    static let meeting: [String: JSONValue] = ["meeting": "ulg-2019-12", "kind": "local-group-meeting", "title": "ULG meeting", "project": "cities4csr"]
    static let funding: [String: JSONValue] = ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "48454.95", "currency": "EUR"]]

    static func with(_ base: [String: JSONValue], _ changes: [String: JSONValue?]) -> JSONValue {
        var data = base
        for (key, value) in changes { data[key] = value }
        return .object(data)
    }

    static let badDrafts: [BadDraft] = [
        BadDraft(name: "unknown type suggests the nearest", draft: EventDraft(type: "meting-held", data: .object(meeting)),
                 kind: .invalidInput, mentions: ["unknown event type 'meting-held'", "did you mean 'meeting-held'?"]),
        BadDraft(name: "unknown field", draft: EventDraft(type: "meeting-held", data: with(meeting, ["titel": "x"])),
                 kind: .invalidInput, mentions: ["unknown field 'titel'", "did you mean 'title'?"]),
        BadDraft(name: "missing field", draft: EventDraft(type: "meeting-held", data: with(meeting, ["title": nil])),
                 kind: .invalidInput, mentions: ["missing required field 'title'"]),
        BadDraft(name: "wrong type: string for integer", draft: EventDraft(type: "meeting-held", data: with(meeting, ["participants": "many"])),
                 kind: .invalidInput, mentions: ["participants", "'many'", "integer"]),
        BadDraft(name: "wrong type: integer for string", draft: EventDraft(type: "meeting-held", data: with(meeting, ["title": .integer(12)])),
                 kind: .invalidInput, mentions: ["title", "12", "string"]),
        BadDraft(name: "wrong type: string for boolean", draft: EventDraft(type: "meeting-held", data: with(meeting, ["online": "yes"])),
                 kind: .invalidInput, mentions: ["online", "'yes'", "true or false"]),
        BadDraft(name: "enum value suggests the nearest", draft: EventDraft(type: "meeting-held", data: with(meeting, ["kind": "workshp"])),
                 kind: .invalidInput, mentions: ["'workshp'", "did you mean 'workshop'?"]),
        BadDraft(name: "integer above maximum", draft: EventDraft(type: "meeting-held", data: with(meeting, ["days": .integer(61)])),
                 kind: .invalidInput, mentions: ["days", "61", "at most 60"]),
        BadDraft(name: "data is not an object", draft: EventDraft(type: "meeting-held", data: .array([])),
                 kind: .invalidInput, mentions: ["an array", "object"]),
        BadDraft(name: "impossible occurred_at", draft: EventDraft(type: "meeting-held", data: .object(meeting), occurredAt: "2019-02-30"),
                 kind: .invalidInput, mentions: ["'2019-02-30'", "impossible date"]),
        BadDraft(name: "impossible date in a date field", draft: EventDraft(type: "project-phase-defined", data: ["project": "cities4csr", "phase": "phase-1", "starts_on": "2019-02-30"]),
                 kind: .invalidInput, mentions: ["starts_on", "'2019-02-30'", "not a real date"]),
        BadDraft(name: "time without zone", draft: EventDraft(type: "meeting-held", data: .object(meeting), occurredAt: "2019-12-05T18:00:00"),
                 kind: .invalidInput, mentions: ["'2019-12-05T18:00:00'", "no time zone"]),
        BadDraft(name: "negative amount", draft: EventDraft(type: "funding-committed", data: with(funding, ["amount": ["amount": "-5", "currency": "EUR"]])),
                 kind: .invalidInput, mentions: ["amount.amount", "'-5'", "non-negative decimal"]),
        BadDraft(name: "fractional cent", draft: EventDraft(type: "funding-committed", data: with(funding, ["amount": ["amount": "1.005", "currency": "EUR"]])),
                 kind: .invalidInput, mentions: ["amount.amount", "'1.005'", "at most two decimals"]),
        BadDraft(name: "thousands separator", draft: EventDraft(type: "funding-committed", data: with(funding, ["amount": ["amount": "48,454.95", "currency": "EUR"]])),
                 kind: .invalidInput, mentions: ["'48,454.95'"]),
        BadDraft(name: "float where a decimal string is expected", draft: EventDraft(type: "funding-committed", data: with(funding, ["amount": ["amount": .number("12.5"), "currency": "EUR"]])),
                 kind: .invalidInput, mentions: ["amount.amount", "12.5", "decimals as strings"]),
        BadDraft(name: "float where an integer is expected", draft: EventDraft(type: "meeting-held", data: with(meeting, ["participants": .number("12.0")])),
                 kind: .invalidInput, mentions: ["participants", "12.0"]),
        BadDraft(name: "lower-case currency", draft: EventDraft(type: "funding-committed", data: with(funding, ["amount": ["amount": "5", "currency": "eur"]])),
                 kind: .invalidInput, mentions: ["amount.currency", "'eur'", "ISO 4217"]),
        BadDraft(name: "percentage above 100", draft: EventDraft(type: "funding-committed", data: with(funding, ["rate": "100.01"])),
                 kind: .invalidInput, mentions: ["rate", "'100.01'", "percentage"]),
        BadDraft(name: "percentage followed by a line break", draft: EventDraft(type: "funding-committed", data: with(funding, ["rate": "85\n"])),
                 kind: .invalidInput, mentions: ["rate", #"'85\n'"#, "percentage"]),
        BadDraft(name: "URI with a space", draft: EventDraft(type: "deliverable-published", data: ["project": "cities4csr", "deliverable": "d", "title": "T", "kind": "report", "url": "https://a b"]),
                 kind: .invalidInput, mentions: ["url", "'https://a b'", "URI"]),
        BadDraft(name: "URI with a control character", draft: EventDraft(type: "deliverable-published", data: ["project": "cities4csr", "deliverable": "d", "title": "T", "kind": "report", "url": "https://a\tb"]),
                 kind: .invalidInput, mentions: ["url", #"'https://a\tb'"#, "URI"]),
        BadDraft(name: "URI with a non-ASCII scheme", draft: EventDraft(type: "deliverable-published", data: ["project": "cities4csr", "deliverable": "d", "title": "T", "kind": "report", "url": "ñ:x"]),
                 kind: .invalidInput, mentions: ["url", "'ñ:x'", "URI"]),
        BadDraft(name: "URI with a broken percent escape", draft: EventDraft(type: "deliverable-published", data: ["project": "cities4csr", "deliverable": "d", "title": "T", "kind": "report", "url": "https://a/%zz"]),
                 kind: .invalidInput, mentions: ["url", "'https://a/%zz'", "URI"]),
        BadDraft(name: "idempotency key in meta over 200 bytes", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["idempotency_key": .string(String(repeating: "é", count: 101))]),
                 kind: .invalidInput, mentions: ["meta.idempotency_key", "at most 200 bytes"]),
        BadDraft(name: "reference to a stream that does not exist", draft: EventDraft(type: "meeting-held", data: with(meeting, ["project": "ghost"])),
                 kind: .invalidInput, mentions: ["'ghost'", "project/ghost", "does not exist"]),
        BadDraft(name: "reference inside a list", draft: EventDraft(type: "meeting-held", data: with(meeting, ["organisations": ["kekava", "nobody"]])),
                 kind: .invalidInput, mentions: ["organisations[1]", "'nobody'", "organisation/nobody"]),
        BadDraft(name: "event on a stream that was never opened", draft: EventDraft(type: "council-formed", data: ["neighbourhood": "ramava"]),
                 kind: .invalidInput, mentions: ["'ramava'", "neighbourhood/ramava", "does not exist"]),
        BadDraft(name: "opening a stream twice", draft: EventDraft(type: "project-registered", data: ["project": "cities4csr", "title": "Again", "programme": "URBACT III", "network_type": "other"]),
                 kind: .conflict, mentions: ["project/cities4csr", "exists already"]),
        BadDraft(name: "stale expect-version", draft: EventDraft(type: "funding-committed", data: .object(funding), expectVersion: 5),
                 kind: .conflict, mentions: ["stale", "5", "project/cities4csr", "version 1"]),
        BadDraft(name: "expect-version 0 on an existing stream", draft: EventDraft(type: "funding-committed", data: .object(funding), expectVersion: 0),
                 kind: .conflict, mentions: ["stale", "project/cities4csr"]),
        BadDraft(name: "a 10 MB string", draft: EventDraft(type: "meeting-held", data: with(meeting, ["description": .string(String(repeating: "a", count: 10 << 20))])),
                 kind: .invalidInput, mentions: ["description", "10485760 characters", "at most 2000"]),
        BadDraft(name: "an idempotency key of blanks in meta", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["idempotency_key": "  "]),
                 kind: .invalidInput, mentions: ["idempotency key '  '", "something other than blanks"]),
        BadDraft(name: "a country code ISO 3166 does not assign", draft: EventDraft(type: "organisation-registered", data: ["organisation": "x", "name": "X", "kind": "ngo", "country": "XX"]),
                 kind: .invalidInput, mentions: ["country", "'XX'", "not an ISO 3166-1 alpha-2 country code"]),
        BadDraft(name: "the EU's spelling of the United Kingdom", draft: EventDraft(type: "organisation-registered", data: ["organisation": "x", "name": "X", "kind": "ngo", "country": "UK"]),
                 kind: .invalidInput, mentions: ["'UK', the EU's spelling", "'GB'"]),
        BadDraft(name: "the EU's spelling of Greece", draft: EventDraft(type: "organisation-registered", data: ["organisation": "x", "name": "X", "kind": "ngo", "country": "EL"]),
                 kind: .invalidInput, mentions: ["'EL', the EU's spelling", "'GR'"]),
        BadDraft(name: "a slug that is not a slug", draft: EventDraft(type: "organisation-registered", data: ["organisation": "Ķekava Town", "name": "x", "kind": "municipality", "country": "LV"]),
                 kind: .invalidInput, mentions: ["organisation", "'Ķekava Town'", "slug"]),
        BadDraft(name: "unknown meta key", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["sauce": "x"]),
                 kind: .invalidInput, mentions: ["unknown meta key 'sauce'"]),
        BadDraft(name: "evidence hash that is not a hash", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["evidence": [["title": "minutes", "sha256": "abc"]]]),
                 kind: .invalidInput, mentions: ["meta.evidence[0].sha256", "'abc'"]),
        BadDraft(name: "evidence without a title", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["evidence": [["location": "archive"]]]),
                 kind: .invalidInput, mentions: ["meta.evidence[0].title is missing but expected the evidence's title"]),
        BadDraft(name: "evidence with an empty title", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["evidence": [["title": ""]]]),
                 kind: .invalidInput, mentions: ["meta.evidence[0].title is empty"]),
        BadDraft(name: "evidence with a title of blanks", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["evidence": [["title": "  "]]]),
                 kind: .invalidInput, mentions: ["meta.evidence[0].title is only blanks"]),
        BadDraft(name: "evidence with a long title", draft: EventDraft(type: "meeting-held", data: .object(meeting), meta: ["evidence": [["title": .string(String(repeating: "ā", count: 301))]]]),
                 kind: .invalidInput, mentions: ["meta.evidence[0].title is 301 characters long but expected at most 300"]),
        BadDraft(name: "unknown schema version", draft: EventDraft(type: "meeting-held", data: .object(meeting), version: 9),
                 kind: .invalidInput, mentions: ["meeting-held", "no version 9"]),
    ]

    @Test("bad input is rejected, named, and nothing is written", arguments: badDrafts)
    func rejects(_ bad: BadDraft) throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        let count = try test.ledger.events().count
        expectLedgerError(bad.kind, mentioning: bad.mentions) { try test.append(bad.draft) }
        #expect(try test.head() == before)
        #expect(try test.ledger.events().count == count)
        // A batch that holds the bad draft after good ones writes nothing either, and names its position.
        let good = EventDraft(type: "organisation-registered", data: ["organisation": "riga", "name": "Rīga", "kind": "municipality", "country": "LV"])
        let error = expectLedgerError(bad.kind) { _ = try test.ledger.append([good, bad.draft], actor: "tester") }
        #expect(error?.line == 2)
        #expect(try test.head() == before)
        #expect(try test.ledger.verify().count == before.seq)
    }

    @Test(arguments: ["https://urbact.eu/networks/cities4csr", "https://lv.wikipedia.org/wiki/%C4%B6ekava", "mailto:info", "urn:isbn:0451450523", "http://[::1]:80/a?b=c&d=e#f"])
    func aURIByRFC3986IsAccepted(url: String) throws {
        let test = try TestLedger().withFixtures()
        let record = try test.record("deliverable-published", ["project": "cities4csr", "deliverable": "d", "title": "T", "kind": "report", "url": .string(url)])
        #expect(record.data["url"] == .string(url))
    }

    /// An event records what has happened: a date more than a day ahead of its recording (`2052`
    /// for `2025`) is refused, in a record, an import line and a correction; tomorrow's date (a
    /// clerk east of UTC after midnight) is not.
    @Test func aValidTimeInTheFutureIsRefused() throws {
        let test = try TestLedger().withFixtures()
        let today = UTCTime.nowMillis() / 86_400_000 * 86_400_000
        let tomorrow = String(UTCTime.format(millis: today + 86_400_000).prefix(10))
        let dayAfter = String(UTCTime.format(millis: today + 2 * 86_400_000).prefix(10))
        let meeting = try test.record("meeting-held", ["meeting": "m1", "kind": "workshop", "title": "Tomorrow by UTC", "project": "cities4csr"], occurredAt: tomorrow)
        let before = try test.head()
        for when in [dayAfter, "2052-05", "2052-05-01T10:00:00Z"] {
            expectLedgerError(.invalidInput, mentioning: ["occurred_at '\(when)' is in the future", "check the date"]) {
                try test.append(EventDraft(type: "meeting-held", data: ["meeting": "m2", "kind": "workshop", "title": "T", "project": "cities4csr"], occurredAt: when))
            }
        }
        let file = try test.directory.write("in.ndjson", #"{"type": "meeting-held", "occurred_at": "2052", "data": {"meeting": "m3", "kind": "forum", "title": "T", "project": "cities4csr"}}"# + "\n")
        expectLedgerError(.invalidInput, mentioning: ["occurred_at '2052' is in the future", "in.ndjson:1"]) { _ = try test.ledger.importNDJSON(path: file, actor: "importer") }
        expectLedgerError(.invalidInput, mentioning: ["data.occurred_at '2052-01-01' is in the future"]) {
            try test.append(try test.ledger.correctionDraft(of: meeting.id, occurredAt: "2052-01-01", reason: "typo"))
        }
        #expect(try test.head() == before)
    }

    @Test func aPatternsEndAnchorMatchesOnlyAtTheEnd() throws {
        // ICU's `$` would also match before a final line break; JSON Schema's (ECMA-262's) does not.
        #expect(Pattern.endOfInputAnchors(#"^a$"#) == #"^a\z"#)
        #expect(Pattern.endOfInputAnchors(#"^a\$[$]$"#) == #"^a\$[$]\z"#)
        #expect(Pattern.endOfInputAnchors(#"^[a[b]$]+$"#) == #"^[a[b]$]+\z"#)
        #expect(Pattern.endOfInputAnchors(#"^[[:alpha:]$]+$"#) == #"^[[:alpha:]$]+\z"#)
        let percentage = try Pattern("^(100(\\.0{1,2})?|[0-9]{1,2}(\\.[0-9]{1,2})?)$")
        #expect(percentage.matches("85") && percentage.matches("100.00"))
        for bad in ["85\n", "85\r\n", "100\n", "85\u{2028}"] { #expect(!percentage.matches(bad), "\(bad.debugDescription)") }
    }

    @Test func acceptsAValidEventOfEveryKindOfField() throws {
        let test = try TestLedger().withFixtures()
        let record = try test.record("meeting-held", [
            "meeting": "ulg-2019-12", "kind": "local-group-meeting", "title": "ULG meeting", "project": "cities4csr",
            "host": "kekava", "place": "Ķekava", "online": .bool(false), "participants": .integer(25), "days": .integer(1),
            "organisations": ["kekava"], "description": .string(String(repeating: "ā", count: 2000)),
        ], occurredAt: "2019-12-05T18:00:00Z", meta: ["source": "minutes", "evidence": [["title": "Minutes", "sha256": .string(String(repeating: "0", count: 64))]]])
        #expect(record.stream == "meeting/ulg-2019-12")
        #expect(record.occurredAt == "2019-12-05T18:00:00Z")
        let funding = try test.record("funding-committed", Self.funding.merging(["rate": "85"]) { $1 })
        #expect(funding.data["amount"]?["amount"] == .string("48454.95"))
        #expect(funding.streamVersion == 2)
    }

    @Test func stringLengthsCountCharactersNotBytes() throws {
        let test = try TestLedger().withFixtures()
        // 2000 two-byte characters fit a maxLength of 2000; 2001 do not.
        try test.record("meeting-held", Self.with(Self.meeting, ["description": .string(String(repeating: "ķ", count: 2000))]).objectValue!)
        expectLedgerError(.invalidInput, mentioning: ["2001 characters", "at most 2000"]) {
            try test.append(EventDraft(type: "meeting-held", data: Self.with(Self.meeting, ["meeting": "m2", "description": .string(String(repeating: "ķ", count: 2001))])))
        }
    }

    @Test func aRecordLargerThanOneMebibyteIsRejected() throws {
        let test = try TestLedger()
        let slug = String(repeating: "a", count: 64)
        try test.organisation(slug)
        try test.project("p")
        let many = JSONValue.array(Array(repeating: .string(slug), count: 20_000))
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["1 MiB"]) {
            try test.append(EventDraft(type: "meeting-held", data: ["meeting": "big", "kind": "forum", "title": "Big", "organisations": many]))
        }
        #expect(try test.head() == before)
    }

    /// The limit is exact: a record of 1 MiB to the byte (its export line) is accepted, one byte
    /// more is refused. Two probes differ from the first only in the length of `meta.source`.
    @Test func aRecordOfExactlyOneMebibyteIsAcceptedAndOneByteMoreIsNot() throws {
        let test = try TestLedger()
        let slug = String(repeating: "a", count: 64)
        try test.organisation(slug)
        try test.project("p")
        func meeting(_ name: String, _ count: Int, source: Int) -> EventDraft {
            EventDraft(
                type: "meeting-held", data: ["meeting": .string(name), "kind": "forum", "title": "Big", "organisations": .array(Array(repeating: .string(slug), count: count))],
                meta: ["source": .string(String(repeating: "s", count: source))])
        }
        // About 1.5 KiB under the limit with a source of one character.
        let count = (Ledger.maxRecordBytes - 2000 - CanonicalJSON.string(meeting("b0001", 0, source: 1).data).utf8.count) / 67
        let probe = try #require(try test.append(meeting("b0001", count, source: 1)).last)
        let room = Ledger.maxRecordBytes - probe.exportLine.utf8.count
        try #require(room > 0 && room < 1999, "the probe is \(probe.exportLine.utf8.count) bytes")
        let exact = try #require(try test.append(meeting("b0002", count, source: 1 + room)).last)
        #expect(exact.exportLine.utf8.count == Ledger.maxRecordBytes)
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["the record is 1048577 bytes", "at most 1048576 (1 MiB)"]) {
            try test.append(meeting("b0003", count, source: 2 + room))
        }
        #expect(try test.head() == before)
    }

    /// `meta.evidence` holds at most 100 items: 100 are accepted, 101 refused.
    @Test func evidenceTakesAtMostOneHundredItems() throws {
        let test = try TestLedger().withFixtures()
        func items(_ n: Int) -> JSONValue { .array((0..<n).map { ["title": .string("minutes \($0)")] }) }
        let accepted = try test.record("meeting-held", ["meeting": "m1", "kind": "forum", "title": "T", "project": "cities4csr"], meta: ["evidence": items(100)])
        guard case .array(let kept)? = accepted.meta["evidence"] else {
            Issue.record("no evidence list in \(accepted.metaJSON.prefix(80))")
            return
        }
        #expect(kept.count == 100)
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["meta.evidence", "at most 100"]) {
            try test.record("meeting-held", ["meeting": "m2", "kind": "forum", "title": "T", "project": "cities4csr"], meta: ["evidence": items(101)])
        }
        #expect(try test.head() == before)
    }

    /// A required text of blanks (spaces, tabs, a line break, an ideographic space, and what shows
    /// nothing: a zero-width space, bidirectional controls, a byte-order mark, a NUL) is refused
    /// like an empty one; blanks around a text are kept as typed.
    @Test(arguments: [" ", "   ", "\t", " \n ", "\u{3000}", "\u{200B}", "\u{202E}\u{202E}", "\u{FEFF}\u{00A0}", "\u{0000}"])
    func aRequiredTextOfBlanksIsRefused(blank: String) throws {
        let test = try TestLedger()
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["only blanks, but expected a text", "name"]) { try test.organisation("kekava", name: blank) }
        try test.organisation("riga")
        let head = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["only blanks", "title"]) {
            try test.append(EventDraft(type: "meeting-held", data: ["meeting": "m", "kind": "forum", "title": .string(blank)]))
        }
        #expect(try test.head() == head && head.seq == before.seq + 1)
        let padded = try test.organisation("cesis", name: blank + "Cēsis" + blank)
        #expect(padded.data["name"] == .string(blank + "Cēsis" + blank))
    }

    /// DESIGN.md limits the record, not its payload: data and meta just under 1 MiB make a record
    /// over it once the envelope (id, hashes, times, stream …) is counted.
    @Test func theLimitCountsTheWholeRecordWithItsEnvelope() throws {
        let test = try TestLedger()
        let slug = String(repeating: "a", count: 64)
        try test.organisation(slug)
        try test.project("p")
        func meeting(_ count: Int) -> EventDraft {
            EventDraft(type: "meeting-held", data: ["meeting": "big", "kind": "forum", "title": "Big", "organisations": .array(Array(repeating: .string(slug), count: count))])
        }
        let base = CanonicalJSON.string(meeting(0).data).utf8.count
        // Each further organisation adds `"aaa…",` (67 bytes): data + meta "{}" end 200–267 bytes under 1 MiB.
        let count = (Ledger.maxRecordBytes - 200 - 2 - base) / 67
        let size = CanonicalJSON.string(meeting(count).data).utf8.count + 2
        #expect(size < Ledger.maxRecordBytes && size > Ledger.maxRecordBytes - 300)
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["the record is", "at most 1048576 (1 MiB)"]) { try test.append(meeting(count)) }
        #expect(try test.head() == before)
        // Ten fewer (670 bytes): the whole record fits, and its export line is within the limit.
        let fits = try #require(try test.append(meeting(count - 10)).last)
        #expect(fits.exportLine.utf8.count <= Ledger.maxRecordBytes)
        #expect(fits.exportLine.utf8.count > Ledger.maxRecordBytes - 1000)
    }

    @Test(arguments: [
        "Robert'); DROP TABLE events; --",
        "x' OR '1'='1",
        "\"; DELETE FROM events WHERE 1=1; --",
        "1; UPDATE events SET data = '{}'",
    ])
    func sqlLookingStringsAreStoredVerbatim(text: String) throws {
        let test = try TestLedger()
        let record = try test.record("organisation-registered", ["organisation": "bobby", "name": .string(text), "kind": "ngo", "country": "LV"], meta: ["source": .string(text)])
        let stored = try test.ledger.event(record.id)
        #expect(stored.data["name"] == .string(text))
        #expect(stored.meta["source"] == .string(text))
        #expect(try test.ledger.verify().count == record.seq)
        #expect(try test.ledger.events().count == Int(record.seq))
    }

    @Test func validationUsesTheSchemasRegisteredInTheLedger() throws {
        // A ledger created with a catalog whose organisation-registered allows a short name only
        // keeps validating against that schema, not the bundled one.
        let bundled = try EventCatalog.load(directory: BundledResources.events)
        var catalog = EventCatalog()
        for type in bundled.latestTypes where type.name != "organisation-registered" { catalog.add(type) }
        let strict: JSONValue = [
            "type": "object", "x-kopa-stream": "organisation/{organisation}", "x-kopa-creates": .bool(true),
            "properties": ["organisation": ["type": "string", "maxLength": .integer(64)], "name": ["type": "string", "maxLength": .integer(3)]],
            "required": ["organisation"], "additionalProperties": .bool(false),
        ]
        catalog.add(try EventType(name: "organisation-registered", version: 1, schema: strict, location: "test"))
        let directory = try TemporaryDirectory()
        _ = try Ledger.create(at: directory.path("l.sqlite"), name: "strict", actor: "tester", catalog: catalog)
        let ledger = try Ledger.open(at: directory.path("l.sqlite"))
        #expect(ledger.catalog.latest("organisation-registered")?.root.properties["name"]?.maxLength == 3)
        expectLedgerError(.invalidInput, mentioning: ["name", "at most 3"]) {
            _ = try ledger.append([EventDraft(type: "organisation-registered", data: ["organisation": "abc", "name": "abcd"])], actor: "tester")
        }
        _ = try ledger.append([EventDraft(type: "organisation-registered", data: ["organisation": "abc", "name": "abc"])], actor: "tester")
    }

    @Test(arguments: ["", "Jānis Bērziņš", "clerk@kekava.lv", "a b", String(repeating: "x", count: 65)])
    func actorMustBeAStaffIdentifier(actor: String) throws {
        let test = try TestLedger().withFixtures()
        let before = try test.head()
        expectLedgerError(.invalidInput, mentioning: ["actor '\(actor)'", "staff identifier"]) {
            _ = try test.ledger.append([EventDraft(type: "funding-committed", data: .object(Self.funding))], actor: actor)
        }
        #expect(try test.head() == before)
    }

    @Test func commandLineValuesAreTypedByTheSchema() throws {
        let catalog = try EventCatalog.load(directory: BundledResources.events)
        let meeting = try catalog.resolve("meeting-held")
        let payload = try meeting.payload(from: [
            ("--meeting", "m1"), ("--participants", "12"), ("--online", "true"), ("--organisations", "kekava, riga"),
            ("--organisations", "milano"),
        ])
        #expect(payload["participants"] == .integer(12))
        #expect(payload["online"] == .bool(true))
        #expect(payload["organisations"] == ["kekava", "riga", "milano"])
        let funding = try catalog.resolve("funding-committed")
        #expect(try funding.payload(from: [("--amount", "48454.95 EUR")])["amount"] == ["amount": "48454.95", "currency": "EUR"])
        #expect(try funding.payload(from: [("--amount", "LVL 10")])["amount"] == ["amount": "10", "currency": "LVL"])
        expectLedgerError(.invalidInput, mentioning: ["'10'", "without its currency"]) { _ = try funding.payload(from: [("--amount", "10")]) }
        #expect(try funding.payload(from: [("--amount", "  12.50   EUR ")])["amount"] == ["amount": "12.50", "currency": "EUR"])
        #expect(try funding.payload(from: [("--funding-source", "erdf")])["funding_source"] == "erdf")
        let error = expectLedgerError(.invalidInput, mentioning: ["'--participant'", "did you mean '--participants'?"]) {
            _ = try meeting.payload(from: [("--participant", "3")])
        }
        #expect(error != nil)
        expectLedgerError(.invalidInput, mentioning: ["participants", "'twelve'", "integer"]) {
            _ = try meeting.payload(from: [("--participants", "twelve")])
        }
    }

    /// Every occurrence of a list option is collected, in order and duplicates kept, and the whole
    /// list replaces the base's (`--data`) list: it once appended to `--data`'s list, and dropped
    /// an occurrence equal to an earlier one, so the hashed list was not the one typed.
    @Test(arguments: [
        (["kekava"], ["riga", "ogre"], ["riga", "ogre"]),
        (["kekava"], ["riga"], ["riga"]),
        (["kekava"], ["kekava", "kekava"], ["kekava", "kekava"]),
        ([], ["kekava", "kekava"], ["kekava", "kekava"]),
        ([], ["kekava", "riga", "kekava"], ["kekava", "riga", "kekava"]),
        ([], ["kekava,kekava", "kekava"], ["kekava", "kekava", "kekava"]),
        (["kekava"], ["", "riga"], ["riga"]),
        (["kekava"], [""], []),
    ] as [([String], [String], [String])])
    func aRepeatedListOptionReplacesTheBaseListWithEveryValue(base: [String], given: [String], expected: [String]) throws {
        let meeting = try EventCatalog.load(directory: BundledResources.events).resolve("meeting-held")
        let baseList = JSONValue.array(base.map(JSONValue.string))
        let payload = try meeting.payload(
            from: [("--title", "T")] + given.map { ("--organisations", $0) },
            base: ["organisations": baseList, "meeting": "dm3"])
        #expect(payload["organisations"] == .array(expected.map(JSONValue.string)))
        #expect(payload["meeting"] == "dm3")
        #expect(payload["title"] == "T")
    }

    /// A money option that is not "AMOUNT CODE" is refused saying what is wrong with it, and the
    /// form it suggests is one that is accepted (it once suggested "EUR EUR" and "€12.50 EUR").
    @Test(arguments: [
        ("EUR", "a currency without its amount", "12.50 EUR"),
        ("lvl", "a currency without its amount", "12.50 LVL"),
        ("100", "an amount without its currency", "100 EUR"),
        ("12.50EUR", "without a space between them", "12.50 EUR"),
        ("EUR12.50", "without a space between them", "12.50 EUR"),
        ("12,50gbp", "without a space between them", "12.50 GBP"),
        ("€12.50", "a currency sign where an ISO 4217 code is expected", "12.50 EUR"),
        ("12.50 €", "a currency sign where an ISO 4217 code is expected", "12.50 EUR"),
        ("£7", "a currency sign where an ISO 4217 code is expected", "7 GBP"),
        ("", "is empty", "12.50 EUR"),
        ("12.50 EUR extra", "not an amount and its code", "12.50 EUR"),
        ("1.005XYZ", "without a space between them", "12.50 EUR"),
    ])
    func aMalformedMoneyOptionSaysWhatIsWrongAndSuggestsAnAcceptedForm(text: String, problem: String, suggestion: String) throws {
        let catalog = try EventCatalog.load(directory: BundledResources.events)
        let funding = try catalog.resolve("funding-committed")
        let error = expectLedgerError(.invalidInput, mentioning: [problem, "such as \"\(suggestion)\""]) {
            _ = try funding.payload(from: [("--amount", text)])
        }
        #expect(error?.field == "amount")
        // The suggestion itself is read and validated as a payload of the type.
        let suggested = try funding.payload(from: [("--amount", suggestion)])
        var references: [StreamReference] = []
        try funding.root.properties["amount"]!.validate(suggested["amount"]!, path: "amount", references: &references)
    }

    @Test func errorsCarryTheEventTypeStreamAndFieldForPrograms() throws {
        let test = try TestLedger().withFixtures()
        let wrongType = expectLedgerError(.invalidInput, mentioning: ["'participants'"]) {
            try test.append(EventDraft(type: "meeting-held", data: ["meeting": "m1", "kind": "forum", "title": "T", "participants": "many"]))
        }
        #expect(wrongType?.eventType == "meeting-held")
        #expect(wrongType?.field == "participants")
        let nested = expectLedgerError(.invalidInput) {
            try test.append(EventDraft(type: "funding-committed", data: ["project": "cities4csr", "funding_source": "erdf", "amount": ["amount": "-5", "currency": "EUR"]]))
        }
        #expect(nested?.field == "amount.amount")
        let reference = expectLedgerError(.invalidInput) {
            try test.append(EventDraft(type: "meeting-held", data: ["meeting": "m2", "kind": "forum", "title": "T", "project": "nowhere"]))
        }
        #expect(reference?.field == "project")
        #expect(reference?.stream == "meeting/m2")
        let stale = expectLedgerError(.conflict) {
            try test.append(EventDraft(type: "partner-joined", data: ["project": "cities4csr", "organisation": "kekava", "role": "lead"], expectVersion: 7))
        }
        #expect(stale?.eventType == "partner-joined")
        #expect(stale?.stream == "project/cities4csr")
    }
}

/// Country codes: ISO 3166-1's assigned codes, and EU and XK as EU records write them.
@Suite("country codes")
struct CountryCodeTests {
    @Test(arguments: ["LV", "GB", "GR", "EU", "XK", "AX", "SS"])
    func aCountryCodeIsAccepted(code: String) throws {
        let test = try TestLedger()
        let record = try test.record("organisation-registered", ["organisation": "o", "name": "O", "kind": "ngo", "country": .string(code)])
        #expect(record.data["country"] == .string(code))
    }

    /// The list, compared with the 249 assigned codes as Debian's iso-codes lists them (2024),
    /// joined: a code left out or swapped for another would change the text.
    @Test func theListHoldsEveryAssignedCode() {
        let joined = ISO3166.assigned.sorted().joined()
        #expect(joined.count == 498)
        #expect(EventHash.sha256Hex(Array(joined.utf8)) == "5261f7809fbe7c32ec28b57f7490d7afa30e97f4096f942fdb67b0cbcf67171f")
        #expect(ISO3166.assigned.isDisjoint(with: ISO3166.alsoAccepted) && ISO3166.assigned.isDisjoint(with: ISO3166.euSpellings.keys))
        #expect(ISO3166.euSpellings.values.allSatisfy(ISO3166.assigned.contains))
    }
}
