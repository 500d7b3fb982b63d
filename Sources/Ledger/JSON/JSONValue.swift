/// A JSON value as Kopa stores it: integers are exact, other numbers are kept as written so they
/// can be named in an error and rejected (records carry decimals as strings, never as floats).
public enum JSONValue: Sendable, Hashable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// An integer with |n| < 2^53, the only kind of number a record may hold.
    case integer(Int64)
    /// A number with a fraction or exponent, kept as its literal text; never valid in a record.
    case number(String)
    /// A string.
    case string(String)
    /// A list, in order.
    case array([JSONValue])
    /// An object; its keys are unordered (canonical JSON sorts them).
    case object([String: JSONValue])

    /// Equal when the canonical JSON of both is the same bytes. Swift's `String ==` holds canonically
    /// equivalent texts equal ("Café" with a precomposed é and with e + U+0301), but a record's hash
    /// does not: a correction that changes only that would have been refused as changing nothing,
    /// or left out of the list of changes.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.number(let a), .number(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case (.object(let a), .object(let b)):
            return a.count == b.count
                && a.allSatisfy { key, value in
                    guard let i = b.index(forKey: key) else { return false }
                    return b[i].key.utf8.elementsEqual(key.utf8) && b[i].value == value
                }
        default: return false
        }
    }

    /// The largest magnitude an integer may have (RFC 8785 / I-JSON interoperability).
    public static let integerLimit: Int64 = 1 << 53

    /// The value of `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The string when this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer when this is an integer.
    public var integerValue: Int64? {
        if case .integer(let n) = self { return n }
        return nil
    }

    /// The members when this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The JSON type name used in error messages ("a string", "an integer" …).
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer: "an integer"
        case .number: "a fractional number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value for reading, whole: a string in quotes, anything else as canonical JSON (what an
    /// audit trail shows, folded, never cut: a correction's old and new values may differ only at
    /// their ends).
    public var quotedDescription: String {
        if case .string(let s) = self { return "'" + s + "'" }
        if case .number(let literal) = self { return literal }
        return CanonicalJSON.string(self)
    }

    /// A short rendering of the value for error messages: strings in quotes, long values cut.
    public var shortDescription: String {
        switch self {
        case .string(let s):
            // Cut inside the quotes, so that the reader still sees where the value ends.
            return "'" + (s.count > 58 ? String(s.prefix(56)) + "…" : s) + "'"
        case .number(let literal):
            return literal.count > 60 ? String(literal.prefix(57)) + "…" : literal
        default:
            let text = CanonicalJSON.string(self)
            return text.count > 60 ? String(text.prefix(57)) + "…" : text
        }
    }
}
