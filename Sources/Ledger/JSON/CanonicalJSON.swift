/// RFC 8785 JSON Canonicalization Scheme (JCS) for the integer-only JSON that Kopa records hold.
///
/// Objects sort their keys by UTF-16 code units, strings are escaped as ECMAScript's
/// `JSON.stringify` does, there is no whitespace, and integers print in plain decimal. A
/// non-integer number cannot be canonicalised here: records carry decimals as strings.
public enum CanonicalJSON {
    /// Why a value has no canonical form in Kopa.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The literal that could not be canonicalised.
        public var literal: String
        /// Names the number and says how to write a decimal.
        public var description: String {
            "the number \(literal) is not an integer; decimals must be strings (e.g. \"12.50\")"
        }
    }

    /// Appends the canonical UTF-8 form of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) throws(Failure) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .integer(let n): writeInteger(n, into: &out)
        case .number(let literal): throw Failure(literal: literal)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // Sorting the pairs, not the keys, saves hashing every key again to look its value up.
            for (i, member) in sortedMembers(members).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                try write(member.value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The canonical bytes of `value`.
    public static func bytes(_ value: JSONValue) throws(Failure) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try write(value, into: &out)
        return out
    }

    /// The canonical text of `value`; a non-integer number prints as its literal (for messages only).
    public static func string(_ value: JSONValue) -> String {
        if let bytes = try? bytes(value) { return String(decoding: bytes, as: UTF8.self) }
        if case .number(let literal) = value { return literal }
        return "<not canonical>"
    }

    /// Keys in RFC 8785 order: by UTF-16 code units, not by Unicode scalars.
    ///
    /// UTF-8 byte order is code point order, which agrees with UTF-16 order unless a key holds a
    /// character from U+E000 up (whose UTF-8 starts with 0xEE or more): only then are the slower
    /// UTF-16 views compared.
    public static func sortedKeys(_ keys: some Collection<String>) -> [String] {
        if keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0xEE } }) {
            return keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        return keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
    }

    /// The members of an object in RFC 8785 key order.
    static func sortedMembers(_ members: [String: JSONValue]) -> [(key: String, value: JSONValue)] {
        if members.keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0xEE } }) {
            return members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        }
        return members.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
    }

    /// Appends a decimal integer.
    @inline(__always)
    public static func writeInteger(_ n: Int64, into out: inout [UInt8]) {
        if n == 0 { out.append(UInt8(ascii: "0")); return }
        var magnitude = n.magnitude
        if n < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[i]) }
        }
    }

    /// Appends a string in quotes, escaped as RFC 8785 §3.2.2.2 prescribes.
    @inline(__always)
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        var copy = s
        copy.withUTF8 { writeString(bytes: $0, into: &out) }
    }

    /// Appends UTF-8 bytes as a quoted, escaped JSON string.
    @inline(__always)
    public static func writeString(bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: copy them whole.
        if !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: bytes)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "\\"))
            case 0x08: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "f"))
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0x00..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                let digits = Array("0123456789abcdef".utf8)
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
