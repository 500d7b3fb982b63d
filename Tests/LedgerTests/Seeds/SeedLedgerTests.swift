import Crypto
import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// The seed ledger (issue 4): the facts a reader of the seed documents would check, every event
/// traceable to a sentence of a document, no personal data, and a verifying chain.
@Suite("seed ledger")
struct SeedLedgerTests {
    /// `../shared/seed-documents`, next to the checkout.
    static let documents = checkoutRoot.deletingLastPathComponent().appendingPathComponent("shared/seed-documents")

    /// One seed ledger per test, in its own folder.
    final class SeedLedger: Sendable {
        let folder: TemporaryDirectory
        let ledger: Ledger
        let count: Int
        let engine: ProjectionEngine

        init() throws {
            folder = try TemporaryDirectory("kopa-seed")
            (ledger, count) = try Seeds.build(at: folder.path("seed.sqlite"))
            engine = try ProjectionEngine(ledger: ledger)
        }

        /// The events imported from the seed files (everything after the catalog).
        func seedEvents() throws -> [EventRecord] {
            try ledger.events().filter { $0.type != "ledger-created" && $0.type != "schema-registered" }
        }
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    @Test func everySeedLineIsImported() throws {
        let seed = try SeedLedger()
        var lines = 0
        for file in try Seeds.files() {
            let text = try String(contentsOf: file, encoding: .utf8)
            lines += text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.count
        }
        #expect(seed.count == lines)
        #expect(try seed.seedEvents().count == lines)
        #expect(try Seeds.files().map(\.lastPathComponent) == [
            "01-organisations.ndjson", "02-urbact-latvia.ndjson", "03-cities4csr.ndjson",
            "04-agents-of-co-existence.ndjson", "05-neighbourhoods-councils.ndjson",
        ])
    }

    @Test func cities4csrHasTenPartnerCitiesLedByMilan() throws {
        let seed = try SeedLedger()
        let partners = try seed.engine.report("partners", parameters: ["stream": "project/cities4csr"])
        #expect(partners.rows.count == 10)
        #expect(Set(partners.column("organisation").map { "\($0)" }).count == 10)
        let lead = try partners.row(where: "role", is: "lead")
        #expect(lead["organisation"] == "milano")
        #expect(lead["country"] == "IT")
        #expect(partners.rows(where: "role", is: "partner").count == 9)
        #expect(partners.column("organisation").contains("kekava"))
        #expect(partners.column("left_on").allSatisfy { $0 == .null })
        let project = try seed.ledger.state(of: "project/cities4csr")
        #expect(project.fields["lead_partner"] == "milano")
        #expect(project.fields["starts_on"] == "2019-09-02", "the project's start, not its second phase's")
        #expect(project.fields["title"]?.stringValue?.hasPrefix("CITIES4CSR –") == true)
        #expect(project.facts.filter { $0.type == "partner-joined" }.count == 10)
        #expect(project.facts.filter { $0.type == "project-phase-defined" }.count == 2)
        let overview = try seed.engine.report("overview").row(where: "project", is: "cities4csr")
        #expect(overview["partners"] == 10)
        #expect(overview["lead_partner"] == "Milānas pilsēta")  // Milan, as the documents write it
    }

    @Test func cities4csrFundingIs57005_82EurAt85PercentErdf() throws {
        let seed = try SeedLedger()
        let overview = try seed.engine.report("overview").row(where: "project", is: "cities4csr")
        // ERDF 48454.95 + municipality 8550.87 = 57005.82; 4845495 / 5700582 = 85.000005 % → 85.00.
        #expect(overview["committed"] == "57005.82")
        #expect(overview["erdf"] == "48454.95")
        #expect(overview["municipality"] == "8550.87")
        #expect(overview["state"] == "0.00")
        #expect(overview["currency"] == "EUR")
        #expect(overview["erdf_share"] == "85.00")
        let funding = try seed.engine.report("funding", parameters: ["stream": "project/cities4csr"])
        // Document 002 states amounts only: the share is computed, and no agreed rate is recorded.
        #expect(funding.projected(["funding_source", "committed", "share", "agreed_rate"]) == [
            ["erdf", "48454.95", "85.00", nil],
            ["municipality", "8550.87", "15.00", nil],
            ["all", "57005.82", nil, nil],
            ["all", "57005.82", nil, nil],  // the TOTAL row of the one project selected
        ])
        #expect(try funding.row(where: "project", is: "TOTAL")["committed"] == "57005.82")
    }

    @Test func agentsOfCoExistenceHasNinePartnersAndItsFundingBySource() throws {
        let seed = try SeedLedger()
        let partners = try seed.engine.report("partners", parameters: ["stream": "project/agents-of-co-existence"])
        #expect(partners.rows.count == 9)
        #expect(partners.column("organisation").contains("kekava"))
        let overview = try seed.engine.report("overview").row(where: "project", is: "agents-of-co-existence")
        #expect(overview["partners"] == 9)
        // 66785.00 budget: 80 % = 53428.00, 10 % = 6678.50, 10 % = 6678.50.
        #expect(overview["committed"] == "66785.00")
        #expect(overview["erdf"] == "53428.00")
        #expect(overview["state"] == "6678.50")
        #expect(overview["municipality"] == "6678.50")
        #expect(overview["erdf_share"] == "80.00")
        let funding = try seed.engine.report("funding", parameters: ["stream": "project/agents-of-co-existence"])
        #expect(funding.projected(["funding_source", "budget", "committed", "share", "agreed_rate"]) == [
            ["erdf", nil, "53428.00", "80.00", "80.00"],
            ["state", nil, "6678.50", "10.00", "10.00"],
            ["municipality", nil, "6678.50", "10.00", "10.00"],
            ["all", "66785.00", "66785.00", nil, nil],
            ["all", "66785.00", "66785.00", nil, nil],
        ])
    }

    @Test func sixOfElevenNeighbourhoodsHaveAnActiveCouncil() throws {
        let seed = try SeedLedger()
        let councils = try seed.engine.report("councils")
        #expect(councils.rows.count == 12)
        let total = try councils.row(where: "neighbourhood", is: "TOTAL")
        #expect(total["coverage"] == "6 of 11")
        #expect(total["share"] == "54.55")  // 6 / 11 = 54.5454… %
        #expect(councils.rows(where: "active_council", is: "yes").count == 6)
        #expect(councils.rows(where: "active_council", is: "no").count == 5)
        // The councils began in 2025: as of the end of 2024 there were none, and the neighbourhoods
        // (dated 2025 as well) were not registered yet.
        let before = try seed.engine.report("councils", time: ReportTime(asOf: try TimeBound("2024-12-31")))
        #expect(try before.row(where: "neighbourhood", is: "TOTAL")["coverage"] == "0 of 0")
    }

    @Test func everySeedEventNamesItsSourceDocumentAndItsEvidenceHash() throws {
        let seed = try SeedLedger()
        let fm = FileManager.default
        var hashes: [String: String] = [:]
        for name in try fm.contentsOfDirectory(atPath: Self.documents.path) where name.hasSuffix(".txt") {
            hashes[name] = Self.sha256(try Data(contentsOf: Self.documents.appendingPathComponent(name)))
        }
        #expect(hashes.count == 5, "the five seed documents in \(Self.documents.path)")
        let documentName = try Regex(#"[0-9]{3}_[0-9a-f]{16}\.txt"#)
        var used: Set<String> = []
        for event in try seed.seedEvents() {
            let source = try #require(event.meta["source"]?.stringValue, "seq \(event.seq) \(event.type) has no meta.source")
            let named = Set(source.matches(of: documentName).map { String(source[$0.range]) })
            #expect(!named.isEmpty, "seq \(event.seq): meta.source names no seed document: \(source)")
            for name in named { #expect(hashes[name] != nil, "seq \(event.seq): '\(name)' is not a file in seed-documents") }
            guard case .array(let evidence)? = event.meta["evidence"] else {
                Issue.record("seq \(event.seq) \(event.type) has no meta.evidence")
                continue
            }
            #expect(!evidence.isEmpty)
            var evidenced: Set<String> = []
            for item in evidence {
                let location = try #require(item["location"]?.stringValue, "seq \(event.seq): evidence without location")
                // The location is relative to ../shared: seed-documents/<file>.
                let file = checkoutRoot.deletingLastPathComponent().appendingPathComponent("shared").appendingPathComponent(location)
                #expect(fm.fileExists(atPath: file.path), "seq \(event.seq): evidence location \(location) does not exist")
                let name = file.lastPathComponent
                #expect(item["sha256"]?.stringValue == hashes[name], "seq \(event.seq): evidence sha256 of \(name)")
                let title = item["title"]?.stringValue ?? ""
                #expect(!title.isEmpty, "seq \(event.seq): evidence without title")
                evidenced.insert(name)
            }
            #expect(evidenced == named, "seq \(event.seq): one evidence item per document quoted")
            used.formUnion(named)
        }
        #expect(used == Set(hashes.keys), "every seed document is used")
    }

    /// Each quote in meta.source (`<file>: «quote»`, cuts marked with …) is a verbatim part of the
    /// document, ignoring whitespace.
    @Test func everyQuotedSentenceIsInItsDocument() throws {
        let seed = try SeedLedger()
        var documents: [String: String] = [:]
        func squeezed(_ text: String) -> String { String(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) }.map(Character.init)) }
        let quote = try Regex(#"([0-9]{3}_[0-9a-f]{16}\.txt): «([^»]*)»"#)
        var quotes = 0
        for event in try seed.seedEvents() {
            let source = event.meta["source"]?.stringValue ?? ""
            for match in source.matches(of: quote) {
                let name = String(match.output[1].substring ?? "")
                let text = String(match.output[2].substring ?? "")
                if documents[name] == nil {
                    documents[name] = squeezed(try String(contentsOf: Self.documents.appendingPathComponent(name), encoding: .utf8))
                }
                for piece in text.components(separatedBy: "…") where !squeezed(piece).isEmpty {
                    #expect(documents[name]!.contains(squeezed(piece)), "seq \(event.seq): «\(piece)» is not in \(name)")
                }
                quotes += 1
            }
        }
        #expect(quotes >= (try seed.seedEvents().count))
    }

    /// A pattern searched for in seed strings (ICU syntax, with look-behind).
    struct Pattern {
        let expression: NSRegularExpression
        init(_ pattern: String) throws { expression = try NSRegularExpression(pattern: pattern) }
        func found(in text: String) -> Bool {
            expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
    }

    @Test func noSeedStringHoldsAnEmailAddressOrPhoneNumber() throws {
        let email = try Pattern(#"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#)
        let phones = [
            try Pattern(#"\+[0-9]{1,3}[ -]?[0-9]{2,4}([ -]?[0-9]{2,4}){1,3}"#),  // +371 26 123 456
            try Pattern(#"(?<![0-9.,-])[26][0-9]{7}(?![0-9.,-])"#),  // a Latvian number: 26123456, 67123456
            try Pattern(#"(?<![0-9.,-])[0-9]{2,3} [0-9]{3} [0-9]{3}(?![0-9.,-])"#),  // 67 123 456
        ]
        // The patterns do find what the documents themselves hold (document 003 names a contact).
        let contact = try String(contentsOf: Self.documents.appendingPathComponent("003_46110071c059ddbf.txt"), encoding: .utf8)
        #expect(email.found(in: contact))
        #expect(phones.contains { $0.found(in: contact) })

        func strings(_ value: JSONValue) -> [String] {
            switch value {
            case .string(let s): [s]
            case .array(let items): items.flatMap(strings)
            case .object(let members): members.flatMap { [$0.key] + strings($0.value) }
            default: []
            }
        }
        var checked = 0
        for file in try Seeds.files() {
            let text = try String(contentsOf: file, encoding: .utf8)
            for (number, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
                for string in strings(try JSONParser.parse(String(line))) {
                    #expect(!email.found(in: string), "\(file.lastPathComponent):\(number + 1): e-mail address in «\(string)»")
                    for phone in phones {
                        #expect(!phone.found(in: string), "\(file.lastPathComponent):\(number + 1): phone number in «\(string)»")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 1000)
    }

    @Test func theSeedLedgerVerifies() throws {
        let seed = try SeedLedger()
        let report = try seed.ledger.verify()
        let head = try seed.ledger.head()
        #expect(report.count == head.seq)
        #expect(report.head == head.hash)
        #expect(Int(head.seq) == seed.count + Int(try seed.ledger.events().filter { $0.type == "ledger-created" || $0.type == "schema-registered" }.count))
        // Actor of every seed event.
        #expect(try seed.seedEvents().allSatisfy { $0.recordedBy == "kopa-seed" })
    }

    @Test func theSeedLedgerIsTheSameWhicheverOrderTheProjectionsAreBuilt() throws {
        let seed = try SeedLedger()
        let names = seed.engine.set.reports.keys.sorted()
        let first = try names.map { try seed.engine.report($0) }
        try seed.engine.catchUp(rebuild: nil)
        #expect(try names.map { try seed.engine.report($0) } == first)
    }
}
