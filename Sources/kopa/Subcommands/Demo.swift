import ArgumentParser
import Foundation
import Ledger

extension Kopa {
    /// `kopa demo`: the seed ledger, verified, and its overview.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the seed ledger (Ķekava's URBACT projects) in a temporary place, verify it and print the overview.")

        // Not GlobalOptions: here --ledger names a new file (default a temporary folder, not
        // ./kopa.sqlite), and the seed events are recorded by the fixed actor `kopa-seed`.
        @Option(name: .long, help: ArgumentHelp("Build the seed ledger here instead of a temporary folder (must not exist).", valueName: "path"))
        var ledger: String?

        @Option(help: "Output format for the overview: table, json, ndjson, csv, md (json, ndjson and csv: the overview alone on stdout, the rest on stderr).")
        var format: OutputFormat = .table

        func run() throws {
            try reportingErrors {
                let path: String
                if let ledger {
                    path = ledger
                } else {
                    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kopa-demo-\(UUID().uuidString.prefix(8).lowercased())")
                    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                    path = folder.appendingPathComponent("kopa.sqlite").path
                }
                let (ledger, count) = try Seeds.build(at: path)
                let report = try ledger.verify()
                // In a machine format stdout holds the overview alone, so that it parses; the
                // rest is for people, on stderr.
                let machine = [.json, .ndjson, .csv].contains(format)
                let say = machine ? Console.error : Console.out
                say("Seed ledger: \(count) events from the seed documents, \(report.count) in all with the catalog; verified, head \(report.head)")
                say("")
                if machine {
                    let overview = try ProjectionEngine(ledger: ledger).report("overview")
                    TableFormatter(columns: overview.columns, rows: overview.rows.map { $0.map(\.cell) }).print(format)
                } else {
                    try printOverview(ledger, format: format)
                }
                say("")
                // The binary as it was called, so the hints work without kopa on the PATH.
                let called = CommandLine.arguments.first ?? "kopa"
                let kopa = called.contains("/") ? URL(fileURLWithPath: called).standardizedFileURL.path : called
                say("The ledger is at \(path). Try:")
                say("  \(kopa) report funding --ledger \(path)")
                say("  \(kopa) history project/cities4csr --ledger \(path)")
                say("  \(kopa) verify --ledger \(path)")
                say("  \(kopa) log --ledger \(path) --format ndjson | python3 \(BundledResources.root.path)/scripts/verify_chain.py")
            }
        }
    }
}
