import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa catalog [TYPE]`: the event types and their fields.
    struct Catalog: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the event types (of the ledger if it exists, else the bundled catalog), or one type's fields.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "An event type to describe.")
        var type: String?

        func run() throws {
            try reportingErrors {
                let catalog: EventCatalog
                if let ledger = try? Ledger.open(at: global.ledgerPath) {
                    catalog = ledger.catalog
                } else {
                    catalog = try EventCatalog.load(directory: BundledResources.events)
                }
                if let type {
                    let eventType = try catalog.resolve(type)
                    switch global.format {
                    case .json: Console.out(CanonicalJSON.string(eventType.schema))
                    case .table: Console.out(typeHelp(eventType, command: "record"))
                    case .csv, .ndjson, .md:
                        // The fields as rows, for a script or a document.
                        let rows: [[Cell]] = eventType.fields.map { field in
                            [.text(field.name), .text(field.node.kindName), .text(field.required ? "yes" : "no"),
                             .text(field.node.reference ?? ""), .text(field.node.summary ?? ""), .text(field.node.expectation)]
                        }
                        TableFormatter(columns: ["field", "type", "required", "refers_to", "description", "expected"], rows: rows).print(global.format)
                    }
                    return
                }
                let rows: [[Cell]] = catalog.latestTypes.map {
                    [.text($0.name), .integer($0.version), .text($0.streamTemplate ?? "(target's stream)"),
                     .text($0.root.required.sorted().joined(separator: ", ")), .text($0.summary)]
                }
                TableFormatter(columns: ["type", "version", "stream", "required", "description"], rows: rows).print(global.format)
            }
        }
    }
}
