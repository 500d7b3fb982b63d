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

        @Argument(parsing: .captureForPassthrough, help: "Payload fields as --field value, and --occurred-at, --source, --evidence, --expect-version, --idempotency-key, --data.")
        var fields: [String] = []

        func run() throws {
            try reportingErrors {
                let catalog = try catalogForHelp()
                let eventType = try catalog.resolve(type)
                let arguments = try FieldArguments(fields, type: eventType)
                if arguments.help {
                    Console.out(typeHelp(eventType, command: "record"))
                    return
                }
                var options = global
                if let ledger = arguments.ledger { options.ledger = ledger }
                if let actor = arguments.actor { options.actor = actor }
                if let format = arguments.format { options.format = format }
                let ledger = try Ledger.open(at: options.ledgerPath)
                let type = try ledger.catalog.resolve(self.type)
                var base: [String: JSONValue] = [:]
                if let data = arguments.data {
                    guard case .object(let object) = try JSONParser.parse(data) else {
                        throw LedgerError(.invalidInput, "--data must be a JSON object, e.g. '{\"project\": \"cities4csr\"}'")
                    }
                    base = object
                }
                let payload = try type.payload(from: arguments.fields, base: base)
                let draft = EventDraft(
                    type: type.name, data: .object(payload), occurredAt: arguments.occurredAt, meta: arguments.meta,
                    expectVersion: arguments.expectVersion, idempotencyKey: arguments.idempotencyKey)
                let summary = try ledger.append([draft], actor: options.actorID)
                guard let record = summary.last else { return }
                try printRecords([record], format: options.format, title: summary.appended == 1 ? "recorded" : "already recorded (idempotency key)")
            }
        }

        /// The ledger's catalog when it exists (help matches what will be validated), else the bundled one.
        func catalogForHelp() throws -> EventCatalog {
            if let ledger = try? Ledger.open(at: global.ledgerPath) { return ledger.catalog }
            return try EventCatalog.load(directory: BundledResources.events)
        }
    }
}
