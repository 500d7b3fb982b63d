/// A strict RFC 8259 parser over UTF-8 bytes: rejects invalid UTF-8, lone surrogates, control
/// characters in strings, duplicate keys and trailing data, and keeps non-integers as literals.
///
/// Kopa parses every imported line with it, so it works on raw bytes without Foundation.
public struct JSONParser {
    /// Why a text is not acceptable JSON, with the byte offset where parsing stopped.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Byte offset of the problem within the parsed text.
        public var offset: Int
        /// What was wrong there.
        public var reason: String
        /// The text from the offset on, a few characters of it: a byte count alone makes the
        /// reader count (`"participants": 0x10` failed "at byte 144").
        public var excerpt: String?
        /// The reason, the (1-based) byte it was found at, and what is there.
        public var description: String {
            "\(reason) at byte \(offset + 1)" + (excerpt.map { $0.isEmpty ? ", the end of the text" : ", at '\($0)'" } ?? "")
        }

        init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    /// Characters the excerpt of a failure shows.
    static let excerptBytes = 24

    /// Up to ``excerptBytes`` bytes of `bytes` from `offset` on, whole characters, `…` when cut.
    static func excerpt(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard offset < bytes.count else { return "" }
        var end = min(offset + excerptBytes, bytes.count)
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }  // the last character whole
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self) + (end < bytes.count ? "…" : "")
    }

    private static let maxDepth = 64

    /// What is at byte `offset` of `bytes`, for an error: `character 'ā' (U+0101)` for the UTF-8
    /// sequence that starts there, decoded whole (its first byte alone, read as Latin-1, would
    /// show 'Ä'), `byte-order mark (U+FEFF)`, `character U+0007` for one that prints nothing, and
    /// `byte 0xFF` for a byte that starts no valid UTF-8 sequence.
    static func character(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String {
        let first = bytes[offset]
        let length = first < 0x80 ? 1 : first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 0
        let end = offset + length
        guard length > 0, end <= bytes.count,
            let text = String(validating: UnsafeBufferPointer(rebasing: bytes[offset..<end]), as: UTF8.self),
            let scalar = text.unicodeScalars.first
        else {
            return "byte 0x" + (first < 0x10 ? "0" : "") + String(first, radix: 16, uppercase: true) + " (not UTF-8)"
        }
        let code = scalar.codePoint
        if scalar == "\u{FEFF}" { return "byte-order mark (\(code))" }
        if scalar.isASCII, !scalar.breaksALine { return "character '\(text)'" }
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate, .nonspacingMark, .enclosingMark:
            return "character \(code)"
        default:
            return "character '\(text)' (\(code))"
        }
    }

    /// Parses one complete JSON text.
    /// - Throws: ``Failure`` naming the offset and the problem.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(Failure) -> JSONValue {
        do throws(Failure) {
            var parser = Cursor(bytes: bytes)
            parser.skipWhitespace()
            let value = try parser.parseValue(depth: 0)
            parser.skipWhitespace()
            if parser.index != bytes.count {
                throw Failure(offset: parser.index, reason: "unexpected data after the JSON value")
            }
            return value
        } catch {
            var failure = error
            failure.excerpt = excerpt(at: failure.offset, in: bytes)
            throw failure
        }
    }

    /// Parses one complete JSON text held in a string.
    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        var copy = text
        let result: Result<JSONValue, Failure> = copy.withUTF8 { buffer in
            do throws(Failure) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one complete JSON text held in bytes.
    public static func parse(_ bytes: [UInt8]) throws(Failure) -> JSONValue {
        let result: Result<JSONValue, Failure> = bytes.withUnsafeBufferPointer { buffer in
            do throws(Failure) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var scratch: [UInt8] = []

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        func fail(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

        mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
            guard index < bytes.count else { throw fail("unexpected end of JSON") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw fail("unexpected \(JSONParser.character(at: index, in: bytes))")
            }
        }

        mutating func expectLiteral(_ literal: StaticString) throws(Failure) {
            let count = literal.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw fail("unexpected end of JSON") }
            let start = literal.utf8Start
            for i in 0..<count where bytes[index + i] != start[i] {
                throw fail("invalid literal, expected '\(literal)'")
            }
            index += count
        }

        mutating func parseObject(depth: Int) throws(Failure) -> JSONValue {
            if depth > JSONParser.maxDepth { throw fail("JSON nested deeper than \(JSONParser.maxDepth) levels") }
            index += 1
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                    throw fail("expected a string key in object")
                }
                let keyOffset = index
                let key = try parseString()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after object key") }
                index += 1
                skipWhitespace()
                let value = try parseValue(depth: depth)
                if members.updateValue(value, forKey: key) != nil {
                    // Swift's String compares by Unicode canonical equivalence, so a key written
                    // with other code points ("café" and "cafe" + U+0301) lands on the earlier one,
                    // which the dictionary keeps. RFC 8785 tells them apart; Kopa cannot hold both,
                    // and never writes such an object.
                    let earlier = members[members.index(forKey: key)!].key
                    guard Array(earlier.unicodeScalars) == Array(key.unicodeScalars) else {
                        func scalars(_ text: String) -> String {
                            text.unicodeScalars.map { $0.isASCII ? String($0) : $0.codePoint }.joined(separator: " ")
                        }
                        throw Failure(offset: keyOffset, reason: "keys '\(earlier)' (\(scalars(earlier))) and '\(key)' (\(scalars(key))) are one text in other code points (Unicode canonical equivalence), which Kopa cannot hold as two keys of one object")
                    }
                    throw Failure(offset: keyOffset, reason: "duplicate key '\(key)'")
                }
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end of JSON in object") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                throw fail("expected ',' or '}' in object")
            }
        }

        mutating func parseArray(depth: Int) throws(Failure) -> JSONValue {
            if depth > JSONParser.maxDepth { throw fail("JSON nested deeper than \(JSONParser.maxDepth) levels") }
            index += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth))
                skipWhitespace()
                guard index < bytes.count else { throw fail("unexpected end of JSON in array") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
                throw fail("expected ',' or ']' in array")
            }
        }

        mutating func parseString() throws(Failure) -> String {
            index += 1
            let start = index
            // Fast path: no escapes, so the bytes are the string (and pure ASCII needs no validation).
            var ascii = true
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    if ascii { return String(decoding: slice, as: UTF8.self) }
                    guard let string = String(validating: slice, as: UTF8.self) else {
                        throw Failure(offset: start, reason: "invalid UTF-8 in string")
                    }
                    return string
                }
                if byte >= 0x80 { ascii = false }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw fail("unescaped control character U+\(hex4(UInt16(byte))) in string") }
                index += 1
            }
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    guard let string = String(validating: scratch, as: UTF8.self) else {
                        throw Failure(offset: start, reason: "invalid UTF-8 in string")
                    }
                    return string
                }
                if byte < 0x20 { throw fail("unescaped control character U+\(hex4(UInt16(byte))) in string") }
                if byte != UInt8(ascii: "\\") {
                    scratch.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var unit = try readHex4()
                    var scalarValue = UInt32(unit)
                    if (0xD800...0xDBFF).contains(unit) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw fail("lone surrogate U+\(hex4(unit).uppercased()) in string")
                        }
                        index += 2
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate U+\(hex4(unit).uppercased()) in string") }
                        scalarValue = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        unit = 0
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        throw fail("lone surrogate U+\(hex4(unit).uppercased()) in string")
                    }
                    guard let scalar = Unicode.Scalar(scalarValue) else { throw fail("invalid unicode escape") }
                    scratch.append(contentsOf: UTF8.encode(scalar)!)
                default:
                    // Said without a backslash of its own: an error line writes one as two.
                    throw Failure(offset: index - 1, reason: "invalid escape in string: a backslash before the \(JSONParser.character(at: index - 1, in: bytes)); a backslash may be followed only by a quote, a backslash, a slash or one of b f n r t u")
                }
            }
            throw fail("unterminated string")
        }

        mutating func readHex4() throws(Failure) -> UInt16 {
            guard index + 4 <= bytes.count else { throw fail("unexpected end of JSON in a unicode escape") }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("invalid hex digit in a unicode escape")
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        mutating func parseNumber() throws(Failure) -> JSONValue {
            let start = index
            var negative = false
            if bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else {
                throw fail("invalid number")
            }
            var magnitude: Int64 = 0
            var overflow = false
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                    if magnitude < JSONValue.integerLimit { magnitude = magnitude * 10 + Int64(bytes[index] - UInt8(ascii: "0")) } else { overflow = true }
                    index += 1
                }
            }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw fail("invalid number: digits expected after '.'") }
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw fail("invalid number: digits expected in exponent") }
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            }
            let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if !isInteger { return .number(literal) }
            if overflow || magnitude >= JSONValue.integerLimit {
                throw Failure(offset: start, reason: "integer \(literal) is out of range (|n| must be below 2^53)")
            }
            return .integer(negative ? -magnitude : magnitude)
        }
    }
}

@inline(__always)
func hex4(_ value: UInt16) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(value >> 12 & 0xF)], digits[Int(value >> 8 & 0xF)], digits[Int(value >> 4 & 0xF)], digits[Int(value & 0xF)]], as: UTF8.self)
}
