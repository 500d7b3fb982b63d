import Foundation
import GRDB

/// A Kopa ledger: the hash-chained event log, the catalog recorded in it, and the operations
/// staff, auditors and analysts run on it.
///
/// ```swift
/// let ledger = try Ledger.create(at: "kopa.sqlite", name: "Ķekava", actor: "clerk-1")
/// let summary = try ledger.append([EventDraft(type: "organisation-registered", data: …)], actor: "clerk-1")
/// let report = try ledger.verify()
/// ```
public struct Ledger: Sendable {
    /// The storage.
    public let store: SQLiteEventStore
    /// The catalog recorded in the ledger (`schema-registered` events), which validation uses.
    public let catalog: EventCatalog

    /// The ledger file.
    public var path: String { store.path }

    /// Opens an existing ledger and loads the schemas registered in it.
    /// - Throws: ``LedgerError`` when there is no ledger at `path`.
    public static func open(at path: String) throws -> Ledger {
        let store = try SQLiteEventStore.open(path: path)
        return Ledger(store: store, catalog: try registeredCatalog(store))
    }

    /// Creates a ledger: seq 1 `ledger-created`, then one `schema-registered` per catalog file,
    /// in one transaction. The file is built beside `path` and linked there once complete, so
    /// nothing half-made is ever left under `path`, even when the process is killed.
    /// - Throws: ``LedgerError`` when the file exists or the catalog is invalid.
    public static func create(at path: String, name: String, actor: String, catalog: EventCatalog? = nil) throws -> Ledger {
        try create(at: path, name: name, actor: actor, catalog: catalog) { _ in }
    }

    /// Creates a ledger as ``create(at:name:actor:catalog:)`` does, and lets `fill` append to it
    /// before it is linked into place: the seed ledger appears whole or not at all.
    static func create(at path: String, name: String, actor: String, catalog: EventCatalog? = nil, filling fill: (Ledger) throws -> Void) throws -> Ledger {
        let catalog = try catalog ?? EventCatalog.load(directory: BundledResources.events)
        try validateActor(actor)
        try buildNewFile(at: path, tag: "creating", refusal: "Kopa never overwrites a ledger (choose another --ledger PATH)") { temporary in
            let store = try SQLiteEventStore.create(path: temporary)
            // Closed before the file is linked into place: the last connection checkpoints the log.
            defer { try? store.queue.close() }
            let bootstrap = Ledger(store: store, catalog: catalog)
            var drafts = [EventDraft(type: "ledger-created", data: .object(["name": .string(name)]))]
            for type in catalog.types.keys.sorted() {
                for (version, eventType) in catalog.types[type]!.sorted(by: { $0.key < $1.key }) {
                    drafts.append(EventDraft(
                        type: "schema-registered",
                        data: .object(["event_type": .string(type), "version": .integer(version), "schema": eventType.schema])))
                }
            }
            _ = try bootstrap.append(drafts, actor: actor, allowSystem: true, numbered: false)
            let ledger = try open(at: temporary)
            defer { try? ledger.store.queue.close() }
            try fill(ledger)
        }
        return try open(at: path)
    }

    static func registeredCatalog(_ store: SQLiteEventStore) throws -> EventCatalog {
        var catalog = EventCatalog()
        var filter = EventFilter()
        filter.streamPrefix = "schema/"
        filter.types = ["schema-registered"]
        var failure: (any Error)?
        var registeredAt: [String: Int64] = [:]
        try store.scan(filter) { record in
            let data = record.data
            guard let name = data["event_type"]?.stringValue, let version = data["version"]?.integerValue, let schema = data["schema"] else {
                failure = LedgerError(.integrity, "schema-registered event has no event_type, version or schema", seq: record.seq)
                return false
            }
            // `kopa init` registers each version once; a second schema would silently replace
            // the one earlier events were validated against.
            if let first = registeredAt.updateValue(record.seq, forKey: "\(name) \(version)") {
                failure = LedgerError(.integrity, "the schema of '\(name)' version \(version) is registered again at seq \(record.seq) (first at seq \(first)); each version of a type is registered once", seq: record.seq)
                return false
            }
            do {
                catalog.add(try EventType(name: name, version: version, schema: schema, location: "registered at seq \(record.seq)"))
            } catch var error as LedgerError {
                // Some schema errors (a pattern that does not compile) know nothing of the event.
                if !error.message.contains("at seq \(record.seq)") { error.message = "the schema registered at seq \(record.seq): " + error.message }
                error.seq = error.seq ?? record.seq
                failure = error
                return false
            } catch {
                failure = error
                return false
            }
            return true
        }
        if let failure { throw failure }
        guard catalog.latest("ledger-created") != nil else {
            throw LedgerError(.integrity, "ledger '\(store.path)' has no registered schemas; was it created by `kopa init`?")
        }
        return catalog
    }

    /// Checks an actor identifier: a staff identifier, never a full name.
    /// - Throws: ``LedgerError`` naming the value and the accepted form.
    public static func validateActor(_ actor: String) throws {
        if !isActor(actor.utf8) {
            throw LedgerError(.invalidInput, "actor '\(actor)' is not a staff identifier; expected 1–64 ASCII letters, digits, '.', '_' or '-' (e.g. 'kekava-clerk-1'), not a name or e-mail address")
        }
    }

    /// Whether `bytes` are a staff identifier: 1–64 ASCII letters, digits, '.', '_' or '-'.
    static func isActor<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        !bytes.isEmpty && bytes.count <= 64
            && bytes.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
            }
    }

    /// The current chain head.
    public func head() throws -> ChainHead { try store.head() }

    /// Calls `each` for every event matching `filter`, in seq order, until it returns false.
    public func scan(_ filter: EventFilter = EventFilter(), _ each: (EventRecord) throws -> Bool) throws {
        try store.scan(filter, each)
    }

    /// The events matching `filter`, in seq order.
    public func events(_ filter: EventFilter = EventFilter()) throws -> [EventRecord] {
        var result: [EventRecord] = []
        try store.scan(filter) { result.append($0); return true }
        return result
    }

    /// The event appended under an idempotency key, or nil when the key was never used.
    public func event(idempotencyKey key: String) throws -> EventRecord? {
        try store.event(idempotencyKey: key)
    }

    /// The event with this seq (digits) or id (UUID).
    /// - Throws: ``LedgerError/Kind/notFound`` when there is none.
    public func event(_ reference: String) throws -> EventRecord {
        if let seq = Int64(reference) {
            guard let record = try store.event(seq: seq) else {
                throw LedgerError(.notFound, "no event with seq \(seq) (the log has \(try head().seq) events)")
            }
            return record
        }
        guard let record = try store.event(id: reference.lowercased()) else {
            throw LedgerError(.notFound, "no event with id '\(reference)'; expected a seq number or an event id (UUID)")
        }
        return record
    }
}
