import ArgumentParser
import Ledger

/// Filters shared by `log` and `history`-like reads.
struct LogFilter: ParsableArguments {
    @Option(help: "Only this stream, e.g. project/cities4csr.")
    var stream: String?

    @Option(help: "Only this event type (repeatable).")
    var type: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("From this seq (inclusive): a whole number.", valueName: "seq"))
    var from: Int64?

    @Option(parsing: .unconditional, help: ArgumentHelp("Up to this seq (inclusive): a whole number.", valueName: "seq"))
    var to: Int64?

    @Option(help: "Recorded at or after this time (YYYY-MM-DD or date-time, UTC).")
    var since: String?

    @Option(help: "Recorded at or before this time (YYYY-MM-DD means the end of that day, UTC).")
    var until: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many events.", valueName: "n"))
    var limit: Int?

    /// A time that does not parse is a bad command line (64), as for --as-of and --known-at; so
    /// is a seq below 1 (`--from -5` listed everything, `--to -5` nothing).
    func validate() throws {
        try validateTimes([("--since", since), ("--until", until)])
        for (option, seq) in [("--from", from), ("--to", to)] {
            if let seq, seq < 1 { throw ValidationError("\(option) '\(seq)' is not a seq; expected a whole number 1 or more") }
        }
        if let limit, limit < 1 { throw ValidationError("--limit '\(limit)' must be a positive number") }
    }

    func eventFilter() throws -> EventFilter {
        var filter = EventFilter()
        filter.stream = stream
        filter.types = type
        filter.fromSeq = from
        filter.toSeq = to
        if let since { filter.recordedFrom = try TimeBound(since).start }
        if let until { filter.recordedUntil = try TimeBound(until).end }
        filter.limit = limit
        return filter
    }
}
