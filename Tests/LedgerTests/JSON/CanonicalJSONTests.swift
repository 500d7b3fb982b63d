import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// RFC 8785 (JSON Canonicalization Scheme) for the integer-only JSON of Kopa records.
@Suite("RFC 8785 canonical JSON")
struct CanonicalJSONTests {
    func canonical(_ value: JSONValue) throws -> String {
        String(decoding: try CanonicalJSON.bytes(value), as: UTF8.self)
    }

    func canonical(json text: String) throws -> String {
        try canonical(JSONParser.parse(text))
    }

    // RFC 8785 §3.2.3: properties are sorted by their UTF-16 code units.
    @Test func sortsKeysByUTF16CodeUnitsAsInRFC8785() throws {
        let value: JSONValue = .object([
            "\u{20ac}": "Euro Sign",
            "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\u{1F600}": "Emoji: Grinning Face",
            "\u{0080}": "Control",
            "\u{00f6}": "Latin Small Letter O With Diaeresis",
        ])
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{0080}\":\"Control\","
            + "\"\u{00f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\","
            + "\"\u{1F600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        #expect(try canonical(value) == expected)
        let order = CanonicalJSON.sortedKeys(value.objectValue!.keys)
        #expect(order == ["\r", "1", "\u{0080}", "\u{00f6}", "\u{20ac}", "\u{1F600}", "\u{fb33}"])
        // Ordering by code points (or UTF-8 bytes) would put U+FB33 before U+1F600: the test tells them apart.
        let byScalars = order.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars, by: { $0.value < $1.value }) }
        #expect(byScalars.suffix(2) == ["\u{fb33}", "\u{1F600}"])
    }

    @Test func sortsTheRFCExampleWhenParsedFromEscapes() throws {
        let text = #"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#
        let result = try canonical(json: text)
        let keys = ["\\r", "1", "\u{0080}", "\u{00f6}", "\u{20ac}", "\u{1F600}", "\u{fb33}"]
        var position = result.startIndex
        for key in keys {
            let range = try #require(result.range(of: "\"\(key)\":", range: position..<result.endIndex), "key \(key) out of order in \(result)")
            position = range.upperBound
        }
    }

    // RFC 8785 §3.2.2 example, without its "numbers" member (Kopa records hold integers only).
    @Test func canonicalisesTheRFCStringAndLiteralsExample() throws {
        let input = #"{ "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false] }"#
        let expected = "{\"literals\":[null,true,false],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        #expect(try canonical(json: input) == expected)
    }

    static let escapes: [(String, String)] = [
        ("\n", #""\n""#), ("\t", #""\t""#), ("\u{08}", #""\b""#), ("\u{0C}", #""\f""#), ("\r", #""\r""#),
        ("\"", #""\"""#), ("\\", #""\\""#),
        ("\u{00}", #""\u0000""#), ("\u{01}", #""\u0001""#), ("\u{0B}", #""\u000b""#), ("\u{0F}", #""\u000f""#),
        ("\u{1B}", #""\u001b""#), ("\u{1F}", #""\u001f""#),
        ("/", #""/""#), ("\u{7F}", "\"\u{7F}\""), ("\u{80}", "\"\u{80}\""), ("\u{2028}", "\"\u{2028}\""),
        ("Ķekava", "\"Ķekava\""), ("\u{1F600}", "\"\u{1F600}\""), ("\u{FEFF}", "\"\u{FEFF}\""),
    ]

    @Test("string escaping", arguments: escapes)
    func escapesStrings(input: String, expected: String) throws {
        #expect(try canonical(.string(input)) == expected)
    }

    @Test func escapesEveryControlCharacterInLowerCaseHexUnlessItHasAShortForm() throws {
        let short: [UInt8: String] = [0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"]
        for byte in UInt8(0)..<0x20 {
            let text = String(UnicodeScalar(byte))
            let expected = short[byte] ?? "\\u00" + String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
            #expect(try canonical(.string(text)) == "\"\(expected)\"", "U+00\(String(byte, radix: 16))")
        }
    }

    @Test func writesNonASCIIAsLiteralUTF8Bytes() throws {
        #expect(try CanonicalJSON.bytes(.string("\u{7F}Ķ")) == [0x22, 0x7F, 0xC4, 0xB6, 0x22])
        #expect(try CanonicalJSON.bytes(.string("\u{2028}")) == [0x22, 0xE2, 0x80, 0xA8, 0x22])
    }

    @Test func sortsNestedObjectsAndKeepsArrayOrder() throws {
        let input = #"{ "b" : [ {"z":1, "a":[]}, {} ], "a": {"y": null, "x": true}, "c": [3, 1, 2] }"#
        #expect(try canonical(json: input) == #"{"a":{"x":true,"y":null},"b":[{"a":[],"z":1},{}],"c":[3,1,2]}"#)
    }

    @Test func writesIntegersInPlainDecimal() throws {
        #expect(try canonical(json: "[0, -0, 1, -1, 10, 1234567890, 9007199254740991, -9007199254740991]")
            == "[0,0,1,-1,10,1234567890,9007199254740991,-9007199254740991]")
        #expect(try canonical(.integer(Int64.min + 1)) == String(Int64.min + 1))
    }

    @Test func writesLiteralsAndEmptyContainers() throws {
        #expect(try canonical(json: " { \"e\" : { } , \"a\" : [ ] , \"n\" : null , \"t\" : true , \"f\" : false } ")
            == #"{"a":[],"e":{},"f":false,"n":null,"t":true}"#)
    }

    @Test(arguments: ["12.5", "1.0", "1e3", "-0.0", "1E-2"])
    func rejectsNonIntegerNumbers(literal: String) throws {
        let parsed = try JSONParser.parse(literal)
        #expect(parsed == .number(literal))
        #expect(throws: CanonicalJSON.Failure(literal: literal)) { try CanonicalJSON.bytes(parsed) }
        let nested = try JSONParser.parse(#"{"a": {"b": [1, \#(literal)]}}"#)
        #expect(throws: CanonicalJSON.Failure.self) { try CanonicalJSON.bytes(nested) }
        #expect(CanonicalJSON.Failure(literal: literal).description.contains(literal))
    }

    /// Values quoted in error messages: a long string is cut inside its quotes.
    @Test func shortDescriptionsKeepTheClosingQuote() {
        #expect(JSONValue.string("short").shortDescription == "'short'")
        let long = JSONValue.string(String(repeating: "s", count: 300)).shortDescription
        #expect(long == "'" + String(repeating: "s", count: 56) + "…'")
        #expect(JSONValue.array((1...40).map { JSONValue.integer(Int64($0)) }).shortDescription.hasSuffix("…"))
        #expect(JSONValue.integer(7).shortDescription == "7")
    }

    @Test func canonicalFormIsAFixedPoint() throws {
        let input = #"{"z":{"b":"\u00e9\n","a":[{"y":1,"x":2}]},"a":"Ķekava"}"#
        let once = try canonical(json: input)
        #expect(try canonical(json: once) == once)
    }
}
