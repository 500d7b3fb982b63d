extension StringProtocol {
    /// Whether the text is empty or only blanks (spaces, tabs, line breaks, an ideographic space …):
    /// a required name, title, reason or evidence title of blanks says nothing.
    var isBlank: Bool { !unicodeScalars.contains { !$0.properties.isWhitespace } }
}
