import ArgumentParser
import Foundation

/// Refuses an option that holds one value when it is given twice (64), for every subcommand.
///
/// ArgumentParser keeps the last of two values of a single-valued option, so
/// `kopa import --ledger s.sqlite --ledger t.sqlite f.ndjson` wrote to `t.sqlite` without a word.
/// Which options hold one value is read from ArgumentParser's own description of the command
/// (`_dumpHelp()`, the JSON `--experimental-dump-help` prints), so a new option or subcommand is
/// covered without a list kept by hand; options that repeat by design (`--param`, `--type`,
/// `--projections`) are arrays there and stay repeatable.
enum SingleValuedOptions {
    /// Throws when `arguments` (the command line after `kopa`, already parsed for `command`)
    /// give one of `command`'s single-valued options twice, naming it and both values.
    static func check(_ command: any ParsableCommand.Type, arguments: [String]) throws {
        let declared = Self.declared(by: command)
        guard !declared.names.isEmpty else { return }
        var given = OptionValues()
        var i = 0
        while i < arguments.count {
            let token = arguments[i]
            // After `--` every word is a value (a file named `--ledger`), except where the command
            // hands the rest of its words to its own parser (`record`, `correct`), which reads
            // `--ledger` there as the option.
            if token == "--", !declared.passesRest { break }
            if let eq = token.firstIndex(of: "="), token.hasPrefix("--"), declared.names.contains(String(token[..<eq])) {
                try given.note(String(token[..<eq]), String(token[token.index(after: eq)...]))
            } else if declared.names.contains(token) {
                // Parsing succeeded, so the word after the option was taken as its value.
                i += 1
                if i < arguments.count { try given.note(token, arguments[i]) }
            }
            i += 1
        }
    }

    /// The spellings (`--ledger`, `-l`) of `command`'s options that hold one value, and whether it
    /// passes its remaining words on unparsed.
    private static func declared(by command: any ParsableCommand.Type) -> (names: Set<String>, passesRest: Bool) {
        guard let dump = try? JSONDecoder().decode(Dump.self, from: Data(command._dumpHelp().utf8)) else { return ([], false) }
        var names: Set<String> = []
        var passesRest = false
        for argument in dump.command.arguments ?? [] {
            if argument.kind == "positional", argument.parsingStrategy == "allRemainingInput" { passesRest = true }
            guard argument.kind == "option", !argument.isRepeating else { continue }
            for name in argument.names ?? [] {
                names.insert((name.kind == "long" ? "--" : "-") + name.name)
            }
        }
        return (names, passesRest)
    }

    /// The part of ArgumentParser's tool description (`ToolInfoV0`) read here.
    private struct Dump: Decodable {
        struct Command: Decodable { var arguments: [Argument]? }
        struct Argument: Decodable {
            struct Name: Decodable { var kind: String; var name: String }
            var kind: String
            var isRepeating: Bool
            var parsingStrategy: String?
            var names: [Name]?
        }
        var command: Command
    }
}

/// The values single-valued options were given so far; the second value of one is refused, since
/// keeping either would be a silent guess. Shared by ``SingleValuedOptions`` and
/// ``FieldArguments`` so that both say it the same way.
struct OptionValues {
    private var values: [String: String] = [:]

    /// Remembers `value` for `option`, or throws (64) if `option` already has a value.
    @discardableResult
    mutating func note(_ option: String, _ value: String) throws -> String {
        if let first = values[option] {
            throw ValidationError("\(option) is given twice, as '\(first)' and '\(value)'; give it once")
        }
        values[option] = value
        return value
    }
}
