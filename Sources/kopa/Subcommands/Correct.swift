import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa correct ID --field value … --reason TEXT`: a correction event.
    struct Correct: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correct an event: --field value changes fields and keeps the rest, --data JSON replaces the payload, --occurred-at moves it; --reason is required.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The event's id or seq.")
        var event: String

        @Argument(parsing: .captureForPassthrough, help: "--field value …, --remove FIELD, --data JSON, --occurred-at WHEN, --reason TEXT, and as for record: --source TEXT, --evidence TEXT|JSON, --evidence-file PATH, --expect-version N, --idempotency-key K.")
        var fields: [String] = []

        func run() throws {
            try reportingErrors {
                var options = global
                if let ledger = FieldArguments.ledgerOption(in: fields) { options.ledger = ledger }
                let ledger = try Ledger.open(at: options.ledgerPath)
                let target = try ledger.effectiveEvent(try ledger.event(referredToBy: event, toBe: "corrected")).original
                let type = try ledger.catalog.resolve(target.type, version: target.version)
                let arguments = try FieldArguments(fields, type: type, correcting: true)
                if arguments.help {
                    Console.out(typeHelp(type, correcting: event))
                    return
                }
                if let actor = arguments.actor { options.actor = actor }
                if let format = arguments.format { options.format = format }
                // A repeated correction finds nothing left to change; its key says it was made already.
                if let key = arguments.idempotencyKey, !key.isEmpty, let first = try ledger.event(idempotencyKey: key) {
                    try printRecords([first], format: options.format, title: "already recorded (idempotency key)")
                    // What this command asks, to say whether the first correction said the same; a
                    // value that cannot be read is quoted instead, as the note's reason.
                    var asked: [String: JSONValue] = [:]
                    var replace: [String: JSONValue]?
                    var unreadable: String?
                    do {
                        replace = try arguments.data.map { try FieldArguments.jsonObject($0, option: "--data") }
                        asked = try type.payload(from: arguments.fields)
                    } catch let error as LedgerError {
                        unreadable = error.message
                    }
                    if let note = try ledger.reusedKeyNote(
                        key, existing: first, correcting: target, set: asked, remove: arguments.remove,
                        replaceData: replace, occurredAt: arguments.occurredAt, unreadable: unreadable)
                    {
                        Console.warning(note)
                    }
                    if let note = try ledger.retractionNote(forRepeatOf: first) { Console.note(note) }
                    return
                }
                let changes = try type.payload(from: arguments.fields)
                let replace = try arguments.data.map { JSONValue.object(try FieldArguments.jsonObject($0, option: "--data")) }
                var draft = try ledger.correctionDraft(
                    of: event, set: changes, remove: arguments.remove, replaceData: replace,
                    occurredAt: arguments.occurredAt, reason: arguments.reason, source: arguments.source)
                // The options every append takes mean the same here as for `kopa record`: the
                // version is the target stream's, the key makes a repeated correction a no-op.
                draft.expectVersion = arguments.expectVersion
                draft.idempotencyKey = arguments.idempotencyKey
                draft.meta.merge(arguments.meta) { current, _ in current }
                let summary = try ledger.append([draft], actor: options.actorID)
                if let record = summary.last { try printRecords([record], format: options.format, title: "corrected seq \(target.seq)") }
            }
        }
    }
}
