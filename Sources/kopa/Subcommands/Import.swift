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
            if let note = summary.reusedKeyNote { Console.error("kopa: warning: \(note)") }
        }
    }
}
