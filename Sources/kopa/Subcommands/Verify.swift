import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa verify [ARCHIVE]`: recomputes every hash and link, of the ledger or of an archive.
    struct Verify: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash and link of the ledger, or of an archive without a ledger; exit 1 and name the first broken seq on failure.",
            discussion: """
                With ARCHIVE, checks the file made by `kopa export` without opening any ledger: the LZ4 frame and \
                its checksums, every record, hash and link. --expect-head and --expect-count fail when the log does \
                not end where you were told it ends, which is how a removed tail is caught.
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "An archive to check instead of the ledger.")
        var archive: String?

        @OptionGroup var expected: ExpectedEndOptions

        func run() throws {
            try reportingErrors {
                if let archive {
                    let progress = Progress(label: "verify", total: expected.count)
                    let summary = try Ledger.verifyArchive(path: archive, expectHead: expected.head, expectCount: expected.count) { progress.update($0) }
                    progress.finish()
                    let report = summary.chain
                    if global.format == .table {
                        Console.out("ok: archive '\(archive)': \(counted(report.count, "event")) verified, recorded \(report.firstRecordedAt) – \(report.lastRecordedAt), head \(report.head); " + archiveSizes(summary))
                    } else {
                        Self.printResult(archive, report, format: global.format, sizes: summary)
                    }
                } else {
                    try run(ledger: try Ledger.open(at: global.ledgerPath))
                }
            }
        }

        func run(ledger: Ledger) throws {
            let progress = Progress(label: "verify", total: try ledger.head().seq)
            let report = try ledger.verify(expectHead: expected.head, expectCount: expected.count) { progress.update($0) }
            progress.finish()
            if global.format == .table {
                Console.out("ok: \(counted(report.count, "event")) verified, recorded \(report.firstRecordedAt) – \(report.lastRecordedAt), head \(report.head)")
            } else {
                Self.printResult(ledger.path, report, format: global.format)
            }
        }

        /// A verified ledger or archive as one row, for scripts (a failure exits 1 before this).
        static func printResult(_ verified: String, _ report: VerifyReport, format: OutputFormat, sizes: ArchiveSummary? = nil) {
            var columns = ["verified", "events", "first_recorded_at", "last_recorded_at", "head"]
            var row: [Cell] = [.text(verified), .integer(report.count), .text(report.firstRecordedAt), .text(report.lastRecordedAt), .text(report.head)]
            if let sizes {
                columns += ["ndjson_bytes", "archive_bytes"]
                row += [.integer(sizes.uncompressedBytes), .integer(sizes.compressedBytes)]
            }
            TableFormatter(columns: columns, rows: [row]).print(format)
        }
    }
}
