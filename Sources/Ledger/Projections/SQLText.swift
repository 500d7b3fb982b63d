/// The lexical facts about SQL text that projection and report files need: where a line starts
/// (inside a comment or a string literal, or in SQL), and a statement's first keyword.
///
/// Only what SQLite itself would agree on: string literals ('…'), quoted identifiers ("…", `…`,
/// […]) and comments (`-- …` to the end of the line, `/* … */`, which do not nest).
struct SQLText {
    private enum State: Equatable {
        case code
        case blockComment
        /// Inside a literal or quoted identifier that the byte ends.
        case quoted(UInt8)
    }

    private var state = State.code

    /// Whether the next line starts in SQL: neither inside a `/* */` comment nor inside a quoted
    /// string or identifier. Only such a line can be a header or a `-- on` line.
    var startsInCode: Bool { state == .code }

    /// Consumes one line (without its line break).
    /// - Returns: whether the line holds SQL outside comments.
    mutating func consume(line: String) -> Bool {
        let bytes = Array(line.utf8)
        var sawCode = false
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            let next = i + 1 < bytes.count ? bytes[i + 1] : 0
            switch state {
            case .code:
                if byte == UInt8(ascii: "-"), next == UInt8(ascii: "-") { return sawCode }  // a comment to the end of the line
                if byte == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                    state = .blockComment
                    i += 2
                    continue
                }
                switch byte {
                case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"): state = .quoted(byte)
                case UInt8(ascii: "["): state = .quoted(UInt8(ascii: "]"))
                default: break
                }
                if !(byte == UInt8(ascii: " ") || (0x09...0x0D).contains(byte)) { sawCode = true }
            case .blockComment:
                if byte == UInt8(ascii: "*"), next == UInt8(ascii: "/") {
                    state = .code
                    i += 2
                    continue
                }
            case .quoted(let end):
                // A doubled quote inside a literal closes it and opens it again: the same state.
                if byte == end { state = .code }
                sawCode = true
            }
            i += 1
        }
        return sawCode
    }

    /// The named parameters of an SQL text (`:stream`, `@x`, `$y` → `stream`, `x`, `y`), outside
    /// string literals, quoted identifiers and comments: what a report can be given, known before
    /// any projection is brought up to date.
    static func parameterNames(_ sql: String) -> Set<String> {
        func isNameByte(_ b: UInt8) -> Bool {
            b == UInt8(ascii: "_") || b >= 0x80 || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
        }
        let bytes = Array(sql.utf8)
        var names: Set<String> = []
        var state = State.code
        var lineComment = false
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            let next = i + 1 < bytes.count ? bytes[i + 1] : 0
            if lineComment {
                if byte == UInt8(ascii: "\n") { lineComment = false }
            } else {
                switch state {
                case .code:
                    if byte == UInt8(ascii: "-"), next == UInt8(ascii: "-") {
                        lineComment = true
                    } else if byte == UInt8(ascii: "/"), next == UInt8(ascii: "*") {
                        state = .blockComment
                        i += 1
                    } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "`") {
                        state = .quoted(byte)
                    } else if byte == UInt8(ascii: "[") {
                        state = .quoted(UInt8(ascii: "]"))
                    } else if byte == UInt8(ascii: ":") || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "$") {
                        var end = i + 1
                        while end < bytes.count, isNameByte(bytes[end]) { end += 1 }
                        if end > i + 1 { names.insert(String(decoding: bytes[(i + 1)..<end], as: UTF8.self)) }
                        i = end
                        continue
                    }
                case .blockComment:
                    if byte == UInt8(ascii: "*"), next == UInt8(ascii: "/") {
                        state = .code
                        i += 1
                    }
                case .quoted(let end):
                    if byte == end { state = .code }
                }
            }
            i += 1
        }
        return names
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
