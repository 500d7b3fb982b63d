import Foundation

/// The event types a ledger knows, by name and version.
///
/// A ledger validates against the schemas recorded in its own log (`schema-registered` events);
/// the bundled catalog in `events/` is what `kopa init` registers.
public struct EventCatalog: Sendable {
    /// Every type by name, then version.
    public private(set) var types: [String: [Int64: EventType]] = [:]
    /// The newest version of each type, kept up to date by `add` (looked up for every event).
    private var newest: [String: EventType] = [:]

    /// An empty catalog.
    public init() {}

    /// Adds a type, replacing an identical name and version.
    public mutating func add(_ type: EventType) {
        types[type.name, default: [:]][type.version] = type
        if (newest[type.name]?.version ?? 0) <= type.version { newest[type.name] = type }
    }

    /// The newest version of each type, sorted by name.
    public var latestTypes: [EventType] {
        types.keys.sorted().compactMap { latest($0) }
    }

    /// The newest version of a type.
    public func latest(_ name: String) -> EventType? {
        newest[name]
    }

    /// The type for a name (and version, or the newest).
    /// - Throws: ``LedgerError`` for an unknown type, suggesting the nearest name.
    public func resolve(_ name: String, version: Int64? = nil) throws(LedgerError) -> EventType {
        if version == nil, let type = newest[name] { return type }
        guard let versions = types[name] else {
            let hint = Spelling.nearest(to: name, among: types.keys).map { " (did you mean '\($0)'?)" } ?? ""
            throw LedgerError(.invalidInput, "unknown event type '\(name)'\(hint); `kopa catalog` lists the types")
        }
        if let version {
            guard let type = versions[version] else {
                throw LedgerError(.invalidInput, "event type '\(name)' has no version \(version); registered: \(versions.keys.sorted().map(String.init).joined(separator: ", "))")
            }
            return type
        }
        return latest(name)!
    }
}

extension EventCatalog {
    /// Loads `<type>.v<version>.json` files and `defs.json` from a folder, making each schema
    /// self-contained by copying the shared definitions it uses into its own `$defs`.
    /// - Throws: ``LedgerError`` naming the file that is missing, unreadable or invalid.
    public static func load(directory: URL) throws(LedgerError) -> EventCatalog {
        let fm = FileManager.default
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: directory.path) } catch {
            throw LedgerError(.notFound, "event catalog folder '\(directory.path)' cannot be read; expected a folder of <type>.v<version>.json files")
        }
        func read(_ name: String) throws(LedgerError) -> JSONValue {
            let url = directory.appendingPathComponent(name)
            guard let data = fm.contents(atPath: url.path) else {
                throw LedgerError(.notFound, "catalog file '\(url.path)' cannot be read")
            }
            do { return try JSONParser.parse([UInt8](data)) } catch {
                throw LedgerError(.invalidInput, "catalog file '\(url.path)' is not valid JSON: \(error)")
            }
        }
        var definitions: [String: JSONValue] = [:]
        if names.contains("defs.json") {
            definitions = try read("defs.json")["$defs"]?.objectValue ?? [:]
        }
        var catalog = EventCatalog()
        for name in names.sorted() where name.hasSuffix(".json") && name != "defs.json" {
            let stem = name.dropLast(5)
            guard let dot = stem.range(of: ".v", options: .backwards), let version = Int64(stem[dot.upperBound...]), version >= 1 else {
                throw LedgerError(.invalidInput, "catalog file '\(name)' is not named <type>.v<version>.json")
            }
            let typeName = String(stem[..<dot.lowerBound])
            let schema = try selfContained(read(name), definitions: definitions, file: name)
            if let title = schema["title"]?.stringValue, title != typeName {
                throw LedgerError(.invalidInput, "catalog file '\(name)' has title '\(title)' but its name says '\(typeName)'")
            }
            catalog.add(try EventType(name: typeName, version: version, schema: schema, location: "events/\(name)"))
        }
        return catalog
    }

    /// Copies the shared definitions a schema uses into its `$defs` and points its `$ref`s there.
    static func selfContained(_ schema: JSONValue, definitions: [String: JSONValue], file: String) throws(LedgerError) -> JSONValue {
        var used: [String: JSONValue] = [:]
        var pending: [String] = []
        func rewrite(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(var members):
                if let ref = members["$ref"]?.stringValue, ref.hasPrefix("defs.json#/$defs/") {
                    let name = String(ref.dropFirst("defs.json#/$defs/".count))
                    members["$ref"] = .string("#/$defs/" + name)
                    if used[name] == nil, !pending.contains(name) { pending.append(name) }
                }
                return .object(members.mapValues(rewrite))
            case .array(let elements):
                return .array(elements.map(rewrite))
            default:
                return value
            }
        }
        var result = rewrite(schema)
        while let name = pending.popLast() {
            guard let definition = definitions[name] else {
                throw LedgerError(.invalidInput, "catalog file '\(file)' refers to 'defs.json#/$defs/\(name)', which defs.json does not define")
            }
            used[name] = rewrite(definition)
        }
        if !used.isEmpty, case .object(var members) = result {
            var defs = members["$defs"]?.objectValue ?? [:]
            defs.merge(used) { old, _ in old }
            members["$defs"] = .object(defs)
            result = .object(members)
        }
        return result
    }
}
