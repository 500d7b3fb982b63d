import Foundation
import Ledger

/// "312.4 MB of NDJSON in 130.2 MB (ratio 2.40)".
func archiveSizes(_ summary: ArchiveSummary) -> String {
    String(format: "%.1f MB of NDJSON in %.1f MB (ratio %.2f)",
           Double(summary.uncompressedBytes) / 1e6, Double(summary.compressedBytes) / 1e6, summary.ratio)
}
