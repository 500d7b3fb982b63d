import Foundation

/// One compiled JSON Schema (the subset Kopa validates itself), ready to check values fast.
///
/// Immutable after compilation, so it is shared freely across threads.
public final class SchemaNode: Sendable {
    /// The JSON kinds the subset knows.
    public enum Kind: String, Sendable { case object, string, integer, boolean, array }

    /// Accepted kind; `nil` accepts any JSON value.
    public let kind: Kind?
    /// Properties of an object.
    public let properties: [String: SchemaNode]
    /// Required property names.
    public let required: [String]
    /// `additionalProperties: false`.
    public let closed: Bool
    /// `enum`.
    public let enumValues: [JSONValue]?
    /// `pattern`, compiled.
    public let pattern: Pattern?
    /// `minLength` / `maxLength` in Unicode scalars.
    public let minLength: Int?
    /// `maxLength`.
    public let maxLength: Int?
    /// `minimum` / `maximum` for integers.
    public let minimum: Int64?
    /// `maximum`.
    public let maximum: Int64?
    /// `items` of an array.
    public let items: SchemaNode?
    /// `format`.
    public let format: String?
    /// `x-kopa-ref`: the stream kind a string must name.
    public let reference: String?
    /// `x-kopa-personal`.
    public let personal: Bool
    /// `description`, shown in help.
    public let summary: String?
    /// The shared definition this came from (`money`, `slug` …), if any.
    public let definition: String?

    /// Whether this is the shared `money` object (binds `_cents` in projections).
    public var isMoney: Bool { definition == "money" }

    /// The keywords the subset accepts; anything else in a catalog file is an error.
    static let keywords: Set<String> = [
        "$schema", "$id", "$defs", "$ref", "$comment", "title", "description", "type", "properties", "required",
        "additionalProperties", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "items",
        "format", "x-kopa-stream", "x-kopa-ref", "x-kopa-personal", "x-kopa-creates", "examples", "default",
    ]

    init(
        kind: Kind?, properties: [String: SchemaNode], required: [String], closed: Bool, enumValues: [JSONValue]?,
        pattern: Pattern?, minLength: Int?, maxLength: Int?, minimum: Int64?, maximum: Int64?, items: SchemaNode?,
        format: String?, reference: String?, personal: Bool, summary: String?, definition: String?
    ) {
        self.kind = kind
        self.properties = properties
        self.required = required
        self.closed = closed
        self.enumValues = enumValues
        self.pattern = pattern
        self.minLength = minLength
        self.maxLength = maxLength
        self.minimum = minimum
        self.maximum = maximum
        self.items = items
        self.format = format
        self.reference = reference
        self.personal = personal
        self.summary = summary
        self.definition = definition
    }

    /// A short human name of what the node accepts, for help and errors.
    public var expectation: String {
        if let enumValues { return "one of " + enumValues.map { $0.stringValue ?? CanonicalJSON.string($0) }.joined(separator: ", ") }
        if isMoney { return "an amount of money such as \"48454.95 EUR\"" }
        // A known format says it in words; its pattern (a partial date's) would show a regex.
        switch format {
        case "date": return "a date YYYY-MM-DD"
        case "date-time": return "a date-time YYYY-MM-DDThh:mm:ssZ"
        case "partial-date": return "a date YYYY, YYYY-MM or YYYY-MM-DD"
        case "uri": return "a URI such as https://example.org/page"
        case "currency": return "an ISO 4217 currency code such as EUR"
        case "country": return "an ISO 3166-1 alpha-2 country code such as LV"
        default: break
        }
        if let pattern { return pattern.meaning }
        switch kind {
        case .string: return "a string"
        case .integer: return "an integer"
        case .boolean: return "true or false"
        case .object: return "an object"
        case .array: return "a list" + (items.map { " of " + $0.expectationPlural } ?? "")
        case nil: return "any JSON value"
        }
    }

    var expectationPlural: String {
        if reference != nil || definition == "slug" || definition == "org-ref" { return "slugs" }
        switch kind {
        case .string: return "strings"
        case .integer: return "integers"
        default: return "values"
        }
    }
}

/// A compiled `pattern`: hand-written matchers for the catalog's common patterns, ICU otherwise.
public struct Pattern: Sendable {
    /// The pattern as written.
    public let source: String
    private let matcher: Matcher

    private enum Matcher: Sendable {
        case slug
        case capitals(Int)
        case decimal(integerDigits: Int, fractionDigits: Int)
        case regex(RegexBox)
    }

    /// NSRegularExpression is immutable and thread-safe for matching.
    private final class RegexBox: @unchecked Sendable {
        let regex: NSRegularExpression
        init(_ regex: NSRegularExpression) { self.regex = regex }
    }

    /// Compiles a pattern.
    /// - Throws: ``LedgerError`` when ICU cannot compile it.
    init(_ source: String) throws(LedgerError) {
        self.source = source
        switch source {
        case "^[a-z0-9]+(-[a-z0-9]+)*$": matcher = .slug
        case "^[A-Z]{3}$": matcher = .capitals(3)
        case "^[A-Z]{2}$": matcher = .capitals(2)
        case "^(0|[1-9][0-9]{0,12})(\\.[0-9]{1,2})?$": matcher = .decimal(integerDigits: 13, fractionDigits: 2)
        default:
            do {
                matcher = .regex(RegexBox(try NSRegularExpression(pattern: Self.endOfInputAnchors(source))))
            } catch {
                throw LedgerError(.invalidInput, "pattern '\(source)' is not a valid regular expression")
            }
        }
    }

    /// `source` for ICU, whose `$` also matches before a line break that ends the text: JSON
    /// Schema's patterns are ECMA-262's, whose `$` matches only at the end, so a bare `$` (not
    /// escaped, not in a character class) becomes `\z`. Otherwise "85\n" was a percentage.
    static func endOfInputAnchors(_ source: String) -> String {
        var out = ""
        // ICU's classes nest (`[a[b]]`, `[[:alpha:]]`): a `$` is an anchor only outside all of them.
        var escaped = false, depth = 0
        for character in source {
            if escaped {
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "[" {
                depth += 1
            } else if character == "]", depth > 0 {
                depth -= 1
            } else if character == "$", depth == 0 {
                out += "\\z"
                continue
            }
            out.append(character)
        }
        return out
    }

    /// Whether `text` matches (anywhere, as JSON Schema's `pattern` does; catalog patterns anchor).
    public func matches(_ text: String) -> Bool {
        switch matcher {
        case .slug: return Pattern.isSlug(text)
        case .capitals(let n):
            return text.utf8.count == n && text.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
        case .decimal(let integerDigits, let fractionDigits):
            return Pattern.isDecimal(text, integerDigits: integerDigits, fractionDigits: fractionDigits)
        case .regex(let box):
            let range = NSRange(text.startIndex..., in: text)
            return box.regex.firstMatch(in: text, range: range) != nil
        }
    }

    /// What a matching string looks like, in words.
    public var meaning: String {
        switch matcher {
        case .slug: return "a slug (lower-case letters and digits, words joined by single hyphens, e.g. 'cities4csr')"
        case .capitals(3): return "a three-letter ISO 4217 code in capitals (e.g. 'EUR')"
        case .capitals(2): return "a two-letter ISO 3166-1 country code in capitals (e.g. 'LV')"
        case .capitals(let n): return "\(n) capital letters"
        case .decimal: return "a non-negative decimal string with at most two decimals and 13 digits before the point (e.g. '48454.95')"
        case .regex:
            if source.contains("100(") { return "a percentage from 0 to 100 with at most two decimals (e.g. '85.00')" }
            return "a string matching /\(source)/"
        }
    }

    static func isSlug(_ text: String) -> Bool {
        var previousWasHyphen = true
        var count = 0
        for byte in text.utf8 {
            count += 1
            if (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) {
                previousWasHyphen = false
            } else if byte == UInt8(ascii: "-"), !previousWasHyphen {
                previousWasHyphen = true
            } else {
                return false
            }
        }
        return count > 0 && !previousWasHyphen
    }

    static func isDecimal(_ text: String, integerDigits: Int, fractionDigits: Int) -> Bool {
        var intCount = 0, fracCount = 0, sawDot = false, leadingZero = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                if sawDot || intCount == 0 { return false }
                sawDot = true
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                if sawDot {
                    fracCount += 1
                } else {
                    if intCount == 0 { leadingZero = byte == UInt8(ascii: "0") } else if leadingZero { return false }
                    intCount += 1
                }
            } else {
                return false
            }
        }
        return intCount >= 1 && intCount <= integerDigits && (!sawDot || (fracCount >= 1 && fracCount <= fractionDigits))
    }
}
