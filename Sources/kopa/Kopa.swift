import ArgumentParser
import Foundation
import Ledger
import Logging

/// The `kopa` command: an event-sourced participation ledger for public participation and money.
@main
struct Kopa: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kopa",
        abstract: "An event-sourced, hash-chained ledger of participation projects and public money.",
        discussion: """
            Every change is an event appended to an immutable, hash-chained log; reports are projections \
            rebuilt from it. Global options (--ledger, --actor, --format) go after the subcommand's name.
            Exit codes: 0 ok, 1 integrity failure, 64 bad command line, 65 input rejected (nothing written), \
            66 file or ledger not found (or not writable where a write is needed), 70 internal error, 75 ledger busy.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Record.self, Import.self, Correct.self, Retract.self, Log.self, Show.self, Verify.self,
            Catalog.self, Report.self, Reports.self, State.self, History.self, Rebuild.self, Demo.self,
            Export.self, Restore.self,
        ]
    )

    /// Bootstraps logging once (stderr, level from `KOPA_LOG`, default warnings only), then runs.
    static func main() {
        let level = ProcessInfo.processInfo.environment["KOPA_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        kopaLogger.debug(
            SQLiteSetup.applied
                ? "SQLite set up: multi-thread mode, no memory statistics"
                : "SQLite keeps its defaults: it was initialised before Kopa could set it up")
        if let problem = invalidUTF8Argument() {
            Console.error("kopa: \(problem)")
            Foundation.exit(65)
        }
        do {
            var command = try parseAsRoot()
            try SingleValuedOptions.check(type(of: command), arguments: Array(CommandLine.arguments.dropFirst()))
            try command.run()
        } catch {
            fail(error)
        }
    }

    /// Ends the process for `error`. Help and version print as ArgumentParser prints them; a bad
    /// command line prints as every Kopa error does: one line on stderr (ArgumentParser's own
    /// message took up to four, and printed a quoted value's control characters raw), saying where
    /// the help is, with exit 64.
    static func fail(_ error: any Error) -> Never {
        let code = exitCode(for: error)
        guard code != .success, !(error is ExitCode) else { exit(withError: error) }
        // Escaped here, once: a Kopa error's own description is escaped already.
        let text = unknownCommand() ?? (error as? LedgerError)?.unescapedDescription ?? message(for: error)
        Console.error("kopa: \(LedgerError.oneLine(text)) \(helpPointer)")
        Foundation.exit(code.rawValue)
    }

    /// For a first argument that names no command, what ArgumentParser calls an "Unexpected
    /// argument": the nearest command and the list of them.
    static func unknownCommand() -> String? {
        let names = configuration.subcommands.map { $0._commandName }
        guard let first = CommandLine.arguments.dropFirst().first, !first.hasPrefix("-"), !names.contains(first), first != "help" else { return nil }
        let hint = Spelling.nearest(to: first, among: names).map { " (did you mean '\($0)'?)" } ?? ""
        return "unknown command '\(first)'\(hint); the commands are \(names.joined(separator: ", "))"
    }

    /// Where the help of the command being run is: `(see 'kopa log --help')`, ending every error
    /// about the command line.
    static var helpPointer: String {
        let called = CommandLine.arguments.dropFirst().first
        let subcommand = configuration.subcommands.first { $0._commandName == called }.map { " \($0._commandName)" } ?? ""
        return "(see 'kopa\(subcommand) --help')"
    }

    /// Names the first argument that is not valid UTF-8. Swift reads the command line with every
    /// bad byte replaced by U+FFFD, so a value typed in another encoding would be stored changed
    /// (an import line with the same bytes is rejected).
    static func invalidUTF8Argument() -> String? {
        for i in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[i], String(validatingCString: raw) == nil else { continue }
            let shown = LedgerError.oneLine(String(decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)), as: UTF8.self))
            let after = i > 1 ? CommandLine.unsafeArgv[i - 1].map { " (after '\(LedgerError.oneLine(String(cString: $0)))')" } ?? "" : ""
            return "argument \(i)\(after) is '\(shown)', which is not valid UTF-8; give text in UTF-8"
        }
        return nil
    }
}

/// The logger commands hand to the library.
let kopaLogger = Logger(label: "kopa")
