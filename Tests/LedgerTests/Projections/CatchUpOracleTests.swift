import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// Catch-ups that take shortcuts (applying only new events, resuming from a snapshot, leaving a
/// projection that a correction does not concern as it was) against the plain truth: a replay of
/// every projection from the start. Random back-dated events, corrections and retractions, from
/// fixed seeds; after each, the projection database and reports at past times must be those of
/// the replay.
@Suite("catch-up against a replay from the start")
struct CatchUpOracleTests {
    /// What the random steps did, and which ways the catch-ups took, over a run.
    struct Tally {
        var steps: [String: Int] = [:]
        var resumed = 0
        var incremental = 0
        var rebuilt = 0
    }

    /// A random valid time in the story's years, by day or now and then by month.
    static func date(_ random: inout SplitMix64) -> String {
        let year = 2015 + Int(random.next() % 10)
        let month = 1 + Int(random.next() % 12)
        // Now and then dated only by its month, which ends rather than starts at a cut.
        if random.next() % 5 == 0 { return String(format: "%04d-%02d", year, month) }
        return String(format: "%04d-%02d-%02d", year, month, 1 + Int(random.next() % 28))
    }

    /// A random item, or nil when there is none.
    static func pick<T>(_ items: [T], _ random: inout SplitMix64) -> T? {
        items.isEmpty ? nil : items[Int(random.next() % UInt64(items.count))]
    }

    /// One random change to the ledger; returns its name.
    static func step(_ test: TestLedger, _ random: inout SplitMix64, index: Int, retracted: inout Set<String>, corrections: inout [(id: String, meeting: Bool)]) throws -> String {
        let events = try test.ledger.events()
        let meetings = events.filter { $0.type == "meeting-held" && !retracted.contains($0.id) }
        let commitments = events.filter { $0.type == "funding-committed" && !retracted.contains($0.id) }
        switch random.next() % 8 {
        case 0:
            try test.ledger.append([SnapshotTests.meeting("random-\(index)", on: date(&random))], actor: test.actor)
            return "back-dated meeting"
        case 1:
            let cents = 1 + random.next() % 100_000
            try test.ledger.append([
                EventDraft(type: "funding-committed", data: .object(["project": "p1", "funding_source": "erdf", "amount": money(String(format: "%d.%02d", cents / 100, cents % 100))]), occurredAt: date(&random))
            ], actor: test.actor)
            return "back-dated commitment"
        case 2:
            guard let target = pick(meetings, &random) else { return "nothing" }
            let moved = random.next() % 2 == 0 ? date(&random) : nil
            let draft = try test.ledger.correctionDraft(of: target.id, set: ["title": .string("Corrected \(index)")], occurredAt: moved, reason: "minutes checked")
            corrections.append((try test.append(draft: draft).id, true))
            return moved == nil ? "meeting corrected" : "meeting corrected and moved"
        case 3:
            guard let target = pick(commitments, &random) else { return "nothing" }
            let draft = try test.ledger.correctionDraft(of: target.id, set: ["amount": money("\(index).50")], reason: "agreement checked")
            corrections.append((try test.append(draft: draft).id, false))
            return "commitment corrected"
        case 4:
            guard let target = pick(meetings + commitments, &random) else { return "nothing" }
            try test.append(draft: try test.ledger.retractionDraft(of: target.id, reason: "entered in error"))
            retracted.insert(target.id)
            return "event retracted"
        case 5:
            guard let correction = corrections.popLast() else { return "nothing" }
            try test.append(draft: try test.ledger.retractionDraft(of: correction.id, reason: "the correction was wrong"))
            return "correction retracted"
        case 6:
            // A correction of a correction (its meta names the one it replaces), maybe moving the event.
            guard let correction = corrections.last(where: \.meeting) else { return "nothing" }
            let moved = random.next() % 2 == 0 ? date(&random) : nil
            let draft = try test.ledger.correctionDraft(of: correction.id, set: ["title": .string("Corrected again \(index)")], occurredAt: moved, reason: "minutes checked again")
            corrections.append((try test.append(draft: draft).id, true))
            return "correction corrected"
        default:
            try test.ledger.append([SnapshotTests.meeting("recent-\(index)", on: "2024-12-28")], actor: test.actor)
            return "meeting at the end"
        }
    }

    @Test(arguments: [11, 12, 13] as [UInt64])
    func everyCatchUpEqualsAReplayFromTheStart(seed: UInt64) throws {
        let story = try SnapshotTests.story()
        let test = story.test
        let engine = try SnapshotTests.engine(test)
        try engine.catchUp()
        let reference = try SnapshotTests.reference(test)
        var random = SplitMix64(seed: seed)
        var retracted: Set<String> = []
        var corrections: [(id: String, meeting: Bool)] = []
        var tally = Tally()
        var recorded: [String] = [story.firstBatch, story.secondBatch]
        for index in 0..<14 {
            tick()
            let name = try Self.step(test, &random, index: index, retracted: &retracted, corrections: &corrections)
            tally.steps[name, default: 0] += 1
            recorded.append(try #require(test.ledger.events().last).recordedAt)
            let summary = try engine.catchUp()
            tally.resumed += summary.resumed.count
            tally.incremental += summary.incremental.count
            tally.rebuilt += summary.rebuilt.count
            try reference.catchUp(rebuild: nil)
            #expect(try SnapshotTests.state(engine) == SnapshotTests.state(reference), "seed \(seed), step \(index): \(name)")
            // A report at a past time starts from the snapshots those catch-ups kept.
            let day = Self.date(&random)
            let asOf = day.count == 7 ? day + "-15" : day
            let knownAt = random.next() % 2 == 0 ? Self.pick(recorded, &random) : nil
            let time = ReportTime(asOf: try TimeBound(asOf), knownAt: try knownAt.map { try TimeBound($0) })
            #expect(try SnapshotTests.run(engine, time) == SnapshotTests.run(reference, time), "seed \(seed), step \(index): \(name), as of \(asOf) known at \(knownAt ?? "now")")
        }
        // Each seed takes every way, or it tests less than it claims.
        #expect(tally.resumed > 0 && tally.incremental > 0 && tally.rebuilt > 0, "seed \(seed): \(tally)")
        #expect(tally.steps.keys.filter { $0 != "nothing" }.count >= 4, "seed \(seed): \(tally.steps)")
    }
}
