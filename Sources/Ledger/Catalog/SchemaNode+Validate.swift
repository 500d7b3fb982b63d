/// A reference found in a payload: the stream `<kind>/<slug>` must exist.
public struct StreamReference: Sendable, Equatable {
    /// Where in the payload, e.g. `lead_partner` or `organisations[2]`.
    public var path: String
    /// The stream kind, e.g. `organisation`.
    public var kind: String
    /// The slug given.
    public var slug: String
    /// The stream named.
    public var stream: String { kind + "/" + slug }
}

extension SchemaNode {
    /// Checks `value` against the schema and collects its stream references.
    /// - Throws: ``LedgerError`` naming the field, the value and what was expected.
    public func validate(_ value: JSONValue, path: String, references: inout [StreamReference]) throws(LedgerError) {
        func fail(_ why: String) -> LedgerError {
            LedgerError(.invalidInput, path.isEmpty ? why : "field '\(path)' \(why)", field: path.isEmpty ? nil : path)
        }
        func mismatch() -> LedgerError {
            if case .number(let literal) = value, kind == .string {
                return fail("is the number \(literal) but expected \(expectation); write decimals as strings, e.g. \"\(literal)\"")
            }
            if case .number(let literal) = value {
                return fail("is the number \(literal) but expected \(expectation); numbers in events are integers, decimals are strings")
            }
            return fail("is \(value.shortDescription) but expected \(expectation)")
        }
        switch kind {
        case nil:
            if case .number = value { throw mismatch() }
        case .string:
            guard case .string(let s) = value else { throw mismatch() }
            if let maxLength {
                let bytes = s.utf8.count
                if bytes > maxLength, s.unicodeScalars.count > maxLength {
                    throw fail("is \(s.unicodeScalars.count) characters long but expected at most \(maxLength)")
                }
            }
            if let minLength, s.unicodeScalars.count < minLength {
                throw fail(minLength == 1 ? "is empty but expected a non-empty string" : "is \(value.shortDescription) but expected at least \(minLength) characters")
            }
            // Decision: a required text of blanks says nothing (as a reason of blanks is no reason);
            // stricter than JSON Schema's minLength, which counts the blanks.
            if let minLength, minLength > 0, s.isBlank {
                throw fail("is \(value.shortDescription), only blanks, but expected a text")
            }
            if let enumValues, !enumValues.contains(value) {
                let options = enumValues.compactMap(\.stringValue)
                let hint = Spelling.nearest(to: s, among: options).map { " (did you mean '\($0)'?)" } ?? ""
                throw fail("is '\(s)' but expected one of: \(options.joined(separator: ", "))\(hint)")
            }
            if let pattern, !pattern.matches(s) { throw mismatch() }
            if let format { try checkFormat(format, s, fail: fail) }
            if let reference { references.append(StreamReference(path: path, kind: reference, slug: s)) }
        case .integer:
            guard case .integer(let n) = value else { throw mismatch() }
            if let minimum, n < minimum { throw fail("is \(n) but expected at least \(minimum)") }
            if let maximum, n > maximum { throw fail("is \(n) but expected at most \(maximum)") }
            if let enumValues, !enumValues.contains(value) { throw mismatch() }
        case .boolean:
            guard case .bool = value else { throw mismatch() }
        case .array:
            guard case .array(let elements) = value else { throw mismatch() }
            if let items {
                for (i, element) in elements.enumerated() {
                    try items.validate(element, path: "\(path)[\(i)]", references: &references)
                }
            }
        case .object:
            guard case .object(let members) = value else { throw mismatch() }
            for name in required where members[name] == nil {
                let field = path.isEmpty ? name : path + "." + name
                throw LedgerError(.invalidInput, "missing required field '\(field)' (\(properties[name]?.expectation ?? "a value"))", field: field)
            }
            for (name, member) in members {
                let field = path.isEmpty ? name : path + "." + name
                if let sub = properties[name] {
                    try sub.validate(member, path: field, references: &references)
                } else if closed {
                    let known = properties.keys.sorted()
                    let hint = Spelling.nearest(to: name, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                    throw LedgerError(.invalidInput, "unknown field '\(field)'\(hint); expected one of: \(known.joined(separator: ", "))", field: field)
                }
            }
        }
    }

    /// Whether `s` is a URI by RFC 3986's characters (JSON Schema's `uri` format): a scheme (an ASCII
    /// letter, then letters, digits, `+`, `-`, `.`), a colon, then only unreserved and reserved
    /// characters and `%` with two hex digits. A space, a control character, `<`, `>` or a non-ASCII
    /// letter must be percent-encoded.
    static func isURI(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { return false }
        func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "f")) }
        guard isLetter(bytes[0]), bytes[1..<colon].allSatisfy({ isLetter($0) || isDigit($0) || "+-.".utf8.contains($0) }) else { return false }
        let allowed = Set("-._~:/?#[]@!$&'()*+,;=".utf8)
        var i = colon + 1
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) else { return false }
                i += 3
                continue
            }
            guard isLetter(b) || isDigit(b) || allowed.contains(b) else { return false }
            i += 1
        }
        return true
    }

    private func checkFormat(_ format: String, _ s: String, fail: (String) -> LedgerError) throws(LedgerError) {
        switch format {
        case "date":
            guard s.utf8.count == 10 else { throw fail("is '\(s)' but expected a date YYYY-MM-DD") }
            do { _ = try OccurredAt(s) } catch { throw fail("is '\(s)', not a real date; expected a date YYYY-MM-DD") }
        case "partial-date":
            guard [4, 7, 10].contains(s.utf8.count) else { throw fail("is '\(s)' but expected a date YYYY, YYYY-MM or YYYY-MM-DD") }
            do { _ = try OccurredAt(s) } catch { throw fail("is '\(s)', not a real date; expected YYYY, YYYY-MM or YYYY-MM-DD") }
        case "date-time":
            guard s.utf8.count > 10 else { throw fail("is '\(s)' but expected a date-time YYYY-MM-DDThh:mm:ssZ") }
            do { _ = try OccurredAt(s) } catch { throw fail("is '\(s)' but expected a date-time YYYY-MM-DDThh:mm:ss[.sss]Z in UTC") }
        case "currency":
            guard ISO4217.isKnown(s) else { throw fail("is '\(s)', which is not an ISO 4217 currency code; expected a code such as EUR") }
        case "country":
            if let iso = ISO3166.euSpellings[s] { throw fail("is '\(s)', the EU's spelling; expected the ISO 3166-1 code '\(iso)'") }
            guard ISO3166.isKnown(s) else { throw fail("is '\(s)', which is not an ISO 3166-1 alpha-2 country code; expected a code such as LV (or EU for an EU body)") }
        case "uri":
            if !Self.isURI(s) { throw fail("is \(JSONValue.string(s).shortDescription) but expected a URI (RFC 3986: ASCII, spaces and other characters percent-encoded) such as https://example.org/page") }
        default: break
        }
    }
}

/// Suggestions for misspelt names.
public enum Spelling {
    /// The closest candidate within a small edit distance, if any.
    public static func nearest(to word: String, among candidates: some Sequence<String>) -> String? {
        let a = Array(word.lowercased().unicodeScalars)
        var best: (String, Int)?
        for candidate in candidates {
            // The distance is at least the difference in length: most of a long list (a kind's
            // hundred thousand streams) is passed over without working it out.
            let count = candidate.unicodeScalars.count
            if abs(count - a.count) > max(2, min(a.count, count) / 3) { continue }
            let b = Array(candidate.lowercased().unicodeScalars)
            let d = distance(a, b)
            let limit = max(2, min(a.count, b.count) / 3)
            if d <= limit, best.map({ d < $0.1 }) ?? true { best = (candidate, d) }
        }
        return best?.0
    }

    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
