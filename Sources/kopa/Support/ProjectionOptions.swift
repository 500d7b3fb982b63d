import ArgumentParser
import Foundation
import Ledger

/// Options of commands that read projections.
struct ProjectionOptions: ParsableArguments {
    @Option(name: .customLong("projections"), help: ArgumentHelp("A folder of your own projections (*.sql) and reports (reports/*.sql), added to the bundled ones (repeatable).", valueName: "dir"))
    var folders: [String] = []

    func engine(_ ledger: Ledger) throws -> ProjectionEngine {
        for folder in folders where !FileManager.default.fileExists(atPath: folder) {
            throw LedgerError(.notFound, "projection folder '\(folder)' does not exist")
        }
        return try ProjectionEngine(ledger: ledger, extraFolders: folders.map { URL(fileURLWithPath: $0) }, logger: kopaLogger)
    }
}
