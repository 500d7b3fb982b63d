import ArgumentParser
import Foundation
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
                // Without a ledger, the bundled catalog; a ledger that is there but cannot be read
                // (busy, damaged, not a ledger) is an error, not a reason to show another catalog.
                let catalog: EventCatalog
                do {
                    catalog = try Ledger.open(at: global.ledgerPath).catalog
                } catch let error as LedgerError where error.kind == .notFound && !FileManager.default.fileExists(atPath: global.ledgerPath) {
                    catalog = try EventCatalog.load(directory: BundledResources.events)
                }
                if let type {
                    let eventType: EventType
                    do throws(LedgerError) { eventType = try catalog.resolve(type) } catch {
                        // A type to read about that does not exist is not found (66), as a report
                        // to run is; only a type to record is rejected input (65).
                        var notFound = error
                        notFound.kind = .notFound
                        throw notFound
                    }
                    switch global.format {
                    case .json: Console.out(CanonicalJSON.string(eventType.schema))
                    case .table: Console.out(typeHelp(eventType))
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
