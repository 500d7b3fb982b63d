import KopaTestSupport
import Testing

@testable import Ledger

/// The strict parser every imported line goes through.
@Suite("JSON parser")
struct JSONParserTests {
    func failure(_ bytes: [UInt8]) -> JSONParser.Failure? {
        do {
            let value = try JSONParser.parse(bytes)
            Issue.record("parsed \(value) from \(bytes)")
            return nil
        } catch {
            return error
        }
    }

    func failure(_ text: String) -> JSONParser.Failure? { failure(Array(text.utf8)) }

    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#" {"s": "a\"b\\c\/\u00e9\ud83d\ude00", "i": -42, "t": true, "f": false, "n": null, "a": [1, [], {}], "o": {"k": "v"}, "d": 12.50} "#)
        #expect(value == .object([
            "s": .string("a\"b\\c/é😀"), "i": .integer(-42), "t": .bool(true), "f": .bool(false), "n": .null,
            "a": .array([.integer(1), .array([]), .object([:])]), "o": .object(["k": "v"]), "d": .number("12.50"),
        ]))
    }

    @Test func acceptsTheLargestSafeIntegers() throws {
        #expect(try JSONParser.parse("9007199254740991") == .integer(9_007_199_254_740_991))
        #expect(try JSONParser.parse("-9007199254740991") == .integer(-9_007_199_254_740_991))
    }

    @Test(arguments: [
        ("9007199254740992", 0), ("-9007199254740992", 0), ("123456789012345678901234567890", 0),
        ("[1, 9007199254740993]", 4), (#"{"seq": 18446744073709551616}"#, 8),
    ])
    func rejectsIntegersFromTwoToThe53WithTheirOffset(text: String, offset: Int) throws {
        let error = try #require(failure(text))
        #expect(error.offset == offset)
        #expect(error.reason.contains("2^53"))
        #expect(error.description.contains("at byte \(offset + 1)"))
    }

    @Test(arguments: [
        ([0x22, 0xFF, 0x22], 1),                                 // a byte that is never UTF-8
        ([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC3, 0x22, 0x7D], 6),  // {"a":"<truncated sequence>"}
        ([0x22, 0xC0, 0xAF, 0x22], 1),                           // overlong encoding of '/'
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 1),                     // a surrogate encoded in UTF-8
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 1),               // beyond U+10FFFF
        ([0x22, 0x61, 0x5C, 0x6E, 0xFF, 0x22], 1),               // after an escape (slow path)
        ([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D], 2),        // in a key
    ] as [([UInt8], Int)])
    func rejectsInvalidUTF8WithItsOffset(bytes: [UInt8], offset: Int) throws {
        let error = try #require(failure(bytes))
        #expect(error.reason.contains("UTF-8"))
        #expect(error.offset == offset)
    }

    @Test(arguments: [
        (#""\ud800""#, "U+D800"), (#""\udc00""#, "U+DC00"), (#""a\ud83dx""#, "U+D83D"), (#""\ud83d\u0041""#, "U+D83D"),
        (#""\ud83d\ud83d""#, "U+D83D"), (#"{"\udfff": 1}"#, "U+DFFF"),
    ])
    func rejectsLoneSurrogates(text: String, unit: String) throws {
        let error = try #require(failure(text))
        #expect(error.reason.contains("lone surrogate"))
        #expect(error.reason.contains(unit))
    }

    @Test func acceptsSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("\u{1F600}"))
        #expect(try JSONParser.parse(#""\uD834\uDD1E""#) == .string("\u{1D11E}"))
    }

    @Test func rejectsDuplicateKeysAtTheSecondKey() throws {
        let error = try #require(failure(#"{"a":1,"a":2}"#))
        #expect(error.offset == 7)
        #expect(error.reason == "duplicate key 'a'")
        // The same key spelt with an escape is still the same key.
        let escaped = try #require(failure(#"{"a":1, "b": {"x": 1, "\u0078": 2}}"#))
        #expect(escaped.reason == "duplicate key 'x'")
        #expect(escaped.offset == 22)
        // Equal keys in different objects are fine.
        #expect(throws: Never.self) { try JSONParser.parse(#"{"a":{"a":1},"b":{"a":2}}"#) }
    }

    /// Two keys that are one text in other code points are two keys to RFC 8785, but one to a Swift
    /// dictionary: refused, and said so with the code points, not as a plain duplicate.
    @Test func keysEqualOnlyByCanonicalEquivalenceAreNamedAsSuch() throws {
        // In JSON escapes: U+00E9, and e followed by the combining acute accent U+0301.
        let error = try #require(failure(#"{"caf\u00e9": 1, "cafe\u0301": 2}"#))
        #expect(error.reason.hasPrefix("keys 'caf\u{E9}' (c a f U+00E9) and 'cafe\u{301}' (c a f e U+0301) are one text in other code points"))
        #expect(error.offset == 17, "the second key's opening quote")
        // Alone, either spelling is kept as written.
        #expect(try JSONParser.parse(#"{"cafe\u0301": 1}"#).objectValue?.keys.first.map { Array($0.unicodeScalars) } == Array("cafe\u{301}".unicodeScalars))
    }

    /// A failure shows what is at its offset, a few whole characters of it, so a reader need not
    /// count bytes; or says that the text ended there.
    @Test(arguments: [
        (#"{"participants": 0x10, "host": "kekava", "online": false}"#, #"at byte 19, at 'x10, "host": "kekava", "…'"#),
        (#"{"x": tru}"#, "at byte 7, at 'tru}'"),
        (#"{"a": "b""#, "at byte 10, the end of the text"),
        (#"{"a": 1, ĶĶĶĶĶĶĶĶĶĶĶĶĶĶĶĶĶĶĶĶ}"#, "at byte 10, at 'ĶĶĶĶĶĶĶĶĶĶĶĶ…'"),
    ])
    func aFailureShowsWhatIsAtItsOffset(text: String, shown: String) throws {
        let error = try #require(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
        #expect(error.description.hasSuffix(shown), "\(error)")
    }

    @Test(arguments: [("{} x", 3), ("1 2", 2), ("{}{}", 2), (#"{"a":1}}"#, 7), ("[1]]", 3), ("01", 1), ("true false", 5)])
    func rejectsTrailingDataWithItsOffset(text: String, offset: Int) throws {
        let error = try #require(failure(text))
        #expect(error.reason.contains("after the JSON value"))
        #expect(error.offset == offset)
    }

    @Test(arguments: [
        "", " ", "{", "[1,", #"{"a"}"#, #"{"a":}"#, #"{a:1}"#, "[1,]", #"{"a":1,}"#, "tru", "nul", "NaN", "Infinity", "-",
        "1.", ".5", "1e", "+1", #""abc"#, "\"a\u{01}b\"", "\"tab\there\"", #""\x""#, #""\u12G4""#, "'a'",
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ])
    func rejectsMalformedJSON(text: String) {
        #expect(failure(text) != nil, "accepted: \(text)")
    }

    /// The character a parse stops at is named as the input has it: decoded whole from its UTF-8
    /// sequence (the first byte alone, read as Latin-1, named 'Ä' for 'ā' and 'ï' for a
    /// byte-order mark), or as a byte when it starts no valid sequence.
    @Test(arguments: [
        ([0x7B, 0x22, 0x78, 0x22, 0x3A, 0x20, 0xC4, 0x81, 0x7D], "unexpected character 'ā' (U+0101)", 6),
        ([0xEF, 0xBB, 0xBF, 0x7B, 0x7D], "unexpected byte-order mark (U+FEFF)", 0),
        ([0xFF], "unexpected byte 0xFF (not UTF-8)", 0),
        ([0xC4], "unexpected byte 0xC4 (not UTF-8)", 0),                  // a sequence cut short
        ([0xC4, 0x41], "unexpected byte 0xC4 (not UTF-8)", 0),            // a lead byte without its continuation
        ([0x81], "unexpected byte 0x81 (not UTF-8)", 0),                  // a continuation byte alone
        ([0x5B, 0xF0, 0x9F, 0x98, 0x80, 0x5D], "unexpected character '😀' (U+1F600)", 1),
        ([0x78], "unexpected character 'x'", 0),
        ([0x01], "unexpected character U+0001", 0),
        ([0xC2, 0x85], "unexpected character U+0085", 0),                 // C1 control: nothing to show
        ([0xC2, 0xA0], "unexpected character U+00A0", 0),                 // no-break space: invisible
        ([0x22, 0x5C, 0xC4, 0x81, 0x22], "a backslash before the character 'ā' (U+0101)", 2),
    ] as [([UInt8], String, Int)])
    func namesTheCharacterItStopsAt(bytes: [UInt8], reason: String, offset: Int) throws {
        let error = try #require(failure(bytes))
        #expect(error.reason.contains(reason), "\(error.reason)")
        #expect(error.offset == offset)
        #expect(!error.reason.contains("Ä") && !error.reason.contains("ï"))
    }

    @Test func allowsWhitespaceAroundValues() throws {
        #expect(try JSONParser.parse(" \t\r\n[ 1 ,\n2 ] \n") == .array([.integer(1), .integer(2)]))
    }
}
