import ArgumentParser
import Foundation
import Ledger

extension Kopa {
    /// `kopa import FILE|-`: appends many events, all or nothing.
    struct Import: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append events from NDJSON ({\"type\",\"data\",\"occurred_at\",…} per line), all or nothing.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The NDJSON file, or - for standard input.")
        var file: String

        func run(ledger: Ledger) throws {
            let clock = ContinuousClock.now
            // A file's size is known, so its share read so far is the percentage; standard input's is not.
            let size = file == "-" ? nil : (try? FileManager.default.attributesOfItem(atPath: file)[.size]) as? Int64
            let progress = Progress(label: "import", total: nil)
            let summary = try ledger.importNDJSON(path: file, actor: global.actorID) { lines, bytes in
                progress.update(Int64(lines), fraction: size.map { Double(bytes) / Double(max($0, 1)) })
            }
            progress.finish()
            let seconds = (ContinuousClock.now - clock).seconds
            var line = "imported \(counted(summary.appended, "event"))"
            if summary.repeated > 0 { line += " (\(summary.repeated) already recorded under their idempotency keys)" }
            if let first = summary.first, summary.appended > 0 { line += ", seq \(first.seq)–\(summary.head.seq)" }
            line += String(format: " in %.2f s; head %@", seconds, summary.head.hash)
            Console.out(line)
        }
    }
}

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
