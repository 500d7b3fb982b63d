/// "1 event", "2 events": a count with its noun, for the summaries people read.
func counted(_ count: some BinaryInteger, _ singular: String, plural: String? = nil) -> String {
    "\(count) " + (count == 1 ? singular : plural ?? singular + "s")
}
