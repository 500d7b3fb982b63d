import ArgumentParser
import Foundation
import Ledger

extension Kopa {
    /// `kopa import FILE|-`: appends many events, all or nothing.
    struct Import: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append events from NDJSON ({\"type\",\"data\",\"occurred_at\",…} per line), all or nothing.",
            discussion: "Prints a summary line; with --format json, ndjson, csv or md the summary as one row (file, imported, already_recorded, first_seq, last_seq, head).")

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
            // Whatever the format: the warning is for the person who ran the import.
            if let note = summary.reusedKeyNote { Console.warning(note) }
            if let note = summary.notInForceNote { Console.note(note) }
            let fields: [(column: String, value: Cell)] = [
                ("file", .text(file == "-" ? "stdin" : file)), ("imported", .integer(Int64(summary.appended))),
                ("already_recorded", .integer(Int64(summary.repeated))), ("first_seq", summary.first.map { .integer($0.seq) } ?? .null),
                ("last_seq", summary.first == nil ? .null : .integer(summary.head.seq)), ("head", .text(summary.head.hash)),
            ]
            printSummary(fields, format: global.format) {
                let seconds = (ContinuousClock.now - clock).seconds
                var line = "imported \(counted(summary.appended, "event"))"
                if summary.repeated > 0 { line += " (\(summary.repeated) already recorded under their idempotency keys)" }
                if let first = summary.first, summary.appended > 0 { line += ", seq \(first.seq)–\(summary.head.seq)" }
                return line + String(format: " in %.2f s; head %@", seconds, summary.head.hash)
            }
        }
    }
}
