import Foundation
import Ledger

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Progress on stderr, only when stderr is a terminal: count, rate and percentage if known.
final class Progress {
    let label: String
    let total: Int64?
    let start = ContinuousClock.now
    let enabled = Console.stderrIsTerminal
    var shown = false

    init(label: String, total: Int64?) {
        self.label = label
        self.total = total
    }

    /// Shows `count` events done, the rate, and the percentage: of ``total`` when known, else
    /// `fraction` (import: the share of the file read).
    func update(_ count: Int64, fraction: Double? = nil) {
        guard enabled else { return }
        let elapsed = max((ContinuousClock.now - start).seconds, 0.001)
        var text = "\r\(label): \(count) events, \(Int(Double(count) / elapsed)) events/s"
        if let share = total.flatMap({ $0 > 0 ? Double(count) / Double($0) : nil }) ?? fraction {
            text += String(format: ", %.0f%%", min(share, 1) * 100)
        }
        FileHandle.standardError.write(Data(text.utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
