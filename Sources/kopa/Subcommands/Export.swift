import ArgumentParser
import Foundation
import Ledger

extension Kopa {
    /// `kopa export [--out FILE] [--until SEQ]`: the ledger as an LZ4 archive.
    struct Export: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the ledger as an archive: an LZ4 frame of its NDJSON records with their hashes.",
            discussion: """
                The archive is read by the stock lz4 tool (`lz4 -dc ledger.kopa | python3 verify_chain.py`), checked \
                without a ledger by `kopa verify FILE`, and rebuilt into an identical ledger by `kopa restore FILE`. \
                Without --out the archive goes to standard output, which must not be a terminal.
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The archive file (an existing archive is replaced atomically).", valueName: "file"))
        var out: String?

        @Option(parsing: .unconditional, help: ArgumentHelp("Export seq 1 … SEQ only (the log as it stood then).", valueName: "seq"))
        var until: Int64?

        func validate() throws {
            if out == nil || out == "-", isatty(1) == 1 {
                throw ValidationError("refusing to write a binary archive to the terminal; give --out FILE (e.g. --out ledger.kopa) or redirect standard output")
            }
            if let until, until < 1 { throw ValidationError("--until \(until) is not a seq; expected 1 or more") }
            // An archive has one format; `--format ndjson` must not seem to write NDJSON text.
            if global.format != .table {
                throw ValidationError("--format \(global.format.rawValue) does not apply to export, which writes an LZ4 archive of the NDJSON records; for the records as text, use `kopa log --format ndjson`")
            }
        }

        func run(ledger: Ledger) throws {
            let clock = ContinuousClock.now
            let progress = Progress(label: "export", total: try until ?? ledger.head().seq)
            let summary: ArchiveSummary
            // `--out -` is standard output, as for the stock lz4 tool.
            let out = self.out == "-" ? nil : self.out
            if let out {
                summary = try ledger.export(toFile: out, until: until) { progress.update($0) }
            } else {
                summary = try ledger.export(to: 1, name: "standard output", until: until) { progress.update($0) }
            }
            progress.finish()
            let seconds = (ContinuousClock.now - clock).seconds
            let line = "exported \(counted(summary.chain.count, "event")) (seq 1–\(summary.chain.count)) to \(out.map { "'\($0)'" } ?? "standard output"): "
                + archiveSizes(summary) + String(format: " in %.2f s; head %@", seconds, summary.chain.head)
            // With the archive on standard output, the summary goes to stderr.
            if out == nil { Console.error(line) } else { Console.out(line) }
        }
    }
}
