import ArgumentParser
import Foundation
import Ledger

/// Options of commands that read projections.
struct ProjectionOptions: ParsableArguments {
    @Option(name: .customLong("projections"), help: ArgumentHelp("A folder of your own projections (*.sql) and reports (reports/*.sql), added to the bundled ones (repeatable).", valueName: "dir"))
    var folders: [String] = []

    func engine(_ ledger: Ledger) throws -> ProjectionEngine {
        for folder in folders where !FileManager.default.fileExists(atPath: folder) {
            throw LedgerError(.notFound, "projection folder '\(folder)' does not exist")
        }
        return try ProjectionEngine(ledger: ledger, extraFolders: folders.map { URL(fileURLWithPath: $0) }, logger: kopaLogger)
    }
}

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
        do { _ = try TimeBound(value) } catch { throw ValidationError("\(option): \(error)") }
    }
}

extension ReportValue {
    var cell: Cell {
        switch self {
        case .null: .null
        case .integer(let n): .integer(n)
        case .real(let d): .text(String(d))
        case .text(let s): .text(s)
        }
    }
}

extension Kopa {
    /// `kopa report NAME`: runs a report.
    struct Report: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a report (`kopa reports` lists them), now or --as-of a valid time / --known-at a transaction time.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var projections: ProjectionOptions
        @OptionGroup var timeOptions: TimeOptions

        @Argument(help: "The report's name, e.g. overview, funding, partners, timeline, councils, audit-trail, change-log.")
        var name: String

        @Option(help: "Only this stream (reports that filter by stream, e.g. audit-trail).")
        var stream: String?

        @Option(name: .customLong("param"), help: ArgumentHelp("A report parameter NAME=VALUE (repeatable).", valueName: "name=value"))
        var parameters: [String] = []

        func run(ledger: Ledger) throws {
            var values: [String: String] = [:]
            for parameter in parameters {
                guard let eq = parameter.firstIndex(of: "=") else { throw ValidationError("--param '\(parameter)' is not NAME=VALUE") }
                values[String(parameter[..<eq])] = String(parameter[parameter.index(after: eq)...])
            }
            if let stream {
                values["stream"] = stream
                if let note = try ledger.unknownStreamNote(stream) { Console.error("kopa: note: \(note)") }
            }
            let engine = try projections.engine(ledger)
            let time = try timeOptions.time()
            var writer: (any RowOutput)?
            try engine.report(name, time: time, parameters: values) { columns in
                writer = standardOutput(format: global.format, columns: columns)
            } row: { row in
                writer!.add(row)
            }
            writer?.finish()
        }
    }
}
