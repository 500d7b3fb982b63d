/// Imports read, parse and prepare drafts on a second thread while the transaction's thread
/// commits them (``BatchPipeline``): the same drafts, order and errors as a single thread.
extension BatchPipeline where Item == (PreparedDraft, Int?) {
    /// A pipeline preparing the drafts `source` yields, each with its input line.
    static func drafts(preparer: DraftPreparer, source: @escaping () throws -> (EventDraft, line: Int?)?) -> BatchPipeline {
        BatchPipeline { emit in
            var preparer = preparer
            while let (draft, line) = try source() {
                let prepared: PreparedDraft
                do { prepared = try preparer.prepare(draft) } catch let error as LedgerError {
                    throw error.at(file: nil, line: line)
                }
                try emit((prepared, line))
            }
        }
    }
}
