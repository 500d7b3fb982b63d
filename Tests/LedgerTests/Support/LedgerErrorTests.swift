import Testing

@testable import Ledger

/// How an error reads on its one line.
@Suite("ledger errors")
struct LedgerErrorTests {
    /// A value's control characters are escapes and its backslashes are doubled, so two values
    /// that differ never print alike (a backslash and an `n` printed as `\n`, as a line break did).
    @Test(arguments: [
        ("kekava\n", #"kekava\n"#),
        (#"kekava\n"#, #"kekava\\n"#),
        ("a\\", #"a\\"#),
        ("tab\there", #"tab\there"#),
        ("esc\u{1B}[31m", #"esc\u001b[31m"#),
        (#"C:\new"# + "\n", #"C:\\new\n"#),
        ("Ķekava", "Ķekava"),
        // Bidirectional controls would reorder what follows them on the reader's screen.
        ("12 \u{202E}05", #"12 \u202e05"#),
        ("a\u{2066}b\u{2069}c\u{200F}d\u{061C}", #"a\u2066b\u2069c\u200fd\u061c"#),
        ("עברית ومرحبا", "עברית ومرحبا"),
        // What cannot be seen, or told from a space, would make a refused value read as a good one.
        ("12.50\u{00A0}EUR", #"12.50\u00a0EUR"#),
        ("a\u{200B}b\u{FEFF}c\u{00AD}d\u{3000}e", #"a\u200bb\ufeffc\u00add\u3000e"#),
    ])
    func oneLineEscapesControlCharactersAndBackslashes(text: String, shown: String) {
        #expect(LedgerError.oneLine(text) == shown)
    }

    @Test func valuesThatDifferPrintDifferently() {
        let values = ["kekava\n", #"kekava\n"#, #"kekava\\n"#, "kekava\\\n", #"kekava\u000a"#, "kekava\u{0A}"]
        let shown = Set(values.map(LedgerError.oneLine))
        #expect(shown.count == Set(values).count, "\(shown)")
    }

    /// The description is escaped once; a message that quotes the error takes the unescaped form
    /// and is escaped once, whole (escaping twice doubled the backslashes of the escapes).
    @Test func theDescriptionIsEscapedOnce() {
        let error = LedgerError(.invalidInput, "field 'kind' is 'a\\b\nc'", file: "in.ndjson", line: 3)
        #expect(error.unescapedDescription == "in.ndjson:3: field 'kind' is 'a\\b\nc'")
        #expect(error.description == #"in.ndjson:3: field 'kind' is 'a\\b\nc'"#)
        #expect(LedgerError.oneLine("--as-of: " + error.unescapedDescription) == "--as-of: " + error.description)
    }
}
