extension SchemaNode {
    /// Compiles a schema of the Kopa subset.
    /// - Parameters:
    ///   - json: the schema.
    ///   - definitions: shared definitions by name (`defs.json`'s `$defs`, or the schema's own).
    ///   - location: where the schema came from, for errors (a file name or `seq 12`).
    /// - Throws: ``LedgerError`` naming the file, the path inside it and the unsupported keyword.
    public static func compile(_ json: JSONValue, definitions: [String: JSONValue], location: String) throws(LedgerError) -> SchemaNode {
        var own = definitions
        if let local = json["$defs"]?.objectValue {
            own.merge(local) { _, new in new }
        }
        return try compile(json, definitions: own, location: location, path: "", definition: nil, depth: 0)
    }

    private static func compile(
        _ json: JSONValue, definitions: [String: JSONValue], location: String, path: String, definition: String?, depth: Int
    ) throws(LedgerError) -> SchemaNode {
        func fail(_ why: String) -> LedgerError {
            LedgerError(.invalidInput, "schema \(location)\(path.isEmpty ? "" : " at '\(path)'"): \(why)")
        }
        guard depth < 32 else { throw fail("$ref nesting is deeper than 32") }
        guard case .object(var members) = json else { throw fail("a schema must be an object") }
        var definition = definition
        if let ref = members.removeValue(forKey: "$ref") {
            guard let text = ref.stringValue else { throw fail("$ref must be a string") }
            let name: Substring
            if text.hasPrefix("defs.json#/$defs/") {
                name = text.dropFirst("defs.json#/$defs/".count)
            } else if text.hasPrefix("#/$defs/") {
                name = text.dropFirst("#/$defs/".count)
            } else {
                throw fail("$ref '\(text)' is not supported; expected 'defs.json#/$defs/NAME' or '#/$defs/NAME'")
            }
            guard case .object(let target)? = definitions[String(name)] else {
                throw fail("$ref '\(text)' names no shared definition; known: \(definitions.keys.sorted().joined(separator: ", "))")
            }
            let merged = target.merging(members) { _, sibling in sibling }
            return try compile(.object(merged), definitions: definitions, location: location, path: path, definition: definition ?? String(name), depth: depth + 1)
        }
        for key in members.keys where !keywords.contains(key) {
            throw fail("keyword '\(key)' is outside the subset Kopa validates")
        }
        if path.isEmpty, definition == nil { definition = nil }
        var kind: Kind?
        if let type = members["type"] {
            guard let name = type.stringValue, let k = Kind(rawValue: name) else {
                throw fail("type \(type.shortDescription) is not one of object, string, integer, boolean, array")
            }
            kind = k
        }
        var properties: [String: SchemaNode] = [:]
        if let props = members["properties"] {
            guard let object = props.objectValue else { throw fail("properties must be an object") }
            for (name, sub) in object {
                properties[name] = try compile(sub, definitions: definitions, location: location, path: path.isEmpty ? name : path + "." + name, definition: nil, depth: depth)
            }
        }
        var required: [String] = []
        if let req = members["required"] {
            guard case .array(let names) = req else { throw fail("required must be an array of names") }
            for name in names {
                guard let s = name.stringValue else { throw fail("required must be an array of names") }
                required.append(s)
            }
        }
        var closed = false
        if let additional = members["additionalProperties"] {
            guard case .bool(let allowed) = additional else { throw fail("additionalProperties must be true or false") }
            closed = !allowed
        }
        var enumValues: [JSONValue]?
        if let values = members["enum"] {
            guard case .array(let list) = values, !list.isEmpty else { throw fail("enum must be a non-empty array") }
            enumValues = list
        }
        func integer(_ key: String) throws(LedgerError) -> Int64? {
            guard let v = members[key] else { return nil }
            guard let n = v.integerValue else { throw fail("\(key) must be an integer") }
            return n
        }
        var pattern: Pattern?
        if let p = members["pattern"] {
            guard let text = p.stringValue else { throw fail("pattern must be a string") }
            pattern = try Pattern(text)
        }
        var items: SchemaNode?
        if let i = members["items"] {
            items = try compile(i, definitions: definitions, location: location, path: path + "[]", definition: nil, depth: depth)
        }
        let format = members["format"]?.stringValue
        let formats = ["date", "date-time", "uri", "partial-date", "currency", "country"]
        if let format, !formats.contains(format) {
            throw fail("format '\(format)' is not one of \(formats.joined(separator: ", "))")
        }
        var personal = false
        if case .bool(let b)? = members["x-kopa-personal"] { personal = b }
        return SchemaNode(
            kind: kind, properties: properties, required: required, closed: closed, enumValues: enumValues,
            pattern: pattern, minLength: try integer("minLength").map(Int.init), maxLength: try integer("maxLength").map(Int.init),
            minimum: try integer("minimum"), maximum: try integer("maximum"), items: items, format: format,
            reference: members["x-kopa-ref"]?.stringValue, personal: personal,
            summary: members["description"]?.stringValue, definition: definition)
    }
}
