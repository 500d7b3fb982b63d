extension StringProtocol {
    /// Whether the text is empty or only blanks: spaces, tabs, line breaks, an ideographic space,
    /// and what shows nothing at all (a zero-width space, a bidirectional control, a NUL …). A
    /// required name, title, reason or evidence title of blanks says nothing.
    var isBlank: Bool {
        !unicodeScalars.contains { scalar in
            let p = scalar.properties
            return !(p.isWhitespace || p.isDefaultIgnorableCodePoint || p.generalCategory == .control || p.generalCategory == .format)
        }
    }
}
