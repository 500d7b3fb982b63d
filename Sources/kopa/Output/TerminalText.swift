import Ledger

/// Text as a terminal shows it: one line, measured in columns rather than characters.
///
/// A value may hold line breaks, tabs or other control characters (a name typed with a carriage
/// return), which would break a table's row or shift its columns; and a CJK character or an emoji
/// takes two columns, a combining accent none, so counting characters would let a row overrun
/// 100 columns.
enum TerminalText {
    /// `text` on one line: a CR LF pair, and every other control character, becomes one space; a
    /// bidirectional formatting character is shown as its escape (`\u202e`), so that it cannot
    /// reorder what the reader sees and is seen to be there.
    static func oneLine(_ text: String) -> String {
        // Most values have no control character: checked by bytes first. C1 controls start with
        // 0xC2, the line and paragraph separators and most bidirectional controls with 0xE2, the
        // Arabic letter mark with 0xD8.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 || $0 == 0xD8 }) else { return text }
        var out = String.UnicodeScalarView()
        var afterCR = false
        for scalar in text.unicodeScalars {
            defer { afterCR = scalar == "\r" }
            if scalar == "\n", afterCR { continue }
            if scalar.isBidiControl {
                out.append(contentsOf: scalar.escaped.unicodeScalars)
            } else {
                out.append(scalar.breaksALine ? " " : scalar)
            }
        }
        return String(out)
    }

    /// The columns a terminal gives `text` (on one line, see ``oneLine(_:)``).
    static func columns(_ text: String) -> Int {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }
        return text.reduce(0) { $0 + columns(of: $1) }
    }

    /// `text` on one line (``oneLine(_:)``), then folded into lines of at most `width` columns:
    /// at the last space that fits (unless `atSpaces` is false: then exactly at the width, so the
    /// lines put together give the text back), or anywhere in a word longer than a line. Lines
    /// after the first start with `indent`. Nothing is cut: an audit trail's source must be read whole.
    static func wrapped(_ text: String, width: Int = 100, indent: String, atSpaces: Bool = true) -> [String] {
        // Indices into one string, never a copy of the rest: a value of a megabyte folds in
        // linear time (copying the rest per line took 23 s).
        var rest = Substring(oneLine(text))
        var lines: [String] = []
        var lead = ""
        while true {
            let end = prefixEnd(rest, columns: width - columns(lead))
            if end == rest.endIndex {
                lines.append(lead + rest)
                return lines
            }
            var pieceEnd = end
            if atSpaces, let space = rest[..<end].lastIndex(of: " "), space > rest.startIndex { pieceEnd = space }
            if pieceEnd == rest.startIndex { pieceEnd = rest.index(after: pieceEnd) }  // a character wider than the room left
            lines.append(lead + rest[..<pieceEnd])
            rest = rest[pieceEnd...]
            if atSpaces { rest = rest.drop { $0 == " " } }
            if rest.isEmpty { return lines }
            lead = indent
        }
    }

    /// `segments` joined by two spaces into lines of at most `width` columns, a line broken only
    /// between segments (so "recorded … by clerk-1" stays together), lines after the first
    /// starting with `indent`; a segment too long for any line is folded by ``wrapped(_:width:indent:atSpaces:)``.
    static func packed(_ segments: [String], width: Int = 100, indent: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for segment in segments.map(oneLine) {
            if current.isEmpty {
                current = segment
            } else if columns(current) + 2 + columns(segment) <= width {
                current += "  " + segment
            } else {
                lines += wrapped(current, width: width, indent: indent)
                current = indent + segment
            }
        }
        if !current.isEmpty { lines += wrapped(current, width: width, indent: indent) }
        return lines
    }

    /// The longest start of `text` that fits in `width` columns.
    static func prefix(_ text: String, columns width: Int) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return String(text.utf8.prefix(max(width, 0)))! }
        return String(text[..<prefixEnd(Substring(text), columns: width)])
    }

    /// Where the longest start of `text` that fits in `width` columns ends: only that start is read.
    static func prefixEnd(_ text: Substring, columns width: Int) -> Substring.Index {
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let next = used + columns(of: text[index])
            if next > width { break }
            used = next
            end = text.index(after: index)
        }
        return end
    }

    /// Spaces that pad `text` to `width` columns.
    static func padding(_ text: String, to width: Int) -> String {
        String(repeating: " ", count: max(width - columns(text), 0))
    }

    /// Two columns for East Asian wide and full-width characters and for emoji shown as emoji,
    /// none for a character made only of combining marks or format characters, else one.
    private static func columns(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.value < 0x7F, scalars.count == 1 { return 1 }
        if isWide(first) || scalars.contains(where: { $0.properties.isEmojiPresentation || $0.value == 0xFE0F }) { return 2 }
        let zero = scalars.allSatisfy {
            switch $0.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .format: true
            default: false
            }
        }
        return zero ? 0 : 1
    }

    /// The wide and full-width blocks of Unicode's East Asian Width property.
    private static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
            0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
            0x20000...0x2FFFD, 0x30000...0x3FFFD:
            true
        default: false
        }
    }
}
