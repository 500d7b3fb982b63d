import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa record TYPE --field value …`: appends one event.
    struct Record: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Append one event; `kopa record TYPE --help` lists the type's fields.",
            discussion: "Example: kopa record meeting-held --meeting ulg-2019-12 --kind local-group-meeting --title \"…\" --project cities4csr --occurred-at 2019-12-05")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The event type, e.g. meeting-held (`kopa catalog` lists them).")
        var type: String

        @Argument(parsing: .captureForPassthrough, help: "Payload fields as --field value, and --occurred-at, --source, --evidence, --evidence-file, --expect-version, --idempotency-key, --data.")
        var fields: [String] = []

        func run() throws {
            try reportingErrors {
                // The ledger is opened once: its catalog both types the options and validates.
                let path = FieldArguments.ledgerOption(in: fields) ?? global.ledgerPath
                let ledger = try? Ledger.open(at: path)
                let catalog = try ledger?.catalog ?? EventCatalog.load(directory: BundledResources.events)
                let type = try catalog.resolve(self.type)
                let arguments = try FieldArguments(fields, type: type)
                if arguments.help {
                    Console.out(typeHelp(type))
                    return
                }
                // System events are written by init, correct and retract: a correction here could
                // only fail (no option sets meta.corrects, and `--data` is taken for the whole payload).
                if let writer = systemWriter(of: type) {
                    throw LedgerError(.invalidInput, "'\(type.name)' events are written by \(writer), not by `kopa record`")
                }
                var options = global
                if let actor = arguments.actor { options.actor = actor }
                if let format = arguments.format { options.format = format }
                guard let ledger else {
                    _ = try Ledger.open(at: path)  // throws the error that says why there is no ledger
                    return
                }
                let base = try arguments.data.map { try FieldArguments.jsonObject($0, option: "--data") } ?? [:]
                let payload = try type.payload(from: arguments.fields, base: base)
                let draft = EventDraft(
                    type: type.name, data: .object(payload), occurredAt: arguments.occurredAt, meta: arguments.meta,
                    expectVersion: arguments.expectVersion, idempotencyKey: arguments.idempotencyKey)
                let summary = try ledger.append([draft], actor: options.actorID)
                guard let record = summary.last else { return }
                try printRecords([record], format: options.format, title: summary.appended == 1 ? "recorded" : "already recorded (idempotency key)")
                if let note = summary.reusedKeyNote { Console.warning(note) }
                if let note = summary.notInForceNote { Console.note(note) }
            }
        }
    }
}
