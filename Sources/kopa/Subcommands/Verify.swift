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
                    let sizes: [(column: String, value: Cell)] = [("ndjson_bytes", .integer(summary.uncompressedBytes)), ("archive_bytes", .integer(summary.compressedBytes))]
                    printSummary(Self.fields(archive, report) + sizes, format: global.format) {
                        "ok: archive '\(archive)': \(counted(report.count, "event")) verified, recorded \(report.firstRecordedAt) – \(report.lastRecordedAt), head \(report.head); " + archiveSizes(summary)
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
            printSummary(Self.fields(ledger.path, report), format: global.format) {
                "ok: \(counted(report.count, "event")) verified, recorded \(report.firstRecordedAt) – \(report.lastRecordedAt), head \(report.head)"
            }
        }

        /// A verified ledger or archive as a summary row (a failure exits 1 before this).
        static func fields(_ verified: String, _ report: VerifyReport) -> [(column: String, value: Cell)] {
            [("verified", .text(verified)), ("events", .integer(report.count)), ("first_recorded_at", .text(report.firstRecordedAt)),
             ("last_recorded_at", .text(report.lastRecordedAt)), ("head", .text(report.head))]
        }
    }
}
