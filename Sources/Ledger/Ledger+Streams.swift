import GRDB

extension Ledger {
    /// Whether any event was recorded in `stream` (one step on the stream index).
    public func hasStream(_ stream: String) throws -> Bool {
        try store.read { db in try Self.exists(stream, in: db) }
    }

    /// The recorded stream nearest in spelling to `stream`, for a "did you mean": among the
    /// streams of its kind (`project/…`) when that kind has streams; else, for a mistyped or
    /// missing kind (`projcet/x`, `x`), the stream of that slug in the nearest kind that has it.
    public func nearestStream(to stream: String) throws -> String? {
        try store.read { db in
            let kinds = try Self.streamKinds(in: db)
            let slash = stream.firstIndex(of: "/")
            let slug = slash.map { String(stream[stream.index(after: $0)...]) } ?? stream
            if let slash {
                let kind = String(stream[...slash])
                if kinds.contains(kind) {
                    return Spelling.nearest(to: stream, among: try Self.streams(from: kind, to: String(kind.dropLast()) + "0", in: db))
                }
                if let near = Spelling.nearest(to: kind, among: kinds), try Self.exists(near + slug, in: db) { return near + slug }
            }
            for kind in kinds where try Self.exists(kind + slug, in: db) { return kind + slug }
            return nil
        }
    }

    /// The kinds of stream recorded (`meeting/`, `project/`, …), one index step per kind.
    static func streamKinds(in db: Database) throws -> [String] {
        let atOrAfter = try db.makeStatement(sql: "SELECT min(stream) FROM events WHERE stream >= ?")
        let after = try db.makeStatement(sql: "SELECT min(stream) FROM events WHERE stream > ?")
        var kinds: [String] = []
        var next = try String.fetchOne(atOrAfter, arguments: [""])
        while let stream = next {
            if let slash = stream.firstIndex(of: "/") {
                let kind = String(stream[...slash])
                kinds.append(kind)
                // Past every "kind/…": '0' follows '/'.
                next = try String.fetchOne(atOrAfter, arguments: [String(kind.dropLast()) + "0"])
            } else {
                next = try String.fetchOne(after, arguments: [stream])
            }
        }
        return kinds
    }

    /// The distinct streams in `[low, high)`, one step on the (stream, stream_version) index per
    /// stream (`SELECT DISTINCT` read one index entry per event).
    static func streams(from low: String, to high: String, in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            WITH RECURSIVE next(stream) AS (
                SELECT min(stream) FROM events WHERE stream >= ?1 AND stream < ?2
                UNION ALL
                SELECT (SELECT min(stream) FROM events WHERE stream > next.stream AND stream < ?2) FROM next WHERE next.stream IS NOT NULL
            )
            SELECT stream FROM next WHERE stream IS NOT NULL
            """, arguments: [low, high])
    }

    static func exists(_ stream: String, in db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM events WHERE stream = ?)", arguments: [stream]) ?? false
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
