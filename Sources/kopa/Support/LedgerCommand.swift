import ArgumentParser
import Foundation
import Ledger

/// A subcommand that works on an open ledger: `run()` opens it once, calls `run(ledger:)`, and
/// turns Kopa's errors into one readable line on stderr and the exit code of DESIGN.md.
protocol LedgerCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func run(ledger: Ledger) throws
}

extension LedgerCommand {
    func run() throws {
        try reportingErrors {
            let ledger = try Ledger.open(at: global.ledgerPath)
            try run(ledger: ledger)
        }
    }
}

/// Runs `body`, printing a Kopa error as `kopa: <sentence>` and exiting with its code.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as LedgerError {
        Console.error("kopa: \(error)" + (error.kind == .usage ? " \(Kopa.helpPointer)" : ""))
        throw ExitCode(error.exitCode)
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        // GRDB's errors quote the statement, which may span lines: one line, as every message.
        Console.error("kopa: internal error: \(LedgerError.oneLine("\(error)"))")
        throw ExitCode(70)
    }
}

extension LedgerError {
    /// The exit code DESIGN.md assigns to this kind of failure.
    var exitCode: Int32 {
        switch kind {
        case .integrity: 1
        case .usage: 64
        case .invalidInput, .conflict, .duplicate: 65
        // DESIGN.md has no code of its own for this: like a missing file, the file the command
        // needs (a writable one) is not there, and trying again will not help.
        case .notFound, .readOnly: 66
        case .internalError: 70
        case .busy: 75
        }
    }
}

/// Writing to stdout and stderr.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// `kopa: warning: …` on stderr, one line with its quoted values escaped as an error's are
    /// (an idempotency key or a stream is user text).
    static func warning(_ text: String) { error("kopa: warning: " + LedgerError.oneLine(text)) }

    /// `kopa: note: …` on stderr, escaped as ``warning(_:)``.
    static func note(_ text: String) { error("kopa: note: " + LedgerError.oneLine(text)) }

    /// Whether stderr is a terminal (progress is shown only then).
    static var stderrIsTerminal: Bool { isatty(2) == 1 }
}
