extension SchemaNode {
    /// Reads a money option: an amount and its ISO 4217 code with a space between them, in either
    /// order (`"48454.95 EUR"`, `"EUR 48454.95"`). The amount itself is checked on append.
    /// - Throws: ``LedgerError`` saying what is wrong with `text` (a currency sign, a missing space,
    ///   no code, no amount) and a form of it that would be accepted.
    func money(fromCommandLine text: String, field: String) throws(LedgerError) -> JSONValue {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        if parts.count == 2, parts[1].allSatisfy(\.isLetter) {
            return .object(["amount": .string(parts[0]), "currency": .string(parts[1])])
        }
        if parts.count == 2, parts[0].allSatisfy(\.isLetter) {
            return .object(["amount": .string(parts[1]), "currency": .string(parts[0])])
        }
        var number = "", letters = "", signs = "", other = false
        for character in text where character != " " {
            if character.isASCII, character.isNumber || character == "." || character == "," {
                number.append(character)
            } else if character.isLetter {
                letters.append(character)
            } else if character.isCurrencySymbol {
                signs.append(character)
            } else {
                other = true
            }
        }
        let problem: String
        if text.allSatisfy({ $0 == " " }) {
            problem = "empty"
        } else if !signs.isEmpty {
            problem = "with a currency sign where an ISO 4217 code is expected"
        } else if number.isEmpty, !letters.isEmpty, !other {
            problem = "a currency without its amount"
        } else if letters.isEmpty, !other {
            // Not guessed: Latvian amounts before 2014 were in lats (LVL), and a wrong currency
            // would be recorded, hashed and kept for good.
            problem = "an amount without its currency"
        } else if parts.count == 1, !number.isEmpty, !other {
            problem = "an amount and a code without a space between them"
        } else {
            problem = "not an amount and its code"
        }
        let shown = problem == "empty" ? "field '\(field)' is empty" : "field '\(field)' is '\(text)', \(problem)"
        throw LedgerError(
            .invalidInput,
            "\(shown); expected an amount and its ISO 4217 code with a space between them, such as \"\(suggestedAmount(number)) \(Self.suggestedCurrency(letters: letters, signs: signs))\"",
            field: field)
    }

    /// The amount typed, if this field would accept it (a decimal comma read as a point), else an
    /// example: a suggestion must be a form that is accepted.
    private func suggestedAmount(_ typed: String) -> String {
        var candidates = [typed]
        if !typed.contains("."), typed.filter({ $0 == "," }).count == 1 { candidates.append(String(typed.map { $0 == "," ? "." : $0 })) }
        var references: [StreamReference] = []
        for candidate in candidates where !candidate.isEmpty {
            if let node = properties["amount"], (try? node.validate(.string(candidate), path: "", references: &references)) != nil {
                return candidate
            }
        }
        return "12.50"
    }

    /// The code typed, if it is one; the code of a common sign; else EUR, as an example.
    private static func suggestedCurrency(letters: String, signs: String) -> String {
        if ISO4217.isKnown(letters.uppercased()) { return letters.uppercased() }
        switch signs {
        case "£": return "GBP"
        case "$": return "USD"
        default: return "EUR"
        }
    }
}

extension Character {
    /// A currency sign such as € or $ (Unicode category Sc).
    fileprivate var isCurrencySymbol: Bool {
        unicodeScalars.first?.properties.generalCategory == .currencySymbol
    }
}
