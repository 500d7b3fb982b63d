import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// The bundled catalog in `events/`: every file loads and follows the catalog's own rules.
@Suite("catalog files")
struct CatalogFilesTests {
    static let eventsFolder = checkoutRoot.appendingPathComponent("events")

    /// Every `<type>.v<version>.json` file of the checkout.
    static let typeFiles: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: eventsFolder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "defs.json" }.sorted()
    }()

    /// The options `kopa record TYPE` keeps for itself (DESIGN.md's contract and `kopa record TYPE
    /// --help`): a payload field whose option is one of these could never be given on the command
    /// line. (`--reason` and `--remove` belong to `kopa correct` only; for `record` they are fields.)
    static let commandLineOptions: Set<String> = [
        "--occurred-at", "--source", "--evidence", "--evidence-file", "--expect-version", "--idempotency-key",
        "--correlation-id", "--data", "--ledger", "--actor", "--format", "--help", "--version",
    ]

    static let catalog: EventCatalog? = try? EventCatalog.load(directory: BundledResources.events)

    @Test func theBundledCatalogIsTheCheckoutsEventsFolder() throws {
        #expect(BundledResources.events.standardizedFileURL.resolvingSymlinksInPath().path
            == Self.eventsFolder.standardizedFileURL.resolvingSymlinksInPath().path)
    }

    @Test func everyFileLoads() throws {
        #expect(Self.typeFiles.count >= 20)
        let catalog = try EventCatalog.load(directory: Self.eventsFolder)
        #expect(catalog.types.values.map(\.count).reduce(0, +) == Self.typeFiles.count)
    }

    @Test("each catalog file", arguments: typeFiles)
    func eachFileIsWellFormed(file: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: Self.eventsFolder.appendingPathComponent(file).path))
        let schema = try JSONParser.parse([UInt8](bytes))
        _ = try CanonicalJSON.bytes(schema)  // integers only: registrable in the log
        let name = String(file.prefix { $0 != "." })
        #expect(file.range(of: #"^[a-z]+(-[a-z]+)*\.v[1-9][0-9]*\.json$"#, options: .regularExpression) != nil)
        #expect(schema["title"] == .string(name))
        #expect(schema["$schema"] == .string("https://json-schema.org/draft/2020-12/schema"))
        #expect(schema["type"] == .string("object"))
        #expect(schema["additionalProperties"] == .bool(false), "\(file) must be closed")
        #expect((schema["description"]?.stringValue?.count ?? 0) > 10, "\(file) needs a description")
        let catalog = try #require(Self.catalog)
        let type = try catalog.resolve(name)
        if !type.isSystem {
            #expect(type.streamTemplate != nil)
        }
        for field in type.fields {
            #expect(field.name.range(of: #"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"#, options: .regularExpression) != nil, "\(file): field '\(field.name)' is not snake_case")
            #expect(field.node.summary != nil, "\(file): field '\(field.name)' has no description")
        }
    }

    /// Walks every node of a compiled schema.
    static func walk(_ node: SchemaNode, path: String, _ visit: (SchemaNode, String) -> Void) {
        visit(node, path)
        for (name, child) in node.properties { walk(child, path: path.isEmpty ? name : path + "." + name, visit) }
        if let items = node.items { walk(items, path: path + "[]", visit) }
    }

    @Test func everyStringSchemaHasAMaxLength() throws {
        let catalog = try #require(Self.catalog)
        var strings = 0
        for type in catalog.latestTypes {
            Self.walk(type.root, path: "") { node, path in
                guard node.kind == .string else { return }
                strings += 1
                #expect(node.maxLength != nil, "\(type.name): string '\(path)' has no maxLength")
                if let max = node.maxLength { #expect(max > 0 && max <= 2000, "\(type.name).\(path) maxLength \(max)") }
            }
        }
        #expect(strings > 100)
        // defs.json too, definition by definition.
        let defs = try JSONParser.parse([UInt8](try #require(FileManager.default.contents(atPath: Self.eventsFolder.appendingPathComponent("defs.json").path))))
        for (name, definition) in try #require(defs["$defs"]?.objectValue) {
            let node = try SchemaNode.compile(definition, definitions: [:], location: "defs.json#\(name)")
            Self.walk(node, path: name) { node, path in
                if node.kind == .string { #expect(node.maxLength != nil, "defs.json: \(path) has no maxLength") }
            }
        }
    }

    @Test func noPayloadFieldCollidesWithTheCommandLinesOwnOptions() throws {
        let catalog = try #require(Self.catalog)
        // System types are written by `kopa init`, `kopa correct` and `kopa retract`, never by `kopa record`.
        for type in catalog.latestTypes where !type.isSystem {
            for field in type.fields {
                let option = EventType.optionName(forField: field.name)
                #expect(!Self.commandLineOptions.contains(option), "\(type.name): field '\(field.name)' is shadowed by \(option)")
                #expect(EventType.fieldName(forOption: option) == field.name)
            }
        }
    }

    @Test func everyReferenceNamesAKindThatSomeEventOpens() throws {
        let catalog = try #require(Self.catalog)
        let opened = Set(catalog.latestTypes.filter(\.creates).compactMap { $0.streamTemplate?.split(separator: "/").first.map(String.init) })
        var references = 0
        for type in catalog.latestTypes {
            Self.walk(type.root, path: "") { node, path in
                guard let kind = node.reference else { return }
                references += 1
                #expect(opened.contains(kind), "\(type.name).\(path) refers to '\(kind)', which no event opens")
                #expect(node.kind == .string && node.pattern?.matches("kekava") == true, "\(type.name).\(path) must be a slug")
            }
        }
        #expect(references > 10)
    }

    @Test func theDomainIsCovered() throws {
        let catalog = try #require(Self.catalog)
        for name in [
            "organisation-registered", "project-registered", "project-phase-defined", "partner-joined", "partner-left",
            "local-action-group-formed", "local-action-group-member-joined", "neighbourhood-registered", "council-formed",
            "council-dissolved", "meeting-held", "deliverable-published", "plan-drafted", "plan-approved", "position-created",
            "budget-approved", "funding-committed", "expenditure-recorded", "expenditure-verified", "payment-received",
            "event-corrected", "event-retracted", "ledger-created", "schema-registered",
        ] {
            #expect(catalog.latest(name) != nil, "no event type '\(name)'")
        }
        func choices(_ type: String, _ field: String) -> Set<String> {
            Set(catalog.latest(type)?.root.properties[field]?.enumValues?.compactMap(\.stringValue) ?? [])
        }
        #expect(choices("meeting-held", "kind") == ["local-group-meeting", "partner-meeting", "workshop", "study-visit", "dissemination-event", "training", "forum", "council-meeting"])
        #expect(choices("partner-joined", "role") == ["lead", "partner", "associate"])
        #expect(choices("funding-committed", "funding_source") == ["erdf", "state", "municipality", "other"])
        #expect(catalog.latest("funding-committed")?.root.properties["amount"]?.isMoney == true)
        #expect(catalog.latest("funding-committed")?.root.properties["rate"] != nil)
        #expect(catalog.latest("expenditure-recorded")?.root.properties["invoice_reference"] != nil)
        #expect(catalog.latest("expenditure-recorded")?.root.properties["cost_category"] != nil)
        #expect(catalog.latest("plan-approved")?.root.properties["decision_reference"] != nil)
        #expect(catalog.latest("meeting-held")?.root.properties["online"]?.kind == .boolean)
        #expect(catalog.latest("meeting-held")?.root.properties["participants"]?.kind == .integer)
    }

    @Test func moneyIsADecimalStringWithAtMostTwoDecimals() throws {
        let catalog = try #require(Self.catalog)
        let amount = try #require(catalog.latest("funding-committed")?.root.properties["amount"]?.properties["amount"])
        for good in ["0", "5", "0.5", "48454.95", "1000000.00", "9999999999999.99"] {
            #expect(amount.pattern?.matches(good) == true, "\(good)")
        }
        for bad in ["-5", "1.005", "01", "1.", ".5", "1,5", "1e3", "+5", "", " 5", "12.5.1", "10000000000000"] {
            #expect(amount.pattern?.matches(bad) == false, "\(bad)")
        }
    }

    /// A slug, the name of a stream (`project/<slug>`), is `^[a-z0-9]+(-[a-z0-9]+)*$`: words joined
    /// by single hyphens, none at either end. The fast matcher must say what the pattern says, or
    /// `a--b` and `kekava-` would open streams no one can tell from `a-b` and `kekava`.
    @Test(arguments: [
        ("kekava", true), ("cities4csr", true), ("a-b-c", true), ("2019", true), ("a", true),
        ("", false), ("-", false), ("-a", false), ("a-", false), ("a--b", false), ("kekava-", false),
        ("Kekava", false), ("ķekava", false), ("a_b", false), ("a b", false), ("a/b", false),
    ])
    func aSlugIsWordsJoinedBySingleHyphens(text: String, isSlug: Bool) throws {
        let catalog = try #require(Self.catalog)
        let slug = try #require(catalog.latest("organisation-registered")?.root.properties["organisation"]?.pattern)
        #expect(slug.matches(text) == isSlug)
        let regex = try NSRegularExpression(pattern: "^[a-z0-9]+(-[a-z0-9]+)*$")
        #expect((regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil) == isSlug, "the table agrees with the pattern")
    }

    @Test func theLedgerRegistersExactlyTheBundledSchemas() throws {
        let test = try TestLedger()
        let bundled = try #require(Self.catalog)
        #expect(Set(test.ledger.catalog.types.keys) == Set(bundled.types.keys))
        for type in bundled.latestTypes {
            #expect(test.ledger.catalog.latest(type.name)?.schema == type.schema, "\(type.name)")
        }
        let registered = try test.ledger.events(EventFilter()).filter { $0.type == "schema-registered" }
        #expect(registered.count == Self.typeFiles.count)
        #expect(Set(registered.compactMap { $0.data["event_type"]?.stringValue }) == Set(bundled.types.keys))
        // The registered schema is self-contained: no reference to defs.json is left.
        for record in registered { #expect(!record.dataJSON.contains("defs.json#")) }
    }

    @Test func aBrokenCatalogIsNamedByFile() throws {
        let folder = try TemporaryDirectory()
        try folder.write("defs.json", #"{"$defs": {}}"#)
        try folder.write("thing-happened.v1.json", #"{"title": "thing-happened", "type": "object", "x-kopa-stream": "thing/{thing}", "properties": {"thing": {"$ref": "defs.json#/$defs/slug"}}, "required": ["thing"]}"#)
        expectLedgerError(.invalidInput, mentioning: ["thing-happened.v1.json", "slug"]) {
            _ = try EventCatalog.load(directory: folder.url)
        }
        let other = try TemporaryDirectory()
        try other.write("thing-happened.v1.json", #"{"title": "thing-happened", "type": "object", "x-kopa-stream": "thing/{thing}", "properties": {"thing": {"type": "string", "oneOf": []}}}"#)
        expectLedgerError(.invalidInput, mentioning: ["oneOf"]) {
            _ = try EventCatalog.load(directory: other.url)
        }
        let third = try TemporaryDirectory()
        try third.write("thing.json", "{}")
        expectLedgerError(.invalidInput, mentioning: ["thing.json", "<type>.v<version>.json"]) {
            _ = try EventCatalog.load(directory: third.url)
        }
    }
}
