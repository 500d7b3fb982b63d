/// The lexical facts about SQL text that projection and report files need: where a line starts
/// (inside a comment or a string literal, or in SQL), and a statement's first keyword.
///
/// Only what SQLite itself would agree on: string literals ('…'), quoted identifiers ("…", `…`,
/// […]) and comments (`-- …` to the end of the line, `/* … */`, which do not nest).
struct SQLText {
    private enum State: Equatable {
        case code
        /// `-- …`, to the end of the line.
        case lineComment
        case blockComment
        /// Inside a literal or quoted identifier that the byte ends.
        case quoted(UInt8)
    }

    private var state = State.code

    /// Whether the next line starts in SQL: neither inside a `/* */` comment nor inside a quoted
    /// string or identifier. Only such a line can be a header or a `-- on` line.
    var startsInCode: Bool { state == .code }

    /// Moves past the token that starts at `bytes[i]` (a byte, or the two of `--`, `/*`, `*/`).
    /// - Returns: where the next token starts, and whether this one is SQL (not a blank, not a comment).
    private mutating func step(_ bytes: [UInt8], at i: Int) -> (next: Int, isCode: Bool) {
        let byte = bytes[i]
        let next = i + 1 < bytes.count ? bytes[i + 1] : 0
        switch state {
        case .lineComment:
            if byte == UInt8(ascii: "\n") { state = .code }
            return (i + 1, false)
        case .blockComment:
            if byte == UInt8(ascii: "*"), next == UInt8(ascii: "/") {
                state = .code
                return (i + 2, false)
            }
            return (i + 1, false)
        case .quoted(let end):
            // A doubled quote inside a literal closes it and opens it again: the same state.
            if byte == end { state = .code }
            return (i + 1, true)
        case .code:
            if byte == UInt8(ascii: "-"), next == UInt8(ascii: "-") {
                state = .lineComment
                return (i + 2, false)
            }
            if byte == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                state = .blockComment
                return (i + 2, false)
            }
            switch byte {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"): state = .quoted(byte)
            case UInt8(ascii: "["): state = .quoted(UInt8(ascii: "]"))
            default: break
            }
            return (i + 1, !(byte == UInt8(ascii: " ") || (0x09...0x0D).contains(byte)))
        }
    }

    /// Consumes one line (without its line break).
    /// - Returns: whether the line holds SQL outside comments.
    mutating func consume(line: String) -> Bool {
        let bytes = Array(line.utf8)
        var sawCode = false
        var i = 0
        while i < bytes.count {
            let (next, isCode) = step(bytes, at: i)
            sawCode = sawCode || isCode
            i = next
        }
        if state == .lineComment { state = .code }  // the line break ends it
        return sawCode
    }

    /// The named parameters of an SQL text (`:stream`, `@x`, `$y` → `stream`, `x`, `y`), outside
    /// string literals, quoted identifiers and comments: what a report can be given, known before
    /// any projection is brought up to date.
    static func parameterNames(_ sql: String) -> Set<String> {
        let bytes = Array(sql.utf8)
        var names: Set<String> = []
        var lexer = SQLText()
        var i = 0
        while i < bytes.count {
            if lexer.state == .code, [UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "$")].contains(bytes[i]) {
                var end = i + 1
                while end < bytes.count, isIdentifierByte(bytes[end]) { end += 1 }
                if end > i + 1 { names.insert(String(decoding: bytes[(i + 1)..<end], as: UTF8.self)) }
                i = end
            } else {
                i = lexer.step(bytes, at: i).next
            }
        }
        return names
    }

    /// A byte of an identifier as SQLite reads one: an ASCII letter or digit, `_`, or any byte of a
    /// non-ASCII character.
    static func isIdentifierByte(_ b: UInt8) -> Bool {
        b == UInt8(ascii: "_") || b >= 0x80 || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    /// The identifiers of an SQL text, folded as SQLite folds names (a superset of the tables it
    /// reads, and of the SQLite tables it names).
    static func identifiers(_ sql: String) -> Set<String> {
        Set(Array(StatementReach.folded(sql).utf8).split { !isIdentifierByte($0) }.map { String(decoding: $0, as: UTF8.self) })
    }

    /// The lines of a file: split at LF, with a CR before it (CRLF files) removed.
    static func lines(of text: String) -> [String] {
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
    }

    /// The first keyword of one statement, upper-cased, after blanks and comments (`""` if none).
    static func firstKeyword(_ sql: String) -> String {
        var bytes = Substring(sql).utf8[...]
        while let first = bytes.first {
            if first == UInt8(ascii: " ") || (0x09...0x0D).contains(first) {
                bytes = bytes.dropFirst()
            } else if bytes.starts(with: "--".utf8) {
                bytes = bytes.drop { $0 != UInt8(ascii: "\n") }
            } else if bytes.starts(with: "/*".utf8) {
                let rest = bytes.dropFirst(2)
                var end = rest.startIndex
                var found = false
                while end != rest.endIndex {
                    if rest[end] == UInt8(ascii: "*"), rest[rest.index(after: end)...].first == UInt8(ascii: "/") {
                        found = true
                        break
                    }
                    end = rest.index(after: end)
                }
                bytes = found ? rest[rest.index(end, offsetBy: 2)...] : rest[rest.endIndex...]
            } else {
                break
            }
        }
        let word = bytes.prefix { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }
        return String(decoding: word, as: UTF8.self).uppercased()
    }
}
