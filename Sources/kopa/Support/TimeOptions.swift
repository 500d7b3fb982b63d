import ArgumentParser
import Foundation
import Ledger

/// `--as-of` and `--known-at`.
struct TimeOptions: ParsableArguments {
    @Option(name: .customLong("as-of"), help: ArgumentHelp("Valid time: only what had happened by then (YYYY-MM-DD = end of that day, UTC, or an RFC 3339 date-time).", valueName: "date"))
    var asOf: String?

    @Option(name: .customLong("known-at"), help: ArgumentHelp("Transaction time: only what had been recorded by then (YYYY-MM-DD or RFC 3339).", valueName: "time"))
    var knownAt: String?

    func time() throws -> ReportTime {
        ReportTime(asOf: try asOf.map { try TimeBound($0) }, knownAt: try knownAt.map { try TimeBound($0) })
    }

    /// A time that does not parse is a bad command line (64), not rejected input: nothing is recorded.
    func validate() throws {
        try validateTimes([("--as-of", asOf), ("--known-at", knownAt)])
    }
}

/// Checks time options before anything runs: one that does not parse is a bad command line (64),
/// named with its option.
func validateTimes(_ options: [(option: String, value: String?)]) throws {
    for (option, value) in options {
        guard let value else { continue }
        do { _ = try TimeBound(value) } catch { throw ValidationError("\(option): \(error.unescapedDescription)") }
    }
}
