import ArgumentParser
import Foundation
import Ledger

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
                if let note = try ledger.unknownStreamNote(stream) { Console.note(note) }
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
