import GRDB

extension Ledger {
    /// Whether any event was recorded in `stream` (one step on the stream index).
    public func hasStream(_ stream: String) throws -> Bool {
        try store.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE stream = ?)", arguments: [stream]) ?? false
        }
    }

    /// The recorded stream nearest in spelling to `stream`, for a "did you mean": among the
    /// streams of the same kind (`project/…`) when it names a kind that has streams, else among
    /// all of them. Only an error path asks, so reading the stream names is affordable.
    public func nearestStream(to stream: String) throws -> String? {
        let kind = stream.firstIndex(of: "/").map { String(stream[...$0]) } ?? ""
        let names = try store.read { db in
            // A range on the (stream, stream_version) index: "project/" up to "project0".
            var names = kind.isEmpty ? [] : try String.fetchAll(db, sql: "SELECT DISTINCT stream FROM events WHERE stream >= ? AND stream < ?", arguments: [kind, String(kind.dropLast()) + "0"])
            if names.isEmpty { names = try String.fetchAll(db, sql: "SELECT DISTINCT stream FROM events") }
            return names
        }
        return Spelling.nearest(to: stream, among: names)
    }

    /// " (did you mean 'project/cities4csr'?)" for a stream with no events, or nothing.
    public func streamHint(_ stream: String) throws -> String {
        try nearestStream(to: stream).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// A note for a filter by a stream in which nothing was ever recorded (a typo, most likely),
    /// or nil: a report or listing of it is empty, which an auditor could take for an answer.
    public func unknownStreamNote(_ stream: String) throws -> String? {
        try hasStream(stream) ? nil : "no event was ever recorded in stream '\(stream)'\(try streamHint(stream)), so nothing is shown for it"
    }
}
