import ArgumentParser
import Foundation
import Ledger

/// Output formats for data.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json, ndjson, csv, md
}

/// Options every ledger command takes, after the subcommand's name.
struct GlobalOptions: ParsableArguments {
    /// The ledger file.
    @Option(name: .long, help: ArgumentHelp("The ledger file (env KOPA_LEDGER, default ./kopa.sqlite).", valueName: "path"))
    var ledger: String?

    /// Who records: a staff identifier, not a name.
    @Option(name: .long, help: ArgumentHelp("Staff identifier recorded as recorded_by (env KOPA_ACTOR, default the login name).", valueName: "id"))
    var actor: String?

    /// How data is printed.
    @Option(name: .long, help: "Output format for data: table, json, ndjson, csv, md.")
    var format: OutputFormat = .table

    /// The ledger path after the environment and default are applied.
    var ledgerPath: String {
        ledger ?? ProcessInfo.processInfo.environment["KOPA_LEDGER"].flatMap { $0.isEmpty ? nil : $0 } ?? "kopa.sqlite"
    }

    /// The actor after the environment and login name are applied.
    var actorID: String {
        if let actor { return actor }
        let env = ProcessInfo.processInfo.environment
        for key in ["KOPA_ACTOR", "USER", "LOGNAME"] {
            if let value = env[key], !value.isEmpty { return value }
        }
        // A service or container may set neither variable; the account is still known.
        if let account = getpwuid(geteuid()), let name = account.pointee.pw_name, name.pointee != 0 {
            return String(cString: name)
        }
        return "unknown"
    }

    func validate() throws {
        if ledger?.isEmpty == true {
            throw ValidationError("--ledger '' is empty; expected the path of the ledger file, e.g. --ledger kopa.sqlite")
        }
    }
}
