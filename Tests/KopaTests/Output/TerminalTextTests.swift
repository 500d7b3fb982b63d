import Testing

@testable import kopa

@Suite("terminal text")
struct TerminalTextTests {
    /// A long value is folded whole into lines of at most the width: at spaces, the pieces and the
    /// spaces between them give the text back; exactly at the width, the pieces put together do.
    @Test(arguments: [true, false])
    func aLongValueFoldsWholeIntoLinesOfTheWidth(atSpaces: Bool) {
        let words = (0..<40_000).map { i in String(repeating: "ā", count: i % 13 + 1) + (i % 997 == 0 ? "界" : "") }
        let text = words.joined(separator: " ")
        let lines = TerminalText.wrapped(text, width: 100, indent: "  ", atSpaces: atSpaces)
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { TerminalText.columns($0) <= 100 })
        let pieces = lines.enumerated().map { $0.offset == 0 ? Substring($0.element) : $0.element.dropFirst(2) }
        #expect(pieces.joined(separator: atSpaces ? " " : "") == text)
    }
}
