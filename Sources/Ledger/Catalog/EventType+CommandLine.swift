import Foundation

extension EventType {
    /// The payload field an option such as `--lead-partner` names (`lead_partner`).
    public static func fieldName(forOption option: String) -> String {
        String(option.drop { $0 == "-" }).replacingOccurrences(of: "-", with: "_")
    }

    /// The option that sets a payload field (`lead_partner` → `--lead-partner`).
    public static func optionName(forField field: String) -> String {
        "--" + field.replacingOccurrences(of: "_", with: "-")
    }

    /// Builds a payload from command-line `--field value` pairs, typed by the schema; repeated
    /// options and comma-separated values fill lists. A field given as an option replaces the
    /// same field of `base` (a list whole, with every value given, duplicates kept). Values are
    /// validated on append.
    /// - Throws: ``LedgerError`` for an unknown field (with the nearest name) or a value of the wrong type.
    public func payload(from options: [(option: String, value: String)], base: [String: JSONValue] = [:]) throws(LedgerError) -> [String: JSONValue] {
        var payload = base
        // A field that holds one value, given twice, would keep one of them silently.
        var given: [String: String] = [:]
        // Every occurrence of a list option is collected first, then replaces the base's list
        // once: the option overrides `--data`'s field whole, and what is hashed is every value
        // typed, in order, a repeated one included (as `kekava,kekava` keeps both).
        var lists: [String: [JSONValue]] = [:]
        for (option, text) in options {
            let field = Self.fieldName(forOption: option)
            guard let node = root.properties[field] else {
                let known = root.properties.keys.sorted().map(Self.optionName(forField:))
                let hint = Spelling.nearest(to: option, among: known).map { " (did you mean '\($0)'?)" } ?? ""
                throw LedgerError(.invalidInput, "unknown field '\(option)' for '\(name)'\(hint); `kopa record \(name) --help` lists its fields")
            }
            if node.kind != .array, let first = given[field] {
                throw LedgerError(.invalidInput, "field '\(field)' is given twice, as '\(first)' and '\(text)'; it holds one value, so give it once", field: field)
            }
            given[field] = text
            let value = try node.value(fromCommandLine: text, field: field)
            if node.kind == .array, case .array(let items) = value {
                lists[field, default: []] += items
            } else {
                payload[field] = value
            }
        }
        for (field, items) in lists { payload[field] = .array(items) }
        return payload
    }
}

extension SchemaNode {
    /// Reads a command-line value as this schema's JSON type.
    /// - Throws: ``LedgerError`` naming the field, the text and what was expected.
    public func value(fromCommandLine text: String, field: String) throws(LedgerError) -> JSONValue {
        func fail() -> LedgerError {
            LedgerError(.invalidInput, "field '\(field)' is '\(text)' but expected \(expectation)")
        }
        if isMoney { return try money(fromCommandLine: text, field: field) }
        switch kind {
        case .integer:
            guard let n = Int64(text) else { throw fail() }
            return .integer(n)
        case .boolean:
            // Only what the help says: "yes" or "1" read as true would be a guess that is hashed and kept.
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: throw fail()
            }
        case .array:
            if text.hasPrefix("[") {
                do { return try JSONParser.parse(text) } catch { throw LedgerError(.invalidInput, "field '\(field)' is not a valid JSON list: \(error)") }
            }
            // "" is the empty list; an empty item ("kekava," or "a,,b") is a slip, not a value to drop.
            let elements = text.allSatisfy({ $0 == " " }) ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
            if elements.contains(where: \.isEmpty) {
                throw LedgerError(.invalidInput, "field '\(field)' has an empty item in '\(text)'; expected items separated by single commas, e.g. 'kekava,riga'", field: field)
            }
            var values: [JSONValue] = []
            for element in elements {
                values.append(try items?.value(fromCommandLine: element, field: field) ?? .string(element))
            }
            return .array(values)
        case .object, nil:
            do { return try JSONParser.parse(text) } catch { throw LedgerError(.invalidInput, "field '\(field)' is not valid JSON: \(error)") }
        case .string:
            return .string(text)
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
